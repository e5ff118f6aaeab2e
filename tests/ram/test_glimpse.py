"""GlimpseSensor on hand-built images: exact crops, scale extents, zeros outside, shapes."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from absl.testing import parameterized

from ram import GlimpseSensor
from ram.glimpse import glimpse_centres


def ramp(height=20, width=20, channels=1):
    rows, cols = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    image = (rows * 100 + cols).astype(np.float32)
    return np.repeat(image[None, :, :, None], channels, axis=-1)


def location_for(col, row, height, width, unit):
    """The location whose glimpse centre is pixel-centre coordinates (col, row)."""
    return np.array([[(col - (width - 1) / 2) / unit, (row - (height - 1) / 2) / unit]], np.float32)


class ShapeTest(parameterized.TestCase):
    @parameterized.parameters((8, 1, 1, 28), (12, 3, 1, 60), (12, 4, 3, 100), (5, 2, 2, 17))
    def test_documented_shape(self, patch, scales, channels, size):
        sensor = GlimpseSensor(patch, scales)
        images = tf.random.uniform([3, size, size, channels])
        out = sensor(images, tf.random.uniform([3, 2], -1, 1))
        self.assertEqual(out.shape, (3, scales, patch, patch, channels))
        self.assertEqual(sensor.compute_output_shape((3, size, size, channels)), (3, scales, patch, patch, channels))


def test_exact_crop_odd_patch_integer_centre():
    image = ramp()
    sensor = GlimpseSensor(5, 1, unit_pixels=10)
    out = sensor(image, location_for(col=7, row=9, height=20, width=20, unit=10)).numpy()
    np.testing.assert_allclose(out[0, 0, :, :, 0], image[0, 7:12, 5:10, 0], atol=1e-3)


def test_convention_x_is_columns_y_is_rows():
    image = np.zeros([1, 21, 21, 1], np.float32)
    image[0, 10, 17, 0] = 1.0  # row 10 (centre row), col 17: to the right of the centre
    sensor = GlimpseSensor(1, 1, unit_pixels=7)
    assert sensor(image, np.array([[1.0, 0.0]], np.float32)).numpy().item() == pytest.approx(1.0)
    assert sensor(image, np.array([[0.0, 1.0]], np.float32)).numpy().item() == pytest.approx(0.0)
    cols, rows = glimpse_centres(np.array([[1.0, -1.0]], np.float32), 21, 21, 7)
    assert (float(cols[0]), float(rows[0])) == (17.0, 3.0)


def test_default_unit_pixels_is_half_the_width():
    sensor = GlimpseSensor(4, 1)
    assert sensor.resolved_unit_pixels(60) == 30.0


def test_scale_extents_area_average():
    image = ramp()
    sensor = GlimpseSensor(4, 3, scale_factor=2.0, unit_pixels=10)
    assert sensor.extents == [4, 8, 16]
    # Centre at (col 9.5, row 9.5), between pixels: every scale is integer-aligned.
    out = sensor(image, np.zeros([1, 2], np.float32)).numpy()[0, ..., 0]
    np.testing.assert_allclose(out[0], image[0, 8:12, 8:12, 0], atol=1e-3)
    pooled = image[0, 6:14, 6:14, 0].reshape(4, 2, 4, 2).mean(axis=(1, 3))
    np.testing.assert_allclose(out[1], pooled, atol=1e-3)
    pooled = image[0, 2:18, 2:18, 0].reshape(4, 4, 4, 4).mean(axis=(1, 3))
    np.testing.assert_allclose(out[2], pooled, atol=1e-3)


def test_outside_reads_zeros():
    ones = np.ones([1, 10, 10, 1], np.float32)
    sensor = GlimpseSensor(3, 2, unit_pixels=4.5)
    # Centre on the bottom-right pixel (col 9, row 9): scale 0 covers cols/rows 8..10.
    out = sensor(ones, np.array([[1.0, 1.0]], np.float32)).numpy()[0, ..., 0]
    np.testing.assert_allclose(out[0], [[1, 1, 0], [1, 1, 0], [0, 0, 0]], atol=1e-6)
    assert 0.0 < out[1].mean() < 1.0
    far = GlimpseSensor(3, 2, unit_pixels=1000.0)(ones, np.array([[1.0, -1.0]], np.float32))
    assert float(tf.reduce_max(tf.abs(far))) == 0.0


def test_batch_elements_use_their_own_locations():
    image = np.repeat(ramp(), 2, axis=0)
    locations = np.concatenate([location_for(4, 4, 20, 20, 10), location_for(15, 12, 20, 20, 10)])
    out = GlimpseSensor(3, 1, unit_pixels=10)(image, locations).numpy()[..., 0]
    np.testing.assert_allclose(out[0, 0], image[0, 3:6, 3:6, 0], atol=1e-3)
    np.testing.assert_allclose(out[1, 0], image[1, 11:14, 14:17, 0], atol=1e-3)


def test_compiles_under_xla_and_agrees():
    sensor = GlimpseSensor(6, 3, unit_pixels=20)
    images, locations = tf.random.uniform([4, 40, 40, 2], seed=1), tf.random.uniform([4, 2], -1, 1, seed=2)
    eager = sensor(images, locations)
    compiled = tf.function(lambda i, l: sensor(i, l), jit_compile=True)(images, locations)
    np.testing.assert_allclose(eager.numpy(), compiled.numpy(), atol=1e-5)


def test_rejects_wrong_ranks():
    sensor = GlimpseSensor(4, 1)
    with pytest.raises(ValueError, match=r"images \[B, H, W, C\]"):
        sensor(tf.zeros([2, 20, 20]), tf.zeros([2, 2]))
    with pytest.raises(ValueError, match=r"locations \[B, 2\]"):
        sensor(tf.zeros([2, 20, 20, 1]), tf.zeros([2, 3]))
    with pytest.raises(ValueError, match="patch_size >= 1"):
        GlimpseSensor(0, 1)


def test_config_round_trip():
    sensor = GlimpseSensor(7, 2, scale_factor=3.0, unit_pixels=11.0, name="s")
    clone = GlimpseSensor.from_config(sensor.get_config())
    assert (clone.patch_size, clone.num_scales, clone.scale_factor, clone.unit_pixels) == (7, 2, 3.0, 11.0)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(sensor))
    assert isinstance(restored, GlimpseSensor) and restored.extents == sensor.extents
