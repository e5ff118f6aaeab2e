"""SavedModel export of a trained CRAM model."""

import tensorflow as tf

from cram.training import image_shape
from trainkit import harness


def export_saved_model(model, config, export_dir):
    """Writes a SavedModel with a ``serving_default`` signature.

    - classify: ``serving_default(images [None, S, S, 1], masks [None, S, S, 1])`` (masks are
      read only by ``clue="oracle"``; pass zeros otherwise) -> ``probabilities [None, 10]``,
      ``thetas [None, T, 3]``.
    - inpaint: ``serving_default(occluded [None, 32, 32, 3], masks [None, 32, 32, 1])`` ->
      ``completed``, ``generated`` ``[None, 32, 32, 3]``, ``thetas [None, T, 3]``.
    """
    shape = image_shape(config)
    if config.task == "inpaint":
        def serve(occluded, masks):
            return model.complete((occluded, masks))
        names = ("occluded", "masks")
    else:
        def serve(images, masks):
            out = model.explain((images, masks))
            return dict(probabilities=tf.nn.softmax(out["logits"]), thetas=out["thetas"])
        names = ("images", "masks")
    harness.export_saved_model(model, export_dir, serve, [
        tf.TensorSpec([None, *shape], tf.float32, name=names[0]),
        tf.TensorSpec([None, *shape[:2], 1], tf.float32, name=names[1])])
