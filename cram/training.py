"""Training CRAM: the saliency pre-training, clued classification and the inpainting GAN (their
models, data and glimpse pictures), trained by :mod:`trainkit.harness`."""

import os

import keras
import tensorflow as tf

import data
from cram import visualize
from cram.classifier import CRAMClassifier
from cram.config import CRAMConfig
from cram.saliency import SaliencyNetwork, target_region
from trainkit import build_optimizers, harness, load_weights

SALIENCY_WEIGHTS = "saliency.weights.h5"


def image_shape(config):
    if config.task == "inpaint":
        return (32, 32, 3)
    size = data.image_size(config.dataset)
    return (size, size, 1)


def build_model(config):
    """A compiled, built CRAM model for ``config`` (Adam at ``config.learning_rate``). No XLA:
    it was slower on the 2-core CPU machine (``python -m benchmarks.cram_throughput``)."""
    if config.task == "inpaint":
        from cram.inpainting import CRAMInpainter
        model = CRAMInpainter(clue_weight=config.clue_weight, adversarial_weight=config.adversarial_weight,
                              clue_form=config.clue_form,
                              num_glimpses=config.num_glimpses, glimpse_size=config.glimpse_size,
                              filters=config.filters, units=config.units)
        model.compile(generator_optimizer=keras.optimizers.Adam(config.learning_rate, beta_1=0.5),
                      discriminator_optimizer=keras.optimizers.Adam(config.learning_rate, beta_1=0.5))
    else:
        model = CRAMClassifier(clue=config.clue, clue_weight=config.clue_weight, clue_form=config.clue_form,
                               num_glimpses=config.num_glimpses, glimpse_size=config.glimpse_size,
                               filters=config.filters, units=config.units)
        model.compile(optimizer=keras.optimizers.Adam(config.learning_rate, global_clipnorm=5.0), jit_compile=False)
    shape = image_shape(config)
    model((tf.zeros([1, *shape]), tf.zeros([1, *shape[:2], 1])))
    build_optimizers(model)  # now, not inside the first trace (which would then run twice)
    return model


def classify_dataset(config, split, mnist, limit=None, first_pass=None):
    return data.make_dataset(config.dataset, split, config.batch_size, seed=config.seed, with_mask=True,
                             mnist=mnist, limit=limit, first_pass=first_pass)


