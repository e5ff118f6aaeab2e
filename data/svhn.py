"""SVHN with the centre 8x8 occluded: CRAM's inpainting data (``make_dataset("svhn_occluded")``).

Sources:
- ``tfds``: TFDS ``svhn_cropped`` (73,257 train / 26,032 test, 32x32 RGB); downloads, so it
  needs the internet (or a prepared ``data_dir``). Validation: the last 5,000 train images.
- ``dir``: a directory with ``train.npz`` and ``test.npz``, each holding ``x`` uint8 ``[N, 32,
  32, 3]`` (and optionally ``y``); validation: the last 5,000 train images.
- ``standin`` (offline default): an honest **stand-in**, not SVHN: MNIST digits coloured on
  coloured, noisy backgrounds, with pieces of neighbouring digits at the sides, 32x32 RGB.
  :data:`STANDIN_LABEL` must accompany every result made with it.

The clue is the binary occlusion mask (1 in the hole); the occluded image is zero in the hole.
"""

import os
import zipfile

import numpy as np
import tensorflow as tf

from data.sources import DataError, check_count, load_mnist, tfds_builder

SOURCES = ("standin", "tfds", "dir")
SIZE, HOLE = 32, 8
VALIDATION = 5_000
STANDIN_LABEL = "stand-in data: coloured MNIST digits on noisy colour backgrounds, not SVHN"


def occlusion_mask(size=SIZE, hole=HOLE):
    """``[size, size, 1]`` float32: 1 in the centred ``hole x hole`` square (6.25% at 32/8)."""
    mask = np.zeros((size, size, 1), np.float32)
    start = (size - hole) // 2
    mask[start:start + hole, start:start + hole] = 1.0
    return mask


def label(source):
    """How to label results made from ``source``."""
    return STANDIN_LABEL if source == "standin" else f"SVHN ({source})"


def _check_images(x, where):
    x = np.asarray(x)
    if x.ndim != 4 or x.shape[1:] != (SIZE, SIZE, 3) or x.dtype != np.uint8:
        raise DataError(f"{where}: expected uint8 images [N, 32, 32, 3], got {x.dtype} {x.shape}")
    return x


def standin_images(mnist_x, seed, count):
    """``[count, 32, 32, 3]`` uint8: digit ``i`` of ``mnist_x`` (cycled), its neighbours'
    halves at the sides (SVHN crops show neighbouring digits), in one random colour over a
    random background colour with noise. A pure function of ``(seed, i)``."""
    rng = np.random.default_rng(seed)
    digits = np.asarray(mnist_x, np.float32).reshape(-1, 28, 28)
    n = len(digits)
    index = np.arange(count) % n
    alpha = np.zeros((count, SIZE, SIZE), np.float32)
    alpha[:, 2:30, 2:30] = digits[index]
    alpha[:, 2:30, :6] = np.maximum(alpha[:, 2:30, :6], digits[(index + 1) % n][:, :, 22:])
    alpha[:, 2:30, 26:] = np.maximum(alpha[:, 2:30, 26:], digits[(index + 2) % n][:, :, :6])
    fg = rng.uniform(0, 255, (count, 1, 1, 3))
    bg = rng.uniform(0, 255, (count, 1, 1, 3))
    same = np.abs(fg - bg).sum(-1, keepdims=True) < 120  # keep the digit visible
    fg = np.where(same, 255 - bg, fg)
    noise = rng.normal(0, 12, (count, SIZE, SIZE, 3))
    image = bg * (1 - alpha[..., None]) + fg * alpha[..., None] + noise
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def load_svhn(source="standin", data_dir=None, mnist=None, seed=0):
    """``{"train", "validation", "test"}`` -> uint8 ``[N, 32, 32, 3]`` from ``source``."""
    if source not in SOURCES:
        raise DataError(f"unknown SVHN source {source!r}; valid: {', '.join(SOURCES)}")
    if source == "standin":
        mnist = mnist if mnist is not None else load_mnist()
        return {split: standin_images(mnist[split][0], seed + k, len(mnist[split][0]))
                for k, split in enumerate(("train", "validation", "test"))}
    if source == "dir":
        if not data_dir or not os.path.isdir(data_dir):
            raise DataError(f"--svhn_dir {data_dir!r} is not a directory; it must hold train.npz and test.npz")
        out = {}
        for split in ("train", "test"):
            path = os.path.join(data_dir, f"{split}.npz")
            try:
                with np.load(path) as f:
                    out[split] = _check_images(f["x"], path)
            except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as e:  # garbage or truncated
                raise DataError(f"cannot read {path} ({e}); it must be an .npz with x uint8 [N, 32, 32, 3]") from None
        train = out["train"]
    else:
        tfds, builder = tfds_builder(
            "svhn_cropped", data_dir, "source tfds needs tensorflow-datasets: pip install tensorflow-datasets",
            "SVHN through TFDS must be downloaded but there is no network; use --svhn_source "
            "standin (offline, labelled stand-in) or dir with --svhn_dir")
        builder.download_and_prepare()
        out = {split: _check_images(np.stack([e["image"] for e in tfds.as_numpy(builder.as_dataset(split=split))]),
                                    f"tfds svhn_cropped {split}") for split in ("train", "test")}
        train = out["train"]
    if len(train) <= VALIDATION:
        raise DataError(f"the SVHN training set has {len(train)} images; it needs more than {VALIDATION}")
    return {"train": train[:-VALIDATION], "validation": train[-VALIDATION:], "test": out["test"]}


