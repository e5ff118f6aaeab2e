"""MREF, MDIST and MBG: the visual attribute benchmark of Seo et al., used by AttentionRNN (Sec. 4.1).

The layout follows Seo et al.'s public generator (the PAN repository's MDIST script):

- An image holds 5 to 9 distinct MNIST digits. Each digit is drawn in turn: a scale U(0.5, 3.0)
  and a position are drawn afresh on every try, until the digit's box holds none of the earlier
  digits' ink (nonzero pixels); boxes may overlap, ink never does. (PAN tries without limit;
  here a digit that has not fitted after ``MAX_TRIES`` tries restarts the image's digits, which
  keeps the count and never happens in practice.)
- Colour: one of five colours plus *one* N(0, 10) draw per digit, added to all three channels,
  clipped to [0, 255].
- Compositing: the colour premultiplied by the digit's intensity ``a`` in [0, 1], pasted with
  ``a`` as its mask: ``canvas (1 - a) + colour a^2``.
- ``mref``: black background. ``mdist``: first, always 17 distractors (random 5x5 crops of
  random digits, each with a random colour and a scale U(0.5, 3.0)) anywhere, beneath the digits
  and with no regard for them. ``mbg``: the digits over natural-image backgrounds
  (``backgrounds=``, see :mod:`data.backgrounds`): SUN397 through TFDS (online), or offline a
  labelled **stand-in**, crops of the photographs that ship with scikit-image (or, with
  ``backgrounds=None``, smooth random colour fields). :func:`background_label` says which, and
  every printed or saved result must carry it.
- The digits of every split are drawn from MNIST's train, validation and test images pooled.
- Every digit of an image is a query: a split is a list of *query rows* ``(image, digit)``,
  about 7 per image; the query is the digit's class (one-hot of 10), the answer its colour (5
  classes). The splits hold 30,000 / 10,000 / 10,000 query rows (about 4,300 / 1,430 / 1,430
  images); the last image of a split may lend only some of its digits.

The inverse task (``task="inverse"``, the paper's MBG^inv): query a colour (one-hot of 5),
answer the digit of that colour (10 classes); its images hold 5 digits, one of each colour, so
that every colour query has one answer (5 query rows per image).

Where this differs from PAN, on purpose: every image is a pure function of ``(seed, split,
kind, index)`` (seeded NumPy generators), so the splits are the same on every machine;
``cache_dir`` renders a split once into a ``.npz`` file; and each query row also keeps its
target digit's scale and mask (intensity > 0.5), for results by scale bin and for mask
correctness (PAN keeps neither).
"""

import functools
import os
import zipfile

import numpy as np
import tensorflow as tf
from PIL import Image

from data import backgrounds as background_source
from data.sources import DataError, check_count, load_mnist

KINDS = ("mref", "mdist", "mbg")
# "attribute": query a digit class, answer its colour. "inverse" (the paper's MBG^inv): query a
# colour, answer the digit of that colour; its images hold 5 digits, one of each colour.
TASKS = ("attribute", "inverse")
QUERY_SIZE = {"attribute": 10, "inverse": 5}
NUM_ANSWERS = {"attribute": 5, "inverse": 10}
SPLIT_SIZES = {"train": 30_000, "validation": 10_000, "test": 10_000}  # query rows
COLOURS = np.array([[0x92, 0x10, 0x10], [0x10, 0xA6, 0x51], [0x10, 0x62, 0xC0], [0xFF, 0xF1, 0x4E],
                    [0xE0, 0xE0, 0xE0]], np.float32)
COLOUR_NAMES = ("red", "green", "blue", "yellow", "white")
SIZE = 100
DIGIT_COUNTS = (5, 9)  # inclusive
SCALES = (0.5, 3.0)
NUM_DISTRACTORS = 17
DISTRACTOR_CROP = 5
COLOUR_NOISE = 10.0
MAX_TRIES = 10_000
SCALE_BINS = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0)
CACHE_FORMAT = "pan1"  # in the cache file's name: caches of an earlier generator are not reused
_CODES = {"train": 0, "validation": 1, "test": 2, "mref": 0, "mdist": 1, "mbg": 2}


def query_name(task, query):
    """How a query reads: ``"digit 3"``, or ``"colour red"`` for the inverse task."""
    return f"colour {COLOUR_NAMES[query]}" if task == "inverse" else f"digit {query}"


def answer_name(task, answer):
    """How an answer reads: a colour name, or ``"digit 3"`` for the inverse task."""
    return f"digit {answer}" if task == "inverse" else COLOUR_NAMES[answer]


