"""Faults: NaN losses, damaged or foreign checkpoints, bad run directories, bad inputs."""

import os

import numpy as np
import pytest
import tensorflow as tf

from ram import GlimpseSensor
from ram.config import RAMConfig
from ram.training import build_model, load_trained
from trainkit import Checkpoints, RunError, StopOnNaN, prepare_run_dir

CONFIG = RAMConfig(dataset="translate", num_glimpses=2, patch_size=6, num_scales=2, unit_pixels=8)


def images_labels(n=32, value=None):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (n, 60, 60, 1)).astype(np.float32) if value is None else np.full((n, 60, 60, 1), value, np.float32)
    return x, rng.integers(0, 10, n).astype(np.int32)


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, capsys):
    prepare_run_dir(str(tmp_path), CONFIG)
    model = build_model(CONFIG, image_size=60)
    model.nan_stopped = False
    callbacks = [StopOnNaN(), Checkpoints(str(tmp_path))]
    x, y = images_labels()
    val = (x[:8], y[:8])
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, validation_data=val, callbacks=callbacks)
    good = (tmp_path / "latest.weights.h5").read_bytes()
    model.fit(np.full_like(x, np.nan), y, batch_size=16, epochs=3, verbose=0, validation_data=val,
              callbacks=callbacks)
    assert model.nan_stopped
    assert "stopping: the loss became nan" in capsys.readouterr().out
    assert (tmp_path / "latest.weights.h5").read_bytes() == good
    restored, _ = load_trained(str(tmp_path), "latest")
    assert np.all(np.isfinite(restored(x[:4])["probabilities"].numpy()))


def test_truncated_checkpoint_is_refused(tmp_path):
    prepare_run_dir(str(tmp_path), CONFIG)
    model = build_model(CONFIG, image_size=60)
    model.save_weights(str(tmp_path / "best.weights.h5"))
    data = (tmp_path / "best.weights.h5").read_bytes()
    (tmp_path / "best.weights.h5").write_bytes(data[: len(data) // 2])
    with pytest.raises(RunError, match="damaged or from another configuration"):
        load_trained(str(tmp_path), "best")


def test_checkpoint_of_another_configuration_is_refused(tmp_path):
    other = RAMConfig(dataset="translate", num_glimpses=2, patch_size=8, num_scales=2, unit_pixels=8)
    build_model(other, image_size=60).save_weights(str(tmp_path / "other.weights.h5"))
    prepare_run_dir(str(tmp_path / "run"), CONFIG)
    with pytest.raises(RunError, match="damaged or from another configuration"):
        load_trained(str(tmp_path / "run"), str(tmp_path / "other.weights.h5"))


def test_run_dir_that_cannot_be_created(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    with pytest.raises(RunError, match="cannot create --model_dir"):
        prepare_run_dir(str(blocker / "run"), CONFIG)


def test_run_dir_of_another_configuration_is_untouched(tmp_path):
    prepare_run_dir(str(tmp_path), CONFIG)
    before = (tmp_path / "config.json").read_text()
    with pytest.raises(RunError, match="num_glimpses: 2 there, 6 now"):
        prepare_run_dir(str(tmp_path), RAMConfig.for_dataset("translate"))
    assert (tmp_path / "config.json").read_text() == before


def test_damaged_config_is_reported(tmp_path):
    (tmp_path / "config.json").write_text("{ not json")
    with pytest.raises(RunError, match="damaged"):
        load_trained(str(tmp_path))


def test_inputs_are_checked_and_extremes_stay_finite():
    model = build_model(CONFIG, image_size=60)
    with pytest.raises(ValueError, match=r"images \[B, H, W, C\]"):
        model(tf.zeros([2, 60, 60]))
    with pytest.raises(ValueError, match="built for 1-channel images"):
        model(tf.zeros([2, 60, 60, 3]))
    with pytest.raises(TypeError, match="float images"):
        model(tf.zeros([2, 60, 60, 1], tf.uint8))
    with pytest.raises(TypeError, match="float images"):
        GlimpseSensor(4, 1)(tf.zeros([1, 8, 8, 1], tf.int32), tf.zeros([1, 2]))
    for value in (0.0, 1.0):
        x, _ = images_labels(4, value)
        out = model(x)
        assert np.all(np.isfinite(out["probabilities"].numpy())) and np.all(np.isfinite(out["locations"].numpy()))


def test_checkpoint_write_failure_stops_cleanly(tmp_path, monkeypatch, capsys):
    prepare_run_dir(str(tmp_path), CONFIG)
    model = build_model(CONFIG, image_size=60)
    callback = Checkpoints(str(tmp_path))
    callback.set_model(model)

    def disk_full(path, *args, **kwargs):
        with open(path, "wb") as f:
            f.write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(model, "save_weights", disk_full)
    callback.on_epoch_end(0, {"loss": 1.0, "val_accuracy": 0.5})
    assert model.stop_training
    assert "cannot write latest.weights.h5" in capsys.readouterr().out
    assert not list(tmp_path.glob("*.weights.h5")) and not list(tmp_path.glob("tmp-*"))
