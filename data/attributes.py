"""MREF, MDIST and MBG: the visual attribute benchmark of Seo et al., used by AttentionRNN (Sec. 4.1).

Each 100x100 RGB image holds 5 to 9 distinct MNIST digits, each scaled by U(0.5, 3.0),
coloured with one of five colours plus N(0, 10) colour noise (clipped), and placed without
overlapping another digit's box (rejection sampling over scale and position, see
:func:`_place_digit`); a digit's intensity is its alpha. The
query is a digit present in the image (one-hot of 10); the answer its colour (5 classes).

- ``mref``: black background.
- ``mdist``: plus 17 distractors, random 5x5 crops of random digits, each with a random colour
  and scale, placed off the digits.
- ``mbg``: the digits over natural-image backgrounds: SUN397 (``backgrounds=`` an array of
  images, e.g. from TFDS ``sun397``, which needs the internet) or, offline, an honest
  **stand-in**: smooth random colour fields, not natural images. :func:`background_label`
  says which, and every printed or saved result must carry it.

Every example is a pure function of ``(seed, split, index)``, so the splits (30,000 / 10,000 /
10,000) are the same on every machine; ``cache_dir`` renders a split once into a ``.npz`` file.
Each example also keeps the target digit's scale and its mask (alpha > 0.5 in the canvas), for
results by scale bin and for mask correctness.
"""

import os
import zipfile

import numpy as np
import tensorflow as tf
from PIL import Image

from data.sources import DataError, check_count, load_mnist

KINDS = ("mref", "mdist", "mbg")
SPLIT_SIZES = {"train": 30_000, "validation": 10_000, "test": 10_000}
COLOURS = np.array([[0x92, 0x10, 0x10], [0x10, 0xA6, 0x51], [0x10, 0x62, 0xC0], [0xFF, 0xF1, 0x4E],
                    [0xE0, 0xE0, 0xE0]], np.float32)
COLOUR_NAMES = ("red", "green", "blue", "yellow", "white")
SIZE = 100
NUM_DISTRACTORS = 17
SCALE_BINS = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0)
_CODES = {"train": 0, "validation": 1, "test": 2, "mref": 0, "mdist": 1, "mbg": 2}


def background_label(backgrounds):
    """How to label MBG results: ``"SUN397"`` for real backgrounds, else the stand-in's name."""
    return "SUN397" if backgrounds is not None else "stand-in backgrounds (smooth random colour fields, not SUN397)"


def standin_background(rng):
    """A smooth random colour field ``[100, 100, 3]`` float32 in [0, 255]: the offline MBG stand-in."""
    coarse = rng.uniform(0, 255, (5, 5, 3)).astype(np.uint8)
    smooth = np.asarray(Image.fromarray(coarse).resize((SIZE, SIZE), Image.BICUBIC), np.float32)
    return np.clip(smooth + rng.normal(0, 8, smooth.shape), 0, 255)


def _scaled(digit, side):
    return np.asarray(Image.fromarray(digit).resize((side, side), Image.BILINEAR), np.float32) / 255.0


def _colour(rng, k):
    return np.clip(COLOURS[k] + rng.normal(0, 10, 3), 0, 255)


def _place(rng, occupied, side, tries=100):
    """Top-left of a ``side``-square box that overlaps no occupied pixel, or None."""
    for _ in range(tries):
        r, c = rng.integers(0, SIZE - side + 1, 2)
        if not occupied[r:r + side, c:c + side].any():
            return r, c
    return None


