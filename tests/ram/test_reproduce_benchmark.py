"""benchmarks.ram_reproduce (its helpers in ram_runs, which defines no flags): recipe variants sit beside the defaults' rows, never over them."""

import pytest
from absl import app

from benchmarks import ram_runs
from benchmarks.ram_runs import format_reproduce_table as format_table, row_key, row_order


def _row(task, error, variant=None):
    row = dict(task=task, glimpses=6, minutes=60.0, epochs=100, test_error_mean=error, test_error_mc10=error - 0.5,
               paper=ram_runs.PAPER_ERROR[task], target=ram_runs.TARGET_ERROR[task],
               distances_learned=[10.0] * 6, distances_random=[23.0] * 6)
    if variant:
        row["variant"] = variant
    return row


def test_variant_rows_have_their_own_key_and_follow_the_defaults():
    rows = {row_key(r): r for r in [_row("translate", 2.2), _row("center", 1.0)]}
    loo = _row("translate", 1.2, "paths4+loo+batch32")
    rows[row_key(loo)] = loo
    assert len(rows) == 3  # the defaults' translate row is kept
    ordered = sorted(rows.values(), key=row_order)
    assert [(r["task"], r.get("variant")) for r in ordered] == [
        ("center", None), ("translate", None), ("translate", "paths4+loo+batch32")]


def test_table_gains_a_variant_column_only_when_a_row_has_one():
    plain = format_table([_row("translate", 2.22)])
    assert plain.splitlines()[2].startswith("| translate | 6 | 100 | 60.0 | 2.22 | 1.72 | 1.22 | 1.3 | no |")
    mixed = format_table([_row("translate", 2.22), _row("translate", 1.25, "paths4+loo+batch32")]).splitlines()
    assert mixed[2].startswith("| translate | defaults | 6 |")
    assert mixed[3].startswith("| translate | paths4+loo+batch32 | 6 |") and mixed[3].endswith("| yes |")
    assert all(line.count("|") == mixed[0].count("|") for line in mixed[:4])


def test_variant_atoms_resolve_in_order_and_unknown_atoms_are_a_usage_error():
    overrides = ram_runs.overrides_of("paths4+loo+batch32")
    assert (overrides["train_paths"], overrides["path_baseline"], overrides["batch_size"]) == (4, True, 32)
    assert ram_runs.overrides_of("std05_std22")["std"] == 0.22  # '_' joins as '+', the later atom wins
    with pytest.raises(app.UsageError, match="unknown atom 'paths3'"):
        ram_runs.overrides_of("paths3+loo")


def test_every_atom_sets_real_config_fields_and_builds_a_valid_config():
    import dataclasses

    from ram.config import RAMConfig

    fields = {f.name for f in dataclasses.fields(RAMConfig)}
    assert set(ram_runs.TODAY) <= fields
    for atom, values in ram_runs.ATOMS.items():
        assert set(values) <= fields, atom
        variant = "paths4+loo" if atom == "loo" else atom  # the leave-one-out baseline needs several paths
        RAMConfig.for_dataset("translate", **ram_runs.overrides_of(variant)).validate()
    assert ram_runs.overrides_of("rw1")["reinforce_weight"] == 1.0
    assert ram_runs.overrides_of("lstm+epochdecay")["decay_steps"] == 1562
    assert ram_runs.overrides_of("today")["reinforce_weight"] == 0.01


def test_a_longer_budget_continues_the_longest_shorter_run_of_the_same_recipe_and_seed(tmp_path):
    for name in ("clutter_lstm_60min_seed0", "clutter_lstm_30min_seed0", "clutter_lstm_120min_seed0",
                 "clutter_60min_seed0", "clutter_lstm_60min_seed1", "clutter100_lstm_80min_seed0"):
        (tmp_path / name).mkdir()
    (tmp_path / "clutter_lstm_60min_seed0" / "train_time.json").write_text('{"seconds": 3594}')
    assert ram_runs.shorter_run(tmp_path, "clutter_lstm", 0, 90) == str(tmp_path / "clutter_lstm_60min_seed0")
    assert ram_runs.shorter_run(tmp_path, "clutter_lstm", 0, 45) == str(tmp_path / "clutter_lstm_30min_seed0")
    assert ram_runs.shorter_run(tmp_path, "clutter_lstm", 0, 30) is None
    assert ram_runs.shorter_run(tmp_path, "clutter", 0, 90) == str(tmp_path / "clutter_60min_seed0")
    assert ram_runs.shorter_run(tmp_path / "absent", "clutter", 0, 90) is None

    run_dir, source = ram_runs.start_from_shorter_run(tmp_path, "clutter_lstm", 0, 90)
    assert run_dir == str(tmp_path / "clutter_lstm_90min_seed0") and source == str(tmp_path / "clutter_lstm_60min_seed0")
    assert (tmp_path / "clutter_lstm_90min_seed0" / "train_time.json").read_text() == '{"seconds": 3594}'
    assert (tmp_path / "clutter_lstm_60min_seed0" / "train_time.json").exists()  # the shorter run stays
    # once it exists, the longer run is resumed as itself, never copied over again
    (tmp_path / "clutter_lstm_90min_seed0" / "train_time.json").write_text('{"seconds": 4000}')
    assert ram_runs.start_from_shorter_run(tmp_path, "clutter_lstm", 0, 90) == (run_dir, None)
    assert (tmp_path / "clutter_lstm_90min_seed0" / "train_time.json").read_text() == '{"seconds": 4000}'
    # nothing shorter: a fresh directory name, nothing made
    assert ram_runs.start_from_shorter_run(tmp_path, "translate", 0, 60) == (str(tmp_path / "translate_60min_seed0"), None)
    assert not (tmp_path / "translate_60min_seed0").exists()


