"""The run harness all three models train, reload and export through.

A model's ``training.py`` builds its model, its data and its pictures; this module owns the
rest, once: the run directory (:func:`open_run`), the fit loop with the callbacks that make a
run safe to kill, resume and budget (:func:`fit`), the TensorBoard pictures
(:class:`PictureLogger`), reloading a run (:func:`load_run`) and SavedModel export
(:func:`export_saved_model`).
"""

import dataclasses
import os
import warnings

import keras
import numpy as np
import tensorflow as tf

from trainkit import distribute
from trainkit.callbacks import (Checkpoints, SafeBackup, StopOnNaN, StopWhenStale, TimeBudget, budget_spent,
                                epochs_backed_up)
from trainkit.run_dir import RunError, checkpoint_path, load_config, load_weights, refuse_nonempty_dir

LOG_DIR = "logs"
BACKUP_DIR = "backup"


@dataclasses.dataclass(frozen=True)
class Run:
    """Where one process of a training run writes, and under which strategy.

    ``model_dir`` holds the run (config, checkpoints, logs); ``write_dir`` is ``model_dir`` for
    the chief and a private directory for other workers (:func:`trainkit.distribute.worker_dir`).
    """
    model_dir: str
    write_dir: str
    strategy: tf.distribute.Strategy
    chief: bool

    @property
    def backup_dir(self):
        return os.path.join(self.write_dir, BACKUP_DIR)

    @property
    def log_dir(self):
        return os.path.join(self.model_dir, LOG_DIR)

    @property
    def first_pass(self):
        """The epoch a resumed run starts at: its data streams start at that pass, so a killed
        and resumed run reads the same batches as an uninterrupted one."""
        return epochs_backed_up(self.backup_dir)

    @property
    def single_device(self):
        """One replica in one process: where XLA and several steps per call are safe (XLA cannot
        read a variable mirrored on another device, and Keras' multi-step loop fails to trace
        under a multi-replica strategy)."""
        return (self.strategy.num_replicas_in_sync == 1
                and not isinstance(self.strategy, tf.distribute.MultiWorkerMirroredStrategy))


def open_run(model_dir, config, strategy=None):
    """Starts (or resumes) the run of ``config`` in ``model_dir``: checks the batch against the
    replicas, writes or checks ``config.json``/``run.json`` (chief only), seeds everything from
    ``config.seed``. Returns a :class:`Run`."""
    strategy, chief, write_dir = distribute.start_run(model_dir, config, strategy)
    keras.utils.set_random_seed(config.seed)
    return Run(model_dir, write_dir, strategy, chief)


def steps_per_epoch(examples, batch_size):
    """Whole batches in a training split of ``examples``; :class:`RunError` when there are none."""
    steps = int(examples) // int(batch_size)
    if steps < 1:
        raise RunError(f"--batch {batch_size} is larger than the training set ({examples}); lower it")
    return steps


class PictureLogger(keras.callbacks.Callback):
    """Logs the pictures ``draw(model)`` returns to TensorBoard at the end of every epoch.

    ``draw`` returns a list of ``[H, W, C]`` uint8 pictures (PIL images or arrays, sizes may
    differ: each is padded with black to the largest), or an empty list to log nothing.
    Written under ``log_dir/<subdir>`` as the image summary ``tag``.
    """

    def __init__(self, log_dir, draw, tag, subdir="pictures"):
        super().__init__()
        self.draw, self.tag = draw, tag
        self.writer = tf.summary.create_file_writer(os.path.join(log_dir, subdir))

    def on_epoch_end(self, epoch, logs=None):
        pictures = [np.asarray(p, np.float32) / 255.0 for p in self.draw(self.model)]
        if not pictures:
            return
        pictures = [p[..., None] if p.ndim == 2 else p for p in pictures]
        height, width = max(p.shape[0] for p in pictures), max(p.shape[1] for p in pictures)
        pictures = [np.pad(p, [[0, height - p.shape[0]], [0, width - p.shape[1]], [0, 0]]) for p in pictures]
        with self.writer.as_default():
            tf.summary.image(self.tag, np.stack(pictures), step=epoch + 1, max_outputs=len(pictures))
        self.writer.flush()


