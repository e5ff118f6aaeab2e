"""bilinear_sample and SpatialTransformer: identity, zoom, gradients, a NumPy reference, XLA."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from cram import SpatialTransformer, affine_grid, bilinear_sample


def numpy_bilinear(image, x, y):
    """Independent reference: loops over points, reads zeros outside. image [H, W, C]."""
    height, width, _ = image.shape
    out = []
    for xs, ys in zip(x.ravel(), y.ravel()):
        col, row = (xs + 1) / 2 * (width - 1), (ys + 1) / 2 * (height - 1)
        c0, r0 = int(np.floor(col)), int(np.floor(row))
        value = 0.0
        for r, wr in ((r0, 1 - (row - r0)), (r0 + 1, row - r0)):
            for c, wc in ((c0, 1 - (col - c0)), (c0 + 1, col - c0)):
                if 0 <= r < height and 0 <= c < width:
                    value = value + wr * wc * image[r, c]
        out.append(value * np.ones(image.shape[-1]))
    return np.array(out).reshape(x.shape + (image.shape[-1],))


def test_identity_returns_the_image():
    images = tf.random.uniform([3, 11, 13, 2], seed=0)
    out = SpatialTransformer((11, 13))(images, tf.constant([[1.0, 0.0, 0.0]] * 3))
    np.testing.assert_allclose(out.numpy(), images.numpy(), atol=1e-5)


def test_half_scale_half_shift_zooms_on_the_bottom_right_quadrant():
    image = np.arange(81, dtype=np.float32).reshape(1, 9, 9, 1)
    out = SpatialTransformer(5)(image, tf.constant([[0.5, 0.5, 0.5]]))
    np.testing.assert_allclose(out.numpy()[0, ..., 0], image[0, 4:, 4:, 0], atol=1e-4)


def test_outside_reads_zeros_and_translation_direction():
    ones = np.ones([1, 9, 9, 1], np.float32)
    out = SpatialTransformer(9)(ones, tf.constant([[1.0, 0.5, 0.0]])).numpy()[0, ..., 0]
    # Shifted right by a quarter of the width: the right-most quarter of the output is outside.
    np.testing.assert_allclose(out[:, :7], 1.0, atol=1e-6)
    np.testing.assert_allclose(out[:, 7:], 0.0, atol=1e-6)
    far = SpatialTransformer(4)(ones, tf.constant([[0.1, 5.0, -5.0]]))
    assert float(tf.reduce_max(far)) == 0.0


def test_agrees_with_numpy_reference():
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (2, 7, 10, 3)).astype(np.float32)
    x = rng.uniform(-1.3, 1.3, (2, 5, 4)).astype(np.float32)
    y = rng.uniform(-1.3, 1.3, (2, 5, 4)).astype(np.float32)
    out = bilinear_sample(images, x, y).numpy()
    assert out.shape == (2, 5, 4, 3)
    for b in range(2):
        np.testing.assert_allclose(out[b], numpy_bilinear(images[b], x[b], y[b]), atol=1e-5)


def test_gradient_wrt_theta_matches_finite_differences():
    rng = np.random.default_rng(1)
    # A smooth image keeps the piecewise-bilinear surface close to linear over the FD step.
    rows, cols = np.meshgrid(np.linspace(0, 3, 16), np.linspace(0, 3, 16), indexing="ij")
    images = tf.constant((np.sin(rows) * np.cos(cols))[None, :, :, None].astype(np.float32))
    weights = tf.constant(rng.normal(size=(1, 6, 6, 1)).astype(np.float32))
    st = SpatialTransformer(6)

    def objective(theta):
        return tf.reduce_sum(st(images, theta) * weights)

    theta = tf.constant([[0.63, 0.117, -0.211]])
    with tf.GradientTape() as tape:
        tape.watch(theta)
        value = objective(theta)
    analytic = tape.gradient(value, theta).numpy()[0]
    eps = 1e-3
    numeric = [(float(objective(theta + eps * tf.one_hot([k], 3))) -
                float(objective(theta - eps * tf.one_hot([k], 3)))) / (2 * eps) for k in range(3)]
    np.testing.assert_allclose(analytic, numeric, rtol=2e-2, atol=2e-3)
    assert np.all(np.abs(analytic) > 1e-3)


def test_gradient_reaches_images():
    images = tf.Variable(tf.random.uniform([1, 8, 8, 1], seed=2))
    with tf.GradientTape() as tape:
        out = tf.reduce_sum(SpatialTransformer(4)(images, tf.constant([[0.4, 0.1, 0.2]])))
    assert float(tf.reduce_sum(tape.gradient(out, images))) == pytest.approx(16.0, rel=1e-4)


def test_compiles_under_xla_and_agrees():
    st = SpatialTransformer(7)
    images, theta = tf.random.uniform([3, 20, 20, 2], seed=3), tf.random.uniform([3, 3], -1, 1, seed=4)
    eager = st(images, theta)
    compiled = tf.function(lambda i, t: st(i, t), jit_compile=True)(images, theta)
    np.testing.assert_allclose(eager.numpy(), compiled.numpy(), atol=1e-5)


def test_grid_shape_and_bad_inputs():
    x_s, y_s = affine_grid(tf.constant([[1.0, 0.0, 0.0]]), 3, 4)
    assert x_s.shape == (1, 3, 4) and float(x_s[0, 0, 0]) == -1.0 and float(y_s[0, -1, 0]) == 1.0
    with pytest.raises(ValueError, match=r"theta \[B, 3\]"):
        SpatialTransformer(4)(tf.zeros([1, 8, 8, 1]), tf.zeros([1, 6]))
    with pytest.raises(ValueError, match=r"images \[B, H, W, C\]"):
        SpatialTransformer(4)(tf.zeros([8, 8, 1]), tf.zeros([1, 3]))
    with pytest.raises(ValueError, match="output_size"):
        SpatialTransformer(0)


def test_config_round_trip():
    st = SpatialTransformer((5, 7), name="st")
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(st))
    assert isinstance(restored, SpatialTransformer) and restored.output_size == (5, 7)
