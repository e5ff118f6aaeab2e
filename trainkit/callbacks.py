"""Keras callbacks that make training safe to kill, resume and budget."""

import json
import os
import time

import keras
import numpy as np

from trainkit.run_dir import BEST, LATEST, RunError, atomic_write_text

LATEST_RECORD = "latest.json"  # the epoch latest.weights.h5 holds


class Checkpoints(keras.callbacks.Callback):
    """Writes ``latest.weights.h5`` every epoch and ``best.weights.h5`` when ``monitor``
    improves (``mode`` ``max`` or ``min``), each atomically (written aside, then renamed). The
    best score so far lives in ``best.json``, so a resumed run does not overwrite a better model;
    ``latest.json`` names the epoch ``latest`` holds. Give it the run's :class:`SafeBackup`
    (listed before it) to recover a checkpoint a kill lost.
    A write that fails (disk full, directory gone) stops training and keeps the old checkpoint."""

    def __init__(self, model_dir, monitor="val_accuracy", mode="max", backup=None):
        super().__init__()
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
        self.model_dir, self.monitor, self.mode, self.backup = model_dir, monitor, mode, backup
        self.failed = False
        self.best_path = os.path.join(model_dir, "best.json")

    def _save(self, name):
        tmp = os.path.join(self.model_dir, "tmp-" + name)
        try:
            self.model.save_weights(tmp)
            os.replace(tmp, os.path.join(self.model_dir, name))
        except Exception as e:  # OSError, or h5py's own types for a write that fails partway
            self.failed = True
            if os.path.exists(tmp):
                os.remove(tmp)
            print(f"\nstopping: cannot write {name} in {self.model_dir} ({getattr(e, 'strerror', None) or e}); "
                  "the previous checkpoint is kept. Free space or fix permissions, then rerun to resume.")
            self.model.stop_training = True
            return False
        return True

    def _better(self, score, best):
        return best is None or (score > best if self.mode == "max" else score < best)

    def on_train_begin(self, logs=None):
        """Writes the checkpoints of a backed-up epoch that a kill kept from being written.

        The backup of epoch E is written before E's checkpoints; a run killed between the two
        resumes at E + 1, and if E was the last epoch there is nothing left to train. So when
        the restored backup (see :class:`SafeBackup`) is newer than ``latest``, its weights
        become ``latest`` (and ``best`` if its logged score is better), as if E had finished.
        """
        record = getattr(self.backup, "restored", None)
        latest = _read_json(os.path.join(self.model_dir, LATEST_RECORD)) or {"epoch": 0}
        if record and record.get("batch", 0) == 0 and record["epoch"] > latest["epoch"]:
            print(f"writing the checkpoints of epoch {record['epoch']}, which the last run backed up "
                  "but did not get to write", flush=True)
            self.on_epoch_end(record["epoch"] - 1, record.get("logs") or {})

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if not np.isfinite(logs.get("loss", 0.0)):
            return  # never replace a good checkpoint with a diverged model
        if not self._save(LATEST):
            return
        atomic_write_text(os.path.join(self.model_dir, LATEST_RECORD), json.dumps({"epoch": epoch + 1}))
        score = logs.get(self.monitor)
        best = None
        if os.path.exists(self.best_path):
            with open(self.best_path) as f:
                best = json.load(f).get(self.monitor)
        if score is not None and np.isfinite(score) and self._better(score, best):
            if self._save(BEST):
                atomic_write_text(self.best_path, json.dumps({self.monitor: float(score), "epoch": epoch + 1}))


def epochs_since_best(model_dir):
    """``(epochs trained, epochs since the best checkpoint)`` of a run (0, 0 before any)."""
    latest = (_read_json(os.path.join(model_dir, LATEST_RECORD)) or {}).get("epoch", 0)
    best = (_read_json(os.path.join(model_dir, "best.json")) or {}).get("epoch", 0)
    return latest, latest - best


def patience_spent(model_dir, patience, min_epochs=0):
    """Whether a run has gone ``patience`` epochs without a new best checkpoint and has trained
    at least ``min_epochs`` epochs: the rule of :class:`StopWhenStale`, from the run's records."""
    trained, stale = epochs_since_best(model_dir)
    return stale >= patience and trained >= min_epochs


class StopWhenStale(keras.callbacks.Callback):
    """Stops training once ``patience`` epochs have passed without a new best checkpoint, but
    never before ``min_epochs`` epochs in all (a run's validation accuracy can sit on a noisy
    plateau near chance for its first epochs before it starts to rise).

    It reads the run's own records (``latest.json`` and ``best.json``, list it after
    :class:`Checkpoints`), so the count carries over sittings: a resumed run stops where an
    uninterrupted one would. Use :func:`patience_spent` to skip a run that already stopped.
    """

    def __init__(self, model_dir, patience, min_epochs=0):
        super().__init__()
        if patience < 1:
            raise ValueError(f"patience must be >= 1, got {patience}")
        if min_epochs < 0:
            raise ValueError(f"min_epochs must be >= 0, got {min_epochs}")
        self.model_dir, self.patience, self.min_epochs = model_dir, int(patience), int(min_epochs)
        self.stopped_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        if patience_spent(self.model_dir, self.patience, self.min_epochs):
            self.stopped_epoch = epoch + 1
            self.model.stop_training = True


