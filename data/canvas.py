"""Translated and cluttered MNIST canvases, built a whole batch at a time.

Placing a ``[h, w]`` patch with its top-left pixel at ``(row, col)`` of an ``[H, W]`` canvas
is the product ``P_r @ patch @ P_c^T`` with one-hot shift matrices
``P_r[r, i] = [r == i + row]``: a batched matmul, so placement is vectorised over the batch
with no per-example Python or ``tf.pad``. Cropping is the same product the other way round.
Digits and clutter are combined with a pixel-wise maximum, so the canvas stays in [0, 1].
"""

import dataclasses

import tensorflow as tf

DIGIT_SIZE = 28


@dataclasses.dataclass(frozen=True)
class CanvasSpec:
    """How one RAM data set is drawn.

    Attributes:
      size: canvas height and width in pixels (square).
      num_clutter: clutter pieces per image.
      clutter_size: side of each square clutter piece (a random crop of another digit).
      translate: False for ``center`` (the 28x28 digit as it is).
    """
    size: int
    num_clutter: int = 0
    clutter_size: int = 8
    translate: bool = True


SPECS = {
    "center": CanvasSpec(size=28, translate=False),
    "translate": CanvasSpec(size=60),
    "clutter": CanvasSpec(size=60, num_clutter=4),
    "clutter100": CanvasSpec(size=100, num_clutter=8),
}


def _shift_matrix(offsets, out_size, in_size):
    """``[B] int32 -> [B, out_size, in_size]`` float32 with ``M[b, r, i] = [r == i + offsets[b]]``."""
    r = tf.range(out_size)[None, :, None]
    i = tf.range(in_size)[None, None, :]
    return tf.cast(tf.equal(r, i + offsets[:, None, None]), tf.float32)


def place(patches, rows, cols, canvas_size):
    """Pastes patches into empty canvases.

    Args:
      patches: ``[B, h, w]`` float32.
      rows, cols: ``[B]`` int32, canvas coordinates of each patch's top-left pixel; the patch
        must fit (``0 <= rows <= canvas_size - h``).
      canvas_size: canvas side ``S``.

    Returns:
      ``[B, S, S]`` float32, zeros outside the patch.
    """
    h, w = patches.shape[1], patches.shape[2]
    p_r = _shift_matrix(rows, canvas_size, h)
    p_c = _shift_matrix(cols, canvas_size, w)
    return tf.matmul(tf.matmul(p_r, patches), p_c, transpose_b=True)


def crop(images, rows, cols, size):
    """Cuts ``[B, size, size]`` windows with top-left ``(rows, cols)`` out of ``[B, h, w]`` images."""
    h, w = images.shape[1], images.shape[2]
    s_r = _shift_matrix(rows, h, size)  # [B, h, size]
    s_c = _shift_matrix(cols, w, size)
    return tf.matmul(tf.matmul(s_r, images, transpose_a=True), s_c)


def random_params(seed, indices, pool_size, spec):
    """Draws placements for one batch from a stateless seed.

    Args:
      seed: ``[2]`` int seed for ``tf.random.stateless_*``.
      indices: ``[B]`` int, each target digit's index in its split (clutter never comes from
        the target digit itself).
      pool_size: number of digits in the split clutter is drawn from.
      spec: a :class:`CanvasSpec`.

    Returns:
      dict of int32 tensors: ``row``, ``col`` ``[B]`` (digit top-left); ``clutter_index``,
      ``crop_row``, ``crop_col``, ``piece_row``, ``piece_col`` ``[B, K]``.
    """
    batch = tf.shape(indices)[0]
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 7)
    k = spec.num_clutter
    reach = spec.size - DIGIT_SIZE + 1

    def uniform(i, shape, maxval):
        return tf.random.stateless_uniform(shape, seeds[i], minval=0, maxval=maxval, dtype=tf.int32)

    other = uniform(2, [batch, k], max(pool_size - 1, 1))
    return {
        "row": uniform(0, [batch], reach),
        "col": uniform(1, [batch], reach),
        # An offset in [1, pool_size) from the target picks any digit but the target.
        "clutter_index": (tf.cast(indices, tf.int32)[:, None] + 1 + other) % pool_size,
        "crop_row": uniform(3, [batch, k], DIGIT_SIZE - spec.clutter_size + 1),
        "crop_col": uniform(4, [batch, k], DIGIT_SIZE - spec.clutter_size + 1),
        "piece_row": uniform(5, [batch, k], spec.size - spec.clutter_size + 1),
        "piece_col": uniform(6, [batch, k], spec.size - spec.clutter_size + 1),
    }


def compose(digits, params, pool, spec):
    """Draws canvases and target masks.

    Args:
      digits: ``[B, 28, 28]`` float32 in [0, 1], the targets.
      params: from :func:`random_params` (ignored by ``center``).
      pool: ``[N, 28, 28]`` uint8 or float32, the digits clutter is cut from.
      spec: a :class:`CanvasSpec`.

    Returns:
      ``(canvas, mask)``, both ``[B, S, S, 1]`` float32; ``canvas`` in [0, 1]; ``mask`` is 1
      exactly where the target digit has ink (pixel > 0).
    """
    if not spec.translate:
        return digits[..., None], tf.cast(digits > 0, tf.float32)[..., None]
    target = place(digits, params["row"], params["col"], spec.size)
    canvas = target
    if spec.num_clutter:
        k, c = spec.num_clutter, spec.clutter_size
        flat = lambda t: tf.reshape(t, [-1])  # noqa: E731  [B, K] -> [B*K]
        sources = tf.gather(pool, flat(params["clutter_index"]))
        sources = tf.cast(sources, tf.float32) / (255.0 if pool.dtype == tf.uint8 else 1.0)
        pieces = crop(sources, flat(params["crop_row"]), flat(params["crop_col"]), c)
        placed = place(pieces, flat(params["piece_row"]), flat(params["piece_col"]), spec.size)
        placed = tf.reshape(placed, [-1, k, spec.size, spec.size])
        canvas = tf.maximum(canvas, tf.reduce_max(placed, axis=1))
    return canvas[..., None], tf.cast(target > 0, tf.float32)[..., None]
