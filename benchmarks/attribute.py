"""The attribute benchmark (AttentionRNN, Tables 1-2): accuracy overall and by scale bin, and
mask correctness, of each attention type on MREF / MDIST / MBG, with the same base CNN and data.

    python -m benchmarks.attribute                                   # the paper's protocol (slow on CPU)
    python -m benchmarks.attribute --datasets mdist --attentions san,nctx,ctx,arnn \\
        --train_size 5000 --epoch 3 --test_size 2000                # a short look
    python -m benchmarks.attribute --task inverse --datasets mref    # which digit has colour q?
    python -m benchmarks.attribute --task inverse --datasets mdist --attentions arnn \\
        --warmup_epochs 3 --warmup_lr 3e-4 --patience 10         # 3 epochs at 3e-4, then --lr
    python -m benchmarks.attribute --task inverse --datasets mdist --attentions arnn --units 32   # t = 32
    python -m benchmarks.attribute --task inverse --datasets mdist --attentions arnn --mask_norm  # masks / their mean
    python -m benchmarks.attribute --task inverse --datasets mdist --attentions ctx --mask_norm --seed 1  # a replicate

Protocol (Sec. 4.1, with PAN's query rows, see ``data/attributes.py``): 30,000 training,
10,000 validation and 10,000 test query rows; each model trains until its validation accuracy
has not improved for ``--patience`` epochs (but at least ``--min_epochs``, past the plateau
near chance every type starts on), at most ``--epoch``, and is tested with its best
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

import dataclasses
import os
import sys
import time

from absl import app, flags, logging

from benchmarks import results as results_file
from benchmarks.attribute_tables import PAPER, format_tables, merge_rows, variant_suffix
from examples.flag_checks import require_known

from attention_rnn.config import AttributeConfig  # noqa: E402
from trainkit.settings import config_from_flags, define_flags  # noqa: E402

flags.DEFINE_list("datasets", ["mref", "mdist", "mbg"], "Data sets.")
flags.DEFINE_list("attentions", ["none", "san", "nctx", "ctx", "arnn"], "Attention types (see examples.attribute).")
# The network and its training: the settings of examples.attribute, with the same defaults (Table
# 1's protocol); runs at other than the defaults get their own directory and rows (attribute_tables.VARIANTS).
define_flags(AttributeConfig, skip=("dataset", "attention"))
flags.DEFINE_integer("test_size", None, "Test query rows (default all 10,000).", lower_bound=1)
flags.DEFINE_enum("backgrounds", "photos", ["photos", "fields", "sun397"],
                  "MBG backgrounds (see data/backgrounds.py); runs on other than photos get their own directory.")
flags.DEFINE_string("data_dir", None, "TFDS data directory for --backgrounds sun397.")
flags.DEFINE_string("model_dir", "runs/bench_attribute", "Parent directory of the runs.")
flags.DEFINE_string("cache_dir", "runs/attribute_data", "Rendered-split cache.")
flags.DEFINE_string("results", "docs/results/attribute.json", "Where the rows are written ('' for nowhere).")
flags.DEFINE_bool("evaluate_only", False, "Skip training; evaluate the runs already in --model_dir.")
FLAGS = flags.FLAGS


require_known("datasets", "data.attributes:KINDS", "dataset")
require_known("attentions", "attention_rnn.config:ATTENTIONS", "attention")


def config_of(dataset, attention):
    """The config of one run: the flags given, over the defaults (NONE keeps the query at its head:
    it has no other way in)."""
    return config_from_flags(AttributeConfig, skip=("dataset", "attention"), dataset=dataset, attention=attention,
                             **({"head_query": True} if attention == "none" else {}))


def run_one(config, mnist, backgrounds):
    """Trains (or resumes) and tests one model; returns its results row."""
    from attention_rnn import training
    from trainkit import epochs_since_best, patience_spent

    dataset, attention = config.dataset, config.attention
    inverse = "_inverse" if config.task == "inverse" else ""
    source = FLAGS.backgrounds if dataset == "mbg" else None
    backgrounds = backgrounds if dataset == "mbg" else None
    background_suffix = f"_{source}" if source not in (None, "photos") else ""
    run_dir = os.path.join(FLAGS.model_dir,
                           f"{dataset}{inverse}_{attention}{variant_suffix(config)}{background_suffix}")
    started_at = results_file.started_at_commit(run_dir)
    trained, stale = epochs_since_best(run_dir)
    seconds = None
    if not FLAGS.evaluate_only and trained < config.epochs and not patience_spent(run_dir, config.patience,
                                                                                   config.min_epochs):
        print(f"\n== {dataset} / {attention} ({config.task} task)", flush=True)
        start = time.monotonic()
        training.train(config, run_dir, mnist=mnist, backgrounds=backgrounds, cache_dir=FLAGS.cache_dir, verbose=2)
        seconds = time.monotonic() - start
        trained, stale = epochs_since_best(run_dir)
    model, config = training.load_trained(run_dir, "best")
    result = training.evaluate(model, config, "test", size=FLAGS.test_size, mnist=mnist, backgrounds=backgrounds,
                               cache_dir=FLAGS.cache_dir)
    print(training.format_results(result, f"{dataset} / {attention} ({config.task})"), flush=True)
    paper_accuracy, paper_correctness = PAPER.get((config.task, dataset, attention), (None, None))
    return dict(dataset=dataset, task=config.task, attention=attention, backgrounds=source,
                batch_norm=config.batch_norm,
                head_query=config.head_query, dropout=config.dropout, learning_rate=config.learning_rate,
                warmup_epochs=config.warmup_epochs, warmup_learning_rate=config.warmup_learning_rate,
                units=config.units, mask_norm=config.mask_norm, seed=config.seed,
                train_queries=config.train_size or 30_000, epochs=trained, best_epoch=trained - stale,
                stopped_early=trained < config.epochs and patience_spent(run_dir, config.patience, config.min_epochs),
                accuracy=result["accuracy"],
                accuracy_by_scale={k: v["accuracy"] for k, v in result["by_scale"].items()},
                correctness=result["correctness"],
                correctness_by_scale={k: v["correctness"] for k, v in result["by_scale"].items()},
                correctness_box=result["correctness_box"],
                correctness_box_by_scale={k: v["correctness_box"] for k, v in result["by_scale"].items()},
                layer_correctness_box=result["layer_correctness_box"], box_share=result["box_share"],
                by_answer=result["by_answer"], by_query=result["by_query"], test_queries=result["count"],
                paper_accuracy=paper_accuracy, paper_correctness=paper_correctness,
                note=result["note"], train_seconds_this_call=seconds, minutes_cap=config.minutes or None,
                commit=started_at, config=dataclasses.asdict(config))


def main(_):
    logging.set_verbosity(logging.WARNING)
    import data
    from trainkit import ConfigError

    try:  # every run's config first: a bad combination of flags is one line before any training
        configs = [config_of(dataset, attention) for dataset in FLAGS.datasets for attention in FLAGS.attentions]
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        mnist = data.load_mnist()
        backgrounds = (data.backgrounds.load_backgrounds(FLAGS.backgrounds, FLAGS.data_dir)
                       if "mbg" in FLAGS.datasets else None)
    except data.DataError as e:  # a missing file or package: one line with the fix
        print(f"error: {e}", file=sys.stderr)
        return 2
    rows = []
    for config in configs:
        rows.append(run_one(config, mnist, backgrounds))
        if FLAGS.results:  # after every run: a benchmark killed later keeps the rows it finished
            results_file.write_json(FLAGS.results, merge_rows(results_file.read_json(FLAGS.results), rows[-1:]))
    print(format_tables(rows))
    if FLAGS.results:
        print(f"rows written to {FLAGS.results}")


if __name__ == "__main__":
    app.run(main)
