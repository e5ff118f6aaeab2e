"""The retina-like glimpse sensor of RAM (Mnih et al. 2014, Section 3.1)."""

import keras
import tensorflow as tf


def glimpse_centres(locations, height, width, unit_pixels):
    """Maps locations to glimpse centres in pixel coordinates.

    Args:
      locations: ``[B, 2]`` float32, ``(x, y)`` in [-1, 1]; x horizontal (towards higher
        column index), y vertical (towards higher row index), ``(0, 0)`` the image centre.
      height, width: image size in pixels.
      unit_pixels: pixels per unit of location.

    Returns:
      ``(cols, rows)``, each ``[B]`` float32: ``col = (W - 1) / 2 + x * unit_pixels``,
      ``row = (H - 1) / 2 + y * unit_pixels``; pixel ``(row i, col j)`` has its centre at
      ``(j, i)``.
    """
    cols = (width - 1) / 2.0 + locations[:, 0] * unit_pixels
    rows = (height - 1) / 2.0 + locations[:, 1] * unit_pixels
    return cols, rows


def _area_weights(centres, extents, patch_size, length):
    """Resampling matrices of the area-average (box filter) sensor along one axis.

    Output bin ``p`` of scale ``k`` covers the interval
    ``[c - s_k / 2 + p * f_k, c - s_k / 2 + (p + 1) * f_k]`` in pixel-edge coordinates
    (pixel ``j`` spans ``[j - 0.5, j + 0.5]``), where ``s_k`` is the scale's extent and
    ``f_k = s_k / patch_size``; its value is the image averaged over that interval, so the
    weight of pixel ``j`` is ``overlap(bin, pixel) / f_k``. Pixels outside the image do not
    exist, so what falls outside reads zeros.

    Args:
      centres: ``[B]`` float32 glimpse centres along this axis, in pixels.
      extents: python list of K extents ``s_k`` in pixels.
      patch_size: P.
      length: image size along this axis.

    Returns:
      ``[B, K, P, length]`` float32.
    """
    extents = tf.constant(extents, tf.float32)[None, :, None, None]  # [1, K, 1, 1]
    step = extents / patch_size
    p = tf.range(patch_size, dtype=tf.float32)[None, None, :, None]
    j = tf.range(length, dtype=tf.float32)[None, None, None, :]
    start = centres[:, None, None, None] - extents / 2.0 + p * step
    overlap = tf.minimum(start + step, j + 0.5) - tf.maximum(start, j - 0.5)
    return tf.maximum(overlap, 0.0) / step


@keras.saving.register_keras_serializable(package="ram")
class GlimpseSensor(keras.layers.Layer):
    """Extracts ``num_scales`` concentric patches around a location, all resampled to one size.

    Scale ``k`` covers ``patch_size * scale_factor**k`` pixels square, centred on the glimpse
    centre (see :func:`glimpse_centres` for the coordinate convention), and is resampled to
    ``patch_size x patch_size`` by **area averaging**: each output pixel is the mean of the
    image over its footprint, pixels being unit squares. At scale 0 with an odd patch and an
    integer-aligned centre (or an even patch and a half-integer centre) this is an exact crop;
    at coarser scales with integer ``scale_factor**k`` it is average pooling. Whatever falls
    outside the image reads zeros.

    The sensor is two batched matrix products per call (rows then columns), vectorised over
    batch and scales: ``glimpse = A_y @ image @ A_x^T`` with ``A`` from the box-filter
    overlaps. No per-sample loop, no ``crop_and_resize`` (which XLA cannot compile).

    Args:
      patch_size: side of every output patch, in pixels.
      num_scales: number of concentric patches (the paper's k).
      scale_factor: ratio between the extents of successive scales.
      unit_pixels: pixels per unit of location; None means half the image width.

    Call args:
      images: ``[B, H, W, C]`` float32.
      locations: ``[B, 2]`` float32, ``(x, y)`` in [-1, 1].

    Returns:
      ``[B, num_scales, patch_size, patch_size, C]`` float32.
    """

    def __init__(self, patch_size, num_scales, scale_factor=2.0, unit_pixels=None, **kwargs):
        super().__init__(**kwargs)
        if int(patch_size) < 1 or int(num_scales) < 1 or float(scale_factor) <= 0:
            raise ValueError("GlimpseSensor needs patch_size >= 1, num_scales >= 1 and scale_factor > 0, "
                             f"got {patch_size}, {num_scales}, {scale_factor}")
        self.patch_size = int(patch_size)
        self.num_scales = int(num_scales)
        self.scale_factor = float(scale_factor)
        self.unit_pixels = None if unit_pixels is None else float(unit_pixels)

    @property
    def extents(self):
        """Side in pixels of the area each scale covers."""
        return [self.patch_size * self.scale_factor ** k for k in range(self.num_scales)]

    def resolved_unit_pixels(self, width):
        return width / 2.0 if self.unit_pixels is None else self.unit_pixels

    def call(self, images, locations):
        images = tf.convert_to_tensor(images)
        locations = tf.convert_to_tensor(locations)
        if images.shape.rank != 4:
            raise ValueError(f"GlimpseSensor expects images [B, H, W, C], got shape {images.shape}")
        if not images.dtype.is_floating or not locations.dtype.is_floating:
            raise TypeError(f"GlimpseSensor expects float images and locations, got {images.dtype.name} "
                            f"and {locations.dtype.name}; scale integer pixels to [0, 1] first")
        if locations.shape.rank != 2 or locations.shape[-1] != 2:
            raise ValueError(f"GlimpseSensor expects locations [B, 2], got shape {locations.shape}")
        height, width = images.shape[1], images.shape[2]
        cols, rows = glimpse_centres(locations, height, width, self.resolved_unit_pixels(width))
        a_y = _area_weights(rows, self.extents, self.patch_size, height)  # [B, K, P, H]
        a_x = _area_weights(cols, self.extents, self.patch_size, width)   # [B, K, P, W]
        by_rows = tf.einsum("bkph,bhwc->bkpwc", a_y, images)
        return tf.einsum("bkpwc,bkqw->bkpqc", by_rows, a_x)

    def compute_output_shape(self, images_shape, locations_shape=None):
        return (images_shape[0], self.num_scales, self.patch_size, self.patch_size, images_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(patch_size=self.patch_size, num_scales=self.num_scales,
                      scale_factor=self.scale_factor, unit_pixels=self.unit_pixels)
        return config