def background_label(backgrounds):
    """How to label MBG results: the :class:`data.backgrounds.Backgrounds` label, or the smooth
    colour fields' for None."""
    return background_source.label(backgrounds)


def _intensity(digit, side):
    """``digit`` (uint8 ``[h, w]``) resized bilinearly to ``[side, side]``, float32 in [0, 1]."""
    return np.asarray(Image.fromarray(digit).resize((side, side), Image.BILINEAR), np.float32) / 255.0


def _colour(rng, k):
    """Colour ``k`` plus one N(0, 10) draw shared by the three channels, clipped: ``[3]``."""
    return np.clip(COLOURS[k] + rng.normal(0, COLOUR_NOISE), 0, 255)


def _paste(canvas, intensity, colour, r, c):
    """PAN's compositing, in place: ``canvas (1 - a) + colour a^2`` over the box at ``(r, c)``."""
    side = intensity.shape[0]
    a = intensity[..., None]
    canvas[r:r + side, c:c + side] = canvas[r:r + side, c:c + side] * (1 - a) + colour * a * a


def digit_count(rng, task="attribute"):
    """The number of digits of an image: the first draw of its generator (so a split can be
    indexed by query row without rendering); 5 for the inverse task (one digit per colour)."""
    count = int(rng.integers(DIGIT_COUNTS[0], DIGIT_COUNTS[1] + 1))
    return len(COLOURS) if task == "inverse" else count


def _draw_distractors(rng, canvas, digits):
    boxes = []
    for _ in range(NUM_DISTRACTORS):
        source = digits[rng.integers(len(digits))]
        cr, cc = rng.integers(0, 28 - DISTRACTOR_CROP + 1, 2)
        side = max(1, int(round(DISTRACTOR_CROP * rng.uniform(*SCALES))))
        r, c = (int(v) for v in rng.integers(0, SIZE - side + 1, 2))
        crop = np.ascontiguousarray(source[cr:cr + DISTRACTOR_CROP, cc:cc + DISTRACTOR_CROP])
        _paste(canvas, _intensity(crop, side), _colour(rng, int(rng.integers(5))), r, c)
        boxes.append((r, c, side))
    return boxes


def _place_digit(rng, ink):
    """``(scale, side, row, col)``: the first try whose box holds no ink of ``ink``, or None."""
    for _ in range(MAX_TRIES):
        scale = rng.uniform(*SCALES)
        side = int(round(28 * scale))
        r, c = (int(v) for v in rng.integers(0, SIZE - side + 1, 2))
        if not ink[r:r + side, c:c + side].any():
            return scale, side, r, c
    return None


def _draw_digits(rng, canvas, digits, by_class, classes, colours=None):
    """Draws digits of ``classes`` onto ``canvas`` (in place) in turn; returns their records.
    ``colours``: their colour indices, or None to draw one per digit."""
    base = canvas.copy()
    while True:
        ink = np.zeros((SIZE, SIZE), bool)
        placed = []
        for n, label in enumerate(classes):
            box = _place_digit(rng, ink)
            if box is None:
                break
            scale, side, r, c = box
            intensity = _intensity(digits[rng.choice(by_class[label])], side)
            k = int(rng.integers(5)) if colours is None else int(colours[n])
            _paste(canvas, intensity, _colour(rng, k), r, c)
            ink[r:r + side, c:c + side] |= intensity > 0
            mask = np.zeros((SIZE, SIZE), bool)
            mask[r:r + side, c:c + side] = intensity > 0.5
            placed.append((int(label), k, np.float32(scale), (r, c, side), mask))
        else:
            return placed
        canvas[...] = base  # a digit found no room: redraw the digits (the count stays)


def _canvas(rng, digits, kind, backgrounds):
    """The background, with ``mdist``'s distractors drawn: ``(canvas float32 [100, 100, 3], boxes)``."""
    if kind == "mbg":
        if backgrounds is None:
            canvas = background_source.colour_field(rng)
        else:
            bank = background_source.as_backgrounds(backgrounds).images
            bg = bank[rng.integers(len(bank))]
            r, c = rng.integers(0, bg.shape[0] - SIZE + 1), rng.integers(0, bg.shape[1] - SIZE + 1)
            canvas = bg[r:r + SIZE, c:c + SIZE].astype(np.float32)
    else:
        canvas = np.zeros((SIZE, SIZE, 3), np.float32)
    return canvas, (_draw_distractors(rng, canvas, digits) if kind == "mdist" else [])


