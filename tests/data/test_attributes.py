"""MREF / MDIST / MBG: shapes, queries and answers, colours, masks, seeding, backgrounds, errors."""

import numpy as np
import pytest

from data import attributes, backgrounds
from data.attributes import COLOURS, make_attribute_dataset
from data.sources import DataError


@pytest.fixture(scope="module")
def digits():
    rng = np.random.default_rng(0)
    x = np.zeros((40, 28, 28), np.float32)
    x[:, 4:24, 8:20] = rng.integers(200, 256, (40, 20, 12)) / 255.0  # solid, bright strokes
    y = np.arange(40) % 10
    return {split: (x, y) for split in ("train", "validation", "test")}


@pytest.fixture(scope="module")
def solid():
    """Digits of full intensity in their stroke box: their brightest pixels show the colour."""
    x = np.zeros((40, 28, 28), np.float32)
    x[:, 4:24, 8:20] = 1.0
    return {split: (x, np.arange(40) % 10) for split in ("train", "validation", "test")}


def batch(kind, digits, split="test", size=16, **kwargs):
    ds = make_attribute_dataset(kind, split, size, seed=3, mnist=digits, size=size, with_info=True, **kwargs)
    (images, queries, scales, masks), answers = next(iter(ds))
    return images.numpy(), queries.numpy(), scales.numpy(), masks.numpy()[..., 0], answers.numpy()


@pytest.mark.parametrize("kind", attributes.KINDS)
def test_shapes_and_ranges(kind, digits):
    images, queries, scales, masks, answers = batch(kind, digits)
    assert images.shape == (16, 100, 100, 3) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0
    assert queries.shape == (16, 10) and np.all(queries.sum(1) == 1)
    assert answers.dtype == np.int32 and set(answers) <= set(range(5))
    assert np.all((0.5 <= scales) & (scales <= 3.0))
    assert np.all(masks.reshape(16, -1).sum(1) > 0)


def test_answer_is_the_colour_of_the_queried_digit(solid):
    images, _, scales, masks, answers = batch("mref", solid, size=32)
    for image, mask, answer, scale in zip(images * 255, masks, answers, scales):
        inked = image[mask > 0]
        brightest = inked[np.argmax(inked.sum(1))]
        assert np.abs(brightest - COLOURS[answer]).max() < 45  # full intensity: the colour plus N(0, 10)
        rows, cols = np.nonzero(mask)
        assert rows.max() - rows.min() < round(28 * scale) + 1  # the mask fits the scaled digit


