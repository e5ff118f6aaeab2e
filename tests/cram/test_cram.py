"""CRAM: the clue loss, the encoder, both models' train steps, and the SVHN-occluded pipeline."""

import numpy as np
import pytest
import tensorflow as tf

import data
from cram.classifier import CRAMClassifier
from cram.clue import clue_loss
from cram.encoder import CRAMEncoder
from cram.inpainting import CRAMInpainter, hole_metrics
from cram.saliency import SaliencyNetwork, target_region
from data import svhn
from data.sources import DataError
from trainkit import build_optimizers


def test_clue_loss_is_lower_when_the_glimpse_sits_on_the_clue():
    clue = np.zeros([1, 40, 40, 1], np.float32)
    clue[:, 20:, 20:] = 1.0  # the bottom-right quadrant
    on = clue_loss(clue, tf.constant([[[0.3, 0.5, 0.5]]]))
    half = clue_loss(clue, tf.constant([[[0.3, 0.0, 0.5]]]))
    off = clue_loss(clue, tf.constant([[[0.3, -0.5, -0.5]]]))
    assert float(on[0]) < 0.05 < float(half[0]) < float(off[0]) and float(off[0]) > 0.95
    # and its gradient with respect to theta points towards the clue
    theta = tf.Variable([[[0.3, 0.0, 0.5]]])
    with tf.GradientTape() as tape:
        loss = clue_loss(clue, theta)
    assert float(tape.gradient(loss, theta)[0, 0, 1]) < 0  # moving right lowers the loss


def test_cover_clue_loss_is_zero_for_windows_that_contain_the_hole():
    hole = tf.reshape(tf.constant(svhn.occlusion_mask(), tf.float32), [1, 32, 32, 1])
    loss = {s: float(clue_loss(hole, tf.constant([[[s, 0.0, 0.0]]]), form="cover")[0])
            for s in (1.0, 0.75, 0.15)}
    away = float(clue_loss(hole, tf.constant([[[0.2, 0.8, 0.8]]]), form="cover")[0])
    assert loss[1.0] < 0.01 and loss[0.75] < 0.01   # the whole hole in view, with its surroundings
    assert 0.5 < loss[0.15] < 0.8                    # a window inside the hole sees part of it
    assert away > 0.99
    # "inside" prefers the small window that "cover" penalises
    assert float(clue_loss(hole, tf.constant([[[0.15, 0.0, 0.0]]]), form="inside")[0]) < 0.01
    with pytest.raises(ValueError, match="clue_form is 'around'; expected inside or cover"):
        clue_loss(hole, tf.constant([[[0.5, 0.0, 0.0]]]), form="around")
    for model in (CRAMClassifier, CRAMInpainter):  # refused at construction, not at the first step
        with pytest.raises(ValueError, match="clue_form is 'around'"):
            model(clue_form="around")


def test_encoder_shapes_and_theta_ranges():
    encoder = CRAMEncoder(num_glimpses=3, glimpse_size=8, filters=8, units=16)
    images = tf.random.uniform([2, 36, 44, 1], seed=1)
    z, thetas = encoder(images, tf.zeros([2, 36, 44, 1]), training=True)
    assert z.shape == (2, 16) and thetas.shape == (2, 3, 3)
    np.testing.assert_allclose(thetas[:, 0], [[0.5, 0, 0]] * 2, atol=1e-6)  # starts centred, half size
    assert encoder.get_config()["num_glimpses"] == 3


def small_batch(size=40, n=8, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 1, (n, size, size, 1)).astype(np.float32)
    masks = (rng.uniform(0, 1, (n, size, size, 1)) > 0.8).astype(np.float32)
    return (images, masks), rng.integers(0, 10, n).astype(np.int32)


