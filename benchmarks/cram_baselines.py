"""Inpainting baselines for ``benchmarks/cram_inpaint.py``: the CRAM decoder and discriminators
fed by a plain convolutional encoder (no attention, no clue), and mean-colour fill."""

import keras
import tensorflow as tf

from cram.inpainting import CRAMInpainter
from cram.blocks import cnn, mlp


@keras.saving.register_keras_serializable(package="cram")
class ConvEncoder(keras.layers.Layer):
    """``(images, clues) -> (z, thetas)``: a 3-layer 5x5/2 CNN and a 2-layer MLP on the occluded
    image only; ``thetas`` is one full-image window ``(1, 0, 0)``, so pictures still draw."""

    def __init__(self, filters=32, units=256, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.units, self.num_glimpses = filters, units, 1
        self.features = cnn([filters, 2 * filters, 4 * filters], 5, 2, "conv_encoder")
        self.head = mlp([units, units], "conv_head", last_plain=False)

    def call(self, images, clues=None, training=None):
        z = self.head(self.features(images, training=training), training=training)
        thetas = tf.tile(tf.constant([[[1.0, 0.0, 0.0]]]), [tf.shape(images)[0], 1, 1])
        return z, thetas

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, units=self.units)
        return config


@keras.saving.register_keras_serializable(package="cram")
class ConvInpainter(CRAMInpainter):
    """:class:`CRAMInpainter` with :class:`ConvEncoder` and no clue loss."""

    def __init__(self, filters=32, units=256, adversarial_weight=0.001, **kwargs):
        kwargs.pop("clue_weight", None)
        super().__init__(clue_weight=0.0, adversarial_weight=adversarial_weight, filters=filters, units=units,
                         **kwargs)
        self.encoder = ConvEncoder(filters, units, name="encoder")


def mean_colour_fill(inputs):
    """Fills the hole with each image's mean colour over its known pixels."""
    occluded, masks = inputs
    known = 1.0 - masks
    mean = tf.reduce_sum(occluded * known, [1, 2], keepdims=True) / tf.reduce_sum(known, [1, 2], keepdims=True)
    return occluded * known + mean * masks
