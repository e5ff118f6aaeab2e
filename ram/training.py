"""Training RAM: the learning-rate schedule, checkpoints, TensorBoard pictures, and fit()."""

import dataclasses
import json
import os
import time

import keras
import numpy as np
import tensorflow as tf

import data
from ram import distribute, visualize
from ram.config import RAMConfig
from ram.model import RecurrentAttentionModel

CONFIG_FILE = "config.json"
BEST, LATEST = "best.weights.h5", "latest.weights.h5"


class RunError(Exception):
    """A user-facing problem with a run directory or checkpoint; the message says what to do."""


@keras.saving.register_keras_serializable(package="ram")
class DecayWithFloor(keras.optimizers.schedules.LearningRateSchedule):
    """``lr(step) = max(lr0 * rate ** floor(step / decay_steps), lr0 * floor_ratio)``.

    The original repo's staircase decay (x0.97 every 500 steps) with the floor it keeps (lr/10):
    without a floor, at ~8,000 images/s the rate falls tenfold every ~13 minutes and a long run
    stops learning.
    """

    def __init__(self, initial, decay_steps=500, rate=0.97, floor_ratio=0.1):
        self.initial, self.decay_steps, self.rate, self.floor_ratio = initial, decay_steps, rate, floor_ratio

    def __call__(self, step):
        exponent = tf.floor(tf.cast(step, tf.float32) / self.decay_steps)
        return tf.maximum(self.initial * tf.pow(self.rate, exponent), self.initial * self.floor_ratio)

    def get_config(self):
        return dict(initial=self.initial, decay_steps=self.decay_steps, rate=self.rate,
                    floor_ratio=self.floor_ratio)


def steps_per_execution_for(steps_per_epoch, most=20):
    """The largest divisor of ``steps_per_epoch`` up to ``most``: fewer host round trips per
    step, and the progress bar still ends exactly on the epoch."""
    return max(d for d in range(1, most + 1) if steps_per_epoch % d == 0)


def build_model(config, image_size, jit_compile=True, steps_per_execution=1):
    """A compiled, built :class:`RecurrentAttentionModel` for ``config``: Adam, clipped gradients.

    ``jit_compile=True`` (XLA) trains ~2.9x faster than plain ``tf.function`` on 2 CPU cores
    (translate config: ~7,200 vs ~2,500 images/s; ``benchmarks/ram_throughput.py``).
    """
    model = RecurrentAttentionModel(**config.model_kwargs())
    schedule = DecayWithFloor(config.learning_rate, config.decay_steps, config.decay_rate,
                              config.min_learning_rate_ratio)
    model.compile(optimizer=keras.optimizers.Adam(schedule, global_clipnorm=config.clipnorm),
                  jit_compile=jit_compile, steps_per_execution=steps_per_execution)
    model(tf.zeros([1, image_size, image_size, 1]))  # build the weights
    return model


