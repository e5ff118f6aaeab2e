"""AttentionRNN and Block AttentionRNN (Khandelwal & Sigal 2019, Sections 3.1-3.3).

Shapes: features ``X`` are ``[B, m, n, h]``; a query ``Q`` is ``[B, q]``; masks are
``[B, m, n, 1]``. The layers are drop-in for any CNN: ``features * layer(features)``.
"""

import keras
import tensorflow as tf

from attention_rnn.checks import check_map, check_query, check_sizes
from attention_rnn.diagonal_bilstm import DiagonalBiLSTM
from attention_rnn.slicing import slice_axis

COMBINES = ("learned", "independent")
MODES = ("expectation", "sample")
_MIN_SIGMA = 1e-4


def _positive(x):
    return tf.nn.softplus(x) + _MIN_SIGMA


def product_of_gaussians(mu_l, sigma_l, mu_r, sigma_r):
    """The closed-form combination under independence (``combine="independent"``)::

        sigma^2 = sigma_l^2 sigma_r^2 / (sigma_l^2 + sigma_r^2)
        mu      = (mu_l sigma_r^2 + mu_r sigma_l^2) / (sigma_l^2 + sigma_r^2)
    """
    var_l, var_r = tf.square(sigma_l), tf.square(sigma_r)
    total = var_l + var_r
    return (mu_l * var_r + mu_r * var_l) / total, tf.sqrt(var_l * var_r / total)


@keras.saving.register_keras_serializable(package="attention_rnn")
class AttentionRNN(keras.layers.Layer):
    """Structured spatial attention: each mask value from its local context and the values before it.

    1. A query, when given, is broadcast over the map and concatenated to ``X`` (Sec. 3.1).
    2. Local context ``X^c = K^c (*) X``, a ``context_size x context_size`` convolution (Eq. 9).
    3. A :class:`DiagonalBiLSTM` over ``X^c`` gives ``h^l`` (top-left to bottom-right) and the
       shifted ``h^r`` (top-right to bottom-left) at every position (Eq. 7-8).
    4. ``(mu^l, sigma^l) = f_l(h^l)``, ``(mu^r, sigma^r) = f_r(h^r)``, fully connected (Eq. 5-6;
       sigmas through softplus).
    5. ``(mu, sigma) = Gamma(mu^l, sigma^l, mu^r, sigma^r)``: a learned fully connected layer
       (Eq. 10, ``combine="learned"``) or the product of the two Gaussians
       (``combine="independent"``, :func:`product_of_gaussians`).
    6. The mask is ``mu`` (``mode="expectation"``) or a seeded sample of ``N(mu, sigma)``
       (``mode="sample"``, during training and inference alike), passed through
       ``mask_activation`` (default sigmoid, so that the mask lies in (0, 1); the paper leaves
       the range open).

    Args:
      units: hidden size of each diagonal LSTM (and channels of ``X^c``).
      context_size: side of the context kernel ``K^c`` (1: no spatial context).
      mode: ``"expectation"`` or ``"sample"``.
      combine: ``"learned"`` or ``"independent"``.
      mask_activation: Keras activation name applied to the mask, or None.
      return_distribution: call also returns ``mu`` and ``sigma``.
      seed: seeds the sampling mode.

    Attribute ``sigma_scale`` (default 1, not saved): the sampling mode draws ``mu + sigma_scale
    * sigma * eps``. The paper scales sigma up to show ARNN's distinct modes (Fig. 6a), since
    training on one-answer queries makes sigma small.

    Call args:
      features: ``[B, m, n, h]`` float32 (static ``m``, ``n``).
      query: optional ``[B, q]`` float32.

    Returns:
      mask ``[B, m, n, 1]``; or ``(mask, mu, sigma)``, each ``[B, m, n, 1]``, with
      ``return_distribution``.
    """

    def __init__(self, units, context_size=3, mode="expectation", combine="learned", mask_activation="sigmoid",
                 return_distribution=False, seed=0, **kwargs):
        super().__init__(**kwargs)
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; valid modes: {', '.join(MODES)}")
        if combine not in COMBINES:
            raise ValueError(f"unknown combine {combine!r}; valid: {', '.join(COMBINES)}")
        self.units, self.context_size = check_sizes(type(self).__name__, units=units, context_size=context_size)
        self.mode, self.combine = mode, combine
        self.mask_activation, self.return_distribution, self.seed = mask_activation, return_distribution, seed
        self.context = keras.layers.Conv2D(self.units, self.context_size, padding="same", name="context")
        self.bilstm = DiagonalBiLSTM(self.units, name="diagonal_bilstm")
        self.f_l = keras.layers.Dense(2, name="f_l")
        self.f_r = keras.layers.Dense(2, name="f_r")
        self.f_comb = keras.layers.Dense(2, name="f_comb") if combine == "learned" else None
        self.activation = keras.activations.get(mask_activation)
        self.noise = keras.random.SeedGenerator(seed) if mode == "sample" else None
        self.sigma_scale = 1.0

    def distribution(self, features, query=None):
        """``(mu, sigma)``, each ``[B, m, n, 1]``, before sampling and activation."""
        owner = type(self).__name__
        features = check_map(owner, features, getattr(self, "_feature_channels", None))
        self._feature_channels = features.shape[-1]
        if query is not None:
            query = check_query(owner, features, query, getattr(self, "_query_size", None))
            self._query_size = query.shape[-1]
            tiled = tf.broadcast_to(query[:, None, None, :],
                                    tf.concat([tf.shape(features)[:3], tf.shape(query)[1:]], 0))
            features = tf.concat([features, tiled], axis=-1)
        h = self.bilstm(self.context(features))
        # tf.split, not slices: its gradient is one concat (see attention_rnn.slicing).
        h_l, h_r = tf.split(h, 2, axis=-1)
        mu_l, sigma_l = tf.split(self.f_l(h_l), 2, axis=-1)
        mu_r, sigma_r = tf.split(self.f_r(h_r), 2, axis=-1)
        sigma_l, sigma_r = _positive(sigma_l), _positive(sigma_r)
        if self.combine == "independent":
            return product_of_gaussians(mu_l, sigma_l, mu_r, sigma_r)
        combined = self.f_comb(tf.concat([mu_l, sigma_l, mu_r, sigma_r], axis=-1))
        mu, sigma = tf.split(combined, 2, axis=-1)
        return mu, _positive(sigma)

    def call(self, features, query=None):
        mu, sigma = self.distribution(features, query)
        value = mu
        if self.mode == "sample":
            value = mu + self.sigma_scale * sigma * keras.random.normal(tf.shape(mu), seed=self.noise)
        mask = self.activation(value) if self.mask_activation else value
        return (mask, mu, sigma) if self.return_distribution else mask

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, context_size=self.context_size, mode=self.mode, combine=self.combine,
                      mask_activation=self.mask_activation, return_distribution=self.return_distribution,
                      seed=self.seed)
        return config


