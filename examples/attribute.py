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

from examples.flag_checks import require_finite, require_known, require_warmup_pair

flags.DEFINE_bool("train", False, "Train (or resume) the model in --model_dir.")
flags.DEFINE_bool("eval", False, "Print test accuracy (overall and by scale bin) and mask correctness.")
flags.DEFINE_bool("predict", False, "Write, per test image, the query, the answer and each layer's mask.")
flags.DEFINE_bool("diagnose", False, "Print each attended layer's mask mean and spread and each part's gradient "
                  "norm on --diagnose_batches training batches, for --load and for the untrained network.")
flags.DEFINE_integer("diagnose_batches", 8, "Training batches that --diagnose reads.", lower_bound=1)
flags.DEFINE_string("export", None, "Write a SavedModel of the model in --model_dir to this directory.")
flags.DEFINE_enum("dataset", "mref", ["mref", "mdist", "mbg"], "Data set.")
flags.DEFINE_enum("task", "attribute", ["attribute", "inverse"],
                  "attribute: what colour is digit q? inverse: which digit has colour q? (5 digits per image, "
                  "one of each colour).")
flags.DEFINE_string("attention", "arnn",
                  "none; san (soft attention, last layer); nctx / ctx (local attention, 1x1 / 3x3 context); "
                  "arnn (AttentionRNN); arnn_ind (independent combination); arnn_sample (sampled mask); "
                  "brnn (Block AttentionRNN, block 2).")
flags.DEFINE_integer("batch", 32, "Batch size.", lower_bound=1)
flags.DEFINE_integer("epoch", 10, "Epochs to train.", lower_bound=1)
flags.DEFINE_float("minutes", None, "Also stop after the epoch that passes this many minutes.", lower_bound=0)
flags.DEFINE_float("lr", 1e-3, "Adam learning rate.", lower_bound=0)
flags.DEFINE_integer("warmup_epochs", 0, "Train the first this many epochs at --warmup_lr, then at --lr "
                     "(0: no warm-up).", lower_bound=0)
flags.DEFINE_float("warmup_lr", None, "Adam learning rate of the --warmup_epochs warm-up epochs.", lower_bound=0)
flags.DEFINE_integer("units", None, "Units of each attention layer (AttentionRNN's latent size t). Default 16 "
                     "for the AttentionRNN types (32 costs about 1.5x the step time, see docs/attention_rnn.md#speed), "
                     "32 for the others.", lower_bound=1)
flags.DEFINE_bool("batch_norm", True, "Batch normalisation after each attended stack and on the pooled features "
                  "(as Seo et al.'s PAN network); --nobatch_norm for the plain stacks.")
flags.DEFINE_float("dropout", 0.0, "Dropout on the pooled features before the head (PAN: 0.5).", lower_bound=0,
                   upper_bound=0.99)
flags.DEFINE_bool("head_query", True, "Feed the query to the head too; --nohead_query is PAN's head, where the "
                  "query reaches the answer only through the masks (needs an attention).")
flags.DEFINE_bool("mask_norm", False, "Divide each mask by its mean over locations before it multiplies the "
                  "features (not in the paper: a remedy for masks that drift shut behind batch normalisation).")
flags.DEFINE_string("load", "best", "Checkpoint for --eval/--predict/--export: best, latest or a .weights.h5 path.")
flags.DEFINE_integer("train_size", None, "Training query rows (default all 30,000; about 7 per image).", lower_bound=1)
flags.DEFINE_integer("validation_size", None, "Validation query rows (default all 10,000).", lower_bound=1)
flags.DEFINE_integer("test_size", None, "Test query rows for --eval (default all 10,000).", lower_bound=1)
flags.DEFINE_integer("seed", 0, "Seed of the data and the initialisation.")
flags.DEFINE_string("model_dir", None, "Run directory (default runs/attribute_<dataset>_<attention>).")
flags.DEFINE_string("cache_dir", "runs/attribute_data", "Where rendered splits are cached ('' for none).")
flags.DEFINE_enum("backgrounds", "photos", ["photos", "fields", "sun397"],
                  "MBG backgrounds: photos, the labelled offline stand-in (crops of the photographs shipped "
                  "with scikit-image); fields, smooth random colour fields; or SUN397 through TFDS (needs the "
                  "internet). See data/backgrounds.py.")
flags.DEFINE_string("data_dir", None, "TFDS data directory for --backgrounds sun397.")
flags.DEFINE_string("predict_dir", None, "Where --predict writes (default <model_dir>/predictions).")
flags.DEFINE_enum("strategy", "default", ["default", "mirrored", "multi_worker", "tpu"],
                  "tf.distribute strategy (see docs/distribute.md).")
flags.DEFINE_integer("cpu_replicas", None, "Split the CPU into this many logical devices (for mirrored on CPU).",
                     lower_bound=1)
flags.DEFINE_integer("num_predict", 16, "Test query rows drawn by --predict.", lower_bound=1)
flags.DEFINE_integer("mask_samples", 3, "--predict of an arnn_sample model: sampled masks drawn side by side for "
                     "images holding the query digit in several colours (0: none).", lower_bound=0)
