"""Training RAM: its model, data and glimpse pictures, trained by :mod:`trainkit.harness`."""

import keras
import tensorflow as tf

import data
from ram import visualize
from ram.config import RAMConfig
from ram.model import RecurrentAttentionModel
from trainkit import RunError, build_optimizers, harness  # noqa: F401  (RunError: the CLI's)


@keras.saving.register_keras_serializable(package="ram")
class DecayWithFloor(keras.optimizers.schedules.LearningRateSchedule):
    """``lr(step) = max(lr0 * rate ** floor(step / decay_steps), lr0 * floor_ratio)``.

    The original repo's staircase decay (x0.97 every 500 steps) with the floor it keeps (lr/10):
    without a floor, at ~8,000 images/s the rate falls tenfold every ~13 minutes and a long run
    stops learning.
    """

    def __init__(self, initial, decay_steps, rate, floor_ratio):
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


def build_model(config, jit_compile=True, steps_per_execution=1, image_size=None):
    """A compiled, built :class:`RecurrentAttentionModel` for ``config``: Adam, clipped gradients,
    built for ``image_size`` (default: the side of ``config.dataset``'s images).

    ``jit_compile=True`` (XLA) is several times faster than plain ``tf.function`` on CPU
    (``python -m benchmarks.ram_throughput`` measures both; figures in docs/ram_reproduction.md).
    With ``config.ema_momentum > 0`` Adam also keeps an exponential moving average of every
    trainable weight (Polyak averaging, updated after each step; see :func:`use_averaged_weights`).
    """
    model = RecurrentAttentionModel(**config.model_kwargs())
    schedule = DecayWithFloor(config.learning_rate, config.decay_steps, config.decay_rate,
                              config.min_learning_rate_ratio)
    averaging = dict(use_ema=True, ema_momentum=config.ema_momentum) if config.ema_momentum > 0 else {}
    model.compile(optimizer=keras.optimizers.Adam(schedule, global_clipnorm=config.clipnorm, **averaging),
                  jit_compile=jit_compile, steps_per_execution=steps_per_execution)
    image_size = image_size or data.image_size(config.dataset)
    model(tf.zeros([1, image_size, image_size, 1]))  # build the weights
    build_optimizers(model)  # now, not inside the first trace (which would then run twice)
    return model


def use_averaged_weights(model):
    """Overwrites ``model``'s trainable weights with its optimizer's moving averages (a model
    built with ``ema_momentum > 0``); the raw weights are gone from ``model`` afterwards."""
    if not getattr(model.optimizer, "use_ema", False):
        raise ValueError("this model keeps no weight averages (its run has ema_momentum 0)")
    model.optimizer.finalize_variable_values(model.trainable_variables)


def load_trained(model_dir, which="best", mc_samples=None, averaged=True):
    """``(model, config)`` of a run directory with its ``best``/``latest``/given checkpoint;
    ``mc_samples`` overrides the run's evaluation ``mc_samples`` when given. A run trained with
    ``ema_momentum > 0`` answers with the checkpoint's averaged weights (what its validation,
    and so its ``best`` checkpoint, was measured on), or with its raw weights if not ``averaged``."""
    model, config = harness.load_run(model_dir, RAMConfig, build_model,
                                     which, mc_samples=mc_samples)
    if averaged and config.ema_momentum > 0:
        use_averaged_weights(model)
    return model, config


def load_pretrained(name, mc_samples=None, averaged=True):
    """``(model, config)`` of the shipped model ``name`` (``python -m examples.mnist --eval
    --pretrained``): one per data set, trained by ``python -m benchmarks.ram_reproduce``, its
    checksum checked before loading (:mod:`trainkit.pretrained`). ``mc_samples`` and
    ``averaged`` as in :func:`load_trained`. The test errors the results file holds for it are
    ``trainkit.pretrained.manifest("ram", name)["figures"]``."""
    model, config, _ = harness.load_pretrained("ram", name, RAMConfig, build_model, mc_samples=mc_samples)
    if averaged and config.ema_momentum > 0:
        use_averaged_weights(model)
    return model, config


def glimpse_pictures(images, labels, count=6):
    """``draw(model)`` for :class:`trainkit.harness.PictureLogger`: the glimpse paths of the
    first ``count`` of ``images`` ``[B, S, S, 1]``."""
    images, labels = images[:count], labels[:count]

    def draw(model):
        out = {k: v.numpy() for k, v in model.explain(images).items()}
        return [visualize.glimpse_path_strip(images[i, ..., 0].numpy(), out["locations"][i],
                                             out["step_probabilities"][i], model.sensor, label=int(labels[i]))
                for i in range(len(labels))]
    return draw


def train(config, model_dir, mnist=None, limit=None, verbose="auto", strategy=None, backup_steps=None,
          steps_per_execution=None):
    """Trains (or resumes) the run in ``model_dir``; returns the Keras ``History``.

    The run harness (:func:`trainkit.harness.fit`) keeps checkpoints, the resumption backup
    (every epoch, or every ``backup_steps`` steps), TensorBoard logs (loss terms, accuracy,
    reward, learning rate, glimpse paths) and the ``config.minutes`` budget summed over sittings.
    ``steps_per_execution`` train steps run per call into XLA (default
    :func:`steps_per_execution_for`). With ``config.ema_momentum > 0`` validation runs on the
    weights' moving averages (swapped in for it) and :func:`load_trained` answers with them. Under a ``strategy`` (see :mod:`trainkit.distribute`)
    ``config.batch_size`` is the global batch and only the chief worker writes the run's files.
    """
    run = harness.open_run(model_dir, config, strategy)
    if mnist is None:
        mnist = data.load_mnist()
    steps = harness.steps_per_epoch(len(mnist["train"][0][:limit]), config.batch_size)
    # Epoch e reads pass e of an endless, index-keyed stream: a resumed run sees the same data.
    train_ds = data.make_dataset(config.dataset, "train", config.batch_size, seed=config.seed,
                                 mnist=mnist, limit=limit, first_pass=run.first_pass)
    val_ds = data.make_dataset(config.dataset, "validation", config.batch_size, seed=config.seed,
                               mnist=mnist, limit=limit)
    with run.strategy.scope():
        model = build_model(config, jit_compile=run.single_device,
                            steps_per_execution=(steps_per_execution or steps_per_execution_for(steps))
                            if run.single_device else 1)
    pictures = (glimpse_pictures(*next(iter(val_ds))), "glimpse_paths", "glimpses") if run.chief else None
    # With weight averaging, validation (hence the best checkpoint) measures the averaged
    # weights; the checkpoints keep the raw ones, with the averages in the optimizer's slots.
    averaging = [keras.callbacks.SwapEMAWeights()] if config.ema_momentum > 0 else []
    return harness.fit(run, model, train_ds, val_ds, epochs=config.epochs, steps=steps, minutes=config.minutes or None,
                       verbose=verbose, pictures=pictures, backup_steps=backup_steps, callbacks=averaging)


def evaluate(model, config, split="test", mnist=None, limit=None):
    """``{"error": percent, "accuracy": fraction, "count": images}`` of ``model`` on a split of its
    data set (the mean path, or ``config.mc_samples`` sampled paths)."""
    ds = data.make_dataset(config.dataset, split, 500, seed=config.seed, mnist=mnist, limit=limit)
    results = model.evaluate(ds, verbose=0, return_dict=True)
    count = len(mnist[split][0][:limit]) if mnist is not None else None
    return {"error": 100.0 * (1.0 - results["accuracy"]), "accuracy": results["accuracy"], "count": count}
