"""`python -m examples.mnist` end to end on tiny synthetic IDX data, and its user-error paths."""

import glob
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import SUBPROCESS_TIMEOUT_S, synthetic_mnist, write_idx_dir

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_cli(*args, timeout=SUBPROCESS_TIMEOUT_S):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-m", "examples.mnist", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def idx_dir(tmp_path_factory):
    return write_idx_dir(tmp_path_factory.mktemp("idx"), synthetic_mnist(n_train=48, n_eval=16))


def tiny_flags(idx_dir, model_dir):
    return ["--dataset", "translate", "--source", "idx", "--data_dir", idx_dir, "--validation_size", "16",
            "--batch", "16", "--step", "2", "--glimpse", "6", "--scale", "2", "--model_dir", str(model_dir)]


def test_train_eval_predict_export_reload(idx_dir, tmp_path):
    model_dir, export_dir, predict_dir = tmp_path / "run", tmp_path / "export", tmp_path / "pictures"
    result = run_cli("--train", "--eval", "--predict", "--export", str(export_dir), "--epoch", "2",
                     "--num_predict", "4", "--predict_dir", str(predict_dir), *tiny_flags(idx_dir, model_dir))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Epoch 2/2" in result.stdout and "test error:" in result.stdout
    for name in ("config.json", "best.weights.h5", "latest.weights.h5", "best.json"):
        assert (model_dir / name).exists(), name
    config = json.loads((model_dir / "config.json").read_text())
    assert (config["num_glimpses"], config["patch_size"], config["num_scales"], config["unit_pixels"]) == (2, 6, 2, 26.0)
    assert glob.glob(str(model_dir / "logs" / "train" / "events.*"))
    assert glob.glob(str(model_dir / "logs" / "glimpses" / "events.*"))
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(glob.glob(str(model_dir / "logs" / "train" / "events.*"))[0])
    events.Reload()
    for tag in ("epoch_classification_loss", "epoch_reinforce_loss", "epoch_baseline_loss", "epoch_accuracy",
                "epoch_reward", "epoch_learning_rate"):
        assert tag in events.Tags()["tensors"], tag
    assert len(glob.glob(str(predict_dir / "glimpses_*.png"))) == 4 and (predict_dir / "contact_sheet.png").exists()

    # The SavedModel matches the in-memory model on the same images.
    import tensorflow as tf
    from ram.training import load_trained
    model, _ = load_trained(str(model_dir), "best")
    images = np.random.default_rng(0).uniform(0, 1, (5, 60, 60, 1)).astype(np.float32)
    serving = tf.saved_model.load(str(export_dir)).signatures["serving_default"]
    exported = serving(images=tf.constant(images))
    expected = model(images)
    assert exported["probabilities"].shape == (5, 10) and exported["locations"].shape == (5, 2, 2)
    np.testing.assert_allclose(exported["probabilities"].numpy(), expected["probabilities"].numpy(), atol=1e-5)
    np.testing.assert_allclose(exported["locations"].numpy(), expected["locations"].numpy(), atol=1e-5)
    with pytest.raises((ValueError, TypeError, tf.errors.InvalidArgumentError), match="60"):
        serving(images=tf.zeros([2, 28, 28, 1]))  # wrong image size for this model

    # The same command again resumes: the finished run has nothing left to train.
    again = run_cli("--train", "--epoch", "3", *tiny_flags(idx_dir, model_dir))
    assert again.returncode == 0, again.stderr[-3000:]
    assert "Epoch 3/3" in again.stdout and "Epoch 1/3" not in again.stdout

    # Another architecture in the same directory is refused before any training.
    other = run_cli("--train", *tiny_flags(idx_dir, model_dir), "--glimpse", "8")
    assert other.returncode == 2 and "another configuration (patch_size: 6 there, 8 now)" in other.stderr
    assert "Traceback" not in other.stderr