def render_image(rng, digits, by_class, kind, backgrounds=None, task="attribute"):
    """Draws one image and its digits.

    Args:
      rng: a ``numpy.random.Generator`` (the image's own, unused before).
      digits: ``[N, 28, 28]`` uint8 source digits; ``by_class``: list of index arrays per class.
      kind: ``mref``, ``mdist`` or ``mbg``.
      backgrounds: for ``mbg``, a :class:`data.backgrounds.Backgrounds` (or a bare ``[K, H, W,
        3]`` uint8 array, H, W >= 100), or None for smooth random colour fields.
      task: ``"attribute"``, or ``"inverse"``: 5 digits, one of each colour.

    Returns:
      ``(image, digits, distractors)``: ``image`` ``[100, 100, 3]`` uint8; ``digits`` in drawing
      order, each ``(class, colour index, scale, (row, col, side), mask [100, 100] bool)``;
      ``distractors``, the ``(row, col, side)`` boxes of ``mdist``'s distractors (else empty).
    """
    count = digit_count(rng, task)
    canvas, distractors = _canvas(rng, digits, kind, backgrounds)
    classes = rng.choice(10, count, replace=False)
    colours = rng.permutation(len(COLOURS))[:count] if task == "inverse" else None
    placed = _draw_digits(rng, canvas, digits, by_class, classes, colours)
    return np.clip(np.rint(canvas), 0, 255).astype(np.uint8), placed, distractors


def render_multimodal(rng, digits, by_class, kind, copies=3, backgrounds=None):
    """An image holding one digit class ``copies`` times, in distinct colours, among other
    distinct digits (5-9 in all): a query with several right answers, as in the paper's
    Fig. 6a. Returns ``(image, query class, digits, distractors)`` as :func:`render_image`."""
    if not 2 <= copies <= len(COLOURS):
        raise DataError(f"copies must be 2-{len(COLOURS)}, got {copies}")
    count = max(digit_count(rng), copies + 1)
    canvas, distractors = _canvas(rng, digits, kind, backgrounds)
    others = rng.choice(10, count - copies + 1, replace=False)
    query = int(others[0])
    classes = [query] * copies + list(others[1:])
    colours = list(rng.permutation(len(COLOURS))[:copies]) + list(rng.integers(0, len(COLOURS), count - copies))
    order = rng.permutation(count)  # the copies are not always drawn first
    placed = _draw_digits(rng, canvas, digits, by_class, [classes[k] for k in order], [colours[k] for k in order])
    return np.clip(np.rint(canvas), 0, 255).astype(np.uint8), query, placed, distractors


def _check_args(kind, split, batch_size, backgrounds, task="attribute"):
    if kind not in KINDS:
        raise DataError(f"unknown attribute data set {kind!r}; valid: {', '.join(KINDS)}")
    if task not in TASKS:
        raise DataError(f"unknown task {task!r}; valid: {', '.join(TASKS)}")
    if split not in SPLIT_SIZES:
        raise DataError(f"unknown split {split!r}; valid splits: {', '.join(SPLIT_SIZES)}")
    check_count("batch_size", batch_size, allow_none=False)
    background_source.as_backgrounds(backgrounds)  # checks the images' shape


def pooled_digits(mnist):
    """MNIST's splits pooled, as PAN draws every split's digits: ``(digits [N, 28, 28] uint8,
    by_class)``, ``by_class[c]`` the indices of class ``c``."""
    xs, ys = zip(*(mnist[name] for name in ("train", "validation", "test") if name in mnist))
    x, y = np.concatenate([np.asarray(v) for v in xs]), np.concatenate([np.asarray(v) for v in ys])
    digits = np.rint(x * 255).astype(np.uint8).reshape(-1, 28, 28)
    by_class = [np.flatnonzero(y == c) for c in range(10)]
    if any(len(ids) == 0 for ids in by_class):
        raise DataError("the MNIST digits must contain every class 0-9")
    return digits, by_class


