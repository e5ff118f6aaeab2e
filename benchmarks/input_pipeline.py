"""Prints the training input pipeline's throughput (images/s) for the four RAM data sets.

    python -m benchmarks.input_pipeline [--batch 128] [--batches 300]

Targets on a 2-core machine: >= 20,000 translated and >= 10,000 cluttered 60x60 images/s,
so that the pipeline never starves RAM training (~7,000-8,000 images/s).
"""

import time

from absl import app, flags

import data

flags.DEFINE_integer("batch", 128, "Batch size.")
flags.DEFINE_integer("batches", 300, "Batches timed per data set, after a warm-up pass.")
flags.DEFINE_list("datasets", list(data.DATASETS), "Data sets to time.")
flags.DEFINE_list("attributes", ["mref", "mdist", "mbg"], "Attribute sets (AttentionRNN) to time; empty: none.")
FLAGS = flags.FLAGS


def images_per_second(name, mnist, batch, batches):
    ds = data.make_dataset(name, "train", batch, seed=0, mnist=mnist).repeat()
    it = iter(ds)
    for _ in range(20):  # warm-up: tracing, thread pools, first prefetch
        next(it)
    start = time.perf_counter()
    for _ in range(batches):
        images, _ = next(it)
    images.numpy()
    return batches * batch / (time.perf_counter() - start)


def main(_):
    mnist = data.load_mnist()
    print(f"{'data set':<12} {'size':>8} {'images/s':>10}")
    for name in FLAGS.datasets:
        rate = images_per_second(name, mnist, FLAGS.batch, FLAGS.batches)
        size = data.image_size(name)
        print(f"{name:<12} {size:>3}x{size:<4} {rate:>10,.0f}", flush=True)
    for kind in FLAGS.attributes:
        ds = data.make_attribute_dataset(kind, "train", FLAGS.batch, mnist=mnist, size=FLAGS.batch * 12)
        start = time.perf_counter()
        count = sum(int(answers.shape[0]) for _, answers in ds)
        print(f"{kind:<12} 100x100 {count / (time.perf_counter() - start):>10,.0f}", flush=True)


if __name__ == "__main__":
    app.run(main)
