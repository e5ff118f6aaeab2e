"""RAM recipe ablations: one line per variant, all under the same training-time budget.

    python -m benchmarks.ram_recipe --task translate --minutes 5
    python -m benchmarks.ram_recipe --task clutter --minutes 5 --variants tanh,tanh+lstm

Each variant is the data set's defaults (``ram/config.py``) with the fields its atoms change
(``ram_runs.ATOMS``; ``today+detached+tanh+std22``: the pre-ablation recipe, then those). Prints, per variant: epochs, test error of the mean path and of 10 sampled
paths, and the mean distance in pixels from each glimpse to the target digit, with the
random-location control's distances as the last row. Rows are merged into
``docs/results/ram_recipe.json`` (a variant measured again replaces its row).
Runs are resumable: a killed benchmark re-run with the same command continues (finished
variants are measured again from their checkpoints, not retrained).
"""

from absl import app, flags, logging

from benchmarks import ram_runs

flags.DEFINE_enum("task", "translate", list(ram_runs.PAPER_ERROR), "Data set.")
flags.DEFINE_float("minutes", 5.0, "Training-time budget per variant (short: an ablation, not a reproduction).",
                   lower_bound=0.1)
flags.DEFINE_list("variants", ["today", "today+detached", "today+detached+std05", "today+detached+std22",
                               "today+tanh", "today+detached+tanh", "today+tanh+std22"],
                  f"Variants to run, in order: atoms joined by '+'; atoms: {', '.join(ram_runs.ATOMS)}.")
flags.DEFINE_integer("seed", 0, "Seed.")
flags.DEFINE_bool("table_only", False, "Train nothing: print the table of every row of --task and --minutes "
                  "in --results.")
flags.DEFINE_integer("steps_per_execution", 15, "Train steps per XLA call: 15, the value every variant of the "
                     "committed tables ran with, keeps new rows comparable (the CLI's default is faster).")
flags.DEFINE_string("model_dir", "runs/ram_recipe", "Parent directory of the runs.")
flags.DEFINE_string("results", "docs/results/ram_recipe.json", "Where the rows are written.")
FLAGS = flags.FLAGS


def changed(overrides):
    """The fields ``overrides`` sets differently from the pre-ablation recipe."""
    return {k: v for k, v in overrides.items() if ram_runs.TODAY.get(k, object()) != v}


def describe(overrides):
    return ", ".join(f"{k}={v}" for k, v in overrides.items()) or "the pre-ablation recipe"


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)
    variants = {name.replace("_", "+"): ram_runs.overrides_of(name) for name in FLAGS.variants}
    import data
    from ram.config import RAMConfig

    mnist = data.load_mnist()
    control = ram_runs.random_distances(RAMConfig.for_dataset(FLAGS.task, seed=FLAGS.seed), mnist)
    if FLAGS.table_only:
        rows = [r for r in ram_runs.read_json(FLAGS.results)
                if r["task"] == FLAGS.task and r["minutes_budget"] == FLAGS.minutes and r["seed"] == FLAGS.seed]
        print(format_table(rows, control) + averaging_note(rows))
        return
    rows = [r for r in ram_runs.read_json(FLAGS.results)
            if not (r["task"] == FLAGS.task and r["minutes_budget"] == FLAGS.minutes and r["seed"] == FLAGS.seed
                    and r["variant"].replace("_", "+") in variants)]
    fresh = []
    for name in variants:
        config = RAMConfig.for_dataset(FLAGS.task, seed=FLAGS.seed, minutes=FLAGS.minutes, **variants[name])
        run_dir = f"{FLAGS.model_dir}/{FLAGS.task}_{name.replace('+', '_')}_{FLAGS.minutes:g}min_seed{FLAGS.seed}"
        print(f"== {FLAGS.task} {name} ({describe(changed(variants[name]))}): {FLAGS.minutes:g} min into {run_dir}",
              flush=True)
        row = ram_runs.train_and_measure(config, run_dir, mnist, steps_per_execution=FLAGS.steps_per_execution)
        fresh.append(dict(task=FLAGS.task, variant=name, changes=describe(changed(variants[name])), seed=FLAGS.seed,
                          minutes_budget=FLAGS.minutes, **row))  # row carries the commit
        ram_runs.write_json(FLAGS.results, rows + fresh)
    table = format_table(fresh, control)
    print(f"\n{FLAGS.task}, {FLAGS.minutes:g} minutes of training per variant, seed {FLAGS.seed}\n\n{table}"
          + averaging_note(fresh))


def averaging_note(rows):
    """The averaged-against-raw table of the rows trained with weight averaging, after a blank line."""
    table = ram_runs.format_averaging_table(rows)
    return "\n\n" + table if table else ""


def format_table(rows, control):
    header = ("| variant | changes | epochs | minutes | test error, mean path % | test error, 10 paths % | "
              "pixels from glimpse to digit, steps 1..T |")
    lines = [f"| {r['variant']} | {r['changes']} | {r['epochs']} | {r['minutes']} | {r['test_error_mean']:.2f} "
             f"| {r['test_error_mc10']:.2f} | {' '.join(f'{d:.1f}' for d in r['distances'])} |" for r in rows]
    lines.append(f"| random locations | control, untrained | - | - | - | - | {' '.join(f'{d:.1f}' for d in control)} |")
    return ram_runs.markdown_table(header, lines)


if __name__ == "__main__":
    app.run(main)