class AttributeSplit:
    """A split as query rows: row ``i`` is digit ``digit_of_row[i]`` of image ``image_of_row[i]``.

    Image ``j`` is a pure function of ``(seed, split, kind, task, j)``; its digit count is the
    first draw of its generator, so the row index is built without rendering.

    Args:
      kind, split, seed, task: as :func:`make_attribute_dataset`.
      rows: the number of query rows.
      mnist: dict as :func:`data.load_mnist` returns, or None for the offline copy.
      backgrounds: as :func:`render_image`.
    """

    def __init__(self, kind, split, seed, rows, mnist=None, backgrounds=None, task="attribute"):
        self.digits, self.by_class = pooled_digits(mnist if mnist is not None else load_mnist())
        self.kind, self.split, self.seed, self.rows = kind, split, seed, rows
        self.backgrounds = background_source.as_backgrounds(backgrounds)
        self.task = task
        counts, total = [], 0
        while total < rows:
            counts.append(digit_count(self._rng(len(counts)), task))
            total += counts[-1]
        self.image_of_row = np.repeat(np.arange(len(counts)), counts)[:rows]
        self.digit_of_row = np.concatenate([np.arange(c) for c in counts])[:rows]
        self.num_images = len(counts)
        self.image = functools.lru_cache(maxsize=32)(self._render)  # rows of one image come together

    def _rng(self, j):
        key = [self.seed, _CODES[self.split], _CODES[self.kind], int(j)]
        return np.random.default_rng(key + [1] if self.task == "inverse" else key)

    def _render(self, j):
        """``render_image`` of image ``j``."""
        return render_image(self._rng(j), self.digits, self.by_class, self.kind, self.backgrounds, self.task)

    def row(self, i):
        """``(image uint8 [100, 100, 3], query, answer, scale, mask [100, 100] bool)``: query the
        digit's class and answer its colour, or the other way round for the inverse task."""
        image, placed, _ = self.image(int(self.image_of_row[i]))
        return (image,) + _query_answer(placed[int(self.digit_of_row[i])], self.task)


def _query_answer(digit, task):
    """``(query, answer, scale, mask)`` of one drawn digit."""
    label, colour, scale, _, mask = digit
    query, answer = (colour, label) if task == "inverse" else (label, colour)
    return np.int32(query), np.int32(answer), np.float32(scale), mask


ROW_FIELDS = ("image_of_row", "queries", "answers", "scales", "masks")


def _cache_path(cache_dir, kind, split, seed, rows, backgrounds, task):
    backgrounds = background_source.as_backgrounds(backgrounds) if kind == "mbg" else None
    tag = (f"_{backgrounds.name}" if backgrounds is not None else "") + ("_inverse" if task == "inverse" else "")
    return os.path.join(cache_dir, f"{kind}_{split}_seed{seed}_{rows}rows{tag}_{CACHE_FORMAT}.npz")


def _read_cache(path, rows):
    try:
        with np.load(path) as f:
            arrays = {k: f[k] for k in ("images",) + ROW_FIELDS}
        if len(arrays["queries"]) == rows and arrays["image_of_row"].max() < len(arrays["images"]):
            return arrays
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        pass
    print(f"{path} is damaged; rendering it again")
    return None


