"""Keras callbacks that make training safe to kill, resume and budget."""

import json
import os
import time

import keras
import numpy as np

from trainkit.run_dir import BEST, LATEST, atomic_write_text


class Checkpoints(keras.callbacks.Callback):
    """Writes ``latest.weights.h5`` every epoch and ``best.weights.h5`` when ``monitor``
    improves (``mode`` ``max`` or ``min``), each atomically (written aside, then renamed). The
    best score so far lives in ``best.json``, so a resumed run does not overwrite a better model.
    A write that fails (disk full, directory gone) stops training and keeps the old checkpoint."""

    def __init__(self, model_dir, monitor="val_accuracy", mode="max"):
        super().__init__()
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
        self.model_dir, self.monitor, self.mode = model_dir, monitor, mode
        self.best_path = os.path.join(model_dir, "best.json")

    def _save(self, name):
        tmp = os.path.join(self.model_dir, "tmp-" + name)
        try:
            self.model.save_weights(tmp)
            os.replace(tmp, os.path.join(self.model_dir, name))
        except OSError as e:
            if os.path.exists(tmp):
                os.remove(tmp)
            print(f"\nstopping: cannot write {name} in {self.model_dir} ({e.strerror or e}); "
                  "the previous checkpoint is kept. Free space or fix permissions, then rerun to resume.")
            self.model.stop_training = True
            return False
        return True

    def _better(self, score, best):
        return best is None or (score > best if self.mode == "max" else score < best)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if not np.isfinite(logs.get("loss", 0.0)):
            return  # never replace a good checkpoint with a diverged model
        if not self._save(LATEST):
            return
        score = logs.get(self.monitor)
        best = None
        if os.path.exists(self.best_path):
            with open(self.best_path) as f:
                best = json.load(f).get(self.monitor)
        if score is not None and np.isfinite(score) and self._better(score, best):
            if self._save(BEST):
                atomic_write_text(self.best_path, json.dumps({self.monitor: float(score), "epoch": epoch + 1}))


class SafeBackup(keras.callbacks.BackupAndRestore):
    """``BackupAndRestore`` that never backs up a diverged (non-finite loss) model."""

    def on_epoch_end(self, epoch, logs=None):
        if np.isfinite((logs or {}).get("loss", 0.0)):
            super().on_epoch_end(epoch, logs)


class StopOnNaN(keras.callbacks.Callback):
    """Stops at once on a NaN or infinite loss, with one clear line; checkpoints stay as they were.
    Sets ``model.nan_stopped`` so that a CLI can exit non-zero."""

    def on_train_begin(self, logs=None):
        self.model.nan_stopped = False

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            print(f"\nstopping: the loss became {loss} at batch {batch}; the last good checkpoint is kept")
            self.model.stop_training = True
            self.model.nan_stopped = True


TRAIN_TIME_FILE = "train_time.json"


def training_time(model_dir):
    """``(seconds, epochs, last_epoch_seconds)`` of training recorded in ``model_dir`` by
    :class:`TimeBudget` over every sitting of the run (zeros if none)."""
    try:
        with open(os.path.join(model_dir, TRAIN_TIME_FILE)) as f:
            record = json.load(f)
        last = record.get("last_epoch", record.get("longest_epoch"))  # the older name
        return float(record["seconds"]), int(record["epochs"]), float(last)
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0, 0, 0.0


class TimeBudget(keras.callbacks.Callback):
    """Stops training before the epoch that would end after ``minutes`` of training.

    With ``model_dir``, the training time is counted over every sitting of the run: each
    epoch adds its seconds to ``model_dir/train_time.json`` (written atomically), and a
    resumed run starts from that total, so a killed run re-run with the same budget trains
    only what is left of it. ``minutes=None`` only records the time.
    """

    def __init__(self, minutes=None, model_dir=None):
        super().__init__()
        self.seconds = None if minutes is None else minutes * 60.0
        self.model_dir = model_dir

    def on_train_begin(self, logs=None):
        self.spent, self.epochs, self.last_epoch = (training_time(self.model_dir) if self.model_dir
                                                    else (0.0, 0, 0.0))
        self.epoch_start = time.monotonic()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        took = time.monotonic() - self.epoch_start
        self.spent += took
        self.epochs = epoch + 1
        self.last_epoch = took  # the next epoch's estimate (the first of a sitting also compiles)
        if self.model_dir:
            atomic_write_text(os.path.join(self.model_dir, TRAIN_TIME_FILE),
                              json.dumps({"seconds": self.spent, "epochs": self.epochs,
                                          "last_epoch": self.last_epoch}))
        if self.seconds is not None and self.spent + self.last_epoch > self.seconds:
            self.model.stop_training = True


def budget_spent(model_dir, minutes):
    """True if the run in ``model_dir`` has no room for another epoch within ``minutes``."""
    seconds, epochs, last = training_time(model_dir)
    return minutes is not None and epochs > 0 and seconds + last > minutes * 60.0


def epochs_backed_up(backup_dir):
    """Epochs completed by the run whose ``BackupAndRestore`` directory this is (0 if none)."""
    for name in ("training_metadata.json", "training_metadata.json.bkp"):
        try:
            with open(os.path.join(backup_dir, name)) as f:
                return int(json.load(f)["epoch"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return 0
