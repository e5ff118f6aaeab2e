"""AttributeNetwork: every attention type builds, trains a step on a tiny generated set, and
exposes its masks; mask combination and correctness."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from attention_rnn.model import ATTENTIONS, AttributeNetwork, combined_mask, make_attention, mask_correctness
from data.attributes import make_attribute_dataset


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
    before = [w.numpy().copy() for w in model.trainable_weights] if model.built else None
    logs = model.train_on_batch((images, queries), answers, return_dict=True)
    assert np.isfinite(logs["loss"])
    logits, masks = model((images, queries), return_masks=True)
    assert logits.shape == (4, 5)
    expected = {"none": 0, "san": 1}.get(attention, 4)
    assert len(masks) == expected
    if masks:
        assert masks[-1].shape == (4, 2, 2, 1) and masks[0].shape[1] in (16, 2)
    assert before is None or any(not np.array_equal(b, w.numpy()) for b, w in zip(before, model.trainable_weights))


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


def test_every_attention_type_builds():
    assert [type(make_attention(kind, 4)).__name__ for kind in ATTENTIONS] == [
        "NoneType", "SoftAttention", "LocalAttention", "LocalAttention", "AttentionRNN", "AttentionRNN",
        "AttentionRNN", "BlockAttentionRNN"]


def test_config_round_trip_and_unknown_attention():
    model = AttributeNetwork("ctx", filters=8, units=4)
    assert AttributeNetwork.from_config(model.get_config()).get_config() == model.get_config()
    with pytest.raises(ValueError, match="unknown attention 'lstm'"):
        AttributeNetwork("lstm")