flags.DEFINE_float("sigma_scale", 1.0, "Scale of sigma when drawing those samples (the paper scales it up).",
                   lower_bound=0)
FLAGS = flags.FLAGS
require_finite("minutes", "lr", "warmup_lr", "sigma_scale")
require_warmup_pair()
require_known("attention", "attention_rnn.config:ATTENTIONS", "attention")


def run():
    from trainkit import distribute
    if FLAGS.cpu_replicas:
        distribute.split_cpu(FLAGS.cpu_replicas)  # before TensorFlow runs anything
    import data
    from attention_rnn import training
    from attention_rnn.config import AttributeConfig
    from attention_rnn.export import export_saved_model
    from trainkit import RunError, check_output_dir, refuse_nonempty_dir

    if not (FLAGS.train or FLAGS.eval or FLAGS.predict or FLAGS.export or FLAGS.diagnose):
        raise RunError("nothing to do: pass --train, --eval, --predict, --diagnose and/or --export DIR")
    if FLAGS.export:
        refuse_nonempty_dir(FLAGS.export)
    if FLAGS.predict and FLAGS.predict_dir:
        check_output_dir(FLAGS.predict_dir, "--predict_dir")
    inverse = "_inverse" if FLAGS.task == "inverse" else ""
    model_dir = FLAGS.model_dir or os.path.join("runs", f"attribute_{FLAGS.dataset}{inverse}_{FLAGS.attention}")
    backgrounds = None
    if FLAGS.dataset == "mbg":
        backgrounds = data.backgrounds.load_backgrounds(FLAGS.backgrounds, FLAGS.data_dir)
    cache_dir = FLAGS.cache_dir or None
    mnist = data.load_mnist()
    if FLAGS.train:
        config = AttributeConfig(dataset=FLAGS.dataset, task=FLAGS.task, attention=FLAGS.attention, units=FLAGS.units,
                                 batch_size=FLAGS.batch, epochs=FLAGS.epoch, learning_rate=FLAGS.lr,
                                 warmup_epochs=FLAGS.warmup_epochs, warmup_learning_rate=FLAGS.warmup_lr,
                                 train_size=FLAGS.train_size, validation_size=FLAGS.validation_size,
                                 batch_norm=FLAGS.batch_norm, dropout=FLAGS.dropout,
                                 head_query=FLAGS.head_query, mask_norm=FLAGS.mask_norm, seed=FLAGS.seed)
        print(f"training the attribute network ({config.attention} attention) on {config.dataset} "
              f"({config.task} task) into {model_dir}")
        note = training.data_note(config, backgrounds)
        if note:
            print(note)
        history = training.train(config, model_dir, mnist=mnist, backgrounds=backgrounds, cache_dir=cache_dir,
                                 minutes=FLAGS.minutes, strategy=distribute.make_strategy(FLAGS.strategy))
        if history.nan_stopped or history.write_failed:
            return 1
    model = config = None
    if FLAGS.eval or FLAGS.predict or FLAGS.export or FLAGS.diagnose:
        model, config = training.load_trained(model_dir, FLAGS.load)
    if FLAGS.eval:
        results = training.evaluate(model, config, "test", size=FLAGS.test_size, mnist=mnist,
                                    backgrounds=backgrounds, cache_dir=cache_dir)
        print(training.format_results(results, f"test ({config.dataset}, {config.task} task, {config.attention}, "
                                               f"checkpoint {FLAGS.load})"))
    if FLAGS.predict:
        out_dir = FLAGS.predict_dir or os.path.join(model_dir, "predictions")
        training.write_predictions(model, config, out_dir, FLAGS.num_predict, mnist=mnist,
                                   backgrounds=backgrounds, cache_dir=cache_dir)
        print(f"wrote {FLAGS.num_predict} attention pictures and predictions.json to {out_dir}/")
        if config.attention == "arnn_sample" and FLAGS.mask_samples and config.task == "attribute":
            paths = training.write_sampled_masks(model, config, out_dir, min(FLAGS.num_predict, 8),
                                                 FLAGS.mask_samples, FLAGS.sigma_scale, mnist=mnist,
                                                 backgrounds=backgrounds)
            print(f"wrote {len(paths)} pictures of {FLAGS.mask_samples} sampled masks each "
                  f"(sigma x {FLAGS.sigma_scale:g}) to {out_dir}/multimodal_*.png")
    if FLAGS.diagnose:
        print(training.diagnose(model, config, FLAGS.diagnose_batches, FLAGS.load, mnist=mnist,
                                backgrounds=backgrounds, cache_dir=cache_dir))
    if FLAGS.export:
        export_saved_model(model, FLAGS.export, query_size=config.query_size)
        print(f"exported SavedModel to {FLAGS.export} (signature serving_default(images, queries))")
    return 0


def main(argv):
    from trainkit.cli import run_main
    run_main(run, argv)


if __name__ == "__main__":
    app.run(main)
