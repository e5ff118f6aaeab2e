"""A benchmark run that spans several sittings and commits keeps the commit it started from, and
a change to the results files alone does not mark the code dirty."""

import subprocess

from benchmarks import results


def test_a_run_keeps_the_commit_of_its_first_sitting(tmp_path, monkeypatch):
    run_dir = str(tmp_path / "run")
    monkeypatch.setattr(results, "commit", lambda: "aaaaaaa")
    assert results.started_at_commit(run_dir) == "aaaaaaa"
    monkeypatch.setattr(results, "commit", lambda: "bbbbbbb+dirty")  # a later sitting, later code
    assert results.started_at_commit(run_dir) == "aaaaaaa"
    (tmp_path / "run" / "commit.json").write_text("not json")  # damaged: recorded again
    assert results.started_at_commit(run_dir) == "bbbbbbb+dirty"


def test_results_files_alone_do_not_make_the_tree_dirty(tmp_path, monkeypatch):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    (tmp_path / "docs" / "results").mkdir(parents=True)
    (tmp_path / "model.py").write_text("x = 1\n")
    (tmp_path / "docs" / "results" / "rows.json").write_text("[]\n")
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    monkeypatch.chdir(tmp_path)
    clean = results.commit()
    assert len(clean) >= 7 and "+dirty" not in clean
    (tmp_path / "docs" / "results" / "rows.json").write_text("[{}]\n")
    assert results.commit() == clean
    (tmp_path / "model.py").write_text("x = 2\n")
    assert results.commit() == clean + "+dirty"


def test_outside_a_repository_the_commit_is_unknown(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert results.commit() == "unknown"
