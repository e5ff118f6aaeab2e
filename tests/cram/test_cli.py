"""`python -m examples.cram` end to end for both tasks on tiny data, and its user errors."""

import glob
import os
import subprocess
import sys

import numpy as np

from tests.conftest import SUBPROCESS_TIMEOUT_S

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = ["--epoch", "1", "--batch", "16", "--step", "2", "--units", "16", "--num_predict", "2"]


def run_cli(*args, timeout=SUBPROCESS_TIMEOUT_S):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-m", "examples.cram", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def check_run(model_dir, export_dir):
    for name in ("config.json", "best.weights.h5", "latest.weights.h5", "best.json"):
        assert (model_dir / name).exists(), name
    assert glob.glob(str(model_dir / "logs" / "glimpses" / "events.*"))
    assert len(glob.glob(str(model_dir / "predictions" / "*_00*.png"))) == 2
    assert (model_dir / "predictions" / "sheet.png").exists()
    import tensorflow as tf
    return tf.saved_model.load(str(export_dir)).signatures["serving_default"]


def test_classify_with_saliency_clue(tmp_path):
    model_dir, export_dir = tmp_path / "run", tmp_path / "export"
    result = run_cli("--task", "classify", "--dataset", "clutter", "--clue", "saliency", "--saliency_epochs", "1",
                     "--limit", "64", "--train", "--eval", "--predict", "--export", str(export_dir),
                     "--model_dir", str(model_dir), *TINY)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "saliency clue: validation IoU" in result.stdout and "test error:" in result.stdout
    assert (model_dir / "saliency.weights.h5").exists()
    serving = check_run(model_dir, export_dir)
    import tensorflow as tf
    from cram.training import load_trained
    model, _ = load_trained(str(model_dir))
    images = np.random.default_rng(0).uniform(0, 1, (3, 60, 60, 1)).astype(np.float32)
    zeros = np.zeros_like(images)
    out = serving(images=tf.constant(images), masks=tf.constant(zeros))
    np.testing.assert_allclose(out["probabilities"], tf.nn.softmax(model((images, zeros))), atol=1e-5)
    assert out["thetas"].shape == (3, 2, 3)


def test_inpaint_on_an_svhn_shaped_directory(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "train.npz", x=rng.integers(0, 256, (5_032, 32, 32, 3)).astype(np.uint8))
    np.savez(tmp_path / "test.npz", x=rng.integers(0, 256, (16, 32, 32, 3)).astype(np.uint8))
    model_dir, export_dir = tmp_path / "run", tmp_path / "export"
    result = run_cli("--task", "inpaint", "--svhn_source", "dir", "--svhn_dir", str(tmp_path), "--limit", "32",
                     "--train", "--eval", "--predict", "--export", str(export_dir), "--model_dir", str(model_dir),
                     *TINY)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "test hole L1" in result.stdout and "PSNR" in result.stdout and "SVHN (dir)" in result.stdout
    serving = check_run(model_dir, export_dir)
    import tensorflow as tf
    occluded = rng.uniform(0, 1, (2, 32, 32, 3)).astype(np.float32)
    masks = np.zeros((2, 32, 32, 1), np.float32)
    masks[:, 12:20, 12:20] = 1
    out = serving(occluded=tf.constant(occluded), masks=tf.constant(masks))
    keep = masks[..., 0] == 0
    np.testing.assert_allclose(out["completed"].numpy()[keep], occluded[keep], atol=1e-6)

    # A second --train with more epochs resumes after the finished one.
    again = run_cli("--task", "inpaint", "--svhn_source", "dir", "--svhn_dir", str(tmp_path), "--limit", "32",
                    "--train", "--model_dir", str(model_dir), *TINY[2:], "--epoch", "2")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "Epoch 2/2" in again.stdout and "Epoch 1/2" not in again.stdout


def test_user_errors_get_one_line(tmp_path):
    result = run_cli("--eval", "--model_dir", str(tmp_path / "none"))
    assert result.returncode == 2 and "error: no trained model" in result.stderr and "Traceback" not in result.stderr
    result = run_cli("--task", "inpaint", "--dataset", "clutter", "--train", "--model_dir", str(tmp_path / "x"))
    assert result.returncode == 2 and "svhn_occluded" in result.stderr
    result = run_cli("--task", "inpaint", "--svhn_source", "dir", "--svhn_dir", str(tmp_path / "missing"),
                     "--train", "--model_dir", str(tmp_path / "y"))
    assert result.returncode == 2 and "not a directory" in result.stderr and "Traceback" not in result.stderr
    result = run_cli("--task", "classify", "--dataset", "svhn_occluded", "--train", "--model_dir", str(tmp_path / "z"))
    assert result.returncode == 2 and "one of center, translate, clutter, clutter100 for classify" in result.stderr
    result = run_cli("--task", "inpaint", "--clue", "saliency", "--train", "--model_dir", str(tmp_path / "w"))
    assert result.returncode == 2 and "error: --clue is 'saliency'; expected oracle for task inpaint" in result.stderr
    assert not (tmp_path / "w").exists()
