"""CRAM, the Clued Recurrent Attention Model:
``python -m examples.cram --task classify --dataset clutter --clue saliency --train --eval --predict``
``python -m examples.cram --task inpaint --train --eval --predict`` (SVHN; offline a labelled stand-in).

``--train --eval --predict --export`` behave as in ``examples.mnist``.
"""

import os

from absl import app, flags

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # the config loads TensorFlow with its package

from cram.config import TASK_DEFAULTS, CRAMConfig  # noqa: E402
from examples.run_flags import check_run_flags, define_run_flags  # noqa: E402
from trainkit.settings import config_from_flags, define_flags  # noqa: E402

# Every setting of the model: one flag per CRAMConfig field, default, range and help from there.
define_flags(CRAMConfig, per_dataset=TASK_DEFAULTS, dataset_flag="task")

define_run_flags("runs/cram_<task>_<dataset>[_<clue>]", "--task and --dataset",
                 "Print test error (classify) or hole L1 / PSNR / SSIM (inpaint).",
                 "Write glimpse-window pictures (and Fig. 7 rows for inpaint).", num_predict=8)
flags.DEFINE_string("svhn_dir", None, "For --svhn_source dir: train.npz/test.npz with x uint8 [N, 32, 32, 3]; "
                    "for tfds: the TFDS data directory.")
flags.DEFINE_integer("limit", None, "Use only the first N images of each split (quick runs).", lower_bound=1)
FLAGS = flags.FLAGS


def resolved_config():
    """The task's defaults (``cram.config.TASK_DEFAULTS``), then the flags given."""
    return config_from_flags(CRAMConfig, CRAMConfig.for_task, skip=("task",), task=FLAGS.task)


def run():
    check_run_flags()
    import data
    from cram import export, training, visualize
    from trainkit import distribute, pretrained

    config = resolved_config()
    if FLAGS.pretrained:
        pretrained.verified_weights("cram", f"{config.task}_{config.dataset}")  # one line, now
    default_dir = f"cram_{config.task}_{config.dataset}" + (f"_{config.clue}" if config.task == "classify" else "")
    model_dir = FLAGS.model_dir or os.path.join("runs", default_dir)
    mnist = data.load_mnist()
    note = data.svhn.label(config.svhn_source) if config.task == "inpaint" else None
    if FLAGS.train:
        print(f"training CRAM ({config.task}, clue {config.clue}, {config.num_glimpses} glimpses) on "
              f"{config.dataset} into {model_dir}" + (f"\n{note}" if note else ""))
        history = training.train(config, model_dir, mnist=mnist, limit=FLAGS.limit,
                                 strategy=distribute.make_strategy(FLAGS.strategy),
                                 svhn_dir=FLAGS.svhn_dir, backup_steps=FLAGS.backup_steps)
        if history.nan_stopped or history.write_failed:
            return 1
    if FLAGS.eval or FLAGS.predict or FLAGS.export:
        model, config = (training.load_pretrained(f"{config.task}_{config.dataset}") if FLAGS.pretrained
                         else training.load_trained(model_dir, FLAGS.load))
    if FLAGS.eval:
        results = training.evaluate(model, config, "test", mnist=mnist, limit=FLAGS.limit, svhn_dir=FLAGS.svhn_dir)
        if config.task == "inpaint":
            print(f"test hole L1 {results['hole_l1']:.4f}  PSNR {results['psnr']:.2f} dB  SSIM {results['ssim']:.4f}"
                  f"  ({results['count']} images; {data.svhn.label(config.svhn_source)})")
        else:
            print(f"test error: {results['error']:.2f}%  accuracy: {results['accuracy']:.4f}  clue loss "
                  f"{results['clue_loss']:.3f}  ({config.dataset}, clue {config.clue}, checkpoint {FLAGS.load})")
    if FLAGS.predict:
        out_dir = FLAGS.predict_dir or os.path.join(model_dir, "predictions")
        sheet = visualize.write_predictions(model, config, out_dir, FLAGS.num_predict, mnist, FLAGS.svhn_dir)
        print(f"wrote {FLAGS.num_predict} pictures to {out_dir}/ (sheet {sheet})")
    if FLAGS.export:
        export.export_saved_model(model, config, FLAGS.export)
        print(f"exported SavedModel to {FLAGS.export} (signature serving_default)")
    return 0


def main(argv):
    from trainkit.cli import run_main
    run_main(run, argv)


if __name__ == "__main__":
    app.run(main)
