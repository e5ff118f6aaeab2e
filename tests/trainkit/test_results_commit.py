"""A benchmark run that spans several sittings and commits keeps the commit it started from."""

from benchmarks import ram_runs


def test_a_run_keeps_the_commit_of_its_first_sitting(tmp_path, monkeypatch):
    run_dir = str(tmp_path / "run")
    monkeypatch.setattr(ram_runs, "commit", lambda: "aaaaaaa")
    assert ram_runs.started_at_commit(run_dir) == "aaaaaaa"
    monkeypatch.setattr(ram_runs, "commit", lambda: "bbbbbbb+dirty")  # a later sitting, later code
    assert ram_runs.started_at_commit(run_dir) == "aaaaaaa"
    (tmp_path / "run" / "commit.json").write_text("not json")  # damaged: recorded again
    assert ram_runs.started_at_commit(run_dir) == "bbbbbbb+dirty"