@keras.saving.register_keras_serializable(package="attention_rnn")
class BlockAttentionRNN(keras.layers.Layer):
    """AttentionRNN on ``gamma x gamma`` blocks (Sec. 3.3, Eq. 11).

    ``X^gamma = K^gamma (*) X`` (a ``gamma x gamma`` convolution with stride ``gamma``, 'same'
    padding, so any ``m, n`` work: the small map is ``ceil(m / gamma) x ceil(n / gamma)``);
    :class:`AttentionRNN` on ``X^gamma`` (without its activation); a ``gamma x gamma`` stride
    ``gamma`` transposed convolution back up, cropped to ``m x n``; then the mask activation.

    Args:
      block_size: gamma.
      units, and the other keyword arguments: as :class:`AttentionRNN`.

    Call args and returns: as :class:`AttentionRNN` (``mu``, ``sigma`` on the small map).
    """

    def __init__(self, block_size, units, context_size=3, mode="expectation", combine="learned",
                 mask_activation="sigmoid", return_distribution=False, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.block_size, self.units = check_sizes(type(self).__name__, block_size=block_size, units=units)
        self.mask_activation, self.return_distribution = mask_activation, return_distribution
        self.down = keras.layers.Conv2D(self.units, self.block_size, strides=self.block_size, padding="same",
                                        name="block_down")
        self.attention = AttentionRNN(units, context_size, mode, combine, mask_activation=None,
                                      return_distribution=True, seed=seed, name="attention_rnn")
        self.up = keras.layers.Conv2DTranspose(1, self.block_size, strides=self.block_size, padding="valid",
                                               name="block_up")
        self.activation = keras.activations.get(mask_activation)
        self._kwargs = dict(context_size=context_size, mode=mode, combine=combine, seed=seed)

    def call(self, features, query=None):
        features = check_map(type(self).__name__, features)
        m, n = features.shape[1], features.shape[2]
        small_mask, mu, sigma = self.attention(self.down(features), query)
        mask = slice_axis(slice_axis(self.up(small_mask), 1, 0, m), 2, 0, n)  # crop the 'same' padding
        mask = self.activation(mask) if self.mask_activation else mask
        return (mask, mu, sigma) if self.return_distribution else mask

    def get_config(self):
        config = super().get_config()
        config.update(block_size=self.block_size, units=self.units, mask_activation=self.mask_activation,
                      return_distribution=self.return_distribution, **self._kwargs)
        return config