def _place_digit(rng, occupied, tries=100):
    """``(scale, side, row, col)`` of a digit box overlapping no occupied pixel, or None.

    Each try draws a fresh scale U(0.5, 3.0) and position. If none fits, the smallest digit
    (scale 0.5) goes to a random free spot, if there is one.
    """
    for _ in range(tries):
        scale = rng.uniform(0.5, 3.0)
        side = int(round(28 * scale))
        r, c = rng.integers(0, SIZE - side + 1, 2)
        if not occupied[r:r + side, c:c + side].any():
            return scale, side, r, c
    side = 14
    # A window is free iff its sum of occupied pixels is 0 (2-D prefix sums).
    sums = np.pad(occupied.astype(np.int32).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    window = sums[side:, side:] - sums[:-side, side:] - sums[side:, :-side] + sums[:-side, :-side]
    free = np.argwhere(window == 0)
    if len(free) == 0:
        return None
    r, c = free[rng.integers(len(free))]
    return 0.5, side, r, c


def _layout(rng):
    """Draws the digits' count (5 to 9), distinct classes and boxes.

    A 100x100 canvas cannot hold 9 digits of the mean scale U(0.5, 3.0) (their boxes would
    cover ~2.5 canvases), so the digits placed later are, in a crowded image, smaller (see
    :func:`_place_digit`): over all digits about 78% fall in the 0.5-1.0 scale bin and 2.5-3% in
    each of 2.0-2.5 and 2.5-3.0. The target is then drawn uniformly among the digits, so that
    its size says nothing about which digit it is. If a digit finds no room at all, the layout
    is redrawn (rare), so that the count is always the one drawn.

    Returns:
      ``(boxes, occupied)``: boxes ``[(class, scale, side, row, col)]`` in placement order, and
      the ``[100, 100]`` bool map of covered pixels.
    """
    while True:
        occupied = np.zeros((SIZE, SIZE), bool)
        boxes = []
        for label in rng.choice(10, rng.integers(5, 10), replace=False):
            box = _place_digit(rng, occupied)
            if box is None:
                break
            scale, side, r, c = box
            occupied[r:r + side, c:c + side] = True
            boxes.append((int(label), scale, side, int(r), int(c)))
        else:
            return boxes, occupied


def render_example(rng, digits, by_class, kind, backgrounds=None, return_layout=False):
    """Draws one example.

    Args:
      rng: a ``numpy.random.Generator`` (the example's own).
      digits: ``[N, 28, 28]`` uint8 source digits; ``by_class``: list of index arrays per class.
      kind: ``mref``, ``mdist`` or ``mbg``.
      backgrounds: for ``mbg``, ``[K, H, W, 3]`` uint8 (H, W >= 100) or None for the stand-in.
      return_layout: also return the layout (for tests and pictures).

    Returns:
      ``(image [100, 100, 3] uint8, query class, answer colour, target scale, target mask [100, 100] bool)``;
      with ``return_layout``, also a dict: ``digits``, a list of ``(class, colour, scale, (row,
      col, side))`` for every digit, ``target`` (the queried digit's index in that list) and
      ``distractors``, a list of ``(row, col, side)`` boxes.
    """
    if kind == "mbg":
        if backgrounds is None:
            canvas = standin_background(rng)
        else:
            bg = backgrounds[rng.integers(len(backgrounds))]
            r, c = rng.integers(0, bg.shape[0] - SIZE + 1), rng.integers(0, bg.shape[1] - SIZE + 1)
            canvas = bg[r:r + SIZE, c:c + SIZE].astype(np.float32)
    else:
        canvas = np.zeros((SIZE, SIZE, 3), np.float32)
    boxes, occupied = _layout(rng)
    placed = []  # (class, colour, scale, mask, box)
    for label, scale, side, r, c in boxes:
        alpha = _scaled(digits[rng.choice(by_class[label])], side)
        k = int(rng.integers(5))
        region = canvas[r:r + side, c:c + side]
        canvas[r:r + side, c:c + side] = region * (1 - alpha[..., None]) + _colour(rng, k) * alpha[..., None]
        mask = np.zeros((SIZE, SIZE), bool)
        mask[r:r + side, c:c + side] = alpha > 0.5
        placed.append((label, k, scale, mask, (int(r), int(c), side)))
    distractors = []
    if kind == "mdist":
        for _ in range(NUM_DISTRACTORS):
            source = digits[rng.integers(len(digits))]
            cr, cc = rng.integers(0, 24, 2)
            side = max(1, int(round(5 * rng.uniform(0.5, 3.0))))
            where = _place(rng, occupied, side, tries=20)
            if where is None:
                continue
            r, c = where
            occupied[r:r + side, c:c + side] = True
            crop = np.ascontiguousarray(source[cr:cr + 5, cc:cc + 5])
            alpha = _scaled(crop, side)
            canvas[r:r + side, c:c + side] = (canvas[r:r + side, c:c + side] * (1 - alpha[..., None])
                                              + _colour(rng, int(rng.integers(5))) * alpha[..., None])
            distractors.append((int(r), int(c), side))
    target = int(rng.integers(len(placed)))
    label, k, scale, mask, _ = placed[target]
    result = (np.clip(np.rint(canvas), 0, 255).astype(np.uint8), label, k, np.float32(scale), mask)
    if return_layout:
        layout = dict(digits=[(p[0], p[1], p[2], p[4]) for p in placed], target=target, distractors=distractors)
        return result + (layout,)
    return result


def _check_args(kind, split, batch_size, backgrounds):
    if kind not in KINDS:
        raise DataError(f"unknown attribute data set {kind!r}; valid: {', '.join(KINDS)}")
    if split not in SPLIT_SIZES:
        raise DataError(f"unknown split {split!r}; valid splits: {', '.join(SPLIT_SIZES)}")
    check_count("batch_size", batch_size, allow_none=False)
    if backgrounds is not None and (backgrounds.ndim != 4 or backgrounds.shape[-1] != 3
                                    or min(backgrounds.shape[1:3]) < SIZE):
        raise DataError(f"backgrounds must be [K, H, W, 3] images with H, W >= {SIZE}, got {backgrounds.shape}")


class _Renderer:
    """Example ``i`` of a split, a pure function of ``(seed, split, kind, i)``."""

    def __init__(self, kind, split, seed, mnist, backgrounds):
        mnist = mnist if mnist is not None else load_mnist()
        x, y = mnist[split]
        self.digits = np.rint(np.asarray(x) * 255).astype(np.uint8).reshape(-1, 28, 28)
        self.by_class = [np.flatnonzero(np.asarray(y) == c) for c in range(10)]
        if any(len(ids) == 0 for ids in self.by_class):
            raise DataError(f"the {split} digits must contain every class 0-9")
        self.kind, self.split, self.seed, self.backgrounds = kind, split, seed, backgrounds

    def __call__(self, index):
        rng = np.random.default_rng([self.seed, _CODES[self.split], _CODES[self.kind], int(index)])
        image, label, answer, scale, mask = render_example(rng, self.digits, self.by_class, self.kind,
                                                           self.backgrounds)
        return image, np.int32(label), np.int32(answer), scale, mask


FIELDS = ("images", "labels", "answers", "scales", "masks")


def render_split(kind, split, seed=0, mnist=None, size=None, backgrounds=None, cache_dir=None, verbose=True):
    """Renders a whole split into NumPy arrays, cached in ``cache_dir`` when given.

    The cache file (``{kind}_{split}_seed{seed}_{size}[_sun397].npz``) is written once,
    atomically; a damaged one is rendered again. Rendering takes about 5 ms per image on one
    core (a progress bar shows it).

    Returns:
      dict ``images [N, 100, 100, 3] uint8``, ``labels [N] int32`` (query classes), ``answers
      [N] int32`` (colours), ``scales [N] float32``, ``masks [N, 100, 100] bool``.
    """
    import keras  # the progress bar; imported late so that data/ loads without Keras
    count = SPLIT_SIZES[split] if check_count("size", size) is None else size
    path = None
    if cache_dir:
        tag = "_sun397" if backgrounds is not None else ""
        path = os.path.join(cache_dir, f"{kind}_{split}_seed{seed}_{count}{tag}.npz")
        if os.path.exists(path):
            try:
                with np.load(path) as f:
                    arrays = {k: f[k] for k in FIELDS}
                if len(arrays["images"]) == count:
                    return arrays
            except (OSError, ValueError, KeyError, zipfile.BadZipFile):
                pass
            print(f"{path} is damaged; rendering it again")
    render = _Renderer(kind, split, seed, mnist, backgrounds)
    arrays = {"images": np.empty((count, SIZE, SIZE, 3), np.uint8), "labels": np.empty(count, np.int32),
              "answers": np.empty(count, np.int32), "scales": np.empty(count, np.float32),
              "masks": np.empty((count, SIZE, SIZE), bool)}
    bar = keras.utils.Progbar(count, unit_name="image") if verbose else None
    if bar:
        print(f"rendering {kind} {split} ({count} images)" + (f" into {path}" if path else ""))
    for i in range(count):
        for name, value in zip(FIELDS, render(i)):
            arrays[name][i] = value
        if bar and (i + 1) % 250 == 0 or bar and i + 1 == count:
            bar.update(i + 1)
    if path:
        try:
            os.makedirs(cache_dir, exist_ok=True)
            tmp = path + ".tmp.npz"
            np.savez(tmp, **arrays)
            os.replace(tmp, path)
        except OSError as e:
            print(f"cannot cache {kind} {split} in {cache_dir} ({e.strerror or e}); going on uncached")
    return arrays


def make_attribute_dataset(kind, split, batch_size, seed=0, mnist=None, size=None, backgrounds=None,
                           with_info=False, cache_dir=None, first_pass=None, verbose=False):
    """A batched ``tf.data`` pipeline of MREF / MDIST / MBG.

    Args:
      kind: ``mref``, ``mdist`` or ``mbg``.
      split: ``train`` (30,000), ``validation`` or ``test`` (10,000 each); digits come from the
        MNIST split of the same name.
      batch_size: positive int.
      seed: int; example ``i`` of a split is a pure function of ``(seed, split, kind, i)``.
      mnist: optional dict as :func:`data.load_mnist` returns (default: the offline copy).
      size: optional number of examples (default the split's size).
      backgrounds: for ``mbg``: ``[K, H, W, 3]`` uint8 natural images, or None for the
        labelled offline stand-in (see :func:`background_label`).
      with_info: also yield the target's scale and mask.
      cache_dir: optional directory: the split is rendered once into memory and a file there
        (:func:`render_split`); without it, examples are rendered on the fly in ``tf.data``.
      first_pass: train split only. None: one pass, reshuffled on each iteration. An int
        ``k``: an endless stream of passes ``k, k+1, ...``, pass ``p`` shuffled by ``(seed,
        p)``, so that a resumed run reads the same data as an uninterrupted one.
      verbose: show a progress bar while rendering into the cache.

    Returns:
      ``((images, queries), answers)``: images float32 ``[B, 100, 100, 3]`` in [0, 1], queries
      float32 one-hot ``[B, 10]``, answers int32 ``[B]`` colour indices (see
      ``COLOUR_NAMES``); with ``with_info``, ``((images, queries, scales [B], masks [B, 100,
      100, 1] float32), answers)``. Train batches drop the remainder.
    """
    _check_args(kind, split, batch_size, backgrounds)
    count = SPLIT_SIZES[split] if check_count("size", size) is None else size
    specs = [tf.uint8, tf.int32, tf.int32, tf.float32, tf.bool]
    shapes = [[SIZE, SIZE, 3], [], [], [], [SIZE, SIZE]]
    if cache_dir:
        arrays = render_split(kind, split, seed, mnist, count, backgrounds, cache_dir, verbose)

        def fetch(indices):  # a batch of cached examples by index: no big constants in the graph
            return tuple(arrays[name][indices] for name in FIELDS)
    else:
        render = _Renderer(kind, split, seed, mnist, backgrounds)

        def fetch(indices):
            rows = [render(i) for i in indices]
            return tuple(np.stack([row[k] for row in rows]) for k in range(len(FIELDS)))

    def lookup(indices):
        values = tf.numpy_function(fetch, [indices], specs, stateful=False)
        for value, shape in zip(values, shapes):
            value.set_shape([None] + shape)
        return values

    def finish(image, label, answer, scale, mask):
        images = tf.cast(image, tf.float32) / 255.0
        query = tf.one_hot(label, 10)
        if with_info:
            return (images, query, scale, tf.cast(mask, tf.float32)[..., None]), answer
        return (images, query), answer

    indices = tf.data.Dataset.range(count)
    drop = split == "train"
    if split == "train" and first_pass is not None:
        def one_pass(p):
            order = tf.random.experimental.stateless_shuffle(
                tf.range(count, dtype=tf.int64), tf.stack([tf.constant(seed, tf.int64), p]))
            return tf.data.Dataset.from_tensor_slices(order).batch(batch_size, drop_remainder=True)
        batches = tf.data.Dataset.range(first_pass, 2 ** 62).flat_map(one_pass)
    else:
        if split == "train":
            indices = indices.shuffle(count, seed=seed, reshuffle_each_iteration=True)
        batches = indices.batch(batch_size, drop_remainder=drop)
    ds = batches.map(lookup, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.map(finish, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(tf.data.AUTOTUNE)


def load_sun397_backgrounds(data_dir=None, count=2000):
    """Natural-image backgrounds for MBG from TFDS ``sun397`` (downloads: needs the internet
    unless already prepared in ``data_dir``). Returns ``[count, 100+, 100+, 3]`` uint8: the
    central square of each image whose sides are both at least 100, resized to 128x128."""
    from data.sources import network_available
    try:
        import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise DataError("SUN397 backgrounds need tensorflow-datasets: pip install tensorflow-datasets") from None
    builder = tfds.builder("sun397", data_dir=data_dir)
    if not builder.is_prepared() and not network_available():
        raise DataError("SUN397 backgrounds must be downloaded but there is no network; drop --backgrounds "
                        "sun397 to use the labelled offline stand-in, or prepare sun397 in --data_dir")
    builder.download_and_prepare()
    out = []
    for example in tfds.as_numpy(builder.as_dataset(split="train").take(4 * count)):
        image = example["image"]
        h, w = image.shape[:2]
        if min(h, w) < SIZE:
            continue
        side = min(h, w)
        square = image[(h - side) // 2:(h - side) // 2 + side, (w - side) // 2:(w - side) // 2 + side]
        out.append(np.asarray(Image.fromarray(square).resize((128, 128), Image.BILINEAR)))
        if len(out) == count:
            break
    return np.stack(out)
