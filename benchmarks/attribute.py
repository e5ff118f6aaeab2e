"""The attribute benchmark (AttentionRNN, Tables 1-2): accuracy overall and by scale bin, and
mask correctness, of each attention type on MREF / MDIST / MBG, with the same base CNN and data.

    python -m benchmarks.attribute                                   # the paper's protocol (slow on CPU)
    python -m benchmarks.attribute --datasets mdist --attentions san,nctx,ctx,arnn \\
        --train_size 5000 --epochs 3 --test_size 2000               # a short look
    python -m benchmarks.attribute --task inverse --datasets mref    # which digit has colour q?
    python -m benchmarks.attribute --task inverse --datasets mdist --attentions arnn \\
        --warmup_epochs 3 --warmup_lr 3e-4 --patience 10         # 3 epochs at 3e-4, then --lr
    python -m benchmarks.attribute --task inverse --datasets mdist --attentions arnn --units 32   # t = 32
    python -m benchmarks.attribute --task inverse --datasets mdist --attentions arnn --mask_norm  # masks / their mean
    python -m benchmarks.attribute --task inverse --datasets mdist --attentions ctx --mask_norm --seed 1  # a replicate

Protocol (Sec. 4.1, with PAN's query rows, see ``data/attributes.py``): 30,000 training,
10,000 validation and 10,000 test query rows; each model trains until its validation accuracy
has not improved for ``--patience`` epochs (but at least ``--min_epochs``, past the plateau
near chance every type starts on), at most ``--epochs``, and is tested with its best
checkpoint. Paper, Table 1 (accuracy %, MREF / MDIST / MBG): SAN 83.42 / 80.06 / 58.07, -CTX
95.69 / 89.92 / 69.33 (the other rows did not survive in our copy of the paper); Table 2 (MBG
mask correctness, Liu et al.'s share of the mask in the target's region, which our
``correctness_box`` follows): SAN 0.15, -CTX 0.28, CTX 0.31, ARNN 0.42; inverse task on MBG^inv: ARNN
72.77, CTX 66.37, -CTX 40.15 (correctness 0.39 / 0.24 / 0.20). MBG offline uses the labelled
stand-in backgrounds.

MBG uses ``--backgrounds`` (default ``photos``, the labelled offline stand-in of
``data/backgrounds.py``; every MBG row carries its label).

Each run lives in ``--model_dir/<dataset>[_inverse]_<attention>[<variant>][_<backgrounds>]`` (the
variant names what differs from the defaults, e.g. ``_units32_masknorm_seed1``) and resumes when the
benchmark is rerun (over as many sittings as it takes); a run that has stopped is only
evaluated. Rows go to ``--results`` (default ``docs/results/attribute.json``) after each run, merged with the
rows already there; each names the commit its run's first sitting started from.
"""

import os
import sys
import time

from absl import app, flags, logging

from benchmarks import results as results_file
from benchmarks.attribute_tables import PAPER, format_tables, merge_rows, variant_suffix
from examples.flag_checks import require_finite, require_known, require_warmup_pair

flags.DEFINE_list("datasets", ["mref", "mdist", "mbg"], "Data sets.")
flags.DEFINE_list("attentions", ["none", "san", "nctx", "ctx", "arnn"], "Attention types (see examples.attribute).")
flags.DEFINE_enum("task", "attribute", ["attribute", "inverse"], "What colour is digit q, or which digit has colour q.")
flags.DEFINE_integer("train_size", None, "Training query rows (default all 30,000; about 7 per image).", lower_bound=1)
flags.DEFINE_integer("validation_size", None, "Validation query rows (default all 10,000).", lower_bound=1)
flags.DEFINE_integer("test_size", None, "Test query rows (default all 10,000).", lower_bound=1)
flags.DEFINE_integer("epochs", 10, "At most this many epochs per run.", lower_bound=1)
flags.DEFINE_integer("patience", 2, "Stop a run after this many epochs without a better validation accuracy.",
                     lower_bound=1)
