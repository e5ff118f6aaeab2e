"""MBG backgrounds: the photo stand-in read from scikit-image's files, labels, cache names, errors."""

import importlib.metadata

import numpy as np
import pytest

from data import attributes, backgrounds
from data.backgrounds import Backgrounds
from data.sources import DataError


def test_photos_are_seeded_real_photographs_with_their_label():
    first = backgrounds.load_photos(count=30, seed=1)
    again = backgrounds.load_photos(count=30, seed=1)
    other = backgrounds.load_photos(count=30, seed=2)
    assert first.images.shape == (30, 128, 128, 3) and first.images.dtype == np.uint8
    np.testing.assert_array_equal(first.images, again.images)
    assert not np.array_equal(first.images, other.images)
    assert first.name == "photos" and "stand-in" in first.label and "scikit-image" in first.label
    # Photographs, not flat fields: detail at the pixel scale (neighbouring pixels differ).
    detail = np.abs(np.diff(first.images.astype(np.float32), axis=2)).mean(axis=(1, 2, 3))
    assert np.median(detail) > 2.0
    assert len({img.tobytes() for img in first.images}) == 30


def test_square_crops_keep_the_photo_and_flip():
    rng = np.random.default_rng(0)
    photo = np.zeros((100, 150, 3), np.uint8)
    photo[:, :75] = 255  # left half white
    crops = backgrounds.square_crops(photo, rng, 40, side=16)
    assert crops.shape == (40, 16, 16, 3)
    left_brighter = crops[:, :, :4].mean(axis=(1, 2, 3)) > crops[:, :, -4:].mean(axis=(1, 2, 3))
    assert left_brighter.any() and (~left_brighter).any()  # some crops are flipped


def test_mbg_over_photos_and_its_cache_name(tmp_path):
    photos = backgrounds.load_photos(count=20)
    x = np.zeros((40, 28, 28), np.float32)
    x[:, 4:24, 8:20] = 1.0
    mnist = {split: (x, np.arange(40) % 10) for split in ("train", "validation", "test")}
    ds = attributes.make_attribute_dataset("mbg", "test", 8, seed=0, mnist=mnist, size=8, backgrounds=photos,
                                           cache_dir=str(tmp_path))
    (images, _), _ = next(iter(ds))
    assert images.shape == (8, 100, 100, 3)
    assert [p.name for p in tmp_path.iterdir()] == ["mbg_test_seed0_8rows_photos_pan1.npz"]
    assert attributes.background_label(photos) == photos.label


def test_sources_and_errors(monkeypatch):
    assert backgrounds.load_backgrounds("fields") is None
    assert "colour fields" in backgrounds.label(None)
    with pytest.raises(DataError, match="unknown backgrounds 'sun'; valid: photos, fields, sun397"):
        backgrounds.load_backgrounds("sun")
    with pytest.raises(DataError, match="backgrounds must be"):
        Backgrounds(np.zeros((2, 50, 120, 3), np.uint8), "x", "x")
    with pytest.raises(DataError, match="backgrounds must be"):
        Backgrounds(np.zeros((0, 120, 120, 3), np.uint8), "x", "x")

    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    with pytest.raises(DataError, match="scikit-image, which is not installed: pip install --no-deps"):
        backgrounds.load_photos()
