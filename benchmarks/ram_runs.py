"""What the RAM benchmarks share: train a config under a wall-time budget (resumably), then
measure it the same way every time."""

import json
import os
import re
import shutil
import statistics
import time

from absl import app

from benchmarks.results import commit, markdown_table, read_json, started_at_commit, write_json  # noqa: F401  (used as ram_runs.*)
from ram.config import PAPER_TEST_ERROR as PAPER_ERROR  # percent, Mnih et al. 2014

# A run with weight averaging also reports its best checkpoint's raw weights (same epoch).
RAW_KEYS = ("test_error_mean_raw", "test_error_mc10_raw")
TARGET_ERROR = {"center": 1.3, "translate": 1.3, "clutter": 4.0, "clutter100": 8.0}

# A variant is atoms joined by "+", e.g. "detached+tanh+std22", applied in turn to the data set's
# defaults (ram/config.py); each atom changes a few RAMConfig fields, later atoms win. "today" is
# the recipe before the ablations (an RNN core, one path per image at batch 128 with the learned
# baseline, the 500-step decay): rows trained before the defaults became the reproducing recipe
# name it first ("today+paths4+loo+batch32"), so that every variant string still resolves to
# what it trained.
TODAY = dict(detach_policy=False, reinforce_weight=0.01, location_activation="clip", std_schedule="fixed",
             learning_rate=1e-3, decay_rate=0.97, decay_steps=500, core="rnn", batch_size=128,
             location_zero_init=False, train_paths=1, path_baseline=False)
ATOMS = {
    "today": TODAY,
    "shared": dict(detach_policy=False),
    "detached": dict(detach_policy=True),
    "tanh": dict(location_activation="tanh"),
    "std05": dict(std=0.05),
    "std22": dict(std=0.22),
    "anneal": dict(std=0.22, std_schedule="anneal", std_final=0.05, std_anneal_steps=5000),
    "learned": dict(std_schedule="learned"),
    "lr3e-3": dict(learning_rate=3e-3),
    "nodecay": dict(decay_rate=1.0),
    # x0.97 once per epoch at batch 32 (50,000 / 32 steps), as tfRAM decays once per epoch;
    # every 500 steps (today's) floors a batch-32 run's rate at lr/10 after 24 epochs.
    "epochdecay": dict(decay_steps=1562),
    "lstm": dict(core="lstm"),
    "rnn": dict(core="rnn"),
    "batch64": dict(batch_size=64),
    "zeroinit": dict(location_zero_init=True),
    "4glimpses": dict(num_glimpses=4),
    "batch32": dict(batch_size=32),
    "paths4": dict(train_paths=4),
    "paths10": dict(train_paths=10),
    "loo": dict(path_baseline=True),
    "meanpath": dict(mean_path_weight=1.0),  # the classifier also trains on the mean path
    # Polyak averaging: validation and test use a moving average of the weights over about
    # 1 / (1 - 0.9998) = 5,000 steps (3 epochs at batch 32); training itself is unchanged.
    "ema": dict(ema_momentum=0.9998),
    # the same over about 1,000 steps, for make train's 5 minutes (about 17,000 steps at batch 128)
    "ema999": dict(ema_momentum=0.999),
    # REINFORCE rewards a path with the probability of the true class instead of 0/1, so that
    # paths of an image that all answer right still differ in reward
    "probreward": dict(reward="probability"),
    "8glimpses": dict(num_glimpses=8),
    "rw01": dict(reinforce_weight=0.1),  # more of the REINFORCE gradient reaches the core
    "rw1": dict(reinforce_weight=1.0),  # the paper's hybrid loss, unweighted
}


def overrides_of(variant):
    """RAMConfig overrides of ``variant``: each atom's fields in turn, over the data set's defaults.

    Raises ``absl.app.UsageError`` (a clean CLI message) for an unknown atom.
    """
    values = {}
    for atom in variant.replace("_", "+").split("+"):
        if atom not in ATOMS:
            raise app.UsageError(f"unknown atom {atom!r} in variant {variant!r}; known: {', '.join(ATOMS)}")
        values.update(ATOMS[atom])
    return values


def run_dir_name(stem, minutes, seed):
    """``{stem}_{minutes}min_seed{seed}``: one run of a task (and recipe) per budget and seed."""
    return f"{stem}_{minutes:g}min_seed{seed}"


