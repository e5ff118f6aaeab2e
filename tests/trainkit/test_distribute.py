"""RAM under tf.distribute: MirroredStrategy over 2 logical CPUs equals one device; a
two-process MultiWorkerMirroredStrategy run on localhost trains and writes files once."""

import json
import os
import socket
import subprocess
import sys

import pytest

from trainkit import distribute
from tests.conftest import SUBPROCESS_TIMEOUT_S, synthetic_mnist, write_idx_dir

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)


def test_mirrored_on_two_cpus_matches_one_device():
    result = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "ram", "mirrored_equivalence.py")],
                            cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2
    # Same global batches, same noise per example: equal up to float summation order.
    for name in ("loss", "classification_loss", "reinforce_loss", "baseline_loss", "accuracy"):
        assert report["mirrored"][name] == pytest.approx(report["single"][name], abs=1e-4), name
    assert report["max_weight_difference"] < 1e-4


def test_attribute_and_cram_steps_average_over_replicas():
    """Mirrored over 2 CPUs: the attribute network takes the single-device step; CRAM's own
    train_step averages its gradient over the replicas (half the update of a summed one)."""
    result = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "trainkit", "mirrored_models.py")],
                            cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2
    assert report["attribute_mirrored"] == pytest.approx(report["attribute_single"], rel=1e-3)
    assert report["cram_mirrored"] / report["cram_mirrored_summed"] == pytest.approx(0.5, rel=1e-3)


def free_port():
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def test_two_worker_run_on_localhost(tmp_path):
    (tmp_path / "idx").mkdir()
    idx_dir = write_idx_dir(tmp_path / "idx", synthetic_mnist(n_train=64, n_eval=16))
    workers = [f"localhost:{free_port()}", f"localhost:{free_port()}"]
    model_dir = tmp_path / "run"
    args = [sys.executable, "-m", "examples.mnist", "--train", "--strategy", "multi_worker", "--epoch", "2",
            "--dataset", "translate", "--source", "idx", "--data_dir", idx_dir, "--validation_size", "16",
            "--batch", "16", "--step", "2", "--glimpse", "6", "--scale", "2", "--model_dir", str(model_dir)]
    processes = []
    try:
        for index in range(2):
            env = dict(ENV, TF_CONFIG=json.dumps({"cluster": {"worker": workers},
                                                   "task": {"type": "worker", "index": index}}))
            processes.append(subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                              stderr=subprocess.PIPE, text=True))
        outputs = [p.communicate(timeout=SUBPROCESS_TIMEOUT_S) for p in processes]
    finally:
        for p in processes:  # never leave a worker behind, even on timeout
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, (out, err) in zip(processes, outputs):
        assert p.returncode == 0, err[-3000:]
    assert "Epoch 2/2" in outputs[0][0]
    assert (model_dir / "best.weights.h5").exists() and (model_dir / "config.json").exists()
    worker_files = list((model_dir / "workers" / "worker_1").rglob("*"))
    assert not any(f.name.endswith("weights.h5") and "backup" not in str(f) for f in worker_files)


def test_unknown_or_unavailable_strategies():
    with pytest.raises(distribute.StrategyError, match="valid strategies: default, mirrored, multi_worker, tpu"):
        distribute.make_strategy("horovod")
    env = os.environ.pop("TF_CONFIG", None)
    try:
        with pytest.raises(distribute.StrategyError, match="needs the TF_CONFIG"):
            distribute.make_strategy("multi_worker")
    finally:
        if env is not None:
            os.environ["TF_CONFIG"] = env


@pytest.mark.parametrize("text,message", [
    ("not json", "not valid JSON"),
    ('{"task": {"type": "worker", "index": 0}}', "needs a \"cluster\" object"),
    ('{"cluster": {"worker": []}, "task": {"type": "worker", "index": 0}}', "non-empty list"),
    ('{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "ps", "index": 0}}', "task.type must be one of"),
    ('{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 2}}', "task.index must be 0-1"),
    ('{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": "one"}}', "task.index"),
])
def test_malformed_tf_config_is_named(text, message):
    from trainkit.distribute import StrategyError, check_tf_config
    with pytest.raises(StrategyError, match=message):
        check_tf_config(text)
