"""`python -m examples.attribute` end to end on a tiny generated MDIST set, and its user errors."""

import glob
import json
import os
import subprocess
import sys

import numpy as np

from tests.conftest import SUBPROCESS_TIMEOUT_S

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_cli(*args, timeout=SUBPROCESS_TIMEOUT_S):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-m", "examples.attribute", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_train_eval_predict_export_reload(tmp_path):
    model_dir, export_dir, cache = tmp_path / "run", tmp_path / "export", tmp_path / "cache"
    flags = ["--dataset", "mdist", "--attention", "arnn", "--units", "4", "--batch", "8", "--train_size", "16",
             "--validation_size", "8", "--test_size", "8", "--model_dir", str(model_dir), "--cache_dir", str(cache)]
    result = run_cli("--train", "--eval", "--predict", "--diagnose", "--export", str(export_dir), "--epoch", "2",
                     "--num_predict", "2", *flags)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Epoch 2/2" in result.stdout and "mask correctness" in result.stdout and "scale 0.5-1.0" in result.stdout
    assert "checkpoint best: loss" in result.stdout and "untrained: loss" in result.stdout
    assert result.stdout.count("masks, mean±std per attended layer") == 2
    for name in ("config.json", "best.weights.h5", "latest.weights.h5", "best.json"):
        assert (model_dir / name).exists(), name
    assert json.loads((model_dir / "config.json").read_text())["attention"] == "arnn"
    assert glob.glob(str(model_dir / "logs" / "masks" / "events.*"))
    pictures = sorted(glob.glob(str(model_dir / "predictions" / "*.png")))
    assert len(pictures) == 2
    records = json.loads((model_dir / "predictions" / "predictions.json").read_text())["images"]
    assert [r["file"] for r in records] == [os.path.basename(p) for p in pictures]
    assert all(r["answer"] in ("red", "green", "blue", "yellow", "white") and 0 <= r["query"] <= 9 for r in records)

    # The SavedModel answers as the in-memory model does, with one mask per attended layer.
    import tensorflow as tf
    from attention_rnn.training import load_trained
    model, _ = load_trained(str(model_dir))
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (3, 100, 100, 3)).astype(np.float32)
    queries = np.eye(10, dtype=np.float32)[[1, 4, 7]]
    serving = tf.saved_model.load(str(export_dir)).signatures["serving_default"]
    exported = serving(images=tf.constant(images), queries=tf.constant(queries))
    logits, masks = model((images, queries), return_masks=True)
    np.testing.assert_allclose(exported["probabilities"], tf.nn.softmax(logits), atol=1e-5)
    assert [exported[f"mask_{k}"].shape[1] for k in range(4)] == [50, 25, 12, 6]

    # Train again: resumes after the finished epochs (nothing left to do), same config accepted.
    again = run_cli("--train", "--epoch", "2", *flags)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "rendering" not in again.stdout  # the cached splits are reused


def test_user_errors_get_one_line(tmp_path):
    result = run_cli("--eval", "--model_dir", str(tmp_path / "nothing"))
    assert result.returncode == 2 and "error: no trained model" in result.stderr
    assert "Traceback" not in result.stderr
    result = run_cli("--model_dir", str(tmp_path / "nothing"))
    assert result.returncode == 2 and "nothing to do" in result.stderr
    result = run_cli("--train", "--attention", "bogus")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "value should be one of <none|san|nctx|ctx|arnn|arnn_ind|arnn_sample|brnn>" in result.stderr
    result = run_cli("--train", "--warmup_epochs", "3", "--model_dir", str(tmp_path / "warm"))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.returncode == 2 and "error: --warmup_lr is None; expected a rate in (0, 10]" in result.stderr
    assert not (tmp_path / "warm").exists()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    result = run_cli("--export", str(tmp_path / "full"), "--model_dir", str(tmp_path / "run"))
    assert result.returncode == 2 and "not empty" in result.stderr