def shorter_run(parent, stem, seed, minutes):
    """The run directory under ``parent`` of the same task and recipe (``stem``) and seed whose
    budget is the largest one under ``minutes``, or None."""
    pattern = re.compile(rf"^{re.escape(stem)}_(\d+(?:\.\d+)?)min_seed{seed}$")
    found = []
    for name in os.listdir(parent) if os.path.isdir(parent) else []:
        match = pattern.match(name)
        if match and float(match.group(1)) < minutes and os.path.isdir(os.path.join(parent, name)):
            found.append((float(match.group(1)), name))
    return os.path.join(parent, max(found)[1]) if found else None


def run_to_copy(parent, stem, seed, minutes, source_stem=None):
    """The run a new ``minutes`` run of ``stem`` starts as a copy of: ``stem``'s longest shorter
    run, else (``source_stem`` given) that other recipe's; None when there is neither."""
    source = shorter_run(parent, stem, seed, minutes)
    if source is None and source_stem:
        source = shorter_run(parent, source_stem, seed, minutes)
    return source


def start_from_shorter_run(parent, stem, seed, minutes, source_stem=None):
    """The run directory for ``minutes``; when it does not exist yet and a shorter budget's run
    does, it starts as a copy of that one (training time, checkpoints, best epoch), so that a
    longer budget continues the shorter run instead of training its first hour again. The
    shorter run stays as it was. ``source_stem``: when ``stem`` has no shorter run, copy the
    longest shorter run of this other recipe instead (a second phase that continues it).
    Returns ``(run_dir, copied_from or None)``."""
    run_dir = os.path.join(parent, run_dir_name(stem, minutes, seed))
    source = None if os.path.exists(run_dir) else run_to_copy(parent, stem, seed, minutes, source_stem)
    if source:
        partial = run_dir + ".partial"  # a copy cut off halfway is never taken for a run
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(source, partial)
        os.replace(partial, run_dir)
    return run_dir, source


def train_and_measure(config, run_dir, mnist, mc_samples=10, limit=None, verbose=2, steps_per_execution=None):
    """Trains ``config`` into ``run_dir`` for its ``minutes`` of training time in all (a re-run
    continues a killed one), then measures its best checkpoint.

    Returns a dict: ``epochs``, ``minutes`` (training time over every sitting), ``val_error``,
    ``test_error_mean`` (mean path), ``test_error_mc`` (``mc_samples`` sampled paths),
    ``distances`` (pixels from each glimpse to the digit, mean path), in percent and pixels;
    ``commit``, the commit the run's first sitting started from (:func:`started_at_commit`);
    ``config``, the full resolved config it trained with.
    A run with weight averaging (``ema_momentum > 0``) is measured on its averaged weights, and
    its row also gives the same checkpoint's raw weights' errors (:data:`RAW_KEYS`): a paired
    measure of what the averaging adds.
    """
    from ram import training
    from ram.evaluation import glimpse_distances
    from trainkit import training_time

    started = time.monotonic()
    first_commit = started_at_commit(run_dir)
    history = training.train(config, run_dir, mnist=mnist, verbose=verbose, limit=limit,
                             steps_per_execution=steps_per_execution)
    if getattr(history, "nan_stopped", False):
        print(f"{run_dir}: stopped on a NaN loss; measuring its last good checkpoint", flush=True)
    seconds, epochs, _ = training_time(run_dir)
    with open(os.path.join(run_dir, "best.json")) as f:
        best = json.load(f)
    model, config = training.load_trained(run_dir, "best", mc_samples=1)
    error = training.evaluate(model, config, "test", mnist=mnist, limit=limit)["error"]
    distances = glimpse_distances(model, config, "test", mnist=mnist, limit=limit)
    mc_model, mc_config = training.load_trained(run_dir, "best", mc_samples=mc_samples)
    mc_error = training.evaluate(mc_model, mc_config, "test", mnist=mnist, limit=limit)["error"]
    row = dict(epochs=epochs, best_epoch=best["epoch"], minutes=round(seconds / 60.0, 1),
               val_error=round(100 * (1 - best["val_accuracy"]), 2), test_error_mean=round(error, 2),
               test_error_mc10=round(mc_error, 2), distances=[round(d, 2) for d in distances],
               commit=first_commit, config=resolved_config(config))
    if config.ema_momentum > 0:
        for key, samples in zip(RAW_KEYS, (1, mc_samples)):
            raw, raw_config = training.load_trained(run_dir, "best", mc_samples=samples, averaged=False)
            row[key] = round(training.evaluate(raw, raw_config, "test", mnist=mnist, limit=limit)["error"], 2)
    print(f"{run_dir}: {row} (this sitting {(time.monotonic() - started) / 60:.1f} min)", flush=True)
    return row


