"""Measuring a trained RAM: test error and where its glimpses land."""

import numpy as np
import tensorflow as tf

import data
from ram.glimpse import glimpse_centres


def digit_centres(masks):
    """Centre of each target digit's ink bounding box.

    Args:
      masks: ``[B, H, W, 1]`` float32, 1 where the target digit has ink.

    Returns:
      ``(cols, rows)``, each ``[B]`` float32, in the pixel convention of
      :func:`ram.glimpse.glimpse_centres` (pixel ``(row i, col j)`` centred at ``(j, i)``).
    """
    def span(ink):  # ink [B, L] -> (first + last) / 2 of the nonzero entries
        length = ink.shape[1]
        first = tf.argmax(ink, axis=1, output_type=tf.int32)
        last = length - 1 - tf.argmax(tf.reverse(ink, [1]), axis=1, output_type=tf.int32)
        return tf.cast(first + last, tf.float32) / 2.0

    ink = tf.cast(masks[..., 0] > 0, tf.float32)
    return span(tf.reduce_max(ink, axis=1)), span(tf.reduce_max(ink, axis=2))


def glimpse_distances(model, config, split="test", mnist=None, limit=None, batch_size=500):
    """Mean distance in pixels from each glimpse's centre to the target digit's centre.

    The model's deterministic (mean) path is used; with ``random_locations`` the model's own
    uniform draws. Returns a list of ``num_glimpses`` floats (step 1 first). A working policy
    brings later glimpses closer to the digit.
    """
    ds = data.make_dataset(config.dataset, split, batch_size, seed=config.seed, with_mask=True,
                           mnist=mnist, limit=limit)
    size = data.image_size(config.dataset)
    unit = model.sensor.resolved_unit_pixels(size)
    total, count = np.zeros(config.num_glimpses), 0
    for (images, masks), _ in ds:
        locations = model.forward(images, sample=False)["locations"]  # [B, T, 2]
        digit_cols, digit_rows = digit_centres(masks)
        flat = tf.reshape(locations, [-1, 2])
        cols, rows = glimpse_centres(flat, size, size, unit)
        steps = config.num_glimpses
        cols, rows = tf.reshape(cols, [-1, steps]), tf.reshape(rows, [-1, steps])
        distance = tf.sqrt(tf.square(cols - digit_cols[:, None]) + tf.square(rows - digit_rows[:, None]))
        total += tf.reduce_sum(distance, axis=0).numpy()
        count += int(images.shape[0])
    return [float(v) for v in total / max(count, 1)]
