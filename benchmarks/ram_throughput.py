"""Prints RAM training throughput (images/s) for the translate config, with and without XLA.

    python -m benchmarks.ram_throughput [--steps 300]

Batch 128, 6 glimpses of 3 x 12x12 on 60x60 images, from an in-memory batch cycle so that
only the train step is timed (the input pipeline has its own benchmark). Target on the
2-core machine: >= 7,000 images/s.
"""

import time

from absl import app, flags, logging

flags.DEFINE_integer("steps", 300, "Timed train steps per setting (after a warm-up).")
flags.DEFINE_integer("batch", 128, "Batch size.")
FLAGS = flags.FLAGS


def measure(jit_compile, steps_per_execution, steps, batch):
    import keras
    import tensorflow as tf

    from ram.config import RAMConfig
    from ram.training import build_model

    keras.utils.set_random_seed(0)
    config = RAMConfig.for_dataset("translate", batch_size=batch)
    model = build_model(config, 60, jit_compile=jit_compile, steps_per_execution=steps_per_execution)
    images = tf.random.uniform([batch * 10, 60, 60, 1], seed=1)
    labels = tf.random.uniform([batch * 10], 0, 10, tf.int32, seed=2)
    ds = tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch, drop_remainder=True)
    ds = ds.cache().repeat().prefetch(tf.data.AUTOTUNE)
    model.fit(ds, steps_per_epoch=max(steps_per_execution, 20), epochs=1, verbose=0)  # compile
    steps = max(steps // steps_per_execution, 1) * steps_per_execution
    start = time.perf_counter()
    model.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0)
    return steps * batch / (time.perf_counter() - start)


def main(_):
    logging.set_verbosity(logging.WARNING)
    settings = [("tf.function", False, 1), ("XLA", True, 1), ("XLA, steps_per_execution=15", True, 15)]
    results = {}
    print(f"{'train step':<30} {'images/s':>10}")
    for name, jit, spe in settings:
        results[name] = measure(jit, spe, FLAGS.steps, FLAGS.batch)
        print(f"{name:<30} {results[name]:>10,.0f}", flush=True)
    base = results["tf.function"]
    print(f"XLA speed-up: x{results['XLA'] / base:.2f}; with steps_per_execution: "
          f"x{results['XLA, steps_per_execution=15'] / base:.2f}")


if __name__ == "__main__":
    app.run(main)
