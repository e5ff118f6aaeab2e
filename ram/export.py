"""SavedModel export of a trained RAM, for serving and for reuse without this package."""

import tensorflow as tf

import data

from trainkit import harness


def export_saved_model(model, config, export_dir):
    """Writes a SavedModel whose ``serving_default`` takes images and returns the prediction.

    Signature ``serving_default(images)``: images float32 ``[None, S, S, 1]`` in [0, 1];
    returns ``probabilities`` float32 ``[None, classes]`` and ``locations`` float32
    ``[None, T, 2]`` (``(x, y)`` in [-1, 1], see :class:`ram.GlimpseSensor`), from the
    deterministic path of mean locations (or ``mc_samples`` sampled paths if the model has
    ``mc_samples > 1``).
    """
    size = data.image_size(config.dataset)
    harness.export_saved_model(model, export_dir, lambda images: model(images, training=False),
                               [tf.TensorSpec([None, size, size, 1], tf.float32, name="images")])
