"""RAM on MNIST: ``python -m examples.mnist --train --eval --predict --dataset translate``.

Flags mirror the original TF repo (``--train --eval --predict --batch --epoch --lr --load
--dataset --step --glimpse --scale --std --pixel``); ``--step --glimpse --scale --pixel``
default per data set (see ``ram/config.py``) and explicit values win.
"""

import os

from absl import app, flags

from examples.flag_checks import require_finite

flags.DEFINE_bool("train", False, "Train (or resume) the model in --model_dir.")
flags.DEFINE_bool("eval", False, "Print the test error of the model in --model_dir.")
flags.DEFINE_bool("predict", False, "Write glimpse-path PNGs of test images and a contact sheet.")
flags.DEFINE_string("export", None, "Write a SavedModel of the model in --model_dir to this directory.")
flags.DEFINE_integer("batch", 128, "Batch size.", lower_bound=1)
flags.DEFINE_integer("epoch", 10, "Epochs to train (short default; the original ran 1,000-2,000).", lower_bound=1)
flags.DEFINE_float("minutes", None, "Also stop after the epoch that passes this many minutes.", lower_bound=0)
flags.DEFINE_float("lr", None, "Initial learning rate (default per data set; decays by --decay_rate every "
                   "--decay_steps steps, floor lr/10).", lower_bound=0)
flags.DEFINE_string("load", "best", "Checkpoint for --eval/--predict/--export: best, latest or a .weights.h5 path.")
flags.DEFINE_enum("dataset", "center", ["center", "translate", "clutter", "clutter100"], "Data set.")
flags.DEFINE_integer("step", None, "Glimpses per image (default per data set).", lower_bound=1)
flags.DEFINE_integer("glimpse", None, "Side of the smallest glimpse patch (default per data set).", lower_bound=1)
flags.DEFINE_integer("scale", None, "Number of glimpse scales (default per data set).", lower_bound=1)
flags.DEFINE_float("std", None, "Standard deviation of the location policy, in location units (default per "
                   "data set).", lower_bound=1e-6)
flags.DEFINE_float("pixel", None, "Pixels per unit of location (default per data set).", lower_bound=1e-6)
flags.DEFINE_float("reinforce_weight", 0.01, "Weight of the REINFORCE term (see RecurrentAttentionModel).",
                   lower_bound=0)
flags.DEFINE_enum("std_schedule", None, ["fixed", "anneal", "learned"],
                  "Policy std: fixed at --std, annealed from --std to --std_final, or learned (default per data set).")
flags.DEFINE_float("std_final", None, "Last std of --std_schedule anneal.", lower_bound=1e-6)
flags.DEFINE_integer("std_anneal_steps", None, "Training steps of --std_schedule anneal.", lower_bound=1)
flags.DEFINE_bool("detach_policy", None, "Location network sees stop_gradient(h_t): REINFORCE trains it alone "
                  "(default per data set).")
flags.DEFINE_enum("location_activation", None, ["clip", "tanh"],
                  "How the policy's mean is kept in [-1, 1] (default per data set).")
flags.DEFINE_bool("location_zero_init", None, "Start the location network's kernel at zero (default per "
                  "data set).")
flags.DEFINE_integer("train_paths", None, "Sampled glimpse paths per training image (each step trains on batch x "
                     "this many paths; default per data set).", lower_bound=1, upper_bound=64)
flags.DEFINE_bool("path_baseline", None, "REINFORCE baseline of a path: the mean reward of the image's other "
                  "paths (needs --train_paths >= 2) instead of the learned baseline (default per data set).")
flags.DEFINE_float("mean_path_weight", None, "Weight of a cross-entropy term on each training image's "
                   "deterministic mean path, the path evaluation uses (0: none; default per data set).",
                   lower_bound=0)
flags.DEFINE_enum("reward", None, ["correct", "probability"],
                  "REINFORCE reward of a path: 1 for a right answer (the paper's), or the probability the "
                  "classifier gives the true class (default per data set).")
flags.DEFINE_float("ema_momentum", None, "Keep an exponential moving average of the weights with this momentum "
                   "(0: none; default per data set): validation, --eval, --predict and --export then use "
                   "the averaged weights.", lower_bound=0, upper_bound=0.999999)
flags.DEFINE_float("decay_rate", None, "Learning-rate factor every --decay_steps steps (1: constant).",
                   lower_bound=1e-6, upper_bound=1.0)
flags.DEFINE_integer("decay_steps", None, "Steps between learning-rate decays.", lower_bound=1)
flags.DEFINE_enum("core", None, ["rnn", "lstm"], "Core network (default per data set).")
flags.DEFINE_integer("mc_samples", 1, "Evaluate by averaging this many sampled glimpse paths (1: mean path).",
                     lower_bound=1)
flags.DEFINE_integer("seed", 0, "Seed of data placement, initialisation and location noise.")
flags.DEFINE_string("model_dir", None, "Run directory (default runs/ram_<dataset>).")
flags.DEFINE_string("predict_dir", None, "Where --predict writes (default <model_dir>/predictions).")
flags.DEFINE_integer("num_predict", 16, "Test images drawn by --predict.", lower_bound=1)
flags.DEFINE_enum("source", "offline", ["offline", "idx", "tfds"], "MNIST source (see README, Data).")
flags.DEFINE_string("data_dir", None, "IDX directory for --source idx, TFDS directory for --source tfds.")
flags.DEFINE_integer("validation_size", 10_000, "Validation images cut from IDX/TFDS training sets.", lower_bound=1)
flags.DEFINE_enum("strategy", "default", ["default", "mirrored", "multi_worker", "tpu"],
                  "tf.distribute strategy (see README, 'Training on several GPUs or machines').")