flags.DEFINE_integer("min_epochs", 5, "Never stop a run for --patience before this many epochs: every attention "
                     "type first sits on a noisy plateau near chance (MBG: 3-5 epochs).", lower_bound=0)
flags.DEFINE_integer("batch", 32, "Batch size.", lower_bound=1)
flags.DEFINE_float("lr", 1e-3, "Adam learning rate; runs at other than 1e-3 get their own directory and rows "
                   "(e.g. mdist_inverse_arnn_lr0.0003).", lower_bound=0)
flags.DEFINE_integer("warmup_epochs", 0, "Train the first this many epochs at --warmup_lr, then at --lr; runs "
                     "with a warm-up get their own directory and rows.", lower_bound=0)
flags.DEFINE_float("warmup_lr", None, "Adam learning rate of the --warmup_epochs warm-up epochs.", lower_bound=0)
flags.DEFINE_integer("units", None, "Units of each attention layer (AttentionRNN's latent size t); default 16 for "
                     "the AttentionRNN types, 32 for the others; runs at other than their type's default get "
                     "their own directory and rows.", lower_bound=1, upper_bound=1024)
flags.DEFINE_bool("batch_norm", True, "PAN's batch normalisation (see examples.attribute).")
flags.DEFINE_bool("head_query", True, "The query also feeds the head; --nohead_query is PAN's head "
                  "(see examples.attribute; NONE always keeps it).")
flags.DEFINE_bool("mask_norm", False, "Masks divided by their mean over locations (see examples.attribute); "
                  "such runs get their own directory and rows.")
flags.DEFINE_float("dropout", 0.0, "Dropout before the head.", lower_bound=0, upper_bound=0.99)
flags.DEFINE_enum("backgrounds", "photos", ["photos", "fields", "sun397"],
                  "MBG backgrounds (see data/backgrounds.py); runs on other than photos get their own directory.")
flags.DEFINE_string("data_dir", None, "TFDS data directory for --backgrounds sun397.")
flags.DEFINE_float("minutes", None, "Optional training-time cap per run (then say so beside its figures).")
flags.DEFINE_string("model_dir", "runs/bench_attribute", "Parent directory of the runs.")
flags.DEFINE_string("cache_dir", "runs/attribute_data", "Rendered-split cache.")
flags.DEFINE_string("results", "docs/results/attribute.json", "Where the rows are written ('' for nowhere).")
flags.DEFINE_integer("seed", 0, "Seed of the data draw (every split) and of the initialisation; runs at other "
                     "than 0 get their own directory and rows, so a second seed is a replicate.")
flags.DEFINE_bool("evaluate_only", False, "Skip training; evaluate the runs already in --model_dir.")
FLAGS = flags.FLAGS


require_finite("lr", "warmup_lr", "minutes")
require_warmup_pair()
flags.register_validator("lr", lambda lr: lr > 0, message="--lr must be > 0")
require_known("datasets", "data.attributes:KINDS", "dataset")
require_known("attentions", "attention_rnn.config:ATTENTIONS", "attention")