def test_compositing_is_premultiplied_and_colour_noise_is_one_draw_per_digit():
    """A digit of constant intensity a over black shows colour * a^2 (PAN pastes the colour
    premultiplied by a with a as the mask), and the colour noise is the same in all channels."""
    a = 128 / 255
    flat = np.full((10, 28, 28), 128, np.uint8)
    by_class = [np.array([c]) for c in range(10)]
    checked = 0
    for index in range(20):
        image, placed, _ = attributes.render_image(np.random.default_rng([9, index]), flat, by_class, "mref")
        for _, colour, _, (r, c, side), _ in placed:
            pixel = image[r + side // 2, c + side // 2].astype(np.float64)
            noise = pixel / a ** 2 - COLOURS[colour]
            if np.all(pixel > 2) and np.all(COLOURS[colour] + noise < 250):  # no channel clipped
                assert np.ptp(noise) < 4, (pixel, colour)  # 8-bit rounding / a^2, not 3 draws of N(0, 10)
                checked += 1
    assert checked > 30


def test_examples_are_fixed_by_seed_and_index(digits):
    a = batch("mdist", digits, size=8)[0]
    b = make_attribute_dataset("mdist", "test", 4, seed=3, mnist=digits, size=8)
    b = np.concatenate([x[0].numpy() for x, _ in b])
    np.testing.assert_array_equal(a, b)
    c = make_attribute_dataset("mdist", "test", 8, seed=4, mnist=digits, size=8)
    assert not np.array_equal(a, next(iter(c))[0][0].numpy())


def test_distractors_add_ink(digits):
    ref, dist = batch("mref", digits)[0], batch("mdist", digits)[0]
    assert (dist > 0).sum() > (ref > 0).sum()


def test_mbg_uses_given_backgrounds_and_labels_the_standin(digits):
    flat = np.zeros((2, 120, 130, 3), np.uint8)
    flat[..., :] = (7, 77, 177)
    images = batch("mbg", digits, backgrounds=flat)[0]
    corners = np.concatenate([images[:, :2, :2].reshape(-1, 3), images[:, -2:, -2:].reshape(-1, 3)]) * 255
    assert np.mean(np.all(np.abs(corners - (7, 77, 177)) < 1, axis=1)) > 0.5
    standin = batch("mbg", digits)[0]
    assert standin.reshape(16, -1, 3).std(1).mean() > 0.05  # textured, not black
    assert "stand-in" in attributes.background_label(None)
    assert attributes.background_label(flat) == "user-supplied backgrounds"


def test_errors(digits):
    with pytest.raises(DataError, match="unknown attribute data set 'mnoise'; valid: mref, mdist, mbg"):
        make_attribute_dataset("mnoise", "train", 4, mnist=digits)
    with pytest.raises(DataError, match="unknown split"):
        make_attribute_dataset("mref", "dev", 4, mnist=digits)
    with pytest.raises(DataError, match="backgrounds must be"):
        make_attribute_dataset("mbg", "train", 4, mnist=digits, backgrounds=np.zeros((2, 50, 50, 3), np.uint8))
    with pytest.raises(DataError, match="batch_size"):
        make_attribute_dataset("mref", "train", 0, mnist=digits)
    for size in (0, -5):  # 0 once meant "the whole split"
        with pytest.raises(DataError, match="size must be a positive integer"):
            make_attribute_dataset("mref", "test", 4, mnist=digits, size=size)
        with pytest.raises(DataError, match="size must be a positive integer"):
            attributes.render_split("mref", "test", mnist=digits, size=size)


def _layouts(kind, digits, count=40, seed=5):
    pool, by_class = attributes.pooled_digits(digits)
    for index in range(count):
        yield attributes.render_image(np.random.default_rng([seed, index]), pool, by_class, kind)


@pytest.mark.parametrize("kind", ["mref", "mdist"])
def test_layout_follows_pan(kind, digits):
    """5 to 9 distinct digits; each digit's box holds none of the earlier digits' ink, while
    boxes may overlap; scales drawn afresh (none forced to a floor); masks inside their own
    box and disjoint; mdist: always 17 distractors, placed with no regard to the digits."""
    counts, scales, overlapping_boxes, distractor_under_digit = set(), [], 0, 0
    for image, placed, distractors in _layouts(kind, digits):
        counts.add(len(placed))
        assert 5 <= len(placed) <= 9
        classes = [p[0] for p in placed]
        assert len(set(classes)) == len(classes)
        earlier_ink = np.zeros((100, 100), bool)
        boxes = []
        for _, colour, s, (r, c, side), mask in placed:
            assert 0.5 <= s <= 3.0 and side == round(28 * s) and 0 <= colour < 5
            assert r + side <= 100 and c + side <= 100
            assert not earlier_ink[r:r + side, c:c + side].any()
            assert mask.sum() == mask[r:r + side, c:c + side].sum() > 0
            overlapping_boxes += any(_overlap((r, c, side), b) for b in boxes)
            boxes.append((r, c, side))
            earlier_ink |= mask
            scales.append(s)
        if kind == "mdist":
            assert len(distractors) == attributes.NUM_DISTRACTORS
            distractor_under_digit += any(_overlap(d, b) for d in distractors for b in boxes)
        else:
            assert distractors == []
    assert len(counts) > 2  # the count varies over 5..9
    assert len(set(scales)) == len(scales)  # no scale forced to 0.5
    assert overlapping_boxes > 0
    assert kind == "mref" or distractor_under_digit > 20


def _overlap(a, b):
    (r1, c1, s1), (r2, c2, s2) = a, b
    return r1 < r2 + s2 and r2 < r1 + s1 and c1 < c2 + s2 and c2 < c1 + s1


def test_layout_is_a_function_of_the_seed(digits):
    def layouts(seed):
        return [[(p[:4], d) for p in placed] for _, placed, d in _layouts("mdist", digits, count=5, seed=seed)]
    assert layouts(5) == layouts(5) and layouts(5) != layouts(6)


def test_every_digit_of_an_image_is_a_query(digits, tmp_path):
    """A split is query rows: image j lends one row per digit, in drawing order; the rows of
    one image share its pixels; the split has exactly the rows asked for."""
    split = attributes.AttributeSplit("mref", "test", 3, 23, digits)
    assert len(split.image_of_row) == 23 and split.num_images <= 23 // 5 + 1
    _, placed, _ = split.image(0)
    first = [split.row(i) for i in range(len(placed))]
    assert [int(row[1]) for row in first] == [p[0] for p in placed]
    assert all(np.array_equal(row[0], first[0][0]) for row in first)
    ds = make_attribute_dataset("mref", "test", 23, seed=3, mnist=digits, size=23, cache_dir=str(tmp_path))
    (images, queries), answers = next(iter(ds))
    assert list(np.argmax(queries[:len(placed)], 1)) == [p[0] for p in placed]
    assert list(answers[:len(placed)]) == [p[1] for p in placed]
    arrays = attributes.render_split("mref", "test", 3, digits, 23, cache_dir=str(tmp_path))
    assert len(arrays["images"]) == split.num_images  # each image stored once


def test_digits_are_pooled_from_every_mnist_split(digits):
    x, y = digits["train"]
    only_train_ones = dict(digits, validation=(x[:0], y[:0]), test=(x[:0], y[:0]))
    pool, by_class = attributes.pooled_digits(digits)
    assert len(pool) == 3 * len(x) and all(len(ids) == 12 for ids in by_class)
    assert len(attributes.pooled_digits(only_train_ones)[0]) == len(x)
    with pytest.raises(DataError, match="every class"):
        attributes.pooled_digits({"train": (x[:5], y[:5])})


def _first_batches(ds, n):
    out = []
    for (images, queries), answers in ds.take(n):
        out.append((images.numpy(), queries.numpy(), answers.numpy()))
    return out


def test_cache_gives_the_same_examples_and_survives_damage(digits, tmp_path):
    plain = make_attribute_dataset("mref", "test", 6, seed=2, mnist=digits, size=12)
    cached = make_attribute_dataset("mref", "test", 6, seed=2, mnist=digits, size=12, cache_dir=str(tmp_path))
    for a, b in zip(_first_batches(plain, 2), _first_batches(cached, 2)):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
    (path,) = tmp_path.glob("*.npz")
    path.write_bytes(b"not a zip")
    again = make_attribute_dataset("mref", "test", 6, seed=2, mnist=digits, size=12, cache_dir=str(tmp_path))
    np.testing.assert_array_equal(_first_batches(again, 1)[0][0], _first_batches(plain, 1)[0][0])


def test_train_passes_are_keyed_by_index(digits, tmp_path):
    """Pass p of the endless train stream is a function of (seed, p): resuming at pass 1 reads
    what an uninterrupted run reads after pass 0; passes differ in order, not in content."""
    def stream(first):
        return make_attribute_dataset("mref", "train", 4, seed=1, mnist=digits, size=8, first_pass=first,
                                      cache_dir=str(tmp_path))
    whole = _first_batches(stream(0), 4)
    resumed = _first_batches(stream(1), 2)
    for a, b in zip(whole[2:], resumed):
        np.testing.assert_array_equal(a[0], b[0])
    first = np.concatenate([b[2] for b in whole[:2]])
    second = np.concatenate([b[2] for b in whole[2:]])
    assert sorted(first) == sorted(second)
    assert not all(np.array_equal(a[0], b[0]) for a, b in zip(whole[:2], whole[2:]))


def test_sun397_without_network_fails_at_once(monkeypatch, tmp_path):
    import data.sources
    monkeypatch.setattr(data.sources, "network_available", lambda *a, **k: False)
    with pytest.raises(DataError, match="no network"):
        backgrounds.load_sun397(str(tmp_path))


def test_inverse_task_asks_for_the_digit_of_a_colour(digits):
    """Inverse task: 5 digits, one of each colour; the query (a colour) names one digit."""
    ds = make_attribute_dataset("mdist", "test", 10, seed=3, mnist=digits, size=10, with_info=True, task="inverse")
    (images, queries, scales, masks), answers = next(iter(ds))
    assert queries.shape == (10, 5) and set(answers.numpy()) <= set(range(10))
    split = attributes.AttributeSplit("mdist", "test", 3, 10, digits, task="inverse")
    _, placed, _ = split.image(0)
    assert len(placed) == 5 and sorted(p[1] for p in placed) == [0, 1, 2, 3, 4]
    for row in range(5):
        _, query, answer, _, _ = split.row(row)
        assert [p[0] for p in placed if p[1] == query] == [answer]
    np.testing.assert_array_equal(np.argmax(queries[:5], 1), [p[1] for p in placed])
    with pytest.raises(DataError, match="unknown task"):
        make_attribute_dataset("mref", "test", 4, mnist=digits, task="reverse")


def test_multimodal_image_holds_the_query_in_several_colours(digits):
    pool, by_class = attributes.pooled_digits(digits)
    for index in range(5):
        rng = np.random.default_rng([1, index])
        _, query, placed, _ = attributes.render_multimodal(rng, pool, by_class, "mref", copies=3)
        copies = [p for p in placed if p[0] == query]
        assert len(copies) == 3 and len({p[1] for p in copies}) == 3
        others = [p[0] for p in placed if p[0] != query]
        assert len(set(others)) == len(others) and 5 <= len(placed) <= 9
    with pytest.raises(DataError, match="copies"):
        attributes.render_multimodal(np.random.default_rng(0), pool, by_class, "mref", copies=6)

