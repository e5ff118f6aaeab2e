"""Trains RAM for a few steps on one device and under MirroredStrategy over 2 logical CPUs,
on the same global batches, and prints the losses and the largest weight difference as JSON.

Run as a subprocess by test_distribute.py: the CPU split must happen before TF starts.
"""

import json
import sys

from trainkit import distribute

distribute.split_cpu(2)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from ram.config import RAMConfig  # noqa: E402
from ram.training import build_model  # noqa: E402


def train(strategy, jit_compile):
    keras.utils.set_random_seed(0)
    config = RAMConfig(dataset="translate", num_glimpses=3, patch_size=6, num_scales=2, unit_pixels=8, seed=0)
    with strategy.scope():
        model = build_model(config, image_size=24, jit_compile=jit_compile)
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (64, 24, 24, 1)).astype(np.float32)
    labels = rng.integers(0, 10, 64).astype(np.int32)
    ds = tf.data.Dataset.from_tensor_slices((images, labels)).batch(16, drop_remainder=True)
    history = model.fit(ds, epochs=1, verbose=0, shuffle=False)
    return ({k: float(v[-1]) for k, v in history.history.items()},
            [w.numpy() for w in model.trainable_variables])


if __name__ == "__main__":
    jit = sys.argv[1:] == ["--jit"]
    single, single_weights = train(tf.distribute.get_strategy(), jit)
    mirrored_strategy = distribute.make_strategy("mirrored")
    mirrored, mirrored_weights = train(mirrored_strategy, jit)
    print(json.dumps({
        "replicas": mirrored_strategy.num_replicas_in_sync,
        "single": single, "mirrored": mirrored,
        "max_weight_difference": max(float(np.max(np.abs(a - b))) for a, b in zip(single_weights, mirrored_weights)),
    }))
