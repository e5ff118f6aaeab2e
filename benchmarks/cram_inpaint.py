"""Inpainting the centre 8x8 of 32x32 RGB images: CRAM against the same decoder fed by a plain
convolutional encoder, and against mean-colour fill; hole L1, PSNR and SSIM on the test set.

    python -m benchmarks.cram_inpaint --epochs 10                          # offline stand-in data
    python -m benchmarks.cram_inpaint --svhn_source tfds --epochs 10       # real SVHN (internet)

Target: CRAM beats both baselines on PSNR. Offline, results are on the labelled stand-in.
CRAM's run lives in ``--model_dir/cram[_source<name>][_limit<n>][_seed<n>]`` (the parts that
differ from the defaults) and resumes when the benchmark is rerun; the baselines retrain.
"""

import os
import time

from absl import app, flags, logging

from benchmarks.results import run_name

flags.DEFINE_integer("epochs", 10, "Epochs per trained model (the equal budget).", lower_bound=1)
flags.DEFINE_integer("limit", None, "First N images of each split (default all).", lower_bound=1)
flags.DEFINE_integer("batch", None, "Batch size (default: cram.config's).", lower_bound=1)
flags.DEFINE_enum("svhn_source", "standin", ["standin", "tfds", "dir"], "Data source (see data/svhn.py).")
flags.DEFINE_string("svhn_dir", None, "For --svhn_source dir (or the TFDS data directory).")
flags.DEFINE_string("model_dir", "runs/bench_cram_inpaint", "Parent directory of the runs.")
flags.DEFINE_integer("seed", 0, "Seed.")
FLAGS = flags.FLAGS


def main(_):
    logging.set_verbosity(logging.WARNING)
    import keras

    import data
    from cram import training
    from benchmarks.cram_baselines import ConvInpainter, mean_colour_fill
    from cram.config import CRAMConfig
    from cram.inpainting import evaluate_inpainting

    mnist = data.load_mnist()
    config = CRAMConfig.for_task("inpaint", batch_size=FLAGS.batch, epochs=FLAGS.epochs, svhn_source=FLAGS.svhn_source,
                                 seed=FLAGS.seed)
    test = data.svhn.make_svhn_occluded("test", 100, seed=FLAGS.seed, source=FLAGS.svhn_source,
                                        data_dir=FLAGS.svhn_dir, limit=FLAGS.limit, mnist=mnist)
    rows = []
    print("== CRAM", flush=True)
    start = time.monotonic()
    run_dir = os.path.join(FLAGS.model_dir, run_name("cram", source=(FLAGS.svhn_source, "standin"),
                                                     limit=(FLAGS.limit, None), seed=(FLAGS.seed, 0)))
    training.train(config, run_dir, mnist=mnist, limit=FLAGS.limit, verbose=2, svhn_dir=FLAGS.svhn_dir)
    model, _ = training.load_trained(run_dir)
    rows.append(("CRAM", evaluate_inpainting(model.complete, test), time.monotonic() - start))

    print("== plain convolutional encoder, same decoder and discriminators", flush=True)
    start = time.monotonic()
    keras.utils.set_random_seed(FLAGS.seed)
    conv = ConvInpainter(filters=config.filters, units=config.units, adversarial_weight=config.adversarial_weight)
    conv.compile(keras.optimizers.Adam(config.learning_rate, beta_1=0.5),
                 keras.optimizers.Adam(config.learning_rate, beta_1=0.5))
    kwargs = dict(batch_size=config.batch_size, seed=FLAGS.seed, source=FLAGS.svhn_source, data_dir=FLAGS.svhn_dir,
                  limit=FLAGS.limit, mnist=mnist)
    steps = data.svhn.split_size("train", FLAGS.svhn_source, FLAGS.svhn_dir, FLAGS.limit) // config.batch_size
    conv.fit(data.svhn.make_svhn_occluded("train", first_pass=0, **kwargs), epochs=FLAGS.epochs,
             steps_per_epoch=steps, verbose=2, shuffle=False)
    rows.append(("conv encoder", evaluate_inpainting(conv.complete, test), time.monotonic() - start))
    rows.append(("mean colour", evaluate_inpainting(mean_colour_fill, test), 0.0))

    print(f"\n{data.svhn.label(FLAGS.svhn_source)}; {FLAGS.epochs} epochs of "
          f"{data.svhn.split_size('train', FLAGS.svhn_source, FLAGS.svhn_dir, FLAGS.limit)} images; "
          f"test {rows[0][1]['count']} images")
    print(f"{'model':14} {'hole L1':>8} {'PSNR dB':>8} {'SSIM':>7} {'train s':>8}")
    for name, r, seconds in rows:
        print(f"{name:14} {r['hole_l1']:8.4f} {r['psnr']:8.2f} {r['ssim']:7.4f} {seconds:8.0f}")


if __name__ == "__main__":
    app.run(main)
