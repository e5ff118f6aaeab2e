r"""Reproduces RAM's four MNIST results (Mnih et al. 2014) under a training-time budget.

    python -m benchmarks.ram_reproduce                       # all four tasks, the defaults' 90 minutes each
    python -m benchmarks.ram_reproduce --tasks translate --minutes 60
    python -m benchmarks.ram_reproduce --tasks translate --variant probreward

Each task trains exactly what ``python -m examples.mnist --train --dataset TASK`` trains with no
other flag (``ram/config.py``: center 28x28 and translate 60x60 with 6 glimpses, clutter 60x60
and clutter100 100x100 with 8) for ``--minutes`` of training time (default: the config's), keeps the checkpoint with the best validation accuracy, and
prints one table: task, glimpses, epochs, minutes, test error of the deterministic **mean
path** and of ``--mc_samples`` sampled paths, with the paper's figure and our target beside
them; then, per task, the mean distance in pixels from each glimpse to the target digit for
the learned policy and for random locations. Rows go to ``docs/results/ram_reproduce.json``.

``--variant`` overrides the defaults with atoms of ``benchmarks.ram_runs`` joined by ``+`` (e.g.
``probreward``: the probability reward; ``today+lstm``: the pre-recipe settings with an LSTM
core) and trains into its own run directory; its rows carry ``variant`` and sit beside the
defaults' rows (``variant`` absent), and the table gains a variant column. Every row holds
``config``, the full resolved config it trained, and ``overrides``, the fields where that
differs from the data set's defaults. ``--seed`` other than 0 trains
its own run (``..._seed<N>``) and row: rows are keyed by task, recipe and seed.

Resumable: the training time is summed over sittings (``train_time.json`` in each run), so a
killed benchmark re-run with the same command continues where it stopped, and a finished task
is only measured again. A longer ``--minutes`` continues the same task's (and variant's and
seed's) longest shorter run, from a copy of it (checkpoints, best epoch, training time): ``--minutes
90`` after a 60-minute run trains 30 more minutes, as a killed 90-minute run would resume, and
its row replaces the 60-minute one's (the shorter run's directory stays).

``--continue_from RECIPE`` (``defaults`` or a variant) makes a second phase: the run starts as a
copy of RECIPE's longest run shorter than ``--minutes`` (same task and seed) and trains under
``--variant`` for the rest of the budget, e.g. the classifier's mean-path term for the last
10 minutes of a 90-minute run::

    python -m benchmarks.ram_reproduce --tasks clutter100 --variant lstm+paths4+loo+batch32+meanpath \
        --continue_from lstm+paths4+loo+batch32 --minutes 100

Its row carries ``continued_from`` (and ``continued_at_commit``, the commit the second phase
started from) and sits beside the rows of both recipes trained from the start. Its budget and
epochs count both phases; the best checkpoint is the best of both.

Where a recipe has rows under two or more seeds (same task and budget), a second table gives
each seed's mean-path error, their mean ± standard deviation, and how many seeds meet the
target. ``--table_only`` trains nothing and prints both tables for every row of ``--tasks`` (and
of ``--variant``, if given) in ``--results``::

    python -m benchmarks.ram_reproduce --table_only --tasks translate
"""

import os

from absl import app, flags, logging

from benchmarks import ram_runs

flags.DEFINE_list("tasks", list(ram_runs.PAPER_ERROR), "Tasks to run, in order.")
flags.DEFINE_float("minutes", None, "Training-time budget of every task (default: each data set's own in "
                   "ram/config.py, the budget `examples.mnist --train` trains for).", lower_bound=0.1)
flags.DEFINE_integer("mc_samples", 10, "Sampled paths averaged for the Monte Carlo test error.", lower_bound=2)
flags.DEFINE_string("variant", None, "Overrides of the data set's defaults of examples.mnist, as atoms of "
                    "benchmarks.ram_runs joined by '+' (e.g. probreward, or today+lstm); default: none, the "
                    "defaults themselves.")
flags.DEFINE_string("continue_from", None, "Start from a copy of this recipe's ('defaults' or a variant) longest "
                    "run shorter than --minutes and train under --variant for the rest (a second phase).")
flags.DEFINE_integer("seed", 0, "Seed.")
flags.DEFINE_bool("table_only", False, "Train nothing: print the tables of every row of --tasks (and of --variant, "
                  "if given) in --results, with the seed summary.")
flags.DEFINE_string("model_dir", "runs/ram_reproduce", "Parent directory of the runs.")
flags.DEFINE_string("results", "docs/results/ram_reproduce.json", "Where the rows are written.")
FLAGS = flags.FLAGS


