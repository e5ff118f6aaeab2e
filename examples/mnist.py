"""RAM on MNIST: ``python -m examples.mnist --train --eval --predict --dataset translate``.

Flags mirror the original TF repo (``--train --eval --predict --batch --epoch --lr --load
--dataset --step --glimpse --scale --std --pixel``). Every model setting is a field of
``ram.config.RAMConfig``, whose default, range and help the flag takes; the defaults are the
recipe that reproduces the paper, and ``DATASET_DEFAULTS`` varies a few per data set (explicit
flags win). ``--help`` prints each flag's real default.
"""

import os

from absl import app, flags


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # ram.config loads TensorFlow with its package

from ram.config import DATASET_DEFAULTS, RAMConfig  # noqa: E402
from examples.run_flags import check_run_flags, define_run_flags  # noqa: E402
from trainkit.settings import config_from_flags, define_flags  # noqa: E402

# Every setting of the model: one flag per RAMConfig field, its default, range and help from there.
define_flags(RAMConfig, per_dataset=DATASET_DEFAULTS)

define_run_flags("runs/ram_<dataset>", "--dataset", "Print the test error of the model.",
                 "Write glimpse-path PNGs of test images and a contact sheet.", num_predict=16)
flags.DEFINE_enum("source", "offline", ["offline", "idx", "tfds"], "MNIST source (see README, Data).")
flags.DEFINE_string("data_dir", None, "IDX directory for --source idx, TFDS directory for --source tfds.")
flags.DEFINE_integer("validation_size", 10_000, "Validation images cut from IDX/TFDS training sets.", lower_bound=1)
flags.DEFINE_integer("steps_per_execution", None, "Train steps per call into XLA (default: the largest divisor "
                     "of the steps per epoch up to 20; python -m benchmarks.ram_throughput times the step).",
                     lower_bound=1)
flags.DEFINE_integer("limit", None, "Use only the first N images of each split (quick runs).", lower_bound=1)
FLAGS = flags.FLAGS


def run():
    check_run_flags()
    import data
    from ram import training, visualize
    from ram.config import PAPER_TEST_ERROR
    from ram.export import export_saved_model
    from trainkit import distribute, pretrained

    # The data set's defaults, then the flags given; a bad combination is one line, before any loading.
    config = config_from_flags(RAMConfig, RAMConfig.for_dataset, skip=("dataset",),
                               dataset=FLAGS.dataset) if FLAGS.train else None
    if FLAGS.pretrained:
        pretrained.verified_weights("ram", FLAGS.dataset)  # a missing or damaged file: one line, now
    model_dir = FLAGS.model_dir or os.path.join("runs", f"ram_{FLAGS.dataset}" + ("_pretrained" * FLAGS.pretrained))
    mnist = data.load_mnist(FLAGS.source, FLAGS.data_dir, validation_size=FLAGS.validation_size)
    if FLAGS.train:
        print(f"training RAM on {config.dataset} into {model_dir}: {config.num_glimpses} glimpses of "
              f"{config.num_scales} x {config.patch_size}x{config.patch_size}, pixel {config.unit_pixels:g}")
        history = training.train(config, model_dir, mnist=mnist, limit=FLAGS.limit,
                                 strategy=distribute.make_strategy(FLAGS.strategy),
                                 backup_steps=FLAGS.backup_steps, steps_per_execution=FLAGS.steps_per_execution)
        if history.nan_stopped or history.write_failed:
            return 1
    model = config = shipped = None
    if FLAGS.pretrained:
        model, config = training.load_pretrained(FLAGS.dataset, mc_samples=FLAGS.mc_samples)
        shipped = pretrained.manifest("ram", FLAGS.dataset)
    elif FLAGS.eval or FLAGS.predict or FLAGS.export:
        model, config = training.load_trained(model_dir, FLAGS.load, mc_samples=FLAGS.mc_samples)
    if FLAGS.eval:
        results = training.evaluate(model, config, "test", mnist=mnist, limit=FLAGS.limit)
        error, accuracy = results["error"], results["accuracy"]
        how = "mean path" if config.mc_samples == 1 else f"{config.mc_samples} sampled paths"
        paper = PAPER_TEST_ERROR[config.dataset]
        which = "the shipped model" if FLAGS.pretrained else f"checkpoint {FLAGS.load}"
        print(f"test error: {error:.2f}%  accuracy: {accuracy:.4f}  ({config.dataset}, {how}, {which}; "
              f"the paper reports {paper:g}%)")
        committed = shipped and shipped["figures"].get(
            "test_error_mean" if config.mc_samples == 1 else f"test_error_mc{config.mc_samples}")
        if committed is not None:
            print(f"the results file holds {committed:.2f}% for these weights ({shipped['source']['results']})")
    if FLAGS.predict:
        out_dir = FLAGS.predict_dir or os.path.join(model_dir, "predictions")
        sheet = visualize.write_predictions(model, config, out_dir, FLAGS.num_predict, mnist)
        print(f"wrote {FLAGS.num_predict} glimpse paths to {out_dir}/ (contact sheet {sheet})")
    if FLAGS.export:
        export_saved_model(model, config, FLAGS.export)
        print(f"exported SavedModel to {FLAGS.export} (signature serving_default)")
    return 0


def main(argv):
    from trainkit.cli import run_main
    run_main(run, argv)


if __name__ == "__main__":
    app.run(main)
