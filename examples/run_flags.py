"""The flags every command line shares (what to do with a run, where it lives, where it runs),
defined once, and the checks that answer before anything loads."""

from absl import flags

FLAGS = flags.FLAGS


def define_run_flags(model_dir_default, pretrained_of, eval_help, predict_help, num_predict):
    """Defines ``--train --eval --predict --export --load --pretrained --model_dir --predict_dir
    --num_predict --strategy --cpu_replicas --backup_steps`` in the calling entry point.

    ``model_dir_default`` and ``pretrained_of`` complete their help ("runs/ram_<dataset>", "--dataset"),
    ``eval_help``/``predict_help`` say what those print and write, ``num_predict`` is the default
    number of pictures.
    """
    flags.disclaim_key_flags()  # listed in the entry point's --help, as its own flags
    flags.DEFINE_bool("train", False, "Train (or resume) the model in --model_dir.")
    flags.DEFINE_bool("eval", False, eval_help)
    flags.DEFINE_bool("predict", False, predict_help)
    flags.DEFINE_string("export", None, "Write a SavedModel of the model to this directory (serving_default).")
    flags.DEFINE_string("load", "best", "Checkpoint for --eval/--predict/--export: best, latest or a .weights.h5 "
                        "path.")
    flags.DEFINE_bool("pretrained", False, f"--eval, --predict and --export the shipped model of {pretrained_of} "
                      "(<package>/pretrained/) instead of a run in --model_dir: nothing to train.")
    flags.DEFINE_string("model_dir", None, f"Run directory (default {model_dir_default}).")
    flags.DEFINE_string("predict_dir", None, "Where --predict writes (default <model_dir>/predictions).")
    flags.DEFINE_integer("num_predict", num_predict, "Test examples drawn by --predict.", lower_bound=1)
    flags.DEFINE_enum("strategy", "default", ["default", "mirrored", "multi_worker", "tpu"],
                      "tf.distribute strategy (see docs/distribute.md).")
    flags.DEFINE_integer("cpu_replicas", None, "Split the CPU into this many logical devices (for mirrored on "
                         "CPU).", lower_bound=1)
    flags.DEFINE_integer("backup_steps", None, "Back up for resumption every N steps (default: every epoch).",
                         lower_bound=1)


def check_run_flags(*extra_actions):
    """Splits the CPU if asked (before TensorFlow runs anything), then refuses at once what cannot
    work: nothing to do, ``--pretrained`` with ``--train``, an ``--export`` or ``--predict_dir``
    that cannot be written. ``extra_actions``: the entry point's other action flags (``diagnose``).
    Raises :class:`trainkit.RunError`."""
    from trainkit import RunError, check_output_dir, distribute, refuse_nonempty_dir

    if FLAGS.cpu_replicas:
        distribute.split_cpu(FLAGS.cpu_replicas)
    actions = ("train", "eval", "predict", "export", *extra_actions)
    if not any(FLAGS[name].value for name in actions):
        named = ", ".join(f"--{name}" for name in actions if name != "export")
        raise RunError(f"nothing to do: pass {named} and/or --export DIR")
    if FLAGS.pretrained and FLAGS.train:
        raise RunError("--pretrained models are trained already: drop --train, or --pretrained to train your own")
    if FLAGS.export:
        refuse_nonempty_dir(FLAGS.export)
    if FLAGS.predict and FLAGS.predict_dir:
        check_output_dir(FLAGS.predict_dir, "--predict_dir")
