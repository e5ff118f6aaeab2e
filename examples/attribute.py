"""The visual attribute benchmark (AttentionRNN, Sec. 4.1):
``python -m examples.attribute --dataset mdist --attention arnn --train --eval --predict``.

Asks "what colour is digit q?" about 100x100 images of 5-9 coloured digits (MREF: black
background; MDIST: plus distractors; MBG: natural backgrounds, offline a labelled stand-in).
``--train --eval --predict --export`` behave as in ``examples.mnist``. ``--diagnose`` prints,
for the checkpoint ``--load`` and for the run's untrained initialisation, each attended layer's
mask level and spread and the gradient norm of each part of the network on a few training
batches: how to tell a stalled run (saturated masks) from a slow one
(:mod:`attention_rnn.diagnostics`).
"""

import os

from absl import app, flags

from examples.flag_checks import require_finite

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # the config loads TensorFlow with its package

from attention_rnn.config import AttributeConfig  # noqa: E402
from examples.run_flags import check_run_flags, define_run_flags  # noqa: E402
from trainkit.settings import config_from_flags, define_flags  # noqa: E402

# Every setting of the network: one flag per AttributeConfig field, default, range and help from there.
define_flags(AttributeConfig)

define_run_flags("runs/attribute_<dataset>_<attention>", "--dataset and --attention",
                 "Print test accuracy (overall and by scale bin) and mask correctness.",
                 "Write, per test image, the query, the answer and each layer's mask.", num_predict=16)
flags.DEFINE_bool("diagnose", False, "Print each attended layer's mask mean and spread and each part's gradient "
                  "norm on --diagnose_batches training batches, for --load and for the untrained network.")
flags.DEFINE_integer("diagnose_batches", 8, "Training batches that --diagnose reads.", lower_bound=1)
flags.DEFINE_integer("test_size", None, "Test query rows for --eval (default all 10,000).", lower_bound=1)
flags.DEFINE_string("cache_dir", "runs/attribute_data", "Where rendered splits are cached ('' for none).")
flags.DEFINE_enum("backgrounds", "photos", ["photos", "fields", "sun397"],
                  "MBG backgrounds: photos, the labelled offline stand-in (crops of the photographs shipped "
                  "with scikit-image); fields, smooth random colour fields; or SUN397 through TFDS (needs the "
                  "internet). See data/backgrounds.py.")
flags.DEFINE_string("data_dir", None, "TFDS data directory for --backgrounds sun397.")
flags.DEFINE_integer("mask_samples", 3, "--predict of an arnn_sample model: sampled masks drawn side by side for "
                     "images holding the query digit in several colours (0: none).", lower_bound=0)
flags.DEFINE_float("sigma_scale", 1.0, "Scale of sigma when drawing those samples (the paper scales it up).",
                   lower_bound=0)
FLAGS = flags.FLAGS
require_finite("sigma_scale")


def run():
    check_run_flags("diagnose")
    import data
    from attention_rnn import training, visualize
    from attention_rnn.export import export_saved_model
    from trainkit import distribute, pretrained

    if FLAGS.pretrained:
        pretrained.verified_weights("attention_rnn", f"{FLAGS.dataset}_{FLAGS.attention}")  # one line, now
    config = config_from_flags(AttributeConfig) if FLAGS.train else None  # a bad combination: one line, now
    inverse = "_inverse" if FLAGS.task == "inverse" else ""
    model_dir = FLAGS.model_dir or os.path.join("runs", f"attribute_{FLAGS.dataset}{inverse}_{FLAGS.attention}")
    backgrounds = None
    if FLAGS.dataset == "mbg":
        backgrounds = data.backgrounds.load_backgrounds(FLAGS.backgrounds, FLAGS.data_dir)
    cache_dir = FLAGS.cache_dir or None
    mnist = data.load_mnist()
    if FLAGS.train:
        print(f"training the attribute network ({config.attention} attention) on {config.dataset} "
              f"({config.task} task) into {model_dir}")
        note = training.data_note(config, backgrounds)
        if note:
            print(note)
        history = training.train(config, model_dir, mnist=mnist, backgrounds=backgrounds, cache_dir=cache_dir,
                                 strategy=distribute.make_strategy(FLAGS.strategy), backup_steps=FLAGS.backup_steps)
        if history.nan_stopped or history.write_failed:
            return 1
    model = config = None
    if FLAGS.eval or FLAGS.predict or FLAGS.export or FLAGS.diagnose:
        model, config = (training.load_pretrained(f"{FLAGS.dataset}_{FLAGS.attention}") if FLAGS.pretrained
                         else training.load_trained(model_dir, FLAGS.load))
    if FLAGS.eval:
        results = training.evaluate(model, config, "test", size=FLAGS.test_size, mnist=mnist,
                                    backgrounds=backgrounds, cache_dir=cache_dir)
        print(training.format_results(results, f"test ({config.dataset}, {config.task} task, {config.attention}, "
                                               f"checkpoint {FLAGS.load})"))
    if FLAGS.predict:
        out_dir = FLAGS.predict_dir or os.path.join(model_dir, "predictions")
        visualize.write_predictions(model, config, out_dir, FLAGS.num_predict, mnist=mnist,
                                   backgrounds=backgrounds, cache_dir=cache_dir)
        print(f"wrote {FLAGS.num_predict} attention pictures and predictions.json to {out_dir}/")
        if config.attention == "arnn_sample" and FLAGS.mask_samples and config.task == "attribute":
            paths = visualize.write_sampled_masks(model, config, out_dir, min(FLAGS.num_predict, 8),
                                                 FLAGS.mask_samples, FLAGS.sigma_scale, mnist=mnist,
                                                 backgrounds=backgrounds)
            print(f"wrote {len(paths)} pictures of {FLAGS.mask_samples} sampled masks each "
                  f"(sigma x {FLAGS.sigma_scale:g}) to {out_dir}/multimodal_*.png")
    if FLAGS.diagnose:
        print(training.diagnose(model, config, FLAGS.diagnose_batches, FLAGS.load, mnist=mnist,
                                backgrounds=backgrounds, cache_dir=cache_dir))
    if FLAGS.export:
        export_saved_model(model, config, FLAGS.export)
        print(f"exported SavedModel to {FLAGS.export} (signature serving_default(images, queries))")
    return 0


def main(argv):
    from trainkit.cli import run_main
    run_main(run, argv)


if __name__ == "__main__":
    app.run(main)
