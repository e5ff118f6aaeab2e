"""Baseline attention layers with AttentionRNN's call signature: ``layer(features, query=None) -> mask``.

Following Seo et al.'s progressive attention networks: a per-location embedding of the
features (a ``context_size x context_size`` convolution), plus the query's embedding added at
every location, ReLU, a 1x1 convolution to one map, then sigmoid (local attention) or a
softmax over all locations (soft attention, SAN). Masks are ``[B, m, n, 1]``; the caller
multiplies them into the features.
"""

import keras
import tensorflow as tf

from attention_rnn.checks import check_map, check_query, check_sizes


class _ScoreMap(keras.layers.Layer):
    """``s = conv1x1(relu(conv_k(X) + fc(Q)))``: ``[B, m, n, h]`` (+ ``[B, q]``) -> ``[B, m, n, 1]``."""

    def __init__(self, units=64, context_size=1, **kwargs):
        super().__init__(**kwargs)
        self.units, self.context_size = check_sizes(type(self).__name__, units=units, context_size=context_size)
        self.embed = keras.layers.Conv2D(self.units, self.context_size, padding="same", name="embed")
        self.query_embed = keras.layers.Dense(self.units, use_bias=False, name="query_embed")
        self.score = keras.layers.Conv2D(1, 1, name="score")

    def scores(self, features, query=None):
        owner = type(self).__name__
        features = check_map(owner, features, getattr(self, "_feature_channels", None))
        self._feature_channels = features.shape[-1]
        hidden = self.embed(features)
        if query is not None:
            query = check_query(owner, features, query, getattr(self, "_query_size", None))
            self._query_size = query.shape[-1]
            hidden = hidden + self.query_embed(query)[:, None, None, :]
        return self.score(tf.nn.relu(hidden))

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, context_size=self.context_size)
        return config


@keras.saving.register_keras_serializable(package="attention_rnn")
class LocalAttention(_ScoreMap):
    """Progressive (local) attention: an independent sigmoid per location.

    ``context_size=1`` is the paper's "-CTX" baseline, ``context_size=3`` its "CTX".
    """

    def call(self, features, query=None):
        return tf.sigmoid(self.scores(features, query))


@keras.saving.register_keras_serializable(package="attention_rnn")
class SoftAttention(_ScoreMap):
    """Soft attention (SAN): a softmax over all ``m x n`` locations; the mask sums to 1."""

    def call(self, features, query=None):
        scores = self.scores(features, query)
        flat = tf.nn.softmax(tf.reshape(scores, [tf.shape(scores)[0], -1]), axis=-1)
        return tf.reshape(flat, tf.shape(scores))
