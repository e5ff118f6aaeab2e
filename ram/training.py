"""Training RAM: the learning-rate schedule, checkpoints, TensorBoard pictures, and fit()."""

import dataclasses
import os

import keras
import numpy as np
import tensorflow as tf

import data
from ram import visualize
from trainkit import distribute
from ram.config import RAMConfig
from ram.model import RecurrentAttentionModel
from trainkit import (Checkpoints, RunError, SafeBackup, StopOnNaN, TimeBudget,  # noqa: F401  (RunError: CLI)
                      budget_spent, checkpoint_path, epochs_backed_up, load_config, load_weights)


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
    step, and the progress bar still ends exactly on the epoch (15 for 390 steps). Measured
    in real training on the 2-core machine, 15 trains faster than 5, although the train step
    alone runs faster at 5 (``python -m benchmarks.ram_throughput``; docs/ram_reproduction.md);
    pass ``steps_per_execution`` to :func:`train` (``--steps_per_execution``) to override."""
    return max(d for d in range(1, most + 1) if steps_per_epoch % d == 0)


def build_model(config, image_size, jit_compile=True, steps_per_execution=1):
    """A compiled, built :class:`RecurrentAttentionModel` for ``config``: Adam, clipped gradients.

    ``jit_compile=True`` (XLA) is several times faster than plain ``tf.function`` on CPU
    (``python -m benchmarks.ram_throughput`` measures both; figures in docs/ram_reproduction.md).
    """
    model = RecurrentAttentionModel(**config.model_kwargs())
    schedule = DecayWithFloor(config.learning_rate, config.decay_steps, config.decay_rate,
                              config.min_learning_rate_ratio)
    model.compile(optimizer=keras.optimizers.Adam(schedule, global_clipnorm=config.clipnorm),
                  jit_compile=jit_compile, steps_per_execution=steps_per_execution)
    model(tf.zeros([1, image_size, image_size, 1]))  # build the weights
    return model


def load_trained(model_dir, which="best", mc_samples=None):
    """Rebuilds the model of a run directory and loads a checkpoint.

    Args:
      model_dir: a directory written by :func:`train`.
      which: ``best``, ``latest``, or a path to a ``.weights.h5`` file.
      mc_samples: overrides the run's evaluation ``mc_samples`` when given.

    Returns:
      ``(model, config)``.
    """
    config = load_config(model_dir, RAMConfig)
    if mc_samples is not None:
        config = dataclasses.replace(config, mc_samples=mc_samples)
    path = checkpoint_path(model_dir, which)
    model = build_model(config, data.image_size(config.dataset))
    load_weights(model, path)
    return model, config


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


def train(config, model_dir, mnist=None, limit=None, verbose="auto", minutes=None, strategy=None,
          backup_steps=None, steps_per_execution=None):
    """Trains (or resumes) the run in ``model_dir``; returns the Keras ``History``.

    Validation every epoch; ``best``/``latest`` checkpoints and ``config.json`` in ``model_dir``;
    TensorBoard logs in ``model_dir/logs`` (loss terms, accuracy, reward, learning rate,
    glimpse paths); a backup in ``model_dir/backup`` from which a killed run resumes (every
    epoch, or every ``backup_steps`` steps). ``steps_per_execution`` train steps run per call
    into XLA (default :func:`steps_per_execution_for`). ``minutes`` budgets the training time
    summed over every sitting of the run (``model_dir/train_time.json``), so a killed run
    re-run with the same budget trains only what is left of it. Under a ``strategy`` (see
    :mod:`trainkit.distribute`) ``config.batch_size`` is the global batch and only the chief
    worker writes the run's files.
    """
    strategy, chief, write_dir = distribute.start_run(model_dir, config, strategy)
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
                                 mnist=mnist, limit=limit, first_pass=epochs_backed_up(backup_dir))
    val_ds = data.make_dataset(config.dataset, "validation", config.batch_size, seed=config.seed,
                               mnist=mnist, limit=limit)
    single = strategy.num_replicas_in_sync == 1 and not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
    with strategy.scope():
        # Under a multi-replica strategy Keras 3.15's multi-step loop fails to trace ("must feed
        # a value for placeholder"), and XLA cannot read a mirrored variable held on another
        # device: one step per call there, and no XLA.
        model = build_model(config, data.image_size(config.dataset), jit_compile=single,
                            steps_per_execution=(steps_per_execution or steps_per_execution_for(steps))
                            if single else 1)
    model.nan_stopped = False
    backup = SafeBackup(backup_dir, save_freq=backup_steps or "epoch")
    callbacks = [backup, StopOnNaN()]
    if chief:
        log_dir = os.path.join(model_dir, "logs")
        val_images, val_labels = next(iter(val_ds))
        callbacks += [Checkpoints(model_dir, backup=backup), keras.callbacks.TensorBoard(log_dir, write_graph=False),
                      GlimpsePictures(log_dir, val_images, val_labels)]
    callbacks.append(TimeBudget(minutes, model_dir if chief else None))  # counted over every sitting
    if budget_spent(model_dir, minutes):
        print(f"{model_dir} has already trained its {minutes:g} minutes; nothing left to train")
        history = keras.callbacks.History()
        history.history, history.nan_stopped, history.write_failed = {}, False, False
        return history
    history = model.fit(train_ds, validation_data=val_ds, epochs=config.epochs, steps_per_epoch=steps,
                        callbacks=callbacks, verbose=verbose if chief else 0, shuffle=False)
    history.nan_stopped = model.nan_stopped
    history.write_failed = backup.failed or any(getattr(c, "failed", False) for c in callbacks)
    return history


def evaluate(model, config, split="test", mnist=None, limit=None):
    """Returns ``(error_percent, accuracy)`` of ``model`` on a split of its data set."""
    ds = data.make_dataset(config.dataset, split, 500, seed=config.seed, mnist=mnist, limit=limit)
    results = model.evaluate(ds, verbose=0, return_dict=True)
    return 100.0 * (1.0 - results["accuracy"]), results["accuracy"]