def plan(task, overrides, variant, before):
    """``(task, config, run stem, stem of the run to continue or None)``; ``absl.app.UsageError``
    when ``--continue_from`` names a recipe whose checkpoints do not fit, or no run of it."""
    from ram.config import RAMConfig

    config = RAMConfig.for_dataset(task, seed=FLAGS.seed, minutes=FLAGS.minutes, **overrides)
    stem = ram_runs.run_stem(task, variant)
    if before is None:
        return task, config, stem, None
    stem += "_after_" + before.replace("+", "_")
    earlier = RAMConfig.for_dataset(task, **({} if before == "defaults" else ram_runs.overrides_of(before)))
    clash = earlier.architecture_clash(config)
    if clash:
        raise app.UsageError(f"--continue_from {before}: its {task} checkpoints do not fit --variant {variant} "
                             f"({'; '.join(clash)})")
    source_stem = ram_runs.run_stem(task, None if before == "defaults" else before)
    run_dir = os.path.join(FLAGS.model_dir, ram_runs.run_dir_name(stem, config.minutes, FLAGS.seed))
    if not os.path.exists(run_dir) and ram_runs.run_to_copy(FLAGS.model_dir, stem, FLAGS.seed, config.minutes,
                                                            source_stem) is None:
        raise app.UsageError(f"--continue_from {before}: no {task} run of that recipe shorter than "
                             f"{config.minutes:g} minutes in {FLAGS.model_dir} (seed {FLAGS.seed}); train it first")
    return task, config, stem, source_stem


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)
    unknown = [t for t in FLAGS.tasks if t not in ram_runs.PAPER_ERROR]
    if unknown:
        raise app.UsageError(f"unknown tasks {unknown}; known: {', '.join(ram_runs.PAPER_ERROR)}")
    import data

    overrides = ram_runs.overrides_of(FLAGS.variant) if FLAGS.variant else {}  # UsageError if unknown
    variant = FLAGS.variant.replace("_", "+") if FLAGS.variant else None
    before = ram_runs.continued_recipe(FLAGS.continue_from, variant)  # UsageError if unknown or the same
    if FLAGS.table_only:
        print_tables([r for r in ram_runs.read_json(FLAGS.results) if r["task"] in FLAGS.tasks
                      and (variant is None or r.get("variant") == variant)])
        return
    plans = [plan(task, overrides, variant, before) for task in FLAGS.tasks]  # every UsageError before training
    mnist = data.load_mnist()
    rows = {ram_runs.row_key(r): r for r in ram_runs.read_json(FLAGS.results)}
    measured = []
    for task, config, stem, source_stem in plans:
        run_dir, source = ram_runs.start_from_shorter_run(FLAGS.model_dir, stem, FLAGS.seed, config.minutes,
                                                          source_stem=source_stem)
        print(f"== {task}{' ' + variant if variant else ''}: {config.num_glimpses} glimpses, "
              f"{config.minutes:g} minutes of training into {run_dir}"
              f"{f', continuing {source}' if source else ''}", flush=True)
        # The second phase's own commit (the row's ``commit`` is the first phase's).
        continued_at = ram_runs.started_at_commit(run_dir, "continued.json") if before is not None else None
        row = ram_runs.train_and_measure(config, run_dir, mnist, mc_samples=FLAGS.mc_samples)
        fresh = dict(task=task, glimpses=config.num_glimpses, minutes=row["minutes"], epochs=row["epochs"],
                     test_error_mean=row["test_error_mean"], test_error_mc10=row["test_error_mc10"],
                     commit=row["commit"], minutes_budget=config.minutes, seed=FLAGS.seed,
                     best_epoch=row["best_epoch"], val_error=row["val_error"],
                     paper=ram_runs.PAPER_ERROR[task], target=ram_runs.TARGET_ERROR[task],
                     distances_learned=row["distances"],
                     distances_random=ram_runs.random_distances(config, mnist),
                     config=row["config"], overrides=ram_runs.overrides_of_defaults(config))
        fresh.update({k: row[k] for k in ram_runs.RAW_KEYS if k in row})  # runs with weight averaging
        if variant:
            fresh["variant"] = variant
        if before is not None:
            fresh.update(continued_from=before, continued_at_commit=continued_at)
        rows[ram_runs.row_key(fresh)] = fresh
        measured.append(fresh)
        ram_runs.write_json(FLAGS.results, sorted(rows.values(), key=ram_runs.row_order))
    # The seed summary of each measured recipe counts its other seeds' rows too.
    recipes = {ram_runs.recipe_key(r) for r in measured}
    print_tables(measured, [r for r in rows.values() if ram_runs.recipe_key(r) in recipes])


def print_tables(rows, seed_rows=None):
    """The table of ``rows`` (none: says so), then the seed summary of ``seed_rows`` (default
    ``rows``) where a recipe has several seeds."""
    if not rows:
        print(f"no rows of {', '.join(FLAGS.tasks)}{f' under {FLAGS.variant}' if FLAGS.variant else ''} "
              f"in {FLAGS.results}")
        return
    print("\n" + ram_runs.format_reproduce_table(sorted(rows, key=ram_runs.row_order), FLAGS.mc_samples))
    for table in (ram_runs.format_seed_summary(rows if seed_rows is None else seed_rows, FLAGS.mc_samples),
                  ram_runs.format_averaging_table(sorted(rows, key=ram_runs.row_order), FLAGS.mc_samples)):
        if table:
            print("\n" + table)


if __name__ == "__main__":
    app.run(main)