class SafeBackup(keras.callbacks.BackupAndRestore):
    """``BackupAndRestore`` whose backup is replaced whole, never half-written.

    Each backup writes its weights to a new file (``backup/epoch-E-batch-B.weights.h5``) and
    only then points ``training_metadata.json`` at it (written aside and renamed). The file it
    replaces is kept as the fallback (``training_metadata.json.bkp``). A write that fails
    (disk full, a file-size limit, permissions) removes its partial file, keeps the previous
    backup as it was, and stops training with one ``stopping:`` line; a damaged backup at
    resume falls back to the previous one. A diverged model (non-finite loss) is never backed
    up. The metadata also keeps the epoch's logs, so that :class:`Checkpoints` can write a
    checkpoint that a kill lost (see :meth:`Checkpoints.on_train_begin`).
    """

    def __init__(self, backup_dir, save_freq="epoch", **kwargs):
        kwargs.update(double_checkpoint=True, delete_checkpoint=False)
        super().__init__(backup_dir, save_freq=save_freq, **kwargs)
        self.failed = False
        self._epoch_logs = {}

    def on_epoch_end(self, epoch, logs=None):
        if np.isfinite((logs or {}).get("loss", 0.0)):
            self._epoch_logs = {k: float(v) for k, v in (logs or {}).items() if np.isscalar(v) or np.ndim(v) == 0}
            super().on_epoch_end(epoch, logs)

    def _save_model(self):
        if self.failed:
            return
        name = f"epoch-{self._current_epoch}-batch-{self._last_batch_seen}.weights.h5"
        path = os.path.join(self.backup_dir, name)
        try:
            os.makedirs(self.backup_dir, exist_ok=True)
            self.model.save_weights(path, overwrite=True)
            previous = _read_json(self._training_metadata_path)
            record = {"epoch": self._current_epoch, "batch": self._last_batch_seen, "weights": name,
                      "logs": self._epoch_logs}
            if previous is not None:
                atomic_write_text(self._prev_training_metadata_path, json.dumps(previous))
            atomic_write_text(self._training_metadata_path, json.dumps(record))
        except Exception as e:  # h5py and the OS raise many types for a failed write
            if os.path.exists(path) and (_read_json(self._training_metadata_path) or {}).get("weights") != name:
                os.remove(path)
            self.failed = True
            self.model.stop_training = True
            print(f"\nstopping: cannot write the resumption backup in {self.backup_dir} "
                  f"({getattr(e, 'strerror', None) or e}); the previous backup is kept. Free space or fix "
                  "permissions, then rerun the same command to resume.", flush=True)
            return
        keep = {name, (previous or {}).get("weights")}
        for stale in os.listdir(self.backup_dir):
            if stale.endswith(".weights.h5") and stale not in keep:
                os.remove(os.path.join(self.backup_dir, stale))

    def on_train_begin(self, logs=None):
        for metadata in (self._training_metadata_path, self._prev_training_metadata_path):
            record = _read_json(metadata)
            if record is None:
                continue
            weights = os.path.join(self.backup_dir, str(record.get("weights", "")))
            if "weights" not in record:  # written by Keras' own BackupAndRestore
                weights = self._weights_path if metadata == self._training_metadata_path else self._prev_weights_path
            try:
                if not os.path.isfile(weights):
                    raise OSError(f"{weights} is missing")
                if self.model.optimizer is not None and not self.model.optimizer.built:
                    self.model.optimizer.build(self.model.trainable_variables)
                self.model.load_weights(weights)
            except Exception as e:  # a damaged backup: try the one before it
                print(f"the resumption backup {weights} cannot be read ({type(e).__name__}); "
                      "trying the one before it", flush=True)
                continue
            self.model._initial_epoch = int(record["epoch"])
            self.restored = record
            return
        self.restored = None
        if os.path.exists(self._training_metadata_path) or os.path.exists(self._prev_training_metadata_path):
            # Starting over would overwrite the run's checkpoints with an untrained model.
            raise RunError(f"no resumption backup in {self.backup_dir} can be read; move that directory "
                           "away to train again from the start (best and latest checkpoints are kept)")


def _read_json(path):
    try:
        with open(path) as f:
            value = json.load(f)
        return value if isinstance(value, dict) and isinstance(value.get("epoch"), int) else None
    except (OSError, ValueError):
        return None


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
