"""Shared fixtures: quiet TensorFlow, small synthetic MNIST-shaped data."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


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
