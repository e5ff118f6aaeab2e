"""RAM data sets: shapes, placement, clutter, masks, seeding, errors."""

import numpy as np
import pytest
import tensorflow as tf

import data
from data import canvas
from data.sources import DataError


def first(ds):
    return next(iter(ds))


@pytest.mark.parametrize("name,size", [("center", 28), ("translate", 60), ("clutter", 60), ("clutter100", 100)])
@pytest.mark.parametrize("split", ["train", "test"])
def test_shapes_dtypes_ranges(tiny_mnist, name, size, split):
    assert data.image_size(name) == size
    (images, masks), labels = first(data.make_dataset(name, split, 8, mnist=tiny_mnist, with_mask=True))
    assert images.shape == (8, size, size, 1) and images.dtype == tf.float32
    assert masks.shape == (8, size, size, 1) and masks.dtype == tf.float32
    assert labels.shape == (8,) and labels.dtype == tf.int32
    assert 0.0 <= float(tf.reduce_min(images)) and float(tf.reduce_max(images)) <= 1.0
    assert set(np.unique(masks.numpy())) <= {0.0, 1.0}


def test_digit_fully_inside_and_mask_on_its_pixels():
    # Every digit is a full 28x28 block: its mask must be a whole 28x28 square inside the canvas.
    rng = np.random.default_rng(0)
    x = (rng.integers(26, 256, (64, 28, 28)) / 255.0).astype(np.float32)  # 8-bit, as MNIST
    mnist = {s: (x, np.arange(64) % 10) for s in data.SPLITS}
    (images, masks), _ = first(data.make_dataset("translate", "train", 64, mnist=mnist, with_mask=True))
    rows_seen = set()
    for image, mask in zip(images.numpy()[..., 0], masks.numpy()[..., 0]):
        rows, cols = np.nonzero(mask)
        assert mask.sum() == 28 * 28
        assert rows.max() - rows.min() == 27 and cols.max() - cols.min() == 27
        np.testing.assert_array_equal(mask, (image > 0).astype(np.float32))  # no clutter here
        r, c = rows.min(), cols.min()
        assert any(np.allclose(image[r:r + 28, c:c + 28], d) for d in x)
        rows_seen.add(r)
    assert min(rows_seen) >= 0 and max(rows_seen) <= 32 and len(rows_seen) > 10  # uniform, varied


def test_mask_matches_target_pixels_on_real_mnist():
    mnist = data.load_mnist()
    (images, masks), labels = first(data.make_dataset("translate", "test", 16, with_mask=True))
    for image, mask, digit in zip(images.numpy()[..., 0], masks.numpy()[..., 0], mnist["test"][0][:16]):
        rows, cols = np.nonzero(mask)
        r, c = rows.min(), cols.min()
        dr, dc = np.nonzero(digit)
        r0, c0 = r - dr.min(), c - dc.min()  # the digit's 28x28 box
        np.testing.assert_array_equal(image[r0:r0 + 28, c0:c0 + 28], digit)
        assert 0 <= r0 <= 32 and 0 <= c0 <= 32
    np.testing.assert_array_equal(labels.numpy(), mnist["test"][1][:16])


def test_center_is_the_plain_digit(tiny_mnist):
    images, labels = first(data.make_dataset("center", "test", 32, mnist=tiny_mnist))
    np.testing.assert_array_equal(images.numpy()[..., 0], tiny_mnist["test"][0])
    np.testing.assert_array_equal(labels.numpy(), tiny_mnist["test"][1])


def test_compose_places_exact_clutter_pieces():
    spec = canvas.SPECS["clutter"]
    rng = np.random.default_rng(3)
    pool = rng.uniform(0.1, 1.0, (5, 28, 28)).astype(np.float32)
    params = {
        "row": tf.constant([0]), "col": tf.constant([0]),
        "clutter_index": tf.constant([[1, 2, 3, 4]]),
        "crop_row": tf.constant([[0, 20, 5, 10]]), "crop_col": tf.constant([[20, 0, 7, 10]]),
        "piece_row": tf.constant([[40, 40, 52, 30]]), "piece_col": tf.constant([[30, 45, 2, 50]]),
    }
    images, masks = canvas.compose(tf.zeros([1, 28, 28]), params, tf.constant(pool), spec)
    image = images.numpy()[0, ..., 0]
    expected = np.zeros((60, 60), np.float32)
    for k in range(4):
        src = pool[params["clutter_index"].numpy()[0, k]]
        cr, cc = params["crop_row"].numpy()[0, k], params["crop_col"].numpy()[0, k]
        pr, pc = params["piece_row"].numpy()[0, k], params["piece_col"].numpy()[0, k]
        expected[pr:pr + 8, pc:pc + 8] = src[cr:cr + 8, cc:cc + 8]
    np.testing.assert_allclose(image, expected, rtol=1e-6)
    assert float(tf.reduce_sum(masks)) == 0.0  # clutter is never part of the target mask


