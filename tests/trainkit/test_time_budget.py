"""TimeBudget counts training time over every sitting of a run."""

import json
import os

import keras

from trainkit import TimeBudget, budget_spent, training_time


class FakeModel:
    stop_training = False


def sitting(budget, model_dir, epoch_seconds, clock, first_epoch=0, epochs=10):
    """Runs ``epochs`` fake epochs of ``epoch_seconds`` each; returns how many ran."""
    callback = TimeBudget(budget, model_dir)
    model = FakeModel()
    callback.set_model(model)
    callback.on_train_begin()
    ran = 0
    for epoch in range(first_epoch, first_epoch + epochs):
        callback.on_epoch_begin(epoch)
        clock[0] += epoch_seconds
        callback.on_epoch_end(epoch)
        ran += 1
        if model.stop_training:
            break
    return ran


def test_budget_is_summed_over_sittings(tmp_path, monkeypatch):
    clock = [0.0]
    monkeypatch.setattr("trainkit.callbacks.time.monotonic", lambda: clock[0])
    model_dir = str(tmp_path)
    assert training_time(model_dir) == (0.0, 0, 0.0)
    # 1 minute budget, 25 s epochs: the first sitting is killed after one epoch ...
    assert sitting(1.0, model_dir, 25.0, clock, epochs=1) == 1
    assert training_time(model_dir) == (25.0, 1, 25.0)
    assert not budget_spent(model_dir, 1.0)
    # ... and the second trains only one more (25 + 25 + 25 > 60 stops before a third).
    assert sitting(1.0, model_dir, 25.0, clock, first_epoch=1) == 1
    assert training_time(model_dir) == (50.0, 2, 25.0)
    assert budget_spent(model_dir, 1.0)
    assert not budget_spent(model_dir, 2.0)
    assert not budget_spent(model_dir, None)
    with open(os.path.join(model_dir, "train_time.json")) as f:
        assert json.load(f)["epochs"] == 2


def test_without_a_budget_time_is_only_recorded(tmp_path, monkeypatch):
    clock = [0.0]
    monkeypatch.setattr("trainkit.callbacks.time.monotonic", lambda: clock[0])
    assert sitting(None, str(tmp_path), 100.0, clock, epochs=3) == 3
    assert training_time(str(tmp_path)) == (300.0, 3, 100.0)


def test_a_damaged_record_reads_as_no_training(tmp_path):
    (tmp_path / "train_time.json").write_text("{not json")
    assert training_time(str(tmp_path)) == (0.0, 0, 0.0)
    assert isinstance(TimeBudget(1.0), keras.callbacks.Callback)
