"""SavedModel export of a trained attribute network."""

import tensorflow as tf

from data.attributes import SIZE
from trainkit import harness


def export_saved_model(model, config, export_dir):
    """Writes a SavedModel whose ``serving_default`` answers queries about images.

    Signature ``serving_default(images, queries)``: images float32 ``[None, 100, 100, 3]`` in
    [0, 1], queries float32 ``[None, query_size]`` (one-hot digit class; one-hot colour for the
    inverse task, ``config.query_size`` 5). Returns ``probabilities`` ``[None, num_classes]`` (over
    the colours, ``data.attributes.COLOUR_NAMES``, or the digits for the inverse task) and,
    when the model has attention, ``mask_k`` ``[None, h_k, w_k, 1]`` for each attended layer
    ``k``.
    """
    def serve(images, queries):
        logits, masks = model((images, queries), return_masks=True)
        outputs = {"probabilities": tf.nn.softmax(logits)}
        outputs.update({f"mask_{k}": mask for k, mask in enumerate(masks)})
        return outputs

    harness.export_saved_model(model, export_dir, serve, [
        tf.TensorSpec([None, SIZE, SIZE, 3], tf.float32, name="images"),
        tf.TensorSpec([None, config.query_size], tf.float32, name="queries")])