@pytest.mark.parametrize("clue", ["oracle", "none", "saliency"])
def test_classifier_step_trains_and_the_clue_counts_only_when_used(clue):
    import keras
    keras.utils.set_random_seed(0)
    model = CRAMClassifier(clue=clue, num_glimpses=2, glimpse_size=8, filters=8, units=16)
    model.compile(keras.optimizers.Adam(1e-3))
    (images, masks), labels = small_batch()
    model.explain((images, masks))  # builds every layer, so the weights exist before the step
    build_optimizers(model)  # as build_model does: the first step is traced once
    before = [v.numpy().copy() for v in model.encoder.trainable_variables]
    assert before
    logs = model.train_on_batch((images, masks), labels, return_dict=True)
    assert set(logs) >= {"loss", "classification_loss", "clue_loss", "accuracy"}
    if clue == "none":
        assert logs["loss"] == pytest.approx(logs["classification_loss"], rel=1e-5)
    else:
        assert logs["loss"] == pytest.approx(logs["classification_loss"] + logs["clue_loss"], rel=1e-4)
    if clue == "saliency":
        assert not model.saliency.trainable and model.saliency.trainable_variables == []
    out = model.explain((images, masks))
    expected = {"oracle": target_region(masks), "none": np.zeros_like(masks)}.get(clue)
    if expected is not None:
        np.testing.assert_array_equal(out["clues"], expected)
    assert any(not np.array_equal(a, b.numpy()) for a, b in zip(before, model.encoder.trainable_variables))


def test_saliency_network_keeps_the_input_size():
    net = SaliencyNetwork(filters=(4, 4, 4))
    for shape in ([2, 60, 60, 1], [1, 28, 36, 1]):
        out = net(tf.zeros(shape))
        assert out.shape == shape[:3] + [1]
        assert set(np.unique(net.clue(tf.zeros(shape)))) <= {0.0, 1.0}


def test_inpainter_alternates_updates_and_keeps_known_pixels():
    import keras
    keras.utils.set_random_seed(0)
    model = CRAMInpainter(num_glimpses=2, glimpse_size=8, filters=8, units=16)
    model.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    assert model.get_config()["clue_form"] == "cover"  # the inpainting default
    images = np.random.default_rng(0).integers(0, 256, (8, 32, 32, 3)).astype(np.uint8)
    ds = svhn.make_svhn_occluded("validation", 8, images=images)
    (occluded, masks), originals = next(iter(ds))
    model((occluded, masks))
    build_optimizers(model)
    d_before = [v.numpy().copy() for v in model.discriminator_variables()]
    g_before = [v.numpy().copy() for v in model.generator_variables()]
    logs = model.train_on_batch((occluded, masks), originals, return_dict=True)
    assert set(logs) >= {"hole_l1", "discriminator_loss", "generator_adversarial", "clue_loss", "psnr"}
    assert any(not np.array_equal(a, b.numpy()) for a, b in zip(d_before, model.discriminator_variables()))
    assert any(not np.array_equal(a, b.numpy()) for a, b in zip(g_before, model.generator_variables()))
    completed = model((occluded, masks)).numpy()
    keep = masks.numpy()[..., 0] == 0
    np.testing.assert_allclose(completed[keep], originals.numpy()[keep], atol=1e-6)
    l1, psnr, ssim = hole_metrics(originals, originals, masks)
    assert float(tf.reduce_max(l1)) == 0 and float(tf.reduce_min(ssim)) > 0.99 and float(tf.reduce_min(psnr)) > 90