_CACHE = {}


def _images(source, data_dir, mnist, seed):
    key = (source, data_dir, seed, id(mnist))
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = load_svhn(source, data_dir, mnist, seed)
    return _CACHE[key]


def split_size(split, source="standin", data_dir=None, limit=None, mnist=None, seed=0):
    return len(_images(source, data_dir, mnist, seed)[split][:limit])


def make_svhn_occluded(split, batch_size, seed=0, source="standin", data_dir=None, limit=None, mnist=None,
                       first_pass=None, images=None):
    """Batches of ``((occluded [B, 32, 32, 3], mask [B, 32, 32, 1]), original [B, 32, 32, 3])``,
    float32 in [0, 1]; ``occluded = original * (1 - mask)``.

    Args:
      split: ``train``, ``validation`` or ``test``.
      source, data_dir: see the module docstring. ``images``: optional uint8 ``[N, 32, 32, 3]``
        used instead (tests).
      limit: the first N images only. first_pass: train only: an endless stream of passes
        ``k, k+1, ...``, pass ``p`` shuffled by ``(seed, p)`` (a resumed run reads the same data).
    """
    if split not in ("train", "validation", "test"):
        raise DataError(f"unknown split {split!r}; valid: train, validation, test")
    x = _check_images(images, "images") if images is not None else _images(source, data_dir, mnist, seed)[split]
    x = x[:check_count("limit", limit)]
    if len(x) == 0:
        raise DataError(f"split {split!r} of svhn_occluded holds no images; check the data source")
    if split == "train" and len(x) < batch_size:
        raise DataError(f"split 'train' has {len(x)} images, fewer than one batch of {batch_size}; "
                        "lower the batch size or use more data")
    mask = tf.constant(occlusion_mask())

    def finish(batch):
        original = tf.cast(batch, tf.float32) / 255.0
        masks = tf.broadcast_to(mask, tf.concat([tf.shape(original)[:1], [SIZE, SIZE, 1]], 0))
        return (original * (1.0 - masks), masks), original

    count = len(x)
    store = tf.constant(x)
    if split == "train":
        def one_pass(p):
            order = tf.random.experimental.stateless_shuffle(
                tf.range(count, dtype=tf.int64), tf.stack([tf.constant(seed, tf.int64), p]))
            return tf.data.Dataset.from_tensor_slices(order).batch(batch_size, drop_remainder=True)
        start = 0 if first_pass is None else first_pass
        passes = tf.data.Dataset.range(start, 2 ** 62 if first_pass is not None else start + 1)
        batches = passes.flat_map(one_pass)
    else:
        batches = tf.data.Dataset.range(count).batch(batch_size)
    ds = batches.map(lambda idx: tf.gather(store, idx), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.map(finish, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
