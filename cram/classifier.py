"""Clued classification (Sec. III-B1, IV-A): the CRAM encoder, a 3-layer MLP decoder, and
``loss = cross-entropy + clue_weight * L_clue``."""

import keras
import tensorflow as tf

from cram.blocks import mlp
from cram.clue import check_clue_form, clue_loss
from cram.config import DEFAULTS as D, CRAMConfig
from cram.encoder import CRAMEncoder
from cram.saliency import SaliencyNetwork, target_region
from trainkit.distribute import replica_count
from trainkit.settings import check_value


@keras.saving.register_keras_serializable(package="cram")
class CRAMClassifier(keras.Model):
    """CRAM for classification.

    Args:
      num_classes: output classes.
      clue: ``saliency`` (the clue is a frozen :class:`SaliencyNetwork`'s thresholded output,
        computed inside the model from the image), ``oracle`` (the true target region,
        :func:`target_region` of the given ink mask) or ``none`` (an all-zero clue and no clue
        loss).
      clue_weight: lambda of the clue loss (ignored for ``none``).
      clue_form: ``inside`` (default: windows onto the salient region) or ``cover``; see
        :func:`cram.clue.clue_loss`.
      encoder kwargs: ``num_glimpses``, ``glimpse_size``, ``filters``, ``units``.

    Call args:
      inputs: ``(images [B, H, W, 1], masks [B, H, W, 1])``; masks (target ink) are read only
        by ``clue="oracle"``, and may be zeros otherwise.

    Returns:
      logits ``[B, num_classes]``; :meth:`explain` also gives the clue and every glimpse's theta.
    """

    # Every argument that is also a setting takes its default from cram.config.
    def __init__(self, num_classes=10, clue=D.clue, clue_weight=D.clue_weight, num_glimpses=D.num_glimpses,
                 glimpse_size=D.glimpse_size, filters=D.filters, units=D.units, clue_form=D.clue_form, **kwargs):
        super().__init__(**kwargs)
        check_value(CRAMConfig, "clue", clue)
        self.num_classes, self.clue_kind, self.clue_weight = num_classes, clue, clue_weight
        self.clue_form = check_clue_form(clue_form)
        self.encoder = CRAMEncoder(num_glimpses, glimpse_size, filters, units, name="encoder")
        self.decoder = mlp([units, units, num_classes], "decoder")
        self.saliency = SaliencyNetwork(name="saliency_net") if clue == "saliency" else None
        if self.saliency is not None:
            self.saliency.trainable = False  # pre-trained, then frozen (Sec. V-A)
        self.glimpse_size = glimpse_size
        self.trackers = {name: keras.metrics.Mean(name=name)
                         for name in ("loss", "classification_loss", "clue_loss")}
        self.accuracy_metric = keras.metrics.SparseCategoricalAccuracy(name="accuracy")

    def clues_for(self, images, masks):
        if self.clue_kind == "saliency":
            return self.saliency.clue(images)
        if self.clue_kind == "oracle":
            return target_region(tf.convert_to_tensor(masks, tf.float32))
        return tf.zeros_like(images[..., :1])

    def explain(self, inputs, training=False):
        images, masks = inputs
        images = tf.convert_to_tensor(images, tf.float32)
        clues = self.clues_for(images, masks)
        z, thetas = self.encoder(images, clues, training=training)
        return dict(logits=self.decoder(z, training=training), thetas=thetas, clues=clues)

    def call(self, inputs, training=None):
        return self.explain(inputs, training=training)["logits"]

    def losses_for(self, inputs, labels, training):
        out = self.explain(inputs, training=training)
        ce = keras.losses.sparse_categorical_crossentropy(labels, out["logits"], from_logits=True)
        cl = clue_loss(out["clues"], out["thetas"], self.glimpse_size, self.clue_form)
        weight = 0.0 if self.clue_kind == "none" else self.clue_weight
        return out, tf.reduce_mean(ce), tf.reduce_mean(cl), weight

    @property
    def metrics(self):
        return [*self.trackers.values(), self.accuracy_metric]

    def _update(self, out, labels, total, ce, cl):
        for name, value in (("loss", total), ("classification_loss", ce), ("clue_loss", cl)):
            self.trackers[name].update_state(value)
        self.accuracy_metric.update_state(labels, out["logits"])
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        inputs, labels = data[0], data[1]
        with tf.GradientTape() as tape:
            out, ce, cl, weight = self.losses_for(inputs, labels, training=True)
            total = ce + weight * cl
            # Each replica's loss is a mean over its slice and gradients are summed over replicas.
            scaled = total / replica_count()
        variables = self.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(scaled, variables), variables))
        return self._update(out, labels, total, ce, cl)

    def test_step(self, data):
        inputs, labels = data[0], data[1]
        out, ce, cl, weight = self.losses_for(inputs, labels, training=False)
        return self._update(out, labels, ce + weight * cl, ce, cl)

    def get_config(self):
        config = super().get_config()
        config.update(num_classes=self.num_classes, clue=self.clue_kind, clue_weight=self.clue_weight,
                      clue_form=self.clue_form,
                      num_glimpses=self.encoder.num_glimpses, glimpse_size=self.glimpse_size,
                      filters=self.encoder.filters, units=self.encoder.units)
        return config
