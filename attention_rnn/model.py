"""The visual attribute network of Section 4.1: a query-conditioned CNN with attention after each pooling."""

import keras
import tensorflow as tf

from attention_rnn.attention import AttentionRNN, BlockAttentionRNN
from attention_rnn.baselines import LocalAttention, SoftAttention
from attention_rnn.config import ATTENTIONS, AttributeConfig, default_units  # noqa: F401  (ATTENTIONS: the package's)
from trainkit.settings import check_value

D = AttributeConfig()  # every argument that is also a setting takes its default from attention_rnn.config


def make_attention(kind, units, seed=0, name=None):
    """One attention layer of type ``kind`` (see ``ATTENTIONS``), or None for ``none``."""
    check_value(AttributeConfig, "attention", kind)
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

    ``batch_norm=True`` follows Seo et al.'s PAN network (``train.py`` of their repository):
    batch normalisation after each of the first three (attended) stacks and on the pooled
    vector, which is what lets a stack of four sigmoid masks train in a few epochs (without it
    the attended features shrink by the masks' product, about 0.5^4 at initialisation).
    ``dropout`` is applied to the pooled vector before the head (PAN: 0.5).

    ``mask_norm=True`` (not in the paper) divides each mask by its mean over locations before it
    multiplies the features. With batch normalisation after the masked map, a mask's overall
    level is rescaled away: a free direction along which Adam's normalised steps let a sigmoid
    mask drift shut (near 0 everywhere), where its gradient, scaled by ``sigmoid'``, is nearly
    gone. Divided by its mean, the level is fixed by construction, and a mask near 0 keeps a
    gradient of order one (``sigmoid(z) / mean`` behaves like ``exp(z) / mean``, a softmax).
    The masks returned for pictures and correctness are the layers' own (correctness does not
    depend on their scale).

    ``units``: of each attention layer (AttentionRNN's latent size ``t``); None is
    :func:`attention_rnn.config.default_units` of the attention type (16 for AttentionRNN, 32 else).

    ``head_query=False`` is PAN's head: the pooled features alone (no query embedding), so the
    query reaches the answer only through the masks, which must then pick the target out.
    With the query at the head the network can answer without focused masks; ``none`` (no
    attention) has no other way to see the query and always keeps it.

    Call args:
      inputs: ``(images [B, H, W, 3] float32 in [0, 1], queries [B, 10] float32)``.

    Returns:
      logits ``[B, num_classes]``; with ``return_masks=True`` also the list of masks, one
      ``[B, h_k, w_k, 1]`` per attended layer (coarser with depth).
    """

    def __init__(self, attention=D.attention, filters=D.filters, units=None, num_classes=5, hidden=D.hidden,
                 seed=D.seed, batch_norm=D.batch_norm, dropout=D.dropout, head_query=D.head_query,
                 mask_norm=D.mask_norm, **kwargs):
        super().__init__(**kwargs)
        self.attention_kind, self.filters = attention, filters
        self.units = default_units(attention) if units is None else units
        self.num_classes, self.hidden, self.seed = num_classes, hidden, seed
        self.batch_norm, self.dropout = bool(batch_norm), float(dropout)
        if not head_query and attention == "none":
            raise ValueError("head_query=False needs an attention: without one the query reaches nothing")
        self.head_query, self.mask_norm = bool(head_query), bool(mask_norm)
        self.norms = ([keras.layers.BatchNormalization(name=f"norm{k}") for k in range(4)] if self.batch_norm
                      else [None] * 4)
        self.head_dropout = keras.layers.Dropout(self.dropout, seed=seed, name="head_dropout") if self.dropout else None
        self.convs = [keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{k}")
                      for k in range(4)]
        self.pools = [keras.layers.MaxPooling2D(2, name=f"pool{k}") for k in range(4)]
        attended = [3] if attention == "san" else [0, 1, 2, 3]
        self.attentions = [make_attention(attention, self.units, seed + k, name=f"attention{k}") if k in attended
                           else None for k in range(4)]
        self.query_embedding = (keras.layers.Dense(hidden, activation="relu", name="query_embedding")
                                if self.head_query else None)
        self.head = keras.Sequential([keras.layers.Dense(hidden, activation="relu"),
                                      keras.layers.Dense(num_classes)], name="head")

    def call(self, inputs, return_masks=False, training=None):
        images, queries = inputs[0], inputs[1]
        x, masks = tf.convert_to_tensor(images), []
        for k, (conv, pool, attention) in enumerate(zip(self.convs, self.pools, self.attentions)):
            x = pool(conv(x))
            if attention is not None:
                mask = attention(x, queries)
                masks.append(mask)
                if self.mask_norm:
                    mask = mask / (tf.reduce_mean(mask, axis=[1, 2], keepdims=True) + 1e-6)
                x = x * mask
            if self.norms[k] is not None and k < 3:
                x = self.norms[k](x, training=training)
        pooled = tf.reduce_sum(x, axis=[1, 2]) if self.attention_kind == "san" else tf.reduce_mean(x, axis=[1, 2])
        if self.norms[3] is not None:
            pooled = self.norms[3](pooled, training=training)
        if self.head_dropout is not None:
            pooled = self.head_dropout(pooled, training=training)
        if self.query_embedding is not None:
            pooled = tf.concat([pooled, self.query_embedding(queries)], axis=-1)
        logits = self.head(pooled)
        return (logits, masks) if return_masks else logits

    def get_config(self):
        config = super().get_config()
        config.update(attention=self.attention_kind, filters=self.filters, units=self.units,
                      num_classes=self.num_classes, hidden=self.hidden, seed=self.seed,
                      batch_norm=self.batch_norm, dropout=self.dropout, head_query=self.head_query,
                      mask_norm=self.mask_norm)
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
    """The fraction of attention mass inside the target: ``sum(mask * target) / sum(mask)`` per
    example, ``[B]``; ``mask``, ``target`` ``[B, H, W, 1]`` (target binary: the digit's ink, or
    its :func:`target_box` for Liu et al.'s region-of-interest correctness)."""
    return tf.reduce_sum(mask * target, axis=[1, 2, 3]) / (tf.reduce_sum(mask, axis=[1, 2, 3]) + 1e-8)


def target_box(target):
    """The filled bounding box of each target's nonzero pixels, ``[B, H, W, 1]`` -> same shape,
    1 inside (rows and columns from the first to the last that hold a nonzero pixel, inclusive)
    and 0 outside; all zero where a target is empty. Liu et al.'s attention correctness, which
    the paper's Table 2 uses, counts the mass inside such a region of interest."""
    target = tf.cast(target > 0, tf.float32)
    rows = tf.reduce_max(target, axis=2)  # [B, H, 1]
    cols = tf.reduce_max(target, axis=1)  # [B, W, 1]

    def between(hits, axis):  # 1 from the first hit to the last, inclusive
        return tf.cast(tf.logical_and(tf.cumsum(hits, axis=axis) > 0,
                                      tf.cumsum(hits, axis=axis, reverse=True) > 0), tf.float32)

    return between(rows, 1)[:, :, None, :] * between(cols, 1)[:, None, :, :]
