"""benchmarks.attribute's table: rows of each network or training variant stay apart."""

import pytest

from benchmarks.attribute_tables import format_tables, merge_rows


def _row(batch_norm, accuracy):
    bins = ["0.5-1.0", "1.0-1.5", "1.5-2.0", "2.0-2.5", "2.5-3.0"]
    return dict(dataset="mref", task="attribute", attention="nctx", batch_norm=batch_norm, epochs=3,
                accuracy=accuracy, paper_accuracy=95.69, correctness=0.25, paper_correctness=None,
                accuracy_by_scale={b: accuracy for b in bins}, note=None)


def test_table_names_the_variant_without_batch_norm():
    table = format_tables([_row(True, 0.5), _row(False, 0.25)])
    lines = [line for line in table.splitlines() if line.startswith("| nctx")]
    assert lines[0].startswith("| nctx | 3 | 50.00 | 95.69 | 0.250 | - | - |")  # no box figure in this row
    assert lines[1].startswith("| nctx (no batch norm) | 3 | 25.00 |")
    older = _row(True, 0.3)
    del older["batch_norm"]  # a row written before the field: a network without it
    assert "no batch norm" in format_tables([older])


def test_merge_keeps_rows_with_and_without_batch_norm_apart():
    older = _row(True, 0.3)
    del older["batch_norm"]  # written before the key: batch_norm False
    first = merge_rows([older], [_row(True, 0.5)])
    assert [r["accuracy"] for r in first] == [0.3, 0.5]
    second = merge_rows(first, [_row(False, 0.4), _row(True, 0.6)])
    assert sorted(r["accuracy"] for r in second) == [0.4, 0.6]


def test_pan_head_rows_and_runs_stay_apart():
    from attention_rnn.config import AttributeConfig
    from benchmarks.attribute_tables import variant_suffix

    pan = dict(_row(True, 0.7), head_query=False)
    merged = merge_rows([_row(True, 0.5)], [pan])
    assert len(merged) == 2
    assert "| nctx (PAN head, no query) |" in format_tables(merged)
    assert variant_suffix(AttributeConfig(attention="nctx")) == ""
    assert variant_suffix(AttributeConfig(attention="nctx", batch_norm=False, head_query=False)) == "_nobn_panhead"


def test_learning_rate_rows_and_runs_stay_apart():
    from attention_rnn.config import AttributeConfig
    from benchmarks.attribute_tables import variant_suffix

    slower = dict(_row(True, 0.7), learning_rate=3e-4)
    merged = merge_rows([_row(True, 0.5)], [slower, dict(_row(True, 0.6), learning_rate=1e-3)])
    assert sorted(r["accuracy"] for r in merged) == [0.6, 0.7]  # a row without the key means 1e-3
    assert "| nctx (learning rate 0.0003) |" in format_tables(merged)
    assert variant_suffix(AttributeConfig(attention="arnn", learning_rate=3e-4)) == "_lr0.0003"
    assert variant_suffix(AttributeConfig(attention="arnn", batch_norm=False, learning_rate=0.01)) == "_nobn_lr0.01"


def test_warmup_rows_and_runs_stay_apart():
    from attention_rnn.config import AttributeConfig
    from benchmarks.attribute_tables import variant_suffix

    warm = dict(_row(True, 0.8), warmup_epochs=3, warmup_learning_rate=3e-4)
    merged = merge_rows([_row(True, 0.5), dict(_row(True, 0.6), warmup_epochs=2, warmup_learning_rate=3e-4)], [warm])
    assert sorted(r["accuracy"] for r in merged) == [0.5, 0.6, 0.8]  # a row without the keys had no warm-up
    assert "| nctx (3 warm-up epochs; warm-up at 0.0003) |" in format_tables(merged)
    config = AttributeConfig(attention="arnn", warmup_epochs=3, warmup_learning_rate=3e-4)
    assert variant_suffix(config) == "_warmup3_at0.0003"


def test_table_gives_box_correctness_beside_the_papers():
    row = dict(_row(True, 0.9), correctness_box=0.31, paper_correctness=0.28)
    assert "| nctx | 3 | 90.00 | 95.69 | 0.250 | 0.310 | 0.28 |" in format_tables([row])


def test_unknown_or_empty_names_are_one_line_before_any_run(tmp_path):
    import subprocess
    import sys

    from tests.conftest import SUBPROCESS_TIMEOUT_S

    for args, message in ((["--datasets", "mref,foo"], "unknown dataset foo; valid: mref, mdist, mbg"),
                          (["--attentions", "ctx,arnnn"], "unknown attention arnnn; valid: none, san"),
                          (["--datasets="], "--datasets is empty; valid: mref, mdist, mbg"),
                          (["--lr", "0"], "flag --lr=0.0: expected in (0, 10]"),
                          (["--lr", "nan"], "flag --lr=nan: expected a finite number"),
                          (["--warmup_epochs", "3"], "error: --warmup_lr is None; expected a rate in (0, 10] when "
                                                     "warmup_epochs > 0"),
                          (["--warmup_lr", "3e-4"], "error: --warmup_lr is 0.0003; expected a rate in (0, 10] when "
                                                    "warmup_epochs > 0, None when warmup_epochs is 0")):
        done = subprocess.run([sys.executable, "-m", "benchmarks.attribute", *args, "--model_dir", str(tmp_path),
                               "--results", ""], capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S)
        assert done.returncode != 0
        assert message in done.stderr
        assert "Traceback" not in done.stderr
    assert not list(tmp_path.iterdir())  # nothing trained or written