@pytest.mark.parametrize("name,pieces", [("clutter", 4), ("clutter100", 8)])
def test_clutter_count_and_size(name, pieces):
    # All-ones digits: the inked area is the 28x28 target plus at most `pieces` 8x8 squares.
    ones = np.ones((64, 28, 28), np.float32)
    mnist = {s: (ones, np.zeros(64, np.int64)) for s in data.SPLITS}
    (images, masks), _ = first(data.make_dataset(name, "train", 64, mnist=mnist, with_mask=True))
    outside = ((images.numpy() > 0) & (masks.numpy() == 0)).sum(axis=(1, 2, 3))
    assert outside.max() <= pieces * 64
    assert outside.mean() > pieces * 64 * 0.5  # pieces mostly land off the target
    params = canvas.random_params(tf.constant([1, 2]), tf.range(64), 64, canvas.SPECS[name])
    assert params["clutter_index"].shape == (64, pieces)
    assert not np.any(params["clutter_index"].numpy() == np.arange(64)[:, None])  # other digits only


def test_same_seed_same_test_images_and_batch_size_independent(tiny_mnist):
    a, _ = first(data.make_dataset("clutter", "test", 32, seed=7, mnist=tiny_mnist))
    b, _ = first(data.make_dataset("clutter", "test", 32, seed=7, mnist=tiny_mnist))
    c, _ = first(data.make_dataset("clutter", "test", 8, seed=7, mnist=tiny_mnist))
    d, _ = first(data.make_dataset("clutter", "test", 32, seed=8, mnist=tiny_mnist))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(a.numpy()[:8], c.numpy())
    assert not np.array_equal(a.numpy(), d.numpy())


def test_train_passes_are_new_and_reproducible(tiny_mnist):
    def two_passes(seed):
        ds = data.make_dataset("translate", "train", 16, seed=seed, mnist=tiny_mnist)
        return [np.concatenate([x.numpy() for x, _ in ds]) for _ in range(2)]

    first_pass, second_pass = two_passes(seed=3)
    assert first_pass.shape == (64, 60, 60, 1)
    assert not np.array_equal(first_pass, second_pass)
    again = two_passes(seed=3)
    np.testing.assert_array_equal(first_pass, again[0])
    np.testing.assert_array_equal(second_pass, again[1])
    ds = data.make_dataset("translate", "train", 16, seed=3, mnist=tiny_mnist)
    assert int(ds.cardinality()) == 4


def test_pass_stream_is_keyed_by_pass_index(tiny_mnist):
    # 64 digits, batch 16: 4 batches per pass. A stream started at pass 2 equals the tail of one
    # started at pass 0, so a run resumed at epoch 2 sees the same data.
    def batches(first_pass, count):
        ds = data.make_dataset("clutter", "train", 16, seed=5, mnist=tiny_mnist, first_pass=first_pass)
        return np.stack([x.numpy() for x, _ in ds.take(count)])

    from_start, from_two = batches(0, 12), batches(2, 4)
    np.testing.assert_array_equal(from_start[8:], from_two)
    assert not np.array_equal(from_start[:4], from_start[4:8])


def test_unknown_name_and_split(tiny_mnist):
    with pytest.raises(DataError, match="unknown data set 'cluttered'; valid data sets: center, translate, clutter, clutter100"):
        data.make_dataset("cluttered", "train", 8, mnist=tiny_mnist)
    with pytest.raises(DataError, match="unknown split 'dev'; valid splits: train, validation, test"):
        data.make_dataset("translate", "dev", 8, mnist=tiny_mnist)


@pytest.mark.parametrize("batch", [0, -3, 2.5, True])
def test_bad_batch_size(tiny_mnist, batch):
    with pytest.raises(DataError, match="batch_size must be a positive integer"):
        data.make_dataset("translate", "train", batch, mnist=tiny_mnist)


@pytest.mark.parametrize("limit", [0, -3, 2.5, True])
def test_bad_limits_are_refused(tiny_mnist, limit):
    with pytest.raises(data.DataError, match="limit"):
        data.make_dataset("translate", "test", 4, mnist=tiny_mnist, limit=limit)


def test_labels_out_of_range_are_refused(tiny_mnist):
    x, y = tiny_mnist["test"]
    bad = dict(tiny_mnist, test=(x, np.where(np.arange(len(y)) == 3, 11, y)))
    with pytest.raises(data.DataError, match=r"classes 0-9; found \[11\]"):
        data.make_dataset("translate", "test", 4, mnist=bad)


def test_a_training_split_smaller_than_a_batch_is_refused(tiny_mnist):
    with pytest.raises(data.DataError, match="fewer than one batch"):
        data.make_dataset("translate", "train", 10_000, mnist=tiny_mnist)