def test_a_second_phase_continues_another_recipes_run_and_keeps_its_own_rows(tmp_path):
    assert ram_runs.continued_recipe(None, "lstm") is None
    assert ram_runs.continued_recipe("lstm_paths4_loo", "lstm+paths4+loo+meanpath") == "lstm+paths4+loo"
    assert ram_runs.continued_recipe("defaults", "meanpath") == "defaults"
    with pytest.raises(app.UsageError, match="is --variant itself"):
        ram_runs.continued_recipe("lstm_meanpath", "lstm+meanpath")
    with pytest.raises(app.UsageError, match="is --variant itself"):
        ram_runs.continued_recipe("defaults", None)
    with pytest.raises(app.UsageError, match="unknown atom 'lstn'"):
        ram_runs.continued_recipe("lstn", "lstm+meanpath")

    (tmp_path / "clutter_lstm_90min_seed0").mkdir()
    (tmp_path / "clutter_lstm_90min_seed0" / "train_time.json").write_text('{"seconds": 5390}')
    stem = ram_runs.run_stem("clutter", "lstm+meanpath") + "_after_lstm"
    run_dir, source = ram_runs.start_from_shorter_run(tmp_path, stem, 0, 100, source_stem=ram_runs.run_stem("clutter", "lstm"))
    assert source == str(tmp_path / "clutter_lstm_90min_seed0")
    assert run_dir == str(tmp_path / "clutter_lstm_meanpath_after_lstm_100min_seed0")
    assert (tmp_path / "clutter_lstm_meanpath_after_lstm_100min_seed0" / "train_time.json").read_text() == '{"seconds": 5390}'
    # a longer second phase continues the second phase, not the first one again
    (tmp_path / "clutter_lstm_meanpath_after_lstm_100min_seed0" / "train_time.json").write_text('{"seconds": 6000}')
    _, source = ram_runs.start_from_shorter_run(tmp_path, stem, 0, 110, source_stem=ram_runs.run_stem("clutter", "lstm"))
    assert source == run_dir

    plain, after = _row("clutter", 4.3, "lstm+meanpath"), _row("clutter", 4.0, "lstm+meanpath")
    after["continued_from"] = "lstm"
    rows = {row_key(r): r for r in (plain, after)}
    assert len(rows) == 2  # the second phase's row sits beside the recipe trained from the start
    lines = format_table(sorted(rows.values(), key=row_order)).splitlines()
    assert lines[2].startswith("| clutter | lstm+meanpath | 6 |")
    assert lines[3].startswith("| clutter | lstm+meanpath, after lstm |")


def test_continue_from_refuses_a_recipe_that_does_not_fit_or_was_never_trained(tmp_path):
    import os
    import subprocess
    import sys

    from tests.conftest import SUBPROCESS_TIMEOUT_S

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

    def run(*args):
        return subprocess.run([sys.executable, "-m", "benchmarks.ram_reproduce", "--tasks", "clutter",
                               "--model_dir", str(tmp_path), "--results", str(tmp_path / "rows.json"), *args],
                              cwd=root, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=root),
                              capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S)

    clash = run("--variant", "meanpath", "--continue_from", "today")
    assert clash.returncode != 0 and "core: rnn there, lstm now" in clash.stderr
    missing = run("--variant", "meanpath", "--continue_from", "lstm")
    assert missing.returncode != 0 and "no clutter run of that recipe shorter than 90 minutes" in missing.stderr
    for result in (clash, missing):
        assert "Traceback" not in result.stderr
    assert os.listdir(tmp_path) == []  # nothing trained, nothing written


def test_a_second_seed_gets_its_own_row_and_says_so():
    first, second = _row("translate", 1.37, "lstm+epochdecay"), _row("translate", 1.25, "lstm+epochdecay")
    first["seed"], second["seed"] = 0, 1
    legacy = _row("translate", 1.5, "lstm+epochdecay")  # rows written before seeds were keyed: seed 0
    assert row_key(legacy) == row_key(first)
    rows = {row_key(r): r for r in (second, first)}
    assert len(rows) == 2
    lines = format_table(sorted(rows.values(), key=row_order)).splitlines()
    assert lines[2].startswith("| translate | lstm+epochdecay | 6 |")
    assert lines[3].startswith("| translate | lstm+epochdecay, seed 1 | 6 |")
    # the defaults' recipe under another seed also names its seed
    other = _row("center", 1.1)
    other["seed"] = 2
    assert format_table([other]).splitlines()[2].startswith("| center | defaults, seed 2 | 6 |")