@pytest.mark.parametrize("args,message", [
    (["--train", "--dataset", "mnist60"], "value should be one of"),
    (["--train", "--batch", "-4"], "--batch"),
    (["--eval"], "error: no trained model in"),
    (["--eval", "--load", "latest"], "error: no trained model in"),
    ([], "nothing to do"),
    (["--train", "--source", "idx", "--data_dir", "/nonexistent/dir"], "does not exist"),
    (["--export", ROOT], "exists and is not empty"),
    (["--export", os.path.join(ROOT, "setup.py")], "exists and is not empty"),
    (["--predict", "--predict_dir", os.path.join(ROOT, "setup.py")], "--predict_dir"),
    (["--predict", "--predict_dir", os.path.join(ROOT, "setup.py", "pictures")], "inside the file"),
    (["--train", "--lr", "nan"], "flag --lr=nan: expected a finite number"),
    (["--train", "--step", "5000"], "flag --step=5000: expected 1-64"),
    (["--train", "--std", "nan"], "flag --std=nan: expected a finite number"),
    (["--train", "--pixel", "inf"], "flag --pixel=inf: expected a finite number"),
    (["--train", "--core", "gru"], "value should be one of <rnn|lstm>"),
    (["--train", "--train_paths", "1"], "error: --path_baseline is True; expected False unless train_paths >= 2"),
    (["--train", "--pretrained"], "error: --pretrained models are trained already"),
])
def test_user_mistakes_get_one_clear_line(tmp_path, args, message):
    result = run_cli(*args, "--model_dir", str(tmp_path / "empty"), timeout=120)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_checkpoint(idx_dir, tmp_path):
    model_dir = tmp_path / "run"
    model_dir.mkdir()
    from ram.config import RAMConfig
    (model_dir / "config.json").write_text(RAMConfig.for_dataset("translate").to_json())
    result = run_cli("--eval", "--load", "latest", *tiny_flags(idx_dir, model_dir)[:8], "--model_dir", str(model_dir))
    assert result.returncode == 2 and "latest.weights.h5 does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_killed_run_resumes_from_its_last_epoch(idx_dir, tmp_path):
    """SIGKILL a real training process after its first backup; the same command resumes."""
    import signal
    import time

    model_dir = tmp_path / "run"
    args = ["--train", "--epoch", "40", *tiny_flags(idx_dir, model_dir)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
    process = subprocess.Popen([sys.executable, "-m", "examples.mnist", *args], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    metadata = model_dir / "backup" / "training_metadata.json"

    def epochs_backed_up():
        try:
            return json.loads(metadata.read_text()).get("epoch", 0)
        except (OSError, ValueError):  # not there yet, or caught mid-write
            return 0

    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if epochs_backed_up() >= 2:
                break
            time.sleep(0.2)
        assert process.poll() is None, "training ended before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    done = epochs_backed_up()
    assert 2 <= done < 40
    resumed = run_cli("--train", "--epoch", str(done + 1), *tiny_flags(idx_dir, model_dir))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"Epoch {done + 1}/{done + 1}" in resumed.stdout and "Epoch 1/" not in resumed.stdout

    # An uninterrupted run of the same length ends with the same weights and metrics: resumed
    # runs replay the same data passes and location noise (keyed by epoch and step).
    straight_dir = tmp_path / "straight"
    straight = run_cli("--train", "--epoch", str(done + 1), *tiny_flags(idx_dir, straight_dir))
    assert straight.returncode == 0, straight.stderr[-3000:]
    from ram.training import load_trained
    killed_model, _ = load_trained(str(model_dir), "latest")
    straight_model, _ = load_trained(str(straight_dir), "latest")
    for a, b in zip(killed_model.weights, straight_model.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5, err_msg=a.path)
    best = [json.loads((d / "best.json").read_text())["val_accuracy"] for d in (model_dir, straight_dir)]
    assert best[0] == pytest.approx(best[1], abs=1e-6)


def test_ctrl_c_stops_with_one_line_and_resumes(idx_dir, tmp_path):
    """SIGINT a real training process: one ``stopping:`` line, exit 130, no traceback; the
    same command then resumes after the last completed epoch."""
    import signal
    import time

    model_dir = tmp_path / "run"
    args = ["--train", "--epoch", "40", *tiny_flags(idx_dir, model_dir)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
    # A pytest-xdist worker ignores SIGINT, and an ignored signal stays ignored in its children
    # (Python then installs no KeyboardInterrupt handler): give the child the default back.
    process = subprocess.Popen([sys.executable, "-m", "examples.mnist", *args], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    latest = model_dir / "latest.weights.h5"
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and process.poll() is None and not latest.exists():
            time.sleep(0.2)
        assert process.poll() is None, "training ended before it could be interrupted"
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr[-3000:]
    assert "stopping: interrupted" in stderr and "Traceback" not in stderr
    done = json.loads((model_dir / "backup" / "training_metadata.json").read_text())["epoch"]
    assert 1 <= done < 40
    resumed = run_cli("--train", "--epoch", str(done + 1), *tiny_flags(idx_dir, model_dir))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"Epoch {done + 1}/{done + 1}" in resumed.stdout and "Epoch 1/" not in resumed.stdout


def test_pretrained_model_evaluates_at_its_committed_figure_offline(tmp_path):
    """The shipped translate model: --eval prints its test error within 0.05 points of the figure
    the results file holds for it, with no run directory and nothing trained; --predict draws it and
    --export writes a SavedModel that answers like it."""
    import re

    from trainkit import pretrained
    shipped = pretrained.manifest("ram", "translate")
    # It was trained with translate's defaults, the recipe `--train --dataset translate` trains.
    from benchmarks.ram_runs import NOT_RECIPE
    from ram.config import RAMConfig
    defaults = json.loads(RAMConfig.for_dataset("translate").to_json())
    assert {k: v for k, v in shipped["config"].items() if k not in NOT_RECIPE} == {
        k: v for k, v in defaults.items() if k not in NOT_RECIPE}
    export_dir, predict_dir = tmp_path / "export", tmp_path / "pictures"
    result = run_cli("--eval", "--predict", "--export", str(export_dir), "--dataset", "translate", "--pretrained",
                     "--num_predict", "2", "--predict_dir", str(predict_dir), "--model_dir", str(tmp_path / "none"))
    assert result.returncode == 0, result.stderr[-3000:]
    error = float(re.search(r"test error: ([0-9.]+)%", result.stdout).group(1))
    assert abs(error - shipped["figures"]["test_error_mean"]) <= 0.05
    assert f"the results file holds {shipped['figures']['test_error_mean']:.2f}%" in result.stdout
    assert len(glob.glob(str(predict_dir / "glimpses_*.png"))) == 2 and not (tmp_path / "none").exists()
    import tensorflow as tf
    serving = tf.saved_model.load(str(export_dir)).signatures["serving_default"]
    assert serving(images=tf.zeros([2, 60, 60, 1]))["probabilities"].shape == (2, 10)


@pytest.mark.parametrize("damage,message", [("flip", "is damaged"), ("delete", "has no weights"),
                                            ("unknown", "no pretrained ram model 'translate'; shipped: none")])
def test_a_damaged_or_missing_pretrained_file_is_one_error_line(tmp_path, damage, message):
    """The command line on a copy of the shipped files, damaged: one `error:` line, exit 2."""
    import shutil

    from trainkit import pretrained
    copy = tmp_path / "ram" / "pretrained"
    if damage != "unknown":
        shutil.copytree(pretrained.bundle_dir("ram"), copy)
        weights = copy / "translate.weights.h5"
        if damage == "flip":
            data = bytearray(weights.read_bytes())
            data[len(data) // 3] ^= 0x01
            weights.write_bytes(bytes(data))
        else:
            weights.unlink()
    script = ("import runpy, sys; import trainkit.pretrained as p; "
              f"p.bundle_dir = lambda package: {str(copy)!r}; "
              "sys.argv = ['mnist', '--eval', '--pretrained', '--dataset', 'translate']; "
              "runpy.run_module('examples.mnist', run_name='__main__')")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
    result = subprocess.run([sys.executable, "-c", script], cwd=str(tmp_path), env=env, capture_output=True,
                            text=True, timeout=SUBPROCESS_TIMEOUT_S)
    assert result.returncode == 2 and "error: " in result.stderr and message in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "test error" not in result.stdout