def _atomic_write_text(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def prepare_run_dir(model_dir, config):
    """Creates ``model_dir`` and writes ``config.json``; refuses a directory of another architecture."""
    try:
        os.makedirs(model_dir, exist_ok=True)
    except OSError as e:
        raise RunError(f"cannot create --model_dir {model_dir}: {e.strerror}; choose another directory") from None
    if not os.access(model_dir, os.W_OK):
        raise RunError(f"--model_dir {model_dir} is not writable; choose another directory")
    path = os.path.join(model_dir, CONFIG_FILE)
    if os.path.exists(path):
        old = load_config(model_dir)
        clash = [f"{k}: {getattr(old, k)} there, {getattr(config, k)} now"
                 for k in RAMConfig.ARCHITECTURE if getattr(old, k) != getattr(config, k)]
        if clash:
            raise RunError(f"--model_dir {model_dir} holds a run with another configuration ({'; '.join(clash)}); "
                           "use a new --model_dir or the same flags")
    _atomic_write_text(path, config.to_json())


def load_config(model_dir):
    path = os.path.join(model_dir, CONFIG_FILE)
    if not os.path.exists(path):
        raise RunError(f"no trained model in {model_dir} (no {CONFIG_FILE}); train one with --train "
                       "or point --model_dir at a run directory")
    try:
        with open(path) as f:
            return RAMConfig.from_json(f.read())
    except (ValueError, TypeError) as e:
        raise RunError(f"{path} is damaged ({e}); retrain or restore it") from None


def load_trained(model_dir, which="best", mc_samples=None):
    """Rebuilds the model of a run directory and loads a checkpoint.

    Args:
      model_dir: a directory written by :func:`train`.
      which: ``best``, ``latest``, or a path to a ``.weights.h5`` file.
      mc_samples: overrides the run's evaluation ``mc_samples`` when given.

    Returns:
      ``(model, config)``.
    """
    config = load_config(model_dir)
    if mc_samples is not None:
        config = dataclasses.replace(config, mc_samples=mc_samples)
    path = {"best": os.path.join(model_dir, BEST), "latest": os.path.join(model_dir, LATEST)}.get(which, which)
    if not os.path.exists(path):
        raise RunError(f"checkpoint {path} does not exist; use --load best, --load latest or a "
                       ".weights.h5 file, after --train")
    model = build_model(config, data.image_size(config.dataset))
    model.optimizer.build(model.trainable_variables)  # so that its saved slots load silently
    try:
        model.load_weights(path)
    except Exception as e:  # h5py/keras raise many types for a damaged or mismatched file
        raise RunError(f"cannot load checkpoint {path} ({type(e).__name__}: {e}); "
                       "it is damaged or from another configuration") from None
    return model, config


class Checkpoints(keras.callbacks.Callback):
    """Writes ``latest.weights.h5`` every epoch and ``best.weights.h5`` when ``val_accuracy``
    improves, each atomically (written aside, then renamed). The best score so far lives in
    ``best.json``, so a resumed run does not overwrite a better model."""

    def __init__(self, model_dir):
        super().__init__()
        self.model_dir = model_dir
        self.best_path = os.path.join(model_dir, "best.json")

    def _save(self, name):
        tmp = os.path.join(self.model_dir, "tmp-" + name)
        try:
            self.model.save_weights(tmp)
            os.replace(tmp, os.path.join(self.model_dir, name))
        except OSError as e:  # disk full, directory removed or made read-only mid-run
            if os.path.exists(tmp):
                os.remove(tmp)
            print(f"\nstopping: cannot write {name} in {self.model_dir} ({e.strerror or e}); "
                  "the previous checkpoint is kept. Free space or fix permissions, then rerun to resume.")
            self.model.stop_training = True
            return False
        return True

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if not np.isfinite(logs.get("loss", 0.0)):
            return  # never replace a good checkpoint with a diverged model
        if not self._save(LATEST):
            return
        score = logs.get("val_accuracy")
        best = None
        if os.path.exists(self.best_path):
            with open(self.best_path) as f:
                best = json.load(f).get("val_accuracy")
        if score is not None and (best is None or score > best):
            self._save(BEST)
            _atomic_write_text(self.best_path, json.dumps({"val_accuracy": float(score), "epoch": epoch + 1}))


class SafeBackup(keras.callbacks.BackupAndRestore):
    """``BackupAndRestore`` that never backs up a diverged (non-finite loss) model."""

    def on_epoch_end(self, epoch, logs=None):
        if np.isfinite((logs or {}).get("loss", 0.0)):
            super().on_epoch_end(epoch, logs)


class GlimpsePictures(keras.callbacks.Callback):
    """Logs glimpse-path pictures of a fixed validation batch to TensorBoard every epoch."""

    def __init__(self, log_dir, images, labels, max_images=6):
        super().__init__()
        self.writer = tf.summary.create_file_writer(os.path.join(log_dir, "glimpses"))
        self.images, self.labels = images[:max_images], labels[:max_images]

    def on_epoch_end(self, epoch, logs=None):
        out = {k: v.numpy() for k, v in self.model.explain(self.images).items()}
        pictures = [visualize.glimpse_path_strip(self.images[i, ..., 0].numpy(), out["locations"][i],
                                                 out["step_probabilities"][i], self.model.sensor,
                                                 label=int(self.labels[i]))
                    for i in range(len(self.labels))]
        with self.writer.as_default():
            tf.summary.image("glimpse_paths", np.stack([np.asarray(p, np.float32) / 255.0 for p in pictures]),
                             step=epoch + 1, max_outputs=len(pictures))
        self.writer.flush()


class StopOnNaN(keras.callbacks.Callback):
    """Stops at once on a NaN or infinite loss, with one clear line; checkpoints stay as they were."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            print(f"\nstopping: the loss became {loss} at batch {batch}; the last good checkpoint is kept")
            self.model.stop_training = True
            self.model.nan_stopped = True


class TimeBudget(keras.callbacks.Callback):
    """Stops training before the epoch that would end after ``minutes`` of training."""

    def __init__(self, minutes):
        super().__init__()
        self.seconds = minutes * 60.0

    def on_train_begin(self, logs=None):
        self.start = self.epoch_start = time.monotonic()
        self.longest_epoch = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        now = time.monotonic()
        self.longest_epoch = max(self.longest_epoch, now - self.epoch_start)
        if now - self.start + self.longest_epoch > self.seconds:
            self.model.stop_training = True


def _epochs_backed_up(backup_dir):
    """Epochs completed by the run whose ``BackupAndRestore`` directory this is (0 if none)."""
    for name in ("training_metadata.json", "training_metadata.json.bkp"):
        try:
            with open(os.path.join(backup_dir, name)) as f:
                return int(json.load(f)["epoch"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return 0


def train(config, model_dir, mnist=None, limit=None, verbose="auto", minutes=None, strategy=None,
          backup_steps=None):
    """Trains (or resumes) the run in ``model_dir``; returns the Keras ``History``.

    Validation every epoch; ``best``/``latest`` checkpoints and ``config.json`` in ``model_dir``;
    TensorBoard logs in ``model_dir/logs`` (loss terms, accuracy, reward, learning rate,
    glimpse paths); a backup in ``model_dir/backup`` from which a killed run resumes (every
    epoch, or every ``backup_steps`` steps). Under a ``strategy`` (see
    :mod:`ram.distribute`) ``config.batch_size`` is the global batch and only the chief
    worker writes the run's files.
    """
    strategy = strategy or tf.distribute.get_strategy()
    replicas = strategy.num_replicas_in_sync
    if config.batch_size % replicas:
        raise RunError(f"--batch {config.batch_size} must be a multiple of the {replicas} replicas")
    chief = distribute.is_chief()
    if chief:
        prepare_run_dir(model_dir, config)
    write_dir = distribute.worker_dir(model_dir)
    os.makedirs(write_dir, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    backup_dir = os.path.join(write_dir, "backup")
    if mnist is None:
        mnist = data.load_mnist()
    train_size = len(mnist["train"][0][:limit])
    steps = train_size // config.batch_size
    if steps < 1:
        raise RunError(f"batch size {config.batch_size} is larger than the training split; lower --batch")
    # Epoch e reads pass e of an endless, index-keyed stream: a resumed run sees the same data.
    train_ds = data.make_dataset(config.dataset, "train", config.batch_size, seed=config.seed,
                                 mnist=mnist, limit=limit, first_pass=_epochs_backed_up(backup_dir))
    val_ds = data.make_dataset(config.dataset, "validation", config.batch_size, seed=config.seed,
                               mnist=mnist, limit=limit)
    single = replicas == 1 and not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
    with strategy.scope():
        # Under a multi-replica strategy Keras 3.15's multi-step loop fails to trace ("must feed
        # a value for placeholder"), and XLA cannot read a mirrored variable held on another
        # device: one step per call there, and no XLA.
        model = build_model(config, data.image_size(config.dataset), jit_compile=single,
                            steps_per_execution=steps_per_execution_for(steps) if single else 1)
    model.nan_stopped = False
    callbacks = [SafeBackup(backup_dir, save_freq=backup_steps or "epoch",
                            double_checkpoint=True, delete_checkpoint=False),
                 StopOnNaN()]
    if chief:
        log_dir = os.path.join(model_dir, "logs")
        val_images, val_labels = next(iter(val_ds))
        callbacks += [Checkpoints(model_dir), keras.callbacks.TensorBoard(log_dir, write_graph=False),
                      GlimpsePictures(log_dir, val_images, val_labels)]
    if minutes:
        callbacks.append(TimeBudget(minutes))
    history = model.fit(train_ds, validation_data=val_ds, epochs=config.epochs, steps_per_epoch=steps,
                        callbacks=callbacks, verbose=verbose if chief else 0, shuffle=False)
    history.nan_stopped = model.nan_stopped
    return history


def evaluate(model, config, split="test", mnist=None, limit=None):
    """Returns ``(error_percent, accuracy)`` of ``model`` on a split of its data set."""
    ds = data.make_dataset(config.dataset, split, 500, seed=config.seed, mnist=mnist, limit=limit)
    results = model.evaluate(ds, verbose=0, return_dict=True)
    return 100.0 * (1.0 - results["accuracy"]), results["accuracy"]
