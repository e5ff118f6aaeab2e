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


def checked_path_counts(counts):
    """``counts`` as sorted ints; ValueError unless each is positive and divides the largest."""
    counts = sorted(int(k) for k in counts)
    if not counts or counts[0] < 1 or any(counts[-1] % k for k in counts):
        raise ValueError(f"counts must be positive and divide the largest one, got {counts}")
    return counts


def path_count_errors(model, dataset, counts=(1, 2, 5, 10), repeats=3):
    """Where the gap between the mean path and several sampled paths comes from.

    Each image is answered along its mean path, and along ``repeats`` x ``max(counts)``
    sampled paths. For a count ``k``, the sampled paths of a repeat are split into
    ``max(counts) // k`` disjoint groups of ``k``; a group answers with the argmax of its paths'
    mean class probabilities (what ``mc_samples=k`` evaluates), and the group's test error is
    measured over the whole data set. ``k = 1`` is one sampled path, so ``errors[0]`` against
    ``mean_path`` tells whether the mean path looks as well as a typical single path.

    Args:
      model: a built :class:`ram.model.RecurrentAttentionModel` (its ``mc_samples`` is ignored).
      dataset: yields ``(images, labels)``: ``[B, H, W, C]`` float32 in [0, 1], ``[B]`` or ``[B, 1]`` int.
      counts: increasing path counts, each dividing ``max(counts)``.
      repeats: independent draws of ``max(counts)`` paths per image.

    Returns:
      dict: ``images`` (count); ``mean_path`` (error %); ``counts``; ``errors`` and
      ``errors_sd`` (% per count: mean and standard deviation over its groups and repeats);
      ``mean_wrong_paths_right`` and ``mean_right_paths_wrong`` (% of images where the mean
      path and the first repeat's ``max(counts)`` paths disagree on being right).
    """
    counts = checked_path_counts(counts)
    paths = counts[-1]
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")

    @tf.function(jit_compile=True)
    def mean_path_answers(images):
        return tf.argmax(model.forward(images, sample=False)["logits"], -1, output_type=tf.int32)

    @tf.function(jit_compile=True)
    def sampled_probabilities(images, key):  # [paths, B, classes]
        tiled = tf.tile(images, [paths, 1, 1, 1])  # path p of image i sits at p * B + i
        probs = tf.nn.softmax(model.forward(tiled, sample=True, step=key)["logits"])
        return tf.reshape(probs, [paths, tf.shape(images)[0], -1])

    wrong = {k: np.zeros([repeats, paths // k]) for k in counts}
    mean_wrong = mean_only_wrong = paths_only_wrong = images_seen = 0
    for images, labels in dataset:
        labels = tf.cast(tf.reshape(labels, [-1]), tf.int32)
        mean_is_wrong = (mean_path_answers(images) != labels).numpy()
        mean_wrong += int(mean_is_wrong.sum())
        images_seen += int(labels.shape[0])
        for repeat in range(repeats):
            # Keys far beyond any training step, so no repeat reuses a training draw.
            probs = sampled_probabilities(images, tf.constant(2**40 + repeat, tf.int64))
            for k in counts:
                grouped = tf.reduce_mean(tf.reshape(probs, [paths // k, k, -1, probs.shape[-1]]), axis=1)
                group_wrong = tf.argmax(grouped, -1, output_type=tf.int32) != labels[None]
                wrong[k][repeat] += tf.reduce_sum(tf.cast(group_wrong, tf.float64), axis=1).numpy()
                if repeat == 0 and k == paths:
                    paths_wrong = group_wrong.numpy()[0]
                    mean_only_wrong += int((mean_is_wrong & ~paths_wrong).sum())
                    paths_only_wrong += int((~mean_is_wrong & paths_wrong).sum())
    if images_seen == 0:
        raise ValueError("the data set yielded no images")
    percent = lambda n: 100.0 * n / images_seen  # noqa: E731
    return dict(images=images_seen, mean_path=percent(mean_wrong), counts=counts,
                errors=[float(percent(wrong[k]).mean()) for k in counts],
                errors_sd=[float(percent(wrong[k]).std()) for k in counts],
                mean_wrong_paths_right=percent(mean_only_wrong), mean_right_paths_wrong=percent(paths_only_wrong))
