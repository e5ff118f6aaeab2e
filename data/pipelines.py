"""Seeded ``tf.data`` pipelines for the four RAM data sets.

Order (flax ``input_pipeline.py``): indices -> shuffle(seed) -> batch -> map(compose,
AUTOTUNE) -> prefetch. Canvases are drawn a batch at a time by :mod:`data.canvas`.
``train`` draws a fresh order and fresh placements on every pass over the data, from a
pass seed that ``tf.data.Dataset.random(seed, rerandomize_each_iteration=True)`` renews
each pass, so a run is reproducible from ``seed``; ``validation`` and ``test`` placements are drawn once
per example from the seed, so they do not depend on the batch size.
"""

import numpy as np
import tensorflow as tf

from data import canvas
from data.sources import DataError, check_count, check_labels, load_mnist

DATASETS = tuple(canvas.SPECS)
SPLITS = ("train", "validation", "test")
_SPLIT_CODES = {"train": 0, "validation": 1, "test": 2}


def image_size(name):
    """Canvas side in pixels of data set ``name`` (28, 60 or 100)."""
    return _spec(name).size


def _spec(name):
    if name not in canvas.SPECS:
        raise DataError(f"unknown data set {name!r}; valid data sets: {', '.join(DATASETS)}")
    return canvas.SPECS[name]


def make_dataset(name, split, batch_size, seed=0, with_mask=False, mnist=None,
                 source="offline", data_dir=None, limit=None, drop_remainder=None, first_pass=None,
                 svhn_source="standin"):
    """Builds a batched, prefetched RAM data set, or CRAM's ``svhn_occluded``.

    ``make_dataset("svhn_occluded", split, batch_size, seed, svhn_source=..., data_dir=...)``
    is :func:`data.svhn.make_svhn_occluded` (``svhn_source`` ``standin``, ``tfds`` or ``dir``).

    Args:
      name: ``center`` (28x28), ``translate`` (60x60, digit uniformly placed fully inside),
        ``clutter`` (60x60 plus 4 random 8x8 crops of other digits of the split) or
        ``clutter100`` (100x100 plus 8 such pieces).
      split: ``train``, ``validation`` or ``test``.
      batch_size: positive int.
      seed: int; the same seed gives the same images and order.
      with_mask: also yield the target digit's binary mask in the canvas.
      mnist: optional dict as returned by :func:`data.load_mnist` (for example a small
        synthetic one in tests); by default loaded from ``source`` / ``data_dir``. Pixels are
        kept as 8-bit values (``round(x * 255)``), exact for MNIST.
      source, data_dir: passed to :func:`data.load_mnist` when ``mnist`` is None.
      limit: optional int, keep only the first ``limit`` examples of the split.
      drop_remainder: default True for ``train`` (static batch shape), False otherwise.
      first_pass: ``train`` only. None: one pass per iteration over the data set, renewed on
        every iteration. An int ``k``: an endless data set of passes ``k, k + 1, ...``, pass
        ``p`` a pure function of ``(seed, p)``, so that a run resumed at epoch ``k`` sees the
        same data as an uninterrupted one (use with ``fit(steps_per_epoch=...)``).

    Returns:
      A ``tf.data.Dataset`` of ``(images, labels)``, or ``((images, masks), labels)`` with
      ``with_mask``: images and masks float32 ``[B, S, S, 1]`` (images in [0, 1], masks in
      {0, 1}, 1 where the target digit has ink), labels int32 ``[B]``.

    Raises:
      DataError: unknown name or split, bad batch size, or a data source failure.
    """
    if name == "svhn_occluded":
        from data import svhn  # pylint: disable=import-outside-toplevel
        return svhn.make_svhn_occluded(split, batch_size, seed=seed, source=svhn_source, data_dir=data_dir,
                                       limit=limit, mnist=mnist, first_pass=first_pass)
    spec = _spec(name)
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; valid splits: {', '.join(SPLITS)}")
    check_count("batch_size", batch_size, allow_none=False)
    limit = check_count("limit", limit)
    if mnist is None:
        mnist = load_mnist(source, data_dir)
    x, y = mnist[split]
    if limit is not None:
        x, y = x[:limit], y[:limit]
    n = len(x)
    if n == 0:
        raise DataError(f"split {split!r} of data set {name!r} is empty")
    check_labels(y, what=f"labels of split {split!r}")
    if drop_remainder is None:
        drop_remainder = split == "train"
    if drop_remainder and n < batch_size:
        raise DataError(f"split {split!r} has {n} examples, fewer than one batch of {batch_size}; "
                        "lower the batch size or use more data")
    # uint8 keeps the in-graph pool small (39 MB for 50,000 digits); /255 restores the floats.
    pool = tf.constant(np.rint(np.asarray(x) * 255.0).astype(np.uint8))
    labels = tf.constant(np.asarray(y).astype(np.int32))

    def draw(indices, params):
        digits = tf.cast(tf.gather(pool, indices), tf.float32) / 255.0
        images, masks = canvas.compose(digits, params, pool, spec)
        batch_labels = tf.gather(labels, indices)
        return ((images, masks), batch_labels) if with_mask else (images, batch_labels)

    if split == "train":
        # One permutation and one set of batch seeds per pass, from a seed that
        # rerandomize_each_iteration renews (reproducibly) on every pass over the data.
        num_batches = n // batch_size if drop_remainder else -(-n // batch_size)

        def one_pass(pass_seed):
            order = tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int32), pass_seed)
            batch_seeds = tf.random.experimental.stateless_split(pass_seed, num_batches + 1)[1:]
            return tf.data.Dataset.zip(
                tf.data.Dataset.from_tensor_slices(order).batch(batch_size, drop_remainder),
                tf.data.Dataset.from_tensor_slices(batch_seeds))

        if first_pass is None:
            pass_seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).take(2).batch(2)
        else:  # an endless stream of passes first_pass, first_pass + 1, ... keyed by their index
            pass_seeds = tf.data.Dataset.counter(first_pass).map(
                lambda p: tf.stack([tf.constant(seed, tf.int64), 1_000_000 + p]))
        ds = pass_seeds.flat_map(one_pass).map(
            lambda idx, s: draw(idx, canvas.random_params(s, idx, n, spec)),
            num_parallel_calls=tf.data.AUTOTUNE)
        if first_pass is None:
            ds = ds.apply(tf.data.experimental.assert_cardinality(num_batches))
    else:
        all_indices = tf.range(n, dtype=tf.int32)
        params = canvas.random_params(tf.constant([seed, 1000 + _SPLIT_CODES[split]]),
                                      all_indices, n, spec)
        ds = tf.data.Dataset.from_tensor_slices((all_indices, params))
        ds = ds.batch(batch_size, drop_remainder=drop_remainder).map(
            draw, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
