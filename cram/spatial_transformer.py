"""The spatial transformer of CRAM (Chung & Cho 2018, Eq. 3): isotropic scale + translation.

Normalised image coordinates (shared with RAM's locations): ``x`` horizontal, ``y``
vertical, both in [-1, 1]; ``x = -1`` is the centre of column 0 and ``x = +1`` the centre of
column ``W - 1`` (likewise ``y`` for rows), so pixel ``(row i, col j)`` sits at
``x = 2 j / (W - 1) - 1``, ``y = 2 i / (H - 1) - 1``.
"""

import keras
import tensorflow as tf


def bilinear_sample(images, x, y):
    """Samples images at real-valued normalised coordinates, bilinearly, zeros outside.

    Built from plain TF ops (one flat ``tf.gather`` per corner), so it is vectorised over the
    batch, differentiable with respect to ``images``, ``x`` and ``y``, and compiles under XLA
    (no tensorflow-addons, no ``crop_and_resize``). The image is treated as zero beyond its
    border: a point half a pixel outside blends the edge pixel with zeros.

    Args:
      images: ``[B, H, W, C]`` float32.
      x, y: ``[B, ...]`` float32 normalised coordinates (see the module docstring).

    Returns:
      ``[B, ..., C]`` float32.
    """
    images = tf.convert_to_tensor(images)
    shape = tf.shape(images)
    batch, height, width, channels = shape[0], shape[1], shape[2], shape[3]
    point_shape = tf.shape(x)
    x = tf.reshape(x, [batch, -1])
    y = tf.reshape(y, [batch, -1])
    cols = (x + 1.0) * 0.5 * tf.cast(width - 1, tf.float32)
    rows = (y + 1.0) * 0.5 * tf.cast(height - 1, tf.float32)
    col0, row0 = tf.floor(cols), tf.floor(rows)
    wc1, wr1 = cols - col0, rows - row0  # weights of the right / lower neighbours
    col0, row0 = tf.cast(col0, tf.int32), tf.cast(row0, tf.int32)
    flat = tf.reshape(images, [-1, channels])
    base = (tf.range(batch) * height * width)[:, None]

    def corner(r, c):
        inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
        index = base + tf.clip_by_value(r, 0, height - 1) * width + tf.clip_by_value(c, 0, width - 1)
        return tf.gather(flat, index) * tf.cast(inside, images.dtype)[..., None]

    out = ((1 - wr1) * (1 - wc1))[..., None] * corner(row0, col0) \
        + ((1 - wr1) * wc1)[..., None] * corner(row0, col0 + 1) \
        + (wr1 * (1 - wc1))[..., None] * corner(row0 + 1, col0) \
        + (wr1 * wc1)[..., None] * corner(row0 + 1, col0 + 1)
    return tf.reshape(out, tf.concat([point_shape, [channels]], 0))


def affine_grid(theta, height, width):
    """Source coordinates of an ``height x width`` output grid under ``theta``.

    Eq. 3 with isotropic scale ``s`` and translation ``(tx, ty)``::

        [x_s]   [s 0 tx] [x_t]
        [y_s] = [0 s ty] [y_t]
                         [ 1 ]

    for target grid points ``(x_t, y_t)`` evenly spaced over [-1, 1] (pixel centres, as in
    the module docstring).

    Args:
      theta: ``[B, 3]`` float32, ``(s, tx, ty)``.
      height, width: output size.

    Returns:
      ``(x_s, y_s)``, each ``[B, height, width]`` float32.
    """
    theta = tf.convert_to_tensor(theta, tf.float32)
    y_t, x_t = tf.meshgrid(tf.linspace(-1.0, 1.0, height), tf.linspace(-1.0, 1.0, width), indexing="ij")
    s, tx, ty = theta[:, 0, None, None], theta[:, 1, None, None], theta[:, 2, None, None]
    return s * x_t[None] + tx, s * y_t[None] + ty


@keras.saving.register_keras_serializable(package="cram")
class SpatialTransformer(keras.layers.Layer):
    """Crops and zooms with ``theta = (s, tx, ty)``: ``st(images, theta) -> [B, h, w, C]``.

    ``theta = (1, 0, 0)`` with ``output_size`` equal to the image size returns the image;
    ``(0.5, 0.5, 0.5)`` zooms on the bottom-right quadrant. Bilinear sampling, zeros outside
    (:func:`bilinear_sample`); differentiable with respect to images and theta.

    Args:
      output_size: int or ``(height, width)`` of the glimpse.

    Call args:
      images: ``[B, H, W, C]`` float32.
      theta: ``[B, 3]`` float32 ``(s, tx, ty)`` in normalised coordinates.
    """

    def __init__(self, output_size, **kwargs):
        super().__init__(**kwargs)
        size = (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)
        if len(size) != 2 or min(size) < 1:
            raise ValueError(f"output_size must be a positive int or (height, width), got {output_size!r}")
        self.output_size = tuple(int(v) for v in size)

    def call(self, images, theta):
        images = tf.convert_to_tensor(images)
        theta = tf.convert_to_tensor(theta)
        if images.shape.rank != 4:
            raise ValueError(f"SpatialTransformer expects images [B, H, W, C], got shape {images.shape}")
        if theta.shape.rank != 2 or theta.shape[-1] != 3:
            raise ValueError(f"SpatialTransformer expects theta [B, 3] = (s, tx, ty), got shape {theta.shape}")
        x_s, y_s = affine_grid(theta, *self.output_size)
        return bilinear_sample(images, x_s, y_s)

    def compute_output_shape(self, images_shape, theta_shape=None):
        return (images_shape[0], *self.output_size, images_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(output_size=self.output_size)
        return config
