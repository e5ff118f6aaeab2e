"""Training images/s of the CRAM classifier (clutter 60x60, 8 glimpses) and inpainter (32x32
RGB, 4 glimpses), with and without XLA.

    python -m benchmarks.cram_throughput [--batch 64] [--steps 30]
"""

import time

from absl import app, flags, logging

flags.DEFINE_integer("batch", 64, "Batch size.", lower_bound=1)
flags.DEFINE_integer("steps", 30, "Timed steps (after 3 warm-up steps).", lower_bound=1)
flags.DEFINE_list("tasks", ["classify", "inpaint"], "Which models.")
FLAGS = flags.FLAGS


def main(_):
    logging.set_verbosity(logging.WARNING)
    import keras

    import data
    from cram.classifier import CRAMClassifier
    from cram.inpainting import CRAMInpainter

    mnist = data.load_mnist()
    for task in FLAGS.tasks:
        if task == "classify":
            ds = data.make_dataset("clutter", "train", FLAGS.batch, with_mask=True, mnist=mnist, first_pass=0)
        else:
            ds = data.make_dataset("svhn_occluded", "train", FLAGS.batch, mnist=mnist, first_pass=0)
        for jit in (False, True):
            keras.utils.set_random_seed(0)
            if task == "classify":
                model = CRAMClassifier(clue="oracle", num_glimpses=8)
                model.compile(keras.optimizers.Adam(1e-4), jit_compile=jit)
            else:
                model = CRAMInpainter(num_glimpses=4)
                model.compile(keras.optimizers.Adam(1e-4), keras.optimizers.Adam(1e-4), jit_compile=jit)
            model.fit(ds, epochs=1, steps_per_epoch=3, verbose=0)
            start = time.perf_counter()
            model.fit(ds, epochs=1, steps_per_epoch=FLAGS.steps, verbose=0)
            rate = FLAGS.steps * FLAGS.batch / (time.perf_counter() - start)
            print(f"{task:9} {'XLA' if jit else 'tf.function':12} {rate:8.0f} images/s", flush=True)


if __name__ == "__main__":
    app.run(main)
