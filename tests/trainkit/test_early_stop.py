"""StopWhenStale: patience counted from the run's own records, over sittings."""

import json

import pytest

from trainkit import StopWhenStale, epochs_since_best, patience_spent


class _Model:
    stop_training = False


def _records(path, latest, best):
    (path / "latest.json").write_text(json.dumps({"epoch": latest}))
    (path / "best.json").write_text(json.dumps({"val_accuracy": 0.5, "epoch": best}))


def test_stops_after_patience_epochs_without_a_better_checkpoint(tmp_path):
    assert epochs_since_best(str(tmp_path)) == (0, 0)
    stop = StopWhenStale(str(tmp_path), patience=2)
    stop.set_model(_Model())
    _records(tmp_path, latest=4, best=3)
    stop.on_epoch_end(3)
    assert not stop.model.stop_training
    _records(tmp_path, latest=5, best=3)  # e.g. a later sitting of the same run
    stop.on_epoch_end(4)
    assert stop.model.stop_training and stop.stopped_epoch == 5
    assert epochs_since_best(str(tmp_path)) == (5, 2)


def test_no_stop_before_min_epochs_however_stale(tmp_path):
    stop = StopWhenStale(str(tmp_path), patience=2, min_epochs=5)
    stop.set_model(_Model())
    _records(tmp_path, latest=3, best=1)  # a plateau: two epochs worse than the first
    stop.on_epoch_end(2)
    assert not stop.model.stop_training
    _records(tmp_path, latest=4, best=1)
    stop.on_epoch_end(3)
    assert not stop.model.stop_training
    _records(tmp_path, latest=5, best=1)  # five epochs in all, still stale: now it stops
    stop.on_epoch_end(4)
    assert stop.model.stop_training and stop.stopped_epoch == 5
    assert patience_spent(str(tmp_path), 2, 5) and not patience_spent(str(tmp_path), 2, 6)
    assert not patience_spent(str(tmp_path), 5)  # four epochs since the best


def test_patience_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match="patience"):
        StopWhenStale(str(tmp_path), 0)
    with pytest.raises(ValueError, match="min_epochs"):
        StopWhenStale(str(tmp_path), 2, min_epochs=-1)
