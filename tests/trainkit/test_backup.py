"""The resumption backup and checkpoints under real faults: a file-size limit that makes a
write fail partway (as a full disk does), and a kill between the backup and the checkpoints."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import SUBPROCESS_TIMEOUT_S, synthetic_mnist, write_idx_dir
from tests.ram.test_cli import ROOT, run_cli, tiny_flags

LIMITED = """
import resource, runpy, signal, sys
limit = int(sys.argv[1])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG, as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
sys.argv = ["examples.mnist"] + sys.argv[2:]
runpy.run_module("examples.mnist", run_name="__main__")
"""


@pytest.fixture(scope="module")
def idx_dir(tmp_path_factory):
    return write_idx_dir(tmp_path_factory.mktemp("idx"), synthetic_mnist(n_train=48, n_eval=16))


def run_limited(limit, *args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-c", LIMITED, str(limit), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S)


def backup_record(model_dir):
    return json.loads((model_dir / "backup" / "training_metadata.json").read_text())


def test_a_backup_write_that_fails_partway_loses_nothing(idx_dir, tmp_path):
    model_dir = tmp_path / "run"
    first = run_cli("--train", "--epoch", "1", *tiny_flags(idx_dir, model_dir))
    assert first.returncode == 0, first.stderr[-3000:]
    weights = model_dir / "backup" / backup_record(model_dir)["weights"]
    size = weights.stat().st_size
    before = {p.name: p.read_bytes() for p in (model_dir / "backup").iterdir()}

    # Epoch 2's backup is cut off halfway through its weights file.
    full = run_limited(size // 2, "--train", "--epoch", "2", *tiny_flags(idx_dir, model_dir))
    assert full.returncode != 0
    assert "stopping: cannot write the resumption backup" in full.stdout
    assert "Traceback" not in full.stderr and "Segmentation" not in full.stderr
    after = {p.name: p.read_bytes() for p in (model_dir / "backup").iterdir()}
    assert after == before  # the previous backup is untouched, no partial file is left
    assert json.loads((model_dir / "latest.json").read_text())["epoch"] == 1

    # With room again, the same command resumes at epoch 2 and ends with its checkpoints.
    again = run_cli("--train", "--epoch", "2", *tiny_flags(idx_dir, model_dir))
    assert again.returncode == 0, again.stderr[-3000:]
    assert "Epoch 2/2" in again.stdout and "Epoch 1/2" not in again.stdout
    assert backup_record(model_dir)["epoch"] == 2
    assert json.loads((model_dir / "latest.json").read_text())["epoch"] == 2
    assert (model_dir / "best.weights.h5").exists()


def test_a_run_killed_after_its_last_backup_writes_the_lost_checkpoints(idx_dir, tmp_path):
    """The backup of the last epoch was written, its checkpoints were not (SIGKILL between)."""
    model_dir = tmp_path / "run"
    assert run_cli("--train", "--epoch", "1", *tiny_flags(idx_dir, model_dir)).returncode == 0
    saved = {name: (model_dir / name).read_bytes() for name in ("latest.weights.h5", "latest.json", "best.json",
                                                                 "best.weights.h5")}
    assert run_cli("--train", "--epoch", "2", *tiny_flags(idx_dir, model_dir)).returncode == 0
    epoch2 = (model_dir / "latest.weights.h5").read_bytes()
    for name, content in saved.items():  # undo epoch 2's checkpoints, keep its backup
        (model_dir / name).write_bytes(content)
    rerun = run_cli("--train", "--epoch", "2", *tiny_flags(idx_dir, model_dir))
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "writing the checkpoints of epoch 2" in rerun.stdout
    assert json.loads((model_dir / "latest.json").read_text())["epoch"] == 2
    from ram.training import load_trained
    import numpy as np
    restored, _ = load_trained(str(model_dir), "latest")
    (tmp_path / "epoch2.weights.h5").write_bytes(epoch2)
    reference, _ = load_trained(str(model_dir), str(tmp_path / "epoch2.weights.h5"))
    for a, b in zip(restored.weights, reference.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
