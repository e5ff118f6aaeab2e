"""The clue loss (Sec. III-B): how much of the binary clue the glimpse windows take in."""

import tensorflow as tf

from cram.config import CRAMConfig
from cram.spatial_transformer import SpatialTransformer
from trainkit.settings import check_value


def check_clue_form(form):
    """Returns ``form`` if it is one of ``cram.config.CLUE_FORMS``; raises ValueError otherwise."""
    return check_value(CRAMConfig, "clue_form", form)


def window_coverage(clues, thetas):
    """The share of each clue inside each glimpse window: ``clues [B, H, W, 1]`` binary,
    ``thetas [B, T, 3]`` -> ``[B, T]`` in [0, 1] (1 for an empty clue). Window t is
    ``|x - tx| <= s`` and ``|y - ty| <= s`` over the pixel centres (x, y in [-1, 1], as in
    :class:`SpatialTransformer`), with a linear ramp one pixel wide across each edge."""
    clues = tf.convert_to_tensor(clues, tf.float32)
    thetas = tf.convert_to_tensor(thetas, tf.float32)
    height, width = clues.shape[1], clues.shape[2]

    def window_weights(size, centre, scale):  # [B, T, size]: the window's weight per pixel row/column
        coords = tf.linspace(-1.0, 1.0, size)
        pixel = 2.0 / (size - 1)
        distance = tf.abs(coords[None, None, :] - centre[..., None])
        return tf.clip_by_value((scale[..., None] - distance) / pixel + 0.5, 0.0, 1.0)

    s, tx, ty = thetas[..., 0], thetas[..., 1], thetas[..., 2]
    in_x, in_y = window_weights(width, tx, s), window_weights(height, ty, s)  # [B, T, W], [B, T, H]
    covered = tf.einsum("bhw,bth,btw->bt", clues[..., 0], in_y, in_x)
    total = tf.reduce_sum(clues, axis=[1, 2, 3])[:, None]
    return tf.where(total > 0, covered / tf.maximum(total, 1e-6), 1.0)


def clue_loss(clues, thetas, sensor_size=16, form="inside"):
    """How far the glimpses are from the clue (Sec. IV; the paper's equation was lost, these are
    our forms). ``clues [B, H, W, 1]`` binary, ``thetas [B, T, 3]``; returns ``[B]``, the mean
    over the T glimpses of:

    - ``form="inside"``: ``mean_pixels(1 - STN(clue, theta_t))``, zero when the window lies
      inside the clue, one when none of it does. Pulls windows onto the clue (classification:
      onto the salient digit).
    - ``form="cover"``: ``1 - sum(clue * W_t) / sum(clue)``, one minus the share of the clue
      inside window t, where ``W_t`` is the window ``[tx - s, tx + s] x [ty - s, ty + s]`` as a
      mask on the clue's pixel centres, with one-pixel linear ramps at its edges (so the loss
      is smooth in theta, and exact to a pixel; sampling the clue at the glimpse's 16x16 points
      instead aliases). Zero for any window that contains the whole clue. Inpainting uses it:
      the clue is the hole, which holds no pixels, so windows must take the hole *with* its
      surroundings rather than sit inside it.

    ``inside`` samples the clue bilinearly, like the image; both are differentiable in theta.
    """
    if check_clue_form(form) == "cover":
        return tf.reduce_mean(1.0 - window_coverage(clues, thetas), axis=1)
    t = thetas.shape[1]
    flat = tf.reshape(thetas, [-1, 3])
    tiled = tf.repeat(clues, t, axis=0)  # [B*T, H, W, 1], row-major as flat
    seen = SpatialTransformer(sensor_size)(tiled, flat)
    per = tf.reshape(tf.reduce_mean(1.0 - seen, axis=[1, 2, 3]), [-1, t])
    return tf.reduce_mean(per, axis=1)
