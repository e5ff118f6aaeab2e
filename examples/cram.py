"""CRAM, the Clued Recurrent Attention Model:
``python -m examples.cram --task classify --dataset clutter --clue saliency --train --eval --predict``
``python -m examples.cram --task inpaint --train --eval --predict`` (SVHN; offline a labelled stand-in).

``--train --eval --predict --export`` behave as in ``examples.mnist``.
"""

import os

from absl import app, flags

from examples.flag_checks import require_finite

flags.DEFINE_enum("task", "classify", ["classify", "inpaint"], "Clued classification or SVHN inpainting.")
flags.DEFINE_string("dataset", None, "classify: center, translate, clutter (default) or clutter100; "
                    "inpaint: svhn_occluded (default).")
flags.DEFINE_enum("clue", None, ["saliency", "oracle", "none"],
                  "classify: saliency (default; a CNN-DecNN trained first), oracle (the true target region) "
                  "or none (no clue loss). inpaint: always the occlusion mask.")
flags.DEFINE_bool("train", False, "Train (or resume) the model in --model_dir.")
flags.DEFINE_bool("eval", False, "Print test error (classify) or hole L1 / PSNR / SSIM (inpaint).")
flags.DEFINE_bool("predict", False, "Write glimpse-window pictures (and Fig. 7 rows for inpaint).")
flags.DEFINE_string("export", None, "Write a SavedModel of the model in --model_dir to this directory.")
flags.DEFINE_integer("step", None, "Glimpses (default 8 for classify, 4 for inpaint).", lower_bound=1)
flags.DEFINE_integer("batch", 64, "Batch size.", lower_bound=1)
flags.DEFINE_integer("epoch", 10, "Epochs to train.", lower_bound=1)
flags.DEFINE_float("minutes", None, "Also stop after the epoch that passes this many minutes.", lower_bound=0)
flags.DEFINE_float("lr", 1e-4, "Adam learning rate (paper: 1e-4).", lower_bound=0)
flags.DEFINE_float("clue_weight", 1.0, "Weight lambda of the clue loss.", lower_bound=0)
flags.DEFINE_enum("clue_form", None, ["inside", "cover"],
                  "Clue loss: windows inside the clue, or windows covering it (default: inside for classify, "
                  "cover for inpaint; see cram.clue.clue_loss).")
flags.DEFINE_float("adversarial_weight", 0.001, "Weight of the local + global GAN losses (inpaint).", lower_bound=0)
flags.DEFINE_integer("units", 256, "LSTM and MLP width.", lower_bound=1)
flags.DEFINE_integer("saliency_epochs", 2, "Epochs of saliency pre-training (classify, --clue saliency).",
                     lower_bound=1)
flags.DEFINE_string("load", "best", "Checkpoint for --eval/--predict/--export: best, latest or a .weights.h5 path.")
flags.DEFINE_integer("seed", 0, "Seed of data, initialisation and shuffling.")
flags.DEFINE_string("model_dir", None, "Run directory (default runs/cram_<task>_<dataset>[_<clue>]).")
flags.DEFINE_string("predict_dir", None, "Where --predict writes (default <model_dir>/predictions).")
flags.DEFINE_integer("num_predict", 8, "Test images drawn by --predict.", lower_bound=1)
flags.DEFINE_enum("svhn_source", "standin", ["standin", "tfds", "dir"],
                  "inpaint data: the labelled offline stand-in, TFDS svhn_cropped (internet), or --svhn_dir.")
flags.DEFINE_string("svhn_dir", None, "For --svhn_source dir: train.npz/test.npz with x uint8 [N, 32, 32, 3]; "
                    "for tfds: the TFDS data directory.")
flags.DEFINE_integer("limit", None, "Use only the first N images of each split (quick runs).", lower_bound=1)
flags.DEFINE_enum("strategy", "default", ["default", "mirrored", "multi_worker", "tpu"],
                  "tf.distribute strategy (see docs/distribute.md).")
flags.DEFINE_integer("cpu_replicas", None, "Split the CPU into this many logical devices (for mirrored on CPU).",
                     lower_bound=1)
FLAGS = flags.FLAGS
require_finite("minutes", "lr", "clue_weight", "adversarial_weight")


def resolved_config():
    from cram.config import CRAMConfig
    from trainkit import RunError
    inpaint = FLAGS.task == "inpaint"
    dataset = FLAGS.dataset or ("svhn_occluded" if inpaint else "clutter")
    if inpaint and dataset != "svhn_occluded":
        raise RunError(f"--task inpaint works on --dataset svhn_occluded, not {dataset}")
    if inpaint and FLAGS.clue not in (None, "oracle"):
        raise RunError("--task inpaint always uses the occlusion mask as its clue; drop --clue")
    clue = "oracle" if inpaint else (FLAGS.clue or "saliency")
    return CRAMConfig(task=FLAGS.task, dataset=dataset, clue=clue, num_glimpses=FLAGS.step or (4 if inpaint else 8),
                      units=FLAGS.units, clue_weight=FLAGS.clue_weight, clue_form=FLAGS.clue_form or "",
                      adversarial_weight=FLAGS.adversarial_weight,
                      batch_size=FLAGS.batch, epochs=FLAGS.epoch, learning_rate=FLAGS.lr,
                      saliency_epochs=FLAGS.saliency_epochs, svhn_source=FLAGS.svhn_source, seed=FLAGS.seed)


def run():
    from trainkit import distribute
    if FLAGS.cpu_replicas:
        distribute.split_cpu(FLAGS.cpu_replicas)  # before TensorFlow runs anything
    import data
    from cram import export, training, visualize
    from trainkit import RunError, check_output_dir, refuse_nonempty_dir

    if not (FLAGS.train or FLAGS.eval or FLAGS.predict or FLAGS.export):
        raise RunError("nothing to do: pass --train, --eval, --predict and/or --export DIR")
    if FLAGS.export:
        refuse_nonempty_dir(FLAGS.export)
    if FLAGS.predict and FLAGS.predict_dir:
        check_output_dir(FLAGS.predict_dir, "--predict_dir")
    config = resolved_config()
    default_dir = f"cram_{config.task}_{config.dataset}" + (f"_{config.clue}" if config.task == "classify" else "")
    model_dir = FLAGS.model_dir or os.path.join("runs", default_dir)
    mnist = data.load_mnist()
    note = data.svhn.label(config.svhn_source) if config.task == "inpaint" else None
    if FLAGS.train:
        print(f"training CRAM ({config.task}, clue {config.clue}, {config.num_glimpses} glimpses) on "
              f"{config.dataset} into {model_dir}" + (f"\n{note}" if note else ""))
        history = training.train(config, model_dir, mnist=mnist, limit=FLAGS.limit, minutes=FLAGS.minutes,
                                 strategy=distribute.make_strategy(FLAGS.strategy),
                                 svhn_dir=FLAGS.svhn_dir)
        if history.nan_stopped or history.write_failed:
            return 1
    if FLAGS.eval or FLAGS.predict or FLAGS.export:
        model, config = training.load_trained(model_dir, FLAGS.load)
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
