"""RAM training throughput (images/s) against the machine's matmul peak, with and without XLA.

    python -m benchmarks.ram_throughput [--steps 300] [--dataset translate]

Batch 128 with the data set's defaults (translate: 6 glimpses of 3 x 12x12 on 60x60 images),
from an in-memory batch cycle so that only the train step is timed (the input pipeline has
its own benchmark). In the same run it times a 2048x2048 float32 matmul (the machine's
practical FLOP/s peak) and prints each setting's share of the model's FLOP limit:
``images/s x training FLOP per image / peak FLOP/s``. Training FLOP per image is counted from
the layer shapes (:func:`training_flops_per_image`). ``steps_per_execution`` is measured at
several values; the fastest is printed, to be passed as ``--steps_per_execution``.
"""

import time

from absl import app, flags, logging

flags.DEFINE_integer("steps", 300, "Timed train steps per setting (after a warm-up).")
flags.DEFINE_integer("batch", 128, "Batch size.")
flags.DEFINE_string("dataset", "translate", "Data set whose defaults are timed.")
flags.DEFINE_list("steps_per_execution", ["1", "5", "15"], "steps_per_execution values timed under XLA.")
FLAGS = flags.FLAGS


def training_flops_per_image(config, image_size):
    """FLOP of one training step per image, counted from the layer shapes (2 per multiply-add).

    Dense layers cost 3x their forward pass (forward, gradient of the input, gradient of the
    weights). The glimpse sensor (two area-weight matmuls per glimpse, ``A_y @ image @ A_x^T``)
    runs forward only: neither images nor the stopped-gradient locations need its gradient.
    """
    k, p, s = config.num_scales, config.patch_size, image_size
    hidden_g, hidden_l, glimpse, units = 128, 128, 256, 256
    sensor = k * p * s * s + k * p * s * p
    dense = (k * p * p * hidden_g + 2 * hidden_l + hidden_g * glimpse + hidden_l * glimpse
             + units * 2 + units * 1)
    dense += 2 * units * units if config.core == "rnn" else 4 * units * (glimpse + units)
    per_image = config.num_glimpses * (sensor + 3 * dense) + 3 * units * 10
    return 2.0 * per_image


def matmul_peak(n=2048, repeats=10):
    """float32 FLOP/s of an ``n x n`` matmul (best of ``repeats``)."""
    import tensorflow as tf

    a = tf.random.uniform([n, n], seed=1)
    b = tf.random.uniform([n, n], seed=2)
    matmul = tf.function(lambda: tf.reduce_sum(tf.matmul(a, b)))
    matmul().numpy()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        matmul().numpy()
        best = min(best, time.perf_counter() - start)
    return 2.0 * n ** 3 / best


def measure(config, size, jit_compile, steps_per_execution, steps, batch):
    import keras
    import tensorflow as tf

    from ram.training import build_model

    keras.utils.set_random_seed(0)
    model = build_model(config, jit_compile=jit_compile, steps_per_execution=steps_per_execution, image_size=size)
    images = tf.random.uniform([batch * 10, size, size, 1], seed=1)
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
    import data
    from ram.config import RAMConfig

    config = RAMConfig.for_dataset(FLAGS.dataset, batch_size=FLAGS.batch)
    size = data.image_size(FLAGS.dataset)
    flops = training_flops_per_image(config, size)
    peak = matmul_peak()
    limit = peak / flops
    print(f"matmul peak {peak / 1e9:.1f} GFLOP/s; training {flops / 1e6:.2f} MFLOP per image "
          f"({FLAGS.dataset}); FLOP limit {limit:,.0f} images/s")
    settings = [("tf.function", False, 1)] + [(f"XLA, steps_per_execution={n}", True, int(n))
                                               for n in FLAGS.steps_per_execution]
    results = {}
    print(f"{'train step':<32} {'images/s':>10} {'share of limit':>15}")
    for name, jit, spe in settings:
        results[name] = (measure(config, size, jit, spe, FLAGS.steps, FLAGS.batch), spe)
        print(f"{name:<32} {results[name][0]:>10,.0f} {100 * results[name][0] / limit:>14.1f}%", flush=True)
    base = results["tf.function"][0]
    best = max((v for k, v in results.items() if k != "tf.function"), key=lambda v: v[0])
    print(f"fastest: XLA with steps_per_execution={best[1]}, x{best[0] / base:.2f} tf.function, "
          f"{100 * best[0] / limit:.1f}% of the FLOP limit")


if __name__ == "__main__":
    app.run(main)