def resolved_config(config):
    """The row's record of a run's config: every field, with ``mc_samples`` the training's (1)."""
    import dataclasses

    return dataclasses.asdict(dataclasses.replace(config, mc_samples=1))


def overrides_of_defaults(config):
    """``{field: value}`` where ``config`` differs from its data set's defaults (ram/config.py)."""
    from ram.config import RAMConfig
    from trainkit.settings import overrides

    return overrides(config, RAMConfig.for_dataset(config.dataset))


def random_distances(config, mnist, limit=None):
    """Glimpse-to-digit distances of the random-location control (no training needed: its
    locations do not depend on the weights)."""
    import dataclasses

    from ram.evaluation import glimpse_distances
    from ram.training import build_model

    config = dataclasses.replace(config, random_locations=True)
    model = build_model(config)
    return [round(d, 2) for d in glimpse_distances(model, config, "test", mnist=mnist, limit=limit)]


def run_stem(task, variant=None):
    """The run directory's stem of ``task`` under ``variant`` (None: the data set's defaults)."""
    return f"{task}_{variant.replace('+', '_')}" if variant else task


def continued_recipe(continue_from, variant):
    """The recipe a second phase under ``variant`` continues: ``"defaults"``, a variant with its
    atoms joined by ``+``, or None without ``continue_from``. ``absl.app.UsageError`` for an
    unknown atom or for ``variant`` itself."""
    if continue_from is None:
        return None
    before = "defaults" if continue_from == "defaults" else continue_from.replace("_", "+")
    if before != "defaults":
        overrides_of(before)  # UsageError if unknown
    if before == (variant or "defaults"):
        raise app.UsageError(f"--continue_from {continue_from} is --variant itself: a longer --minutes already "
                             "continues a run of the same recipe")
    return before


def row_seed(row):
    """The row's seed: rows written before seeds were recorded are seed 0's."""
    return row.get("seed", 0)


# Config fields that do not make two rows different recipes: the seed (rows of several seeds are
# one recipe's), the epoch cap and budget (the budget is its own column) and the evaluation's paths.
NOT_RECIPE = ("seed", "epochs", "minutes", "mc_samples")


def recipe_key(row):
    """The row's task and recipe: its resolved ``config`` (but :data:`NOT_RECIPE`) where the row
    holds one, so that a variant and the defaults that equal it are one recipe; else the variant
    name (none: the defaults); and the recipe it continued (``continued_from``)."""
    if "config" in row:
        recipe = json.dumps({k: v for k, v in row["config"].items() if k not in NOT_RECIPE}, sort_keys=True)
        return row["task"], recipe, row.get("continued_from")
    return row["task"], row.get("variant"), row.get("continued_from")


def row_key(row):
    """A row is one task under one recipe (:func:`recipe_key`) and seed, so a second seed's row
    sits beside the first's."""
    return recipe_key(row) + (row_seed(row),)


def is_defaults(row):
    """Whether the row trained its data set's current defaults (ram/config.py) from the start,
    whatever its variant was called when it ran."""
    from ram.config import RAMConfig

    if row.get("continued_from") or "config" not in row:
        return row.get("variant") is None and not row.get("continued_from")
    defaults = dict(task=row["task"], config=resolved_config(RAMConfig.for_dataset(row["task"])))
    return recipe_key(row) == recipe_key(defaults)


def recipe_label(row):
    """The recipe's name in a table: ``defaults`` or the variant (``defaults = <variant>`` for a
    variant that equals today's defaults), and the recipe it continued."""
    after = f", after {row['continued_from']}" if row.get("continued_from") else ""
    variant = row.get("variant")
    if variant and is_defaults(row):
        return f"defaults = {variant}"
    return f"{variant or 'defaults'}{after}"


def row_order(row):
    """Paper order of the tasks, the defaults' row before its variants, seeds in order."""
    return (list(PAPER_ERROR).index(row["task"]), row.get("variant") or "", row.get("continued_from") or "",
            row_seed(row))


