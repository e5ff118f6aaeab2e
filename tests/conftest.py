"""Shared fixtures: quiet TensorFlow, small synthetic MNIST-shaped data."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import gzip  # noqa: E402
import struct  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

# Wall-clock limit of a test's training subprocess: a guard against hangs, not a speed goal. A
# CLI run that takes 1-2 minutes on the idle 2-core machine took over 400 s with a training job
# beside the suite, and a CI host may be slower still.
SUBPROCESS_TIMEOUT_S = 1200

IDX_STEMS = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
             "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}


def write_idx(path, array, kind):
    """Writes one IDX file (gzip'd when ``path`` ends in .gz): magic, dimensions, uint8 data."""
    magic = 0x00000803 if kind == "images" else 0x00000801
    payload = struct.pack(">I", magic) + struct.pack(">" + "I" * array.ndim, *array.shape)
    payload += array.astype(np.uint8).tobytes()
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(payload)


def write_idx_dir(directory, mnist):
    """Writes a :func:`synthetic_mnist`-style dict as the four IDX files (train = train + validation)."""
    train_x = np.concatenate([mnist["train"][0], mnist["validation"][0]])
    train_y = np.concatenate([mnist["train"][1], mnist["validation"][1]])
    arrays = {"train_images": np.rint(train_x * 255), "train_labels": train_y,
              "test_images": np.rint(mnist["test"][0] * 255), "test_labels": mnist["test"][1]}
    for key, stem in IDX_STEMS.items():
        write_idx(os.path.join(str(directory), stem + ".gz"), arrays[key], key.split("_")[1])
    return str(directory)


def synthetic_mnist(n_train=64, n_eval=32, seed=0):
    """A dict shaped like :func:`data.load_mnist`'s: random 'digits' with a bright centre blob."""
    rng = np.random.default_rng(seed)

    def split(n):
        x = np.zeros((n, 28, 28), np.float32)
        y = rng.integers(0, 10, n).astype(np.int64)
        for i in range(n):
            r, c = 6 + y[i], 6 + (9 - y[i])  # the blob's place tells the class
            x[i, r:r + 12, c:c + 8] = rng.integers(128, 256, (12, 8)) / 255.0  # 8-bit, as MNIST
        return x, y

    return {"train": split(n_train), "validation": split(n_eval), "test": split(n_eval)}


@pytest.fixture
def tiny_mnist():
    return synthetic_mnist()
