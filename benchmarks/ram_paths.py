"""Where the gap between RAM's mean path and its 10-path average comes from.

    python -m benchmarks.ram_paths --runs runs/ram_reproduce/clutter_lstm_paths4_loo_batch32_epochdecay_90min_seed0
    python -m benchmarks.ram_paths --runs RUN_A,RUN_B --counts 1,2,5,10 --repeats 3

For each trained run directory (of ``benchmarks.ram_reproduce``, ``benchmarks.ram_recipe`` or
``examples.mnist --train``), with its best checkpoint, on the test split: the error of the
deterministic mean path, of one sampled path, and of the average of k sampled paths, each
k's figure the mean (and spread) over disjoint groups of paths and ``--repeats`` draws (see
``ram.evaluation.path_count_errors``). If the mean path is as good as one sampled path, the gap
to 10 paths is what averaging several looks adds, and only a better single look (policy or
classifier) closes it; if it is worse, the policy's mean is a path the model never trained on.
Rows go to ``--results`` (default ``docs/results/ram_paths.json``), one per run, keyed by the
run's directory name (and ``--limit``) and merged with the rows already there.
"""

import os
import sys

from absl import app, flags, logging

from benchmarks import results as results_file
from benchmarks.ram_runs import format_path_rows

FLAGS = flags.FLAGS
flags.DEFINE_list("runs", None, "Run directories (comma-separated).")
flags.DEFINE_list("counts", ["1", "2", "5", "10"], "Path counts k; each must divide the largest.")
flags.DEFINE_integer("repeats", 3, "Independent draws of max(counts) paths per image.", lower_bound=1)
flags.DEFINE_integer("limit", None, "Use only this many test images (a quick look).", lower_bound=1)
flags.DEFINE_integer("batch", 250, "Test images per batch (each is tiled max(counts) times).", lower_bound=1)
flags.DEFINE_string("results", "docs/results/ram_paths.json", "Where the rows are written ('' for nowhere).")
flags.mark_flag_as_required("runs")


def _counts():
    from ram.evaluation import checked_path_counts

    try:
        return checked_path_counts(FLAGS.counts)
    except ValueError:  # not integers, or not dividing the largest
        raise app.UsageError(f"--counts must be positive integers that divide the largest, got {','.join(FLAGS.counts)}")


def measure(run_dir, counts, mnist):
    """The results row of one run directory."""
    import data
    from ram import training
    from ram.evaluation import path_count_errors

    model, config = training.load_trained(run_dir, "best", mc_samples=1)
    dataset = data.make_dataset(config.dataset, "test", FLAGS.batch, seed=config.seed, mnist=mnist, limit=FLAGS.limit)
    result = path_count_errors(model, dataset, counts, FLAGS.repeats)
    for key in ("errors", "errors_sd"):
        result[key] = [round(v, 3) for v in result[key]]
    for key in ("mean_path", "mean_wrong_paths_right", "mean_right_paths_wrong"):
        result[key] = round(result[key], 3)
    return dict(run=os.path.basename(os.path.normpath(run_dir)), task=config.dataset,
                glimpses=config.num_glimpses, repeats=FLAGS.repeats, limit=FLAGS.limit,
                commit=results_file.started_at_commit(run_dir), **result)


def main(_):
    logging.set_verbosity(logging.WARNING)
    import data

    counts = _counts()
    missing = [r for r in FLAGS.runs if not os.path.isfile(os.path.join(r, "best.json"))]
    if missing:
        print(f"error: no trained run (best.json) in {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        mnist = data.load_mnist()
    except data.DataError as e:  # a missing file or package: one line with the fix
        print(f"error: {e}", file=sys.stderr)
        return 2
    rows = []
    for run_dir in FLAGS.runs:
        rows.append(measure(run_dir, counts, mnist))
        print(format_path_rows(rows[-1:]), flush=True)
        if FLAGS.results:
            key = lambda r: (r.get("run"), r.get("limit"))  # noqa: E731  (a quick look never replaces a full row)
            kept = [r for r in results_file.read_json(FLAGS.results) if key(r) != key(rows[-1])]
            results_file.write_json(FLAGS.results, kept + rows[-1:])
    print("\n" + format_path_rows(rows))
    if FLAGS.results:
        print(f"rows written to {FLAGS.results}")


if __name__ == "__main__":
    app.run(main)
