"""Output directories are checked before any work: a file, or a place that cannot be written."""

import os

import pytest

from trainkit import RunError, check_output_dir, refuse_nonempty_dir


def test_output_dir_that_is_a_file_or_inside_one(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(RunError, match="is a file"):
        check_output_dir(str(afile), "--predict_dir")
    with pytest.raises(RunError, match="inside the file"):
        check_output_dir(str(afile / "deeper"), "--predict_dir")
    with pytest.raises(RunError, match="exists and is not empty"):
        refuse_nonempty_dir(str(afile))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_output_dir_that_cannot_be_written(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(RunError, match="cannot be written"):
            check_output_dir(str(locked / "export"), "--export")
    finally:
        locked.chmod(0o700)


def test_new_and_empty_directories_pass_and_nothing_is_created(tmp_path):
    check_output_dir(str(tmp_path / "new" / "deeper"), "--export")
    refuse_nonempty_dir(str(tmp_path / "new2"))
    assert not (tmp_path / "new").exists() and not (tmp_path / "new2").exists()