flags.DEFINE_integer("cpu_replicas", None, "Split the CPU into this many logical devices (for mirrored on CPU).",
                     lower_bound=1)
flags.DEFINE_integer("backup_steps", None, "Back up for resumption every N steps (default: every epoch).",
                     lower_bound=1)
flags.DEFINE_integer("steps_per_execution", None, "Train steps per call into XLA (default: the largest divisor "
                     "of the steps per epoch up to 20; python -m benchmarks.ram_throughput times the step).",
                     lower_bound=1)
flags.DEFINE_integer("limit", None, "Use only the first N images of each split (quick runs).", lower_bound=1)
FLAGS = flags.FLAGS

require_finite("lr", "std", "pixel", "std_final", "decay_rate", "minutes", "reinforce_weight", "mean_path_weight",
               "ema_momentum")


def run():
    # Imported here so that --help and flag errors answer at once, without loading TensorFlow.
    from trainkit import distribute
    if FLAGS.cpu_replicas:
        distribute.split_cpu(FLAGS.cpu_replicas)  # before TensorFlow runs anything
    import data
    from ram import training, visualize
    from ram.config import PAPER_TEST_ERROR, RAMConfig
    from ram.export import export_saved_model
    from trainkit import check_output_dir, refuse_nonempty_dir

    if not (FLAGS.train or FLAGS.eval or FLAGS.predict or FLAGS.export):
        raise training.RunError("nothing to do: pass --train, --eval, --predict and/or --export DIR")
    if FLAGS.export:
        refuse_nonempty_dir(FLAGS.export)
    if FLAGS.predict and FLAGS.predict_dir:
        check_output_dir(FLAGS.predict_dir, "--predict_dir")
    model_dir = FLAGS.model_dir or os.path.join("runs", f"ram_{FLAGS.dataset}")
    mnist = data.load_mnist(FLAGS.source, FLAGS.data_dir, validation_size=FLAGS.validation_size)
    if FLAGS.train:
        config = RAMConfig.for_dataset(
            FLAGS.dataset, num_glimpses=FLAGS.step, patch_size=FLAGS.glimpse, num_scales=FLAGS.scale,
            unit_pixels=FLAGS.pixel, std=FLAGS.std, core=FLAGS.core, reinforce_weight=FLAGS.reinforce_weight,
            batch_size=FLAGS.batch, std_schedule=FLAGS.std_schedule, std_final=FLAGS.std_final,
            std_anneal_steps=FLAGS.std_anneal_steps, detach_policy=FLAGS.detach_policy,
            location_activation=FLAGS.location_activation, location_zero_init=FLAGS.location_zero_init,
            train_paths=FLAGS.train_paths, path_baseline=FLAGS.path_baseline,
            mean_path_weight=FLAGS.mean_path_weight, ema_momentum=FLAGS.ema_momentum, decay_rate=FLAGS.decay_rate, decay_steps=FLAGS.decay_steps,
            reward=FLAGS.reward,
            epochs=FLAGS.epoch, learning_rate=FLAGS.lr, mc_samples=FLAGS.mc_samples, seed=FLAGS.seed)
        print(f"training RAM on {config.dataset} into {model_dir}: {config.num_glimpses} glimpses of "
              f"{config.num_scales} x {config.patch_size}x{config.patch_size}, pixel {config.unit_pixels:g}")
        history = training.train(config, model_dir, mnist=mnist, limit=FLAGS.limit, minutes=FLAGS.minutes,
                                 strategy=distribute.make_strategy(FLAGS.strategy),
                                 backup_steps=FLAGS.backup_steps, steps_per_execution=FLAGS.steps_per_execution)
        if history.nan_stopped or history.write_failed:
            return 1
    model = config = None
    if FLAGS.eval or FLAGS.predict or FLAGS.export:
        model, config = training.load_trained(model_dir, FLAGS.load, mc_samples=FLAGS.mc_samples)
    if FLAGS.eval:
        error, accuracy = training.evaluate(model, config, "test", mnist=mnist, limit=FLAGS.limit)
        how = "mean path" if config.mc_samples == 1 else f"{config.mc_samples} sampled paths"
        paper = PAPER_TEST_ERROR[config.dataset]
        print(f"test error: {error:.2f}%  accuracy: {accuracy:.4f}  ({config.dataset}, {how}, "
              f"checkpoint {FLAGS.load}; the paper reports {paper:g}%)")
    if FLAGS.predict:
        out_dir = FLAGS.predict_dir or os.path.join(model_dir, "predictions")
        sheet = visualize.write_predictions(model, config, out_dir, FLAGS.num_predict, mnist)
        print(f"wrote {FLAGS.num_predict} glimpse paths to {out_dir}/ (contact sheet {sheet})")
    if FLAGS.export:
        export_saved_model(model, FLAGS.export, data.image_size(config.dataset))
        print(f"exported SavedModel to {FLAGS.export} (signature serving_default)")
    return 0


def main(argv):
    from trainkit.cli import run_main
    run_main(run, argv)


if __name__ == "__main__":
    app.run(main)