def test_seed_summary_averages_the_seeds_of_one_recipe_and_budget_only():
    rows = []
    for seed, error in enumerate((1.37, 1.31, 1.22)):
        row = _row("translate", error, "lstm+epochdecay")
        row.update(seed=seed, minutes_budget=90.0)
        rows.append(row)
    shorter = _row("translate", 1.6, "lstm+epochdecay")  # another budget: not one of the seeds
    shorter.update(seed=3, minutes_budget=60.0)
    alone = _row("clutter", 3.4, "lstm")  # one seed: no summary line
    lines = ram_runs.format_seed_summary(rows[::-1] + [shorter, alone]).splitlines()
    assert len(lines) == 3
    assert lines[2] == ("| translate | lstm+epochdecay | 90 | 0, 1, 2 | 1.37 / 1.31 / 1.22 | 1.30 ± 0.08 "
                        "| 0.80 ± 0.08 | 1.3 | yes | 1 of 3 |")
    assert ram_runs.format_seed_summary([alone, shorter]) == ""


def test_table_only_prints_the_committed_rows_and_trains_nothing(tmp_path):
    import json
    import os
    import subprocess
    import sys

    from tests.conftest import SUBPROCESS_TIMEOUT_S

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    rows = [dict(_row("translate", error, "lstm"), seed=seed, minutes_budget=90.0)
            for seed, error in enumerate((1.4, 1.2))] + [_row("center", 1.0)]
    results = tmp_path / "rows.json"
    results.write_text(json.dumps(rows))

    def run(*args):
        return subprocess.run([sys.executable, "-m", "benchmarks.ram_reproduce", "--table_only", "--model_dir",
                               str(tmp_path / "runs"), "--results", str(results), *args], cwd=root,
                              env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=root),
                              capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S)

    translate = run("--tasks", "translate")
    assert translate.returncode == 0, translate.stderr
    assert "| translate | lstm, seed 1 | 6 | 100 | 60.0 | 1.20 |" in translate.stdout
    assert "| translate | lstm | 90 | 0, 1 | 1.40 / 1.20 | 1.30 ± 0.14 |" in translate.stdout
    assert "center" not in translate.stdout
    none = run("--tasks", "clutter", "--variant", "lstm")
    assert none.returncode == 0 and "no rows of clutter under lstm" in none.stdout
    assert not (tmp_path / "runs").exists()


def test_a_row_whose_config_is_the_defaults_is_labelled_defaults_whatever_its_variant():
    from ram.config import RAMConfig

    config = RAMConfig.for_dataset("clutter", epochs=100_000, minutes=60.0, seed=3)  # cap, budget, seed: not the recipe
    row = dict(task="clutter", variant="today+lstm+paths4+loo+batch32+epochdecay", seed=3,
               config=ram_runs.resolved_config(config))
    assert ram_runs.is_defaults(row) and ram_runs.recipe_label(row).startswith("defaults = today+lstm")
    other = dict(row, config=ram_runs.resolved_config(RAMConfig.for_dataset("clutter", core="rnn")))
    assert not ram_runs.is_defaults(other) and ram_runs.recipe_label(other) == row["variant"]
    assert ram_runs.recipe_key(row) != ram_runs.recipe_key(other)
    assert ram_runs.overrides_of_defaults(config) == dict(epochs=100_000, minutes=60.0, seed=3)


def test_the_benchmark_with_no_variant_trains_exactly_what_the_command_line_trains():
    """`benchmarks.ram_reproduce` and `examples.mnist --train --dataset D` resolve the same config,
    budget included, from the one table: the reproduction and the defaults cannot drift apart."""
    import json
    import os
    import subprocess
    import sys

    from ram.config import DATASET_DEFAULTS, RAMConfig
    from tests.conftest import SUBPROCESS_TIMEOUT_S

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    script = ("import json; from absl import flags; import benchmarks.ram_reproduce as r; flags.FLAGS(['bench']); "
              f"print(json.dumps({{t: json.loads(r.plan(t, {{}}, None, None)[1].to_json()) "
              f"for t in {list(DATASET_DEFAULTS)!r}}}))")
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=root), timeout=SUBPROCESS_TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-2000:]
    planned = json.loads(done.stdout.strip().splitlines()[-1])
    for task in DATASET_DEFAULTS:  # what --train --dataset TASK trains (test_settings checks the flags)
        assert planned[task] == json.loads(RAMConfig.for_dataset(task).to_json()), task
    assert planned["center"]["minutes"] == 50.0 and planned["clutter"]["minutes"] == 90.0