def run_one(dataset, attention, mnist, backgrounds):
    """Trains (or resumes) and tests one model; returns its results row."""
    from attention_rnn import training
    from attention_rnn.config import AttributeConfig
    from trainkit import epochs_since_best, patience_spent

    config = AttributeConfig(dataset=dataset, task=FLAGS.task, attention=attention, batch_size=FLAGS.batch,
                             epochs=FLAGS.epochs, learning_rate=FLAGS.lr, warmup_epochs=FLAGS.warmup_epochs,
                             warmup_learning_rate=FLAGS.warmup_lr, units=FLAGS.units, train_size=FLAGS.train_size,
                             validation_size=FLAGS.validation_size, batch_norm=FLAGS.batch_norm,
                             dropout=FLAGS.dropout, head_query=FLAGS.head_query or attention == "none",
                             mask_norm=FLAGS.mask_norm,
                             seed=FLAGS.seed)
    inverse = "_inverse" if FLAGS.task == "inverse" else ""
    source = FLAGS.backgrounds if dataset == "mbg" else None
    backgrounds = backgrounds if dataset == "mbg" else None
    background_suffix = f"_{source}" if source not in (None, "photos") else ""
    run_dir = os.path.join(FLAGS.model_dir,
                           f"{dataset}{inverse}_{attention}{variant_suffix(config)}{background_suffix}")
    started_at = results_file.started_at_commit(run_dir)
    trained, stale = epochs_since_best(run_dir)
    seconds = None
    if not FLAGS.evaluate_only and trained < FLAGS.epochs and not patience_spent(run_dir, FLAGS.patience,
                                                                                  FLAGS.min_epochs):
        print(f"\n== {dataset} / {attention} ({FLAGS.task} task)", flush=True)
        start = time.monotonic()
        training.train(config, run_dir, mnist=mnist, backgrounds=backgrounds, cache_dir=FLAGS.cache_dir, verbose=2,
                       minutes=FLAGS.minutes, patience=FLAGS.patience,
                       min_epochs=FLAGS.min_epochs)
        seconds = time.monotonic() - start
        trained, stale = epochs_since_best(run_dir)
    model, config = training.load_trained(run_dir, "best")
    result = training.evaluate(model, config, "test", size=FLAGS.test_size, mnist=mnist, backgrounds=backgrounds,
                               cache_dir=FLAGS.cache_dir)
    print(training.format_results(result, f"{dataset} / {attention} ({FLAGS.task})"), flush=True)
    paper_accuracy, paper_correctness = PAPER.get((FLAGS.task, dataset, attention), (None, None))
    return dict(dataset=dataset, task=FLAGS.task, attention=attention, backgrounds=source,
                batch_norm=config.batch_norm,
                head_query=config.head_query, dropout=config.dropout, learning_rate=config.learning_rate,
                warmup_epochs=config.warmup_epochs, warmup_learning_rate=config.warmup_learning_rate,
                units=config.units, mask_norm=config.mask_norm, seed=config.seed,
                train_queries=FLAGS.train_size or 30_000, epochs=trained, best_epoch=trained - stale,
                stopped_early=trained < FLAGS.epochs and patience_spent(run_dir, FLAGS.patience, FLAGS.min_epochs),
                accuracy=result["accuracy"],
                accuracy_by_scale={k: v["accuracy"] for k, v in result["by_scale"].items()},
                correctness=result["correctness"],
                correctness_by_scale={k: v["correctness"] for k, v in result["by_scale"].items()},
                correctness_box=result["correctness_box"],
                correctness_box_by_scale={k: v["correctness_box"] for k, v in result["by_scale"].items()},
                layer_correctness_box=result["layer_correctness_box"], box_share=result["box_share"],
                by_answer=result["by_answer"], by_query=result["by_query"], test_queries=result["count"],
                paper_accuracy=paper_accuracy, paper_correctness=paper_correctness,
                note=result["note"], train_seconds_this_call=seconds, minutes_cap=FLAGS.minutes,
                commit=started_at)


def main(_):
    logging.set_verbosity(logging.WARNING)
    import data

    try:
        mnist = data.load_mnist()
        backgrounds = (data.backgrounds.load_backgrounds(FLAGS.backgrounds, FLAGS.data_dir)
                       if "mbg" in FLAGS.datasets else None)
    except data.DataError as e:  # a missing file or package: one line with the fix
        print(f"error: {e}", file=sys.stderr)
        return 2
    rows = []
    for dataset in FLAGS.datasets:
        for attention in FLAGS.attentions:
            rows.append(run_one(dataset, attention, mnist, backgrounds))
            if FLAGS.results:  # after every run: a benchmark killed later keeps the rows it finished
                results_file.write_json(FLAGS.results, merge_rows(results_file.read_json(FLAGS.results), rows[-1:]))
    print(format_tables(rows))
    if FLAGS.results:
        print(f"rows written to {FLAGS.results}")


if __name__ == "__main__":
    app.run(main)