def fit(run, model, train_ds, val_ds, *, epochs, steps, minutes=None, verbose="auto", pictures=None,
        monitor="val_accuracy", mode="max", patience=None, min_epochs=0, backup_steps=None, callbacks=()):
    """Trains ``model`` in ``run`` from where its backup left off; returns the Keras ``History``.

    Every epoch: validation, ``latest`` and (when ``monitor`` improves, ``mode`` ``max`` or
    ``min``) ``best`` checkpoints, TensorBoard scalars in ``logs/``, the pictures of
    ``pictures`` (:class:`PictureLogger` arguments ``(draw, tag, subdir)``, chief only), and a backup in
    ``backup/`` (or every ``backup_steps`` steps) from which a killed run resumes. Stops on a
    non-finite loss, after ``minutes`` of training summed over every sitting, or after
    ``patience`` epochs without a new best checkpoint (also over sittings; never before
    ``min_epochs`` epochs in all). ``callbacks``: the model's own, run after the backup and before
    the checkpoints (e.g. one that swaps weights in for validation). ``History`` carries
    ``nan_stopped`` and ``write_failed`` so that a command line can exit non-zero.
    """
    if budget_spent(run.model_dir, minutes):
        print(f"{run.model_dir} has already trained its {minutes:g} minutes; nothing left to train")
        return _empty_history()
    if patience and isinstance(run.strategy, tf.distribute.MultiWorkerMirroredStrategy):
        raise RunError("patience (early stopping) is not supported with several workers: every worker "
                       "would have to stop at the same epoch; use --epoch")
    backup = SafeBackup(run.backup_dir, save_freq=backup_steps or "epoch")
    callbacks = [backup, StopOnNaN(), *callbacks]
    if run.chief:
        callbacks += [Checkpoints(run.model_dir, monitor, mode, backup=backup),
                      keras.callbacks.TensorBoard(run.log_dir, write_graph=False)]
        if pictures is not None:
            callbacks.append(PictureLogger(run.log_dir, *pictures))
    callbacks.append(TimeBudget(minutes, run.model_dir if run.chief else None))
    if patience:
        callbacks.append(StopWhenStale(run.model_dir, patience, min_epochs))
    history = model.fit(train_ds, validation_data=val_ds, epochs=epochs, steps_per_epoch=steps,
                        callbacks=callbacks, verbose=verbose if run.chief else 0, shuffle=False)
    history.nan_stopped = getattr(model, "nan_stopped", False)
    history.write_failed = any(getattr(c, "failed", False) for c in callbacks)
    return history


def _empty_history():
    history = keras.callbacks.History()
    history.history, history.nan_stopped, history.write_failed = {}, False, False
    return history


def load_run(model_dir, config_cls, build, which="best", **overrides):
    """Rebuilds the model of a run directory and loads one of its checkpoints.

    Args:
      model_dir: a directory written by a model's ``train``.
      config_cls: that model's config class (a run of another model is refused).
      build: ``config -> built model``.
      which: ``best``, ``latest``, or a path to a ``.weights.h5`` file.
      **overrides: config fields to replace that do not change the weights (e.g. ``mc_samples``).

    Returns:
      ``(model, config)``.
    """
    config = load_config(model_dir, config_cls)
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if overrides:
        config = dataclasses.replace(config, **overrides)
    path = checkpoint_path(model_dir, which)
    model = build(config)
    load_weights(model, path)
    return model, config


def load_pretrained(package, name, config_cls, build, **overrides):
    """Rebuilds ``package``'s shipped model ``name`` (:mod:`trainkit.pretrained`) and loads its
    weights once their checksum matches. ``overrides`` as in :func:`load_run`. Returns
    ``(model, config, manifest)``; :class:`RunError` for an unknown name or a damaged file."""
    import json

    from trainkit import pretrained

    path, manifest = pretrained.verified_weights(package, name)
    try:
        config = config_cls.from_json(json.dumps(manifest["config"]))
    except (ValueError, TypeError) as e:
        raise RunError(f"the pretrained {package} model {name!r} has a damaged config ({e}); reinstall the "
                       "package or restore the file (git checkout)") from None
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if overrides:
        config = dataclasses.replace(config, **overrides)
    model = build(config)
    with warnings.catch_warnings():  # a shipped file holds the model's weights only, no optimizer slots
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        load_weights(model, path)
    return model, config, manifest


def export_saved_model(model, export_dir, serve, input_signature):
    """Writes a SavedModel of ``model`` whose ``serving_default`` is ``serve(*inputs)``.

    Raises :class:`RunError` (before writing) if ``export_dir`` is a file, a non-empty
    directory or cannot be written, and if the write fails partway (e.g. disk full).
    """
    refuse_nonempty_dir(export_dir, "--export")
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(name="serving_default", fn=serve, input_signature=input_signature)
    try:
        archive.write_out(export_dir, verbose=False)
    except OSError as e:
        raise RunError(f"cannot write the SavedModel to {export_dir} ({e.strerror or e}); "
                       "free space or choose another directory") from None