def render_split(kind, split, seed=0, mnist=None, size=None, backgrounds=None, cache_dir=None, verbose=True,
                 task="attribute"):
    """Renders a whole split into NumPy arrays, cached in ``cache_dir`` when given.

    Each image is rendered once (its query rows share it). The cache file
    (``{kind}_{split}_seed{seed}_{rows}rows[_<backgrounds name>][_inverse]_pan1.npz``) is written once, atomically;
    a damaged one is rendered again. Rendering takes a few ms per image on one core (a progress
    bar shows it).

    Returns:
      dict ``images [M, 100, 100, 3] uint8`` (M images) and, per query row, ``image_of_row [N]
      int64`` (the row's image), ``queries [N] int32`` (digit classes; colours for the inverse
      task), ``answers [N] int32`` (colours; digit classes), ``scales [N] float32`` and ``masks [N, 1250] uint8``: the target's ``[100,
      100]`` bool mask, bit-packed (:func:`unpack_masks`).
    """
    import keras  # the progress bar; imported late so that data/ loads without Keras
    rows = SPLIT_SIZES[split] if check_count("size", size) is None else size
    path = _cache_path(cache_dir, kind, split, seed, rows, backgrounds, task) if cache_dir else None
    if path and os.path.exists(path):
        arrays = _read_cache(path, rows)
        if arrays is not None:
            return arrays
    source = AttributeSplit(kind, split, seed, rows, mnist, backgrounds, task)
    images = np.empty((source.num_images, SIZE, SIZE, 3), np.uint8)
    queries, answers = np.empty(rows, np.int32), np.empty(rows, np.int32)
    scales, masks = np.empty(rows, np.float32), np.empty((rows, SIZE * SIZE // 8), np.uint8)
    bar = keras.utils.Progbar(source.num_images, unit_name="image") if verbose else None
    if bar:
        print(f"rendering {kind} {split} ({rows} query rows, {source.num_images} images)"
              + (f" into {path}" if path else ""))
    starts = np.searchsorted(source.image_of_row, np.arange(source.num_images + 1))
    for j in range(source.num_images):
        image, placed, _ = source._render(j)
        images[j] = image
        for i in range(starts[j], starts[j + 1]):  # the image's rows are contiguous
            queries[i], answers[i], scales[i], mask = _query_answer(placed[source.digit_of_row[i]], task)
            masks[i] = np.packbits(mask.reshape(-1))
        if bar and ((j + 1) % 50 == 0 or j + 1 == source.num_images):
            bar.update(j + 1)
    arrays = dict(images=images, image_of_row=source.image_of_row.astype(np.int64), queries=queries,
                  answers=answers, scales=scales, masks=masks)
    if path:
        try:
            os.makedirs(cache_dir, exist_ok=True)
            tmp = path + ".tmp.npz"
            np.savez(tmp, **arrays)
            os.replace(tmp, path)
        except OSError as e:
            print(f"cannot cache {kind} {split} in {cache_dir} ({e.strerror or e}); going on uncached")
    return arrays


def unpack_masks(packed):
    """``[N, 1250]`` uint8 bit-packed masks (as :func:`render_split` returns) -> ``[N, 100, 100]`` bool."""
    return np.unpackbits(packed, axis=-1, count=SIZE * SIZE).reshape(-1, SIZE, SIZE).astype(bool)


def make_attribute_dataset(kind, split, batch_size, seed=0, mnist=None, size=None, backgrounds=None,
                           with_info=False, cache_dir=None, first_pass=None, verbose=False, task="attribute"):
    """A batched ``tf.data`` pipeline of MREF / MDIST / MBG query rows.

    Args:
      kind: ``mref``, ``mdist`` or ``mbg``.
      split: ``train`` (30,000 query rows), ``validation`` or ``test`` (10,000 each); the
        digits of every split come from MNIST's splits pooled (as PAN's generator), the images
        differ by split.
      batch_size: positive int.
      seed: int; image ``j`` of a split is a pure function of ``(seed, split, kind, j)``.
      mnist: optional dict as :func:`data.load_mnist` returns (default: the offline copy).
      size: optional number of query rows (default the split's size).
      backgrounds: for ``mbg``: a :class:`data.backgrounds.Backgrounds` (or a bare ``[K, H,
        W, 3]`` uint8 array), or None for smooth random colour fields (see
        :func:`background_label`).
      with_info: also yield the target's scale and mask.
      cache_dir: optional directory: the split is rendered once into memory and a file there
        (:func:`render_split`); without it, images are rendered on the fly in ``tf.data``.
      first_pass: train split only. None: one pass, reshuffled on each iteration. An int
        ``k``: an endless stream of passes ``k, k+1, ...``, pass ``p`` shuffled by ``(seed,
        p)``, so that a resumed run reads the same data as an uninterrupted one.
      verbose: show a progress bar while rendering into the cache.
      task: ``"attribute"`` (query a digit, answer its colour) or ``"inverse"`` (query a
        colour, answer the digit of that colour; 5 digits per image, one of each colour).

    Returns:
      ``((images, queries), answers)``: images float32 ``[B, 100, 100, 3]`` in [0, 1], queries
      float32 one-hot ``[B, 10]`` (digit classes), answers int32 ``[B]`` colour indices (see
      ``COLOUR_NAMES``); for the inverse task queries ``[B, 5]`` (colours) and answers digit
      classes; with ``with_info``, ``((images, queries, scales [B], masks [B, 100,
      100, 1] float32), answers)``. Train batches drop the remainder; the validation and test
      splits keep an image's query rows together, in drawing order.
    """
    _check_args(kind, split, batch_size, backgrounds, task)
    count = SPLIT_SIZES[split] if check_count("size", size) is None else size
    specs = [tf.uint8, tf.int32, tf.int32, tf.float32, tf.bool]
    shapes = [[SIZE, SIZE, 3], [], [], [], [SIZE, SIZE]]
    if cache_dir:
        arrays = render_split(kind, split, seed, mnist, count, backgrounds, cache_dir, verbose, task)

        def fetch(indices):  # a batch of cached rows by index: no big constants in the graph
            return (arrays["images"][arrays["image_of_row"][indices]], arrays["queries"][indices],
                    arrays["answers"][indices], arrays["scales"][indices], unpack_masks(arrays["masks"][indices]))
    else:
        source = AttributeSplit(kind, split, seed, count, mnist, backgrounds, task)

        def fetch(indices):
            rows = [source.row(i) for i in indices]
            return tuple(np.stack([row[k] for row in rows]) for k in range(len(specs)))

    def lookup(indices):
        values = tf.numpy_function(fetch, [indices], specs, stateful=False)
        for value, shape in zip(values, shapes):
            value.set_shape([None] + shape)
        return values

    def finish(image, query, answer, scale, mask):
        images = tf.cast(image, tf.float32) / 255.0
        query = tf.one_hot(query, QUERY_SIZE[task])
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
