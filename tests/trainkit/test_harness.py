"""The shared run harness: one fit loop, pictures, reload and export for every model."""

import glob
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from trainkit import RunError, harness
from trainkit.callbacks import TRAIN_TIME_FILE


def tiny_model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile(keras.optimizers.SGD(0.1), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def tiny_data(n=32, repeat=True):
    """Train data repeat (fit counts ``steps``); validation data must end."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    ds = tf.data.Dataset.from_tensor_slices((x, (x[:, 0] > 0).astype(np.int32))).batch(8)
    return ds.repeat() if repeat else ds


def tiny_run(tmp_path):
    return harness.Run(str(tmp_path), str(tmp_path), tf.distribute.get_strategy(), True)


def test_steps_per_epoch_refuses_a_batch_larger_than_the_split():
    assert harness.steps_per_epoch(100, 32) == 3
    with pytest.raises(RunError, match="--batch 64 is larger than the training set \\(10\\)"):
        harness.steps_per_epoch(10, 64)


def test_fit_writes_checkpoints_backup_logs_and_pictures(tmp_path):
    run = tiny_run(tmp_path)
    draws = []

    def draw(model):
        draws.append(len(draws))
        # different sizes: padded with black to the largest
        return [np.full((5, 7, 3), 255, np.uint8), np.zeros((3, 9, 3), np.uint8)]

    history = harness.fit(run, tiny_model(), tiny_data(), tiny_data(repeat=False), epochs=2, steps=4, verbose=0,
                          pictures=(draw, "things", "pictures"))
    assert len(history.history["loss"]) == 2 and not history.nan_stopped and not history.write_failed
    assert draws == [0, 1]
    for name in ("best.weights.h5", "latest.weights.h5", "best.json", TRAIN_TIME_FILE):
        assert os.path.exists(tmp_path / name), name
    assert os.path.exists(tmp_path / "backup" / "training_metadata.json")
    events = EventAccumulator(glob.glob(str(tmp_path / "logs" / "pictures" / "events.*"))[0],
                              size_guidance={"tensors": 0})
    events.Reload()
    pictures = events.Tensors("things")
    assert [p.step for p in pictures] == [1, 2]
    width, height = (int(v) for v in tf.make_ndarray(pictures[0].tensor_proto)[:2])
    assert (width, height) == (9, 5)


def test_fit_resumes_where_the_backup_left_off(tmp_path):
    run = tiny_run(tmp_path)
    harness.fit(run, tiny_model(), tiny_data(), tiny_data(repeat=False), epochs=2, steps=4, verbose=0)
    history = harness.fit(run, tiny_model(), tiny_data(), tiny_data(repeat=False), epochs=3, steps=4, verbose=0)
    assert len(history.history["loss"]) == 1  # only epoch 3 was left
    with open(tmp_path / "latest.json") as f:
        assert json.load(f)["epoch"] == 3


def test_fit_with_a_spent_budget_trains_nothing(tmp_path, capsys):
    run = tiny_run(tmp_path)
    with open(tmp_path / TRAIN_TIME_FILE, "w") as f:
        json.dump({"seconds": 120.0, "epochs": 4, "last_epoch": 30.0}, f)
    history = harness.fit(run, tiny_model(), tiny_data(), tiny_data(repeat=False), epochs=9, steps=4, minutes=1.0, verbose=0)
    assert history.history == {} and not history.nan_stopped and not history.write_failed
    assert "already trained its 1 minutes" in capsys.readouterr().out
    assert not os.path.exists(tmp_path / "latest.weights.h5")


def test_empty_picture_lists_log_nothing(tmp_path):
    run = tiny_run(tmp_path)
    harness.fit(run, tiny_model(), tiny_data(), tiny_data(repeat=False), epochs=1, steps=2, verbose=0,
                pictures=(lambda model: [], "none", "pictures"))
    events = EventAccumulator(glob.glob(str(tmp_path / "logs" / "pictures" / "events.*"))[0])
    events.Reload()
    assert events.Tags()["tensors"] == []


def test_export_refuses_a_file_or_a_non_empty_directory_before_writing(tmp_path):
    model = tiny_model()
    signature = [tf.TensorSpec([None, 4], tf.float32, name="x")]
    target = tmp_path / "a_file"
    target.write_text("keep me")
    with pytest.raises(RunError, match="exists and is not empty"):
        harness.export_saved_model(model, str(target), model, signature)
    assert target.read_text() == "keep me"
    full = tmp_path / "full"
    full.mkdir()
    (full / "other").write_text("x")
    with pytest.raises(RunError, match="not empty"):
        harness.export_saved_model(model, str(full), model, signature)
    harness.export_saved_model(model, str(tmp_path / "saved"), lambda x: {"y": model(x)}, signature)
    served = tf.saved_model.load(str(tmp_path / "saved")).signatures["serving_default"]
    assert served(x=tf.zeros([2, 4]))["y"].shape == (2, 3)
