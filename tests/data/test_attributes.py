"""MREF / MDIST / MBG: shapes, queries and answers, colours, masks, seeding, backgrounds, errors."""

import numpy as np
import pytest

from data import attributes
from data.attributes import COLOURS, make_attribute_dataset
from data.sources import DataError


@pytest.fixture(scope="module")
def digits():
    rng = np.random.default_rng(0)
    x = np.zeros((40, 28, 28), np.float32)
    x[:, 4:24, 8:20] = rng.integers(200, 256, (40, 20, 12)) / 255.0  # solid, bright strokes
    y = np.arange(40) % 10
    return {split: (x, y) for split in ("train", "validation", "test")}


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


def test_answer_is_the_colour_of_the_queried_digit(digits):
    images, _, scales, masks, answers = batch("mref", digits, size=32)
    for image, mask, answer, scale in zip(images * 255, masks, answers, scales):
        inked = image[mask > 0]
        brightest = inked[np.argmax(inked.sum(1))]
        assert np.abs(brightest - COLOURS[answer]).max() < 45  # colour noise N(0, 10), 8-bit alpha
        rows, cols = np.nonzero(mask)
        assert rows.max() - rows.min() < round(28 * scale) + 1  # the mask fits the scaled digit


def test_examples_are_fixed_by_seed_and_index(digits):
    a = batch("mdist", digits, size=8)[0]
    b = make_attribute_dataset("mdist", "test", 4, seed=3, mnist=digits, size=8)
    b = np.concatenate([x[0].numpy() for x, _ in b])
    np.testing.assert_array_equal(a, b)
    c = make_attribute_dataset("mdist", "test", 8, seed=4, mnist=digits, size=8)
    assert not np.array_equal(a, next(iter(c))[0][0].numpy())


def test_distractors_add_ink_off_the_digits(digits):
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
    assert "stand-in" in attributes.background_label(None) and attributes.background_label(flat) == "SUN397"


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
    x, y = digits["test"]
    source = np.rint(x * 255).astype(np.uint8)
    by_class = [np.flatnonzero(y == c) for c in range(10)]
    for index in range(count):
        rng = np.random.default_rng([seed, index])
        yield attributes.render_example(rng, source, by_class, kind, return_layout=True)


@pytest.mark.parametrize("kind", ["mref", "mdist"])
def test_layout_invariants(kind, digits):
    """5 to 9 distinct digits, boxes (digits and distractors) never overlap, scales in range,
    the answer is the target's colour, and the query is one of the digits present."""
    counts = set()
    for image, label, answer, scale, mask, layout in _layouts(kind, digits):
        placed = layout["digits"]
        counts.add(len(placed))
        assert 5 <= len(placed) <= 9
        classes = [p[0] for p in placed]
        assert len(set(classes)) == len(classes)
        assert label == classes[layout["target"]] and answer == placed[layout["target"]][1]
        assert scale == np.float32(placed[layout["target"]][2])
        cover = np.zeros((100, 100), int)
        for _, colour, s, (r, c, side) in placed:
            assert 0.5 <= s <= 3.0 and side == round(28 * s) and 0 <= colour < 5
            assert r + side <= 100 and c + side <= 100
            cover[r:r + side, c:c + side] += 1
        for r, c, side in layout["distractors"]:
            cover[r:r + side, c:c + side] += 1
        assert cover.max() == 1
        r, c, side = placed[layout["target"]][3]
        assert mask[r:r + side, c:c + side].sum() == mask.sum() > 0  # the mask lies in the target's box
        if kind == "mdist":
            assert 0 < len(layout["distractors"]) <= attributes.NUM_DISTRACTORS
    assert len(counts) > 2  # the count varies over 5..9


def test_layout_is_a_function_of_the_seed(digits):
    a = [layout for *_, layout in _layouts("mdist", digits, count=5)]
    b = [layout for *_, layout in _layouts("mdist", digits, count=5)]
    c = [layout for *_, layout in _layouts("mdist", digits, count=5, seed=6)]
    assert a == b and a != c


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
        attributes.load_sun397_backgrounds(str(tmp_path))