def test_latent_size_rows_and_runs_stay_apart():
    from attention_rnn.config import AttributeConfig
    from benchmarks.attribute_tables import variant_suffix

    smaller = dict(_row(True, 0.7), units=16)
    merged = merge_rows([_row(True, 0.5)], [smaller, dict(_row(True, 0.6), units=32)])
    assert sorted(r["accuracy"] for r in merged) == [0.6, 0.7]  # a row without the key had 32 units
    assert "| nctx (16 attention units) |" in format_tables(merged)
    # Each type's own default: AttentionRNN's t = 16, the others' 32.
    assert variant_suffix(AttributeConfig(attention="arnn", units=32)) == "_units32"
    assert variant_suffix(AttributeConfig(attention="arnn", units=16)) == ""
    assert variant_suffix(AttributeConfig(attention="ctx", units=16)) == "_units16"
    assert variant_suffix(AttributeConfig(attention="ctx")) == ""
    # An AttentionRNN row written before the key existed was trained at 32, no longer its default.
    older_arnn = {k: v for k, v in dict(_row(True, 0.8), attention="arnn").items() if k != "units"}
    assert "| arnn (32 attention units) |" in format_tables([older_arnn])


def test_attention_units_default_to_each_types_own():
    from attention_rnn.config import AttributeConfig
    from attention_rnn.model import AttributeNetwork

    assert [AttributeConfig(attention=a).units for a in ("arnn", "arnn_ind", "arnn_sample", "brnn")] == [16] * 4
    assert [AttributeConfig(attention=a).units for a in ("none", "san", "nctx", "ctx")] == [32] * 4
    assert AttributeConfig(attention="arnn", units=8).units == 8
    # config.json holds the resolved number; one without the key (never written) means 32.
    assert '"units": 16' in AttributeConfig(attention="arnn").to_json()
    assert AttributeConfig.from_json('{"attention": "arnn"}').units == 32
    assert AttributeNetwork("arnn").units == 16 and AttributeNetwork("ctx").units == 32


def test_a_run_made_at_the_old_default_refuses_the_new_one_by_name(tmp_path):
    from attention_rnn.config import AttributeConfig
    from trainkit import RunError
    from trainkit.run_dir import prepare_run_dir

    prepare_run_dir(str(tmp_path), AttributeConfig(attention="arnn", units=32))  # an ARNN run of before
    with pytest.raises(RunError, match="units: 32 there, 16 now"):
        prepare_run_dir(str(tmp_path), AttributeConfig(attention="arnn"))
    prepare_run_dir(str(tmp_path), AttributeConfig(attention="arnn", units=32))  # --units 32 continues it


def test_mask_norm_rows_and_runs_stay_apart():
    from attention_rnn.config import AttributeConfig
    from benchmarks.attribute_tables import variant_suffix

    normed = dict(_row(True, 0.9), mask_norm=True)
    merged = merge_rows([_row(True, 0.5)], [normed])  # a row without the key: masks as they are
    assert len(merged) == 2
    assert "| nctx (masks divided by their mean) |" in format_tables(merged)
    assert variant_suffix(AttributeConfig(attention="arnn", mask_norm=True)) == "_masknorm"
    old = AttributeConfig.from_json('{"attention": "arnn", "batch_norm": true}')
    assert old.mask_norm is False


def test_a_second_seed_gets_its_own_run_and_row():
    from attention_rnn.config import AttributeConfig
    from benchmarks.attribute_tables import variant_suffix

    replicate = dict(_row(True, 0.8), seed=1)
    merged = merge_rows([_row(True, 0.5)], [replicate, dict(_row(True, 0.6), seed=0)])
    assert sorted(r["accuracy"] for r in merged) == [0.6, 0.8]  # a row without the key was seed 0
    assert "| nctx (seed 1) |" in format_tables(merged)
    assert variant_suffix(AttributeConfig(attention="ctx", mask_norm=True, seed=1)) == "_masknorm_seed1"
    assert variant_suffix(AttributeConfig(attention="ctx", seed=0)) == ""


def test_a_row_that_trained_nothing_keeps_the_training_seconds_of_the_row_it_replaces():
    trained = dict(_row(True, 0.5), train_seconds_this_call=4100.0)
    evaluated = dict(_row(True, 0.55), train_seconds_this_call=None)
    merged = merge_rows([trained], [evaluated])
    assert len(merged) == 1 and merged[0]["accuracy"] == 0.55 and merged[0]["train_seconds_this_call"] == 4100.0
    retrained = dict(_row(True, 0.6), train_seconds_this_call=300.0)
    assert merge_rows(merged, [retrained])[0]["train_seconds_this_call"] == 300.0