def format_reproduce_table(rows, mc_samples=10):
    """benchmarks.ram_reproduce's markdown tables of ``rows``: errors against paper and target,
    then glimpse distances."""
    with_variant = any(r.get("variant") or row_seed(r) for r in rows)

    def task_cell(r):
        if not with_variant:
            return r["task"]
        seed = f", seed {row_seed(r)}" if row_seed(r) else ""
        return f"{r['task']} | {recipe_label(r)}{seed}"

    head = "| task | variant" if with_variant else "| task"
    errors = (f"{head} | glimpses | epochs | minutes | test error, mean path % | test error, {mc_samples} paths % "
              "| paper % | target % | met |")
    error_lines = []
    for r in rows:
        met = "yes" if r["test_error_mean"] <= r["target"] else "no"
        error_lines.append(f"| {task_cell(r)} | {r['glimpses']} | {r['epochs']} | {r['minutes']} "
                           f"| {r['test_error_mean']:.2f} | {r['test_error_mc10']:.2f} | {r['paper']:g} "
                           f"| {r['target']:g} | {met} |")
    distances = f"{head} | policy | pixels from glimpse to digit, steps 1..T |"
    distance_lines = [f"| {task_cell(r)} | {policy} | {' '.join(f'{d:.1f}' for d in r['distances_' + policy])} |"
                      for r in rows for policy in ("learned", "random")]
    return markdown_table(errors, error_lines) + "\n\n" + markdown_table(distances, distance_lines)


def seed_groups(rows):
    """The rows of one task and recipe (variant, second phase, budget) trained under two or more
    seeds: a list of groups, each a list of rows in seed order, groups in row order."""
    groups = {}
    for r in sorted(rows, key=row_order):
        groups.setdefault(recipe_key(r) + (r.get("minutes_budget"),), []).append(r)
    return [group for group in groups.values() if len(group) > 1]


def format_seed_summary(rows, mc_samples=10):
    """A markdown table, one line per recipe trained under several seeds: each seed's mean-path
    error, their mean ± sample standard deviation (and the ``mc_samples``-path one's), and whether
    the mean and each seed meet the target. "" when no recipe has two seeds."""
    groups = seed_groups(rows)
    if not groups:
        return ""
    header = (f"| task | variant | minutes | seeds | test error, mean path %, by seed | mean ± sd | "
              f"{mc_samples} paths %, mean ± sd | target % | mean meets it | seeds meeting it |")
    lines = []
    for group in groups:
        first = group[0]
        errors = [r["test_error_mean"] for r in group]
        sampled = [r["test_error_mc10"] for r in group]
        mean = statistics.mean(errors)
        met = sum(e <= first["target"] for e in errors)
        lines.append(f"| {first['task']} | {recipe_label(first)} | {first.get('minutes_budget', first['minutes']):g} "
                     f"| {', '.join(str(row_seed(r)) for r in group)} | {' / '.join(f'{e:.2f}' for e in errors)} "
                     f"| {mean:.2f} ± {statistics.stdev(errors):.2f} "
                     f"| {statistics.mean(sampled):.2f} ± {statistics.stdev(sampled):.2f} | {first['target']:g} "
                     f"| {'yes' if mean <= first['target'] else 'no'} | {met} of {len(group)} |")
    return markdown_table(header, lines)


def format_averaging_table(rows, mc_samples=10):
    """A markdown table of the rows measured with weight averaging (``ema_momentum > 0``): the
    same checkpoint's test errors with its averaged and its raw weights. "" when there are none."""
    averaged = [r for r in rows if RAW_KEYS[0] in r]
    if not averaged:
        return ""
    header = (f"| task | variant | seed | mean path %, averaged weights | mean path %, raw weights "
              f"| {mc_samples} paths %, averaged | {mc_samples} paths %, raw |")
    lines = []
    for r in averaged:
        lines.append(f"| {r['task']} | {recipe_label(r)} | {row_seed(r)} | {r['test_error_mean']:.2f} "
                     f"| {r['test_error_mean_raw']:.2f} | {r['test_error_mc10']:.2f} | {r['test_error_mc10_raw']:.2f} |")
    return markdown_table(header, lines)


def format_path_rows(rows):
    """benchmarks.ram_paths' markdown table: a row per run, a column per path count (error %,
    mean ± standard deviation over groups of paths and repeats)."""
    counts = sorted({k for r in rows for k in r["counts"]})
    header = ("| run | test images | mean path % | " + " | ".join(f"{k} path{'s' if k > 1 else ''} %" for k in counts)
              + " | mean wrong, paths right % | mean right, paths wrong % |")
    lines = []
    for r in rows:
        cells = []
        for k in counts:
            if k in r["counts"]:
                i = r["counts"].index(k)
                cells.append(f"{r['errors'][i]:.2f} ± {r['errors_sd'][i]:.2f}")
            else:
                cells.append("-")
        lines.append(f"| {r['run']} | {r['images']} | {r['mean_path']:.2f} | " + " | ".join(cells)
                     + f" | {r['mean_wrong_paths_right']:.2f} | {r['mean_right_paths_wrong']:.2f} |")
    return markdown_table(header, lines)