def test_svhn_occluded_pipeline_on_svhn_shaped_arrays(tmp_path):
    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, (5_040, 32, 32, 3)).astype(np.uint8)
    test = rng.integers(0, 256, (10, 32, 32, 3)).astype(np.uint8)
    np.savez(tmp_path / "train.npz", x=train, y=np.zeros(len(train)))
    np.savez(tmp_path / "test.npz", x=test)
    ds = data.make_dataset("svhn_occluded", "test", 4, svhn_source="dir", data_dir=str(tmp_path))
    (occluded, masks), originals = next(iter(ds))
    assert occluded.shape == (4, 32, 32, 3) and masks.shape == (4, 32, 32, 1) and originals.dtype == tf.float32
    assert float(tf.reduce_mean(masks)) == pytest.approx(0.0625)
    np.testing.assert_allclose(originals.numpy(), test[:4] / 255.0, atol=1e-6)
    np.testing.assert_array_equal(occluded.numpy()[:, 12:20, 12:20], 0)
    np.testing.assert_array_equal(occluded.numpy()[:, :12], originals.numpy()[:, :12])
    assert svhn.split_size("validation", "dir", str(tmp_path)) == svhn.VALIDATION
    # train passes keyed by index: pass 1 of a stream from 0 equals the first pass of a stream from 1
    a = data.make_dataset("svhn_occluded", "train", 8, seed=3, svhn_source="dir", data_dir=str(tmp_path),
                          limit=16, first_pass=0)
    b = data.make_dataset("svhn_occluded", "train", 8, seed=3, svhn_source="dir", data_dir=str(tmp_path),
                          limit=16, first_pass=1)
    np.testing.assert_array_equal([x[1] for x in a.take(4)][2:], [x[1] for x in b.take(2)])


def test_svhn_errors_and_standin_label(tmp_path):
    with pytest.raises(DataError, match="not a directory"):
        svhn.load_svhn("dir", str(tmp_path / "missing"))
    (tmp_path / "train.npz").write_bytes(b"junk")
    with pytest.raises(DataError, match="cannot read"):
        svhn.load_svhn("dir", str(tmp_path))
    # A truncated zip (a real .npz cut short) and zip-shaped garbage are named, not a BadZipFile.
    good = tmp_path / "good.npz"
    np.savez(good, x=np.zeros((4, 32, 32, 3), np.uint8))
    for damaged in (good.read_bytes()[:200], b"PK\x03\x04" + b"\x00" * 64):
        (tmp_path / "train.npz").write_bytes(damaged)
        with pytest.raises(DataError, match="cannot read"):
            svhn.load_svhn("dir", str(tmp_path))
    with pytest.raises(DataError, match="holds no images"):
        svhn.make_svhn_occluded("test", 2, images=np.zeros((0, 32, 32, 3), np.uint8))
    with pytest.raises(DataError, match="fewer than one batch"):
        svhn.make_svhn_occluded("train", 8, images=np.zeros((3, 32, 32, 3), np.uint8))
    with pytest.raises(DataError, match="unknown SVHN source"):
        svhn.load_svhn("bogus")
    with pytest.raises(DataError, match="uint8"):
        svhn.make_svhn_occluded("test", 2, images=np.zeros((2, 32, 32, 1), np.uint8))
    assert "not SVHN" in svhn.label("standin")
    digits = np.random.default_rng(0).uniform(0, 1, (5, 784)).astype(np.float32)
    a, b = svhn.standin_images(digits, 1, 7), svhn.standin_images(digits, 1, 7)
    assert a.shape == (7, 32, 32, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)


def test_svhn_tfds_without_network_fails_at_once(monkeypatch, tmp_path):
    import data.sources
    monkeypatch.setattr(data.sources, "network_available", lambda *a, **k: False)
    with pytest.raises(DataError, match="no network"):
        svhn.load_svhn("tfds", str(tmp_path))


def test_seeded_models_give_the_same_first_step_losses():
    import keras
    (images, masks), labels = small_batch(seed=3)
    losses = []
    for _ in range(2):
        keras.utils.set_random_seed(7)
        model = CRAMClassifier(clue="oracle", num_glimpses=2, glimpse_size=8, filters=8, units=16)
        model.compile(keras.optimizers.Adam(1e-3))
        model((images, masks))
        build_optimizers(model)
        losses.append(model.train_on_batch((images, masks), labels, return_dict=True))
    assert losses[0] == losses[1]
