"""The visual attribute network of Section 4.1: a query-conditioned CNN with attention after each pooling."""

import keras
import tensorflow as tf

from attention_rnn.attention import AttentionRNN, BlockAttentionRNN
from attention_rnn.baselines import LocalAttention, SoftAttention
from attention_rnn.config import ATTENTIONS


def make_attention(kind, units, seed=0, name=None):
    """One attention layer of type ``kind`` (see ``ATTENTIONS``), or None for ``none``."""
    if kind not in ATTENTIONS:
        raise ValueError(f"unknown attention {kind!r}; valid: {', '.join(ATTENTIONS)}")
    return {
        "none": lambda: None,
        "san": lambda: SoftAttention(units, context_size=1, name=name),
        "nctx": lambda: LocalAttention(units, context_size=1, name=name),
        "ctx": lambda: LocalAttention(units, context_size=3, name=name),
        "arnn": lambda: AttentionRNN(units, name=name),
        "arnn_ind": lambda: AttentionRNN(units, combine="independent", name=name),
        "arnn_sample": lambda: AttentionRNN(units, mode="sample", seed=seed, name=name),
        "brnn": lambda: BlockAttentionRNN(2, units, name=name),
    }[kind]()


@keras.saving.register_keras_serializable(package="attention_rnn")
class AttributeNetwork(keras.Model):
    """Four stacks of 3x3 convolution (``filters`` channels, ReLU) + 2x2 max-pooling; after each
    pooling, the chosen attention (query-conditioned) multiplies the features (SAN: after the
    last pooling only). Head: the attended last map summed over locations (SAN's mask sums to
    one, so this is its weighted average), concatenated with the query, an MLP to the classes.

    Call args:
      inputs: ``(images [B, H, W, 3] float32 in [0, 1], queries [B, 10] float32)``.

    Returns:
      logits ``[B, num_classes]``; with ``return_masks=True`` also the list of masks, one
      ``[B, h_k, w_k, 1]`` per attended layer (coarser with depth).
    """

    def __init__(self, attention="arnn", filters=32, units=32, num_classes=5, hidden=64, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.attention_kind, self.filters, self.units = attention, filters, units
        self.num_classes, self.hidden, self.seed = num_classes, hidden, seed
        self.convs = [keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{k}")
                      for k in range(4)]
        self.pools = [keras.layers.MaxPooling2D(2, name=f"pool{k}") for k in range(4)]
        attended = [3] if attention == "san" else [0, 1, 2, 3]
        self.attentions = [make_attention(attention, units, seed + k, name=f"attention{k}") if k in attended
                           else None for k in range(4)]
        self.query_embedding = keras.layers.Dense(hidden, activation="relu", name="query_embedding")
        self.head = keras.Sequential([keras.layers.Dense(hidden, activation="relu"),
                                      keras.layers.Dense(num_classes)], name="head")

    def call(self, inputs, return_masks=False):
        images, queries = inputs[0], inputs[1]
        x, masks = tf.convert_to_tensor(images), []
        for conv, pool, attention in zip(self.convs, self.pools, self.attentions):
            x = pool(conv(x))
            if attention is not None:
                mask = attention(x, queries)
                masks.append(mask)
                x = x * mask
        pooled = tf.reduce_sum(x, axis=[1, 2]) if self.attention_kind == "san" else tf.reduce_mean(x, axis=[1, 2])
        logits = self.head(tf.concat([pooled, self.query_embedding(queries)], axis=-1))
        return (logits, masks) if return_masks else logits

    def get_config(self):
        config = super().get_config()
        config.update(attention=self.attention_kind, filters=self.filters, units=self.units,
                      num_classes=self.num_classes, hidden=self.hidden, seed=self.seed)
        return config


def combined_mask(masks, size):
    """Masks of several layers combined: each bilinearly upsampled to ``size`` x ``size``, then
    multiplied. ``[B, size, size, 1]``."""
    combined = None
    for mask in masks:
        up = tf.image.resize(mask, [size, size], method="bilinear")
        combined = up if combined is None else combined * up
    return combined


def mask_correctness(mask, target):
    """The fraction of attention mass inside the target digit: ``sum(mask * target) / sum(mask)``
    per example, ``[B]``; ``mask``, ``target`` ``[B, H, W, 1]`` (target binary)."""
    return tf.reduce_sum(mask * target, axis=[1, 2, 3]) / (tf.reduce_sum(mask, axis=[1, 2, 3]) + 1e-8)