def train_saliency(config, model_dir, mnist, limit=None, verbose="auto"):
    """Trains (once) the :class:`SaliencyNetwork` on ``config.dataset``'s target regions and
    saves ``saliency.weights.h5`` in ``model_dir``; returns the network and its validation
    IoU of the thresholded map with the true region."""
    network = SaliencyNetwork()
    size = data.image_size(config.dataset)
    network(tf.zeros([1, size, size, 1]))
    path = os.path.join(model_dir, SALIENCY_WEIGHTS)

    def to_regions(inputs, labels):
        images, masks = inputs
        return images, target_region(masks)

    if os.path.exists(path):
        load_weights(network, path)
    else:
        print(f"pre-training the saliency network on {config.dataset} target regions "
              f"({config.saliency_epochs} epochs)")
        network.compile(keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
        train = classify_dataset(config, "train", mnist, limit).map(to_regions)
        network.fit(train, epochs=config.saliency_epochs, verbose=verbose, shuffle=False)
        tmp = path + ".tmp.weights.h5"
        network.save_weights(tmp)
        os.replace(tmp, path)
    inter = union = 0.0
    for images, regions in classify_dataset(config, "validation", mnist, limit).map(to_regions).take(20):
        clue = network.clue(images)
        inter += float(tf.reduce_sum(clue * regions))
        union += float(tf.reduce_sum(tf.maximum(clue, regions)))
    return network, inter / max(union, 1.0)


def glimpse_pictures(batch, count=6, note=None):
    """``draw(model)`` for :class:`trainkit.harness.PictureLogger`: the glimpse windows over
    the first ``count`` examples of a ``(inputs, targets)`` batch."""
    inputs, targets = batch
    inputs, targets = tuple(x[:count] for x in inputs), targets[:count]
    return lambda model: visualize.pictures_for(model, inputs, targets, note)


def _datasets(config, mnist, limit, first_pass, svhn_dir=None):
    if config.task == "inpaint":
        kwargs = dict(batch_size=config.batch_size, seed=config.seed, source=config.svhn_source,
                      data_dir=svhn_dir, limit=limit, mnist=mnist)
        return (data.svhn.make_svhn_occluded("train", first_pass=first_pass, **kwargs),
                data.svhn.make_svhn_occluded("validation", **kwargs))
    return (classify_dataset(config, "train", mnist, limit, first_pass),
            classify_dataset(config, "validation", mnist, limit))


def train(config, model_dir, mnist=None, limit=None, verbose="auto", svhn_dir=None, strategy=None, backup_steps=None):
    """Trains (or resumes) the CRAM run in ``model_dir``; returns the Keras ``History``.

    ``best``/``latest`` checkpoints (best by validation accuracy, or by validation hole L1
    for inpainting), ``config.json``, TensorBoard in ``logs/`` (every loss term, glimpse
    pictures), and ``backup/`` from which a killed run resumes at its last epoch. Under a
    ``strategy`` (see :mod:`trainkit.distribute`) ``config.batch_size`` is the global batch,
    BatchNorm normalises each replica's slice, and only the chief worker writes the run's
    files (the saliency network is pre-trained before, on one device).
    """
    run = harness.open_run(model_dir, config, strategy)
    mnist = mnist if mnist is not None else data.load_mnist()
    train_ds, val_ds = _datasets(config, mnist, limit, run.first_pass, svhn_dir)
    steps = _steps_per_epoch(config, mnist, limit, svhn_dir)
    with run.strategy.scope():
        model = build_model(config)
    if config.task == "classify" and config.clue == "saliency":
        network, iou = train_saliency(config, run.write_dir, mnist, limit, verbose)
        model.saliency.set_weights(network.get_weights())
        print(f"saliency clue: validation IoU with the true target region {iou:.3f}")
    monitor = ("val_hole_l1", "min") if config.task == "inpaint" else ("val_accuracy", "max")
    note = data.svhn.label(config.svhn_source) if config.task == "inpaint" else None
    pictures = (glimpse_pictures(next(iter(val_ds)), note=note), "glimpses", "glimpses") if run.chief else None
    return harness.fit(run, model, train_ds, val_ds, epochs=config.epochs, steps=steps, minutes=config.minutes or None,
                       verbose=verbose, pictures=pictures, monitor=monitor[0], mode=monitor[1],
                       backup_steps=backup_steps)


def _steps_per_epoch(config, mnist, limit, svhn_dir):
    if config.task == "inpaint":
        count = data.svhn.split_size("train", config.svhn_source, svhn_dir, limit)
    else:
        count = len(mnist["train"][0][:limit])
    return harness.steps_per_epoch(count, config.batch_size)


def load_trained(model_dir, which="best"):
    """``(model, config)`` of a run directory with the ``best``/``latest``/given checkpoint."""
    return harness.load_run(model_dir, CRAMConfig, build_model, which)


def load_pretrained(name):
    """``(model, config)`` of the shipped model ``name`` (``<task>_<dataset>``, e.g.
    ``classify_clutter``), its checksum checked before loading (:mod:`trainkit.pretrained`)."""
    model, config, _ = harness.load_pretrained("cram", name, CRAMConfig, build_model)
    return model, config


def evaluate(model, config, split="test", mnist=None, limit=None, svhn_dir=None):
    """Classification: ``dict(error=percent, accuracy, clue_loss)``. Inpainting: hole L1, PSNR
    and SSIM (see :func:`cram.inpainting.hole_metrics`)."""
    if config.task == "inpaint":
        from cram.inpainting import evaluate_inpainting
        ds = data.svhn.make_svhn_occluded(split, 100, seed=config.seed, source=config.svhn_source,
                                          data_dir=svhn_dir, limit=limit, mnist=mnist)
        return evaluate_inpainting(model.complete, ds)
    ds = data.make_dataset(config.dataset, split, 500, seed=config.seed, with_mask=True, mnist=mnist, limit=limit)
    results = model.evaluate(ds, verbose=0, return_dict=True)
    return dict(error=100.0 * (1.0 - results["accuracy"]), accuracy=results["accuracy"],
                clue_loss=results["clue_loss"])
