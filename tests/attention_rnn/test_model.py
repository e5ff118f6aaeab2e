"""AttributeNetwork: every attention type builds, trains a step on a tiny generated set, and
exposes its masks; mask combination and correctness."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from attention_rnn.model import (ATTENTIONS, AttributeNetwork, combined_mask, make_attention, mask_correctness,
                                 target_box)
from data.attributes import make_attribute_dataset
from trainkit import build_optimizers


@pytest.fixture(scope="module")
def tiny_set():
    rng = np.random.default_rng(0)
    x = np.zeros((20, 28, 28), np.float32)
    x[:, 4:24, 8:20] = rng.integers(200, 256, (20, 20, 12)) / 255.0
    digits = {s: (x, np.arange(20) % 10) for s in ("train", "validation", "test")}
    ds = make_attribute_dataset("mref", "train", 4, mnist=digits, size=8, with_info=True)
    (images, queries, _, masks), answers = next(iter(ds))
    # A 32x32 corner keeps the diagonal LSTMs short (maps 16, 8, 4, 2): the network takes any size.
    return images[:, :32, :32], queries, masks, answers


# arnn_ind, arnn_sample and brnn differ from arnn only inside the layer (tested in
# test_attention.py); each AttentionRNN network costs ~30 s to trace on 2 cores.
@pytest.mark.parametrize("attention", ["none", "san", "nctx", "ctx", "arnn"])
def test_attention_types_train_a_step(attention, tiny_set):
    images, queries, _, answers = tiny_set
    keras.utils.set_random_seed(0)
    model = AttributeNetwork(attention, filters=8, units=4, hidden=16)
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  jit_compile=False)  # XLA compiles the column scans slowly and runs them slower here
    model((images, queries))  # builds every layer, so the weights exist before the step
    build_optimizers(model)  # as build_model does: the first step is traced once
    before = [w.numpy().copy() for w in model.trainable_weights]
    logs = model.train_on_batch((images, queries), answers, return_dict=True)
    assert np.isfinite(logs["loss"])
    logits, masks = model((images, queries), return_masks=True)
    assert logits.shape == (4, 5)
    expected = {"none": 0, "san": 1}.get(attention, 4)
    assert len(masks) == expected
    if masks:
        assert masks[-1].shape == (4, 2, 2, 1) and masks[0].shape[1] in (16, 2)
    assert len(before) == len(model.trainable_weights) > 0
    assert any(not np.array_equal(b, w.numpy()) for b, w in zip(before, model.trainable_weights))


def test_combined_mask_and_correctness():
    full = tf.ones([1, 100, 100, 1])
    target = np.zeros([1, 100, 100, 1], np.float32)
    target[:, :50] = 1.0
    assert float(mask_correctness(full, target)[0]) == pytest.approx(0.5)
    top = np.zeros([1, 6, 6, 1], np.float32)
    top[:, :3] = 1.0
    combined = combined_mask([tf.ones([1, 50, 50, 1]), tf.constant(top)], 100)
    assert combined.shape == (1, 100, 100, 1)
    assert float(mask_correctness(combined, target)[0]) > 0.9


def test_target_box_fills_the_ink_bounding_box():
    ink = np.zeros([3, 8, 9, 1], np.float32)
    ink[0, 2, 3] = ink[0, 5, 6] = 1.0  # two corners of a 4x4 box
    ink[1, 7, 0] = 1.0  # one pixel at the edge
    box = target_box(tf.constant(ink)).numpy()  # ink[2] is empty: an empty box
    expected = np.zeros_like(ink)
    expected[0, 2:6, 3:7] = 1.0
    expected[1, 7, 0] = 1.0
    np.testing.assert_array_equal(box, expected)


def test_box_correctness_counts_mass_between_the_strokes():
    # An "L" of ink: a uniform mask over its bounding box is all inside the box, but only the
    # strokes' share is on the ink.
    ink = np.zeros([1, 10, 10, 1], np.float32)
    ink[0, 2:8, 2] = 1.0
    ink[0, 7, 2:8] = 1.0
    mask = np.zeros_like(ink)
    mask[0, 2:8, 2:8] = 1.0
    assert float(mask_correctness(mask, ink)[0]) == pytest.approx(11 / 36)
    assert float(mask_correctness(mask, target_box(ink))[0]) == pytest.approx(1.0, abs=1e-6)
    # A uniform mask scores the box's share of the image: the level a focused mask must beat.
    assert float(mask_correctness(tf.ones_like(ink), target_box(ink))[0]) == pytest.approx(36 / 100, abs=1e-6)


def test_every_attention_type_builds():
    assert [type(make_attention(kind, 4)).__name__ for kind in ATTENTIONS] == [
        "NoneType", "SoftAttention", "LocalAttention", "LocalAttention", "AttentionRNN", "AttentionRNN",
        "AttentionRNN", "BlockAttentionRNN"]


def test_config_round_trip_and_unknown_attention():
    model = AttributeNetwork("ctx", filters=8, units=4)
    assert AttributeNetwork.from_config(model.get_config()).get_config() == model.get_config()
    with pytest.raises(ValueError, match="attention is 'lstm'; expected none, san, nctx"):
        AttributeNetwork("lstm")


def test_inverse_task_network_answers_digits(tiny_set):
    """The inverse task: queries are one-hot colours (5), answers digit classes (10)."""
    from attention_rnn.config import AttributeConfig
    from attention_rnn.training import build_model
    config = AttributeConfig(task="inverse", attention="ctx", filters=8, units=4, hidden=16)
    model = build_model(config, jit_compile=False)
    images = tiny_set[0]
    logs = model.train_on_batch((images, tf.one_hot([0, 1, 2, 3], 5)), np.array([3, 1, 4, 1]), return_dict=True)
    assert np.isfinite(logs["loss"]) and model((images, tf.one_hot([0, 1, 2, 3], 5))).shape == (4, 10)
    assert config.query_size == 5 and AttributeConfig().query_size == 10


def test_sampled_masks_differ_and_need_a_sampling_model(tiny_set, tmp_path):
    from attention_rnn.config import AttributeConfig
    from attention_rnn.visualize import write_sampled_masks
    from trainkit import RunError
    x = np.zeros((20, 28, 28), np.float32)
    x[:, 4:24, 8:20] = 1.0
    digits = {s: (x, np.arange(20) % 10) for s in ("train", "validation", "test")}
    config = AttributeConfig(attention="arnn_sample", filters=4, units=2, hidden=8)
    model = AttributeNetwork(**dict(config.model_kwargs(), filters=4, units=2, hidden=8))
    paths = write_sampled_masks(model, config, str(tmp_path), count=1, samples=2, sigma_scale=3.0, mnist=digits)
    assert len(paths) == 1 and (tmp_path / "multimodal_0000.png").exists()
    assert all(a.sigma_scale == 1.0 for a in model.attentions if a is not None)  # restored
    layer = model.attentions[0]
    features, query = tf.zeros([1, 50, 50, 4]), tf.one_hot([3], 10)
    layer.sigma_scale = 3.0
    assert not np.allclose(layer(features, query).numpy(), layer(features, query).numpy())  # a fresh draw per call
    with pytest.raises(RunError, match="arnn_sample"):
        write_sampled_masks(AttributeNetwork("ctx", filters=4, units=2), AttributeConfig(attention="ctx"),
                            str(tmp_path), count=1, mnist=digits)



def test_batch_norm_and_dropout_follow_pan(tiny_set):
    """PAN's normalisation: four BatchNormalization layers whose moving statistics move in a
    training step only, and the head dropout is active in training only."""
    images, queries, _, answers = tiny_set
    keras.utils.set_random_seed(0)
    model = AttributeNetwork("nctx", filters=8, units=4, hidden=16, batch_norm=True, dropout=0.5)
    inference = model((images, queries)).numpy()
    assert np.allclose(inference, model((images, queries), training=False).numpy())
    assert not np.allclose(inference, model((images, queries), training=True).numpy())  # dropout, batch stats
    norms = [layer for layer in model.norms if layer is not None]
    assert len(norms) == 4
    means = [n.moving_mean.numpy().copy() for n in norms]
    model((images, queries), training=False)
    assert all(np.array_equal(m, n.moving_mean.numpy()) for m, n in zip(means, norms))
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  jit_compile=False)
    model.train_on_batch((images, queries), answers)
    assert all(not np.array_equal(m, n.moving_mean.numpy()) for m, n in zip(means, norms))
    plain = AttributeNetwork("nctx", filters=8, units=4, hidden=16, batch_norm=False)
    plain((images, queries))
    assert len(plain.weights) == len(model.weights) - 4 * 4  # gamma, beta, moving mean and variance
    config = AttributeNetwork.from_config(model.get_config()).get_config()
    assert config["batch_norm"] is True and config["dropout"] == 0.5


def test_pan_head_sees_the_query_only_through_the_masks(tiny_set):
    """``head_query=False``: no query embedding; the query still changes the answer (through
    the masks), and the pooled features alone reach the head. NONE cannot do without it."""
    images, queries, _, _ = tiny_set
    model = AttributeNetwork("nctx", filters=8, units=4, hidden=16, head_query=False)
    logits = model((images, queries)).numpy()
    assert model.query_embedding is None
    assert not any("query_embedding" in w.path for w in model.weights)
    assert not np.allclose(logits, model((images, np.roll(queries, 1, axis=-1))).numpy())
    assert AttributeNetwork.from_config(model.get_config()).head_query is False
    with pytest.raises(ValueError, match="head_query"):
        AttributeNetwork("none", head_query=False)
    from attention_rnn.config import AttributeConfig

    with pytest.raises(ValueError, match="head_query"):
        AttributeConfig(attention="none", head_query=False)
    assert AttributeConfig.from_json(AttributeConfig(attention="ctx", head_query=False).to_json()).head_query is False


def test_config_written_before_batch_norm_means_none():
    """A run directory from before ``batch_norm`` existed holds a network without it."""
    import json

    from attention_rnn.config import AttributeConfig

    old = json.loads(AttributeConfig(attention="ctx").to_json())
    del old["batch_norm"], old["dropout"], old["head_query"]
    config = AttributeConfig.from_json(json.dumps(old))
    assert config.batch_norm is False and config.dropout == 0.0 and config.head_query is True
    assert AttributeConfig().batch_norm is True
    assert AttributeConfig.from_json(AttributeConfig(dropout=0.25).to_json()).dropout == 0.25
    with pytest.raises(ValueError, match="dropout"):
        AttributeConfig(dropout=1.0)


def test_warmup_holds_its_rate_for_whole_epochs_of_updates():
    from attention_rnn.config import AttributeConfig
    from attention_rnn.training import learning_rate

    assert learning_rate(AttributeConfig(learning_rate=2e-3)) == 2e-3
    config = AttributeConfig(learning_rate=1e-3, warmup_epochs=3, warmup_learning_rate=3e-4, train_size=70,
                             batch_size=32)  # 2 whole batches per epoch: 6 warm-up updates
    optimizer = keras.optimizers.Adam(learning_rate(config))
    weight = keras.Variable(1.0)
    rates = []
    for _ in range(8):
        rates.append(float(optimizer.learning_rate))  # the rate the next update uses
        optimizer.apply([tf.constant(1.0)], [weight])
    np.testing.assert_allclose(rates, [3e-4] * 6 + [1e-3] * 2, rtol=1e-6)
    assert AttributeConfig.from_json(config.to_json()).warmup_learning_rate == 3e-4
    for bad in (dict(warmup_epochs=2), dict(warmup_learning_rate=3e-4), dict(warmup_epochs=-1),
                dict(warmup_epochs=1, warmup_learning_rate=0.0)):
        with pytest.raises(ValueError, match="warmup"):
            AttributeConfig(**bad)
