"""The Diagonal (Bi)LSTM of PixelRNN, as AttentionRNN uses it (Khandelwal & Sigal 2019, Sec. 3.1).

Maps are ``[B, m, n, channels]``: ``m`` rows (i, top to bottom) and ``n`` columns (j, left
to right). Skewing shifts row ``i`` right by ``i`` (width ``n + m - 1``), so the anti-diagonals
``i + j = const`` become columns and one step of the recurrence processes a whole column:
``m + n - 1`` sequential steps in all, no per-pixel loop.
"""

import keras
import tensorflow as tf


def skew(x):
    """``[B, m, n, C] -> [B, m, n + m - 1, C]``: row ``i`` shifted right by ``i``, zeros elsewhere."""
    m, n, c = x.shape[1], x.shape[2], x.shape[3]
    padded = tf.pad(x, [[0, 0], [0, 0], [0, m], [0, 0]])            # [B, m, n + m, C]
    flat = tf.reshape(padded, [-1, m * (n + m), c])[:, : m * (n + m - 1)]
    return tf.reshape(flat, [-1, m, n + m - 1, c])


def unskew(x, n):
    """Inverse of :func:`skew`: ``[B, m, n + m - 1, C] -> [B, m, n, C]``."""
    m, width, c = x.shape[1], x.shape[2], x.shape[3]
    flat = tf.pad(tf.reshape(x, [-1, m * width, c]), [[0, 0], [0, m], [0, 0]])
    return tf.reshape(flat, [-1, m, n + m, c])[:, :, :n]


def shift_down(x):
    """Moves a map down one row (zeros enter at the top): row ``i`` takes row ``i - 1``."""
    return tf.pad(x, [[0, 0], [1, 0], [0, 0], [0, 0]])[:, :-1]


@keras.saving.register_keras_serializable(package="attention_rnn")
class DiagonalLSTM(keras.layers.Layer):
    """One diagonal LSTM, top-left to bottom-right (Eq. 8).

    Over the skewed input ``X^`` and for columns ``j = 0..n + m - 2``::

        [o, f, i, g] = [sigma, sigma, sigma, tanh](K^h (*) h_{j-1} + K^x (*) X^_j)
        c_j = f * c_{j-1} + i * g;   h_j = o * tanh(c_j)

    ``K^x`` is a 1x1 convolution (all columns at once, before the loop). ``K^h`` is a 2x1
    convolution over rows: row ``r`` of column ``j`` reads rows ``r - 1`` and ``r`` of column
    ``j - 1`` (zero above the top row), i.e. the states at ``(i - 1, j)`` and ``(i, j - 1)`` of
    the unskewed map; never row ``r + 1`` (a 'SAME'-padded kernel would see the future).
    States outside the map are zero, so this equals the per-pixel recurrence
    ``gates(i, j) = K^x x(i, j) + b + K^h_0 h(i - 1, j) + K^h_1 h(i, j - 1)``
    (:func:`attention_rnn.reference.naive_diagonal_lstm`, the test oracle).

    Call args:
      x: ``[B, m, n, channels]`` float32 (static ``m``, ``n``).

    Returns:
      ``[B, m, n, units]``: the hidden state at every position, which depends only on inputs
      at ``(i', j')`` with ``i' <= i`` and ``j' <= j``.
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)

    def build(self, input_shape):
        channels, u = input_shape[-1], self.units
        self.input_kernel = self.add_weight(name="input_kernel", shape=(channels, 4 * u),
                                            initializer="glorot_uniform")
        self.state_kernel = self.add_weight(name="state_kernel", shape=(2, u, 4 * u),  # rows r-1, r
                                            initializer="orthogonal")
        self.bias = self.add_weight(name="bias", shape=(4 * u,), initializer="zeros")

    def call(self, x):
        x = tf.convert_to_tensor(x)
        if x.shape.rank != 4 or x.shape[1] is None or x.shape[2] is None:
            raise ValueError(f"{type(self).__name__} expects [B, m, n, C] with static m, n; got {x.shape}")
        m, n, u = x.shape[1], x.shape[2], self.units
        inputs = tf.einsum("bmwc,cg->bmwg", skew(x), self.input_kernel) + self.bias  # [B, m, W, 4u]
        columns = tf.transpose(inputs, [2, 0, 1, 3])                                 # [W, B, m, 4u]
        # Row r of skewed column w is a real pixel iff r <= w <= r + n - 1. States elsewhere are
        # held at zero, so the boundary is exactly "h = 0 outside the map" (the per-pixel maths).
        w, r = tf.range(m + n - 1)[:, None], tf.range(m)[None, :]
        valid = tf.cast((r <= w) & (w <= r + n - 1), x.dtype)[:, None, :, None]     # [W, 1, m, 1]
        zeros = tf.zeros_like(columns[0, :, :, :u])
        state_kernel = tf.reshape(self.state_kernel, [2 * u, 4 * u])  # [K^h_0; K^h_1]: one matmul

        def step(state, column_and_mask):
            column, inside = column_and_mask
            h, c = state
            above = tf.pad(h, [[0, 0], [1, 0], [0, 0]])[:, :-1]  # row r reads row r - 1
            gates = column + tf.reshape(tf.reshape(tf.concat([above, h], -1), [-1, 2 * u]) @ state_kernel,
                                        [-1, m, 4 * u])
            o, f, i, g = tf.split(gates, 4, axis=-1)
            c = (tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)) * inside
            h = tf.sigmoid(o) * tf.tanh(c) * inside
            return h, c

        hidden, _ = tf.scan(step, (columns, valid), initializer=(zeros, zeros))   # [W, B, m, u]
        return unskew(tf.transpose(hidden, [1, 2, 0, 3]), n)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:3], self.units)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units)
        return config


@keras.saving.register_keras_serializable(package="attention_rnn")
class DiagonalBiLSTM(keras.layers.Layer):
    """Two diagonal LSTMs whose union sees everything "before" each position.

    The left-to-right LSTM ``L^l`` runs on ``x``; the right-to-left ``L^r`` runs the same
    recurrence on the column-mirrored ``x``, is mirrored back, and is **shifted down one row**,
    so that at ``(i, j)`` it summarises rows above ``i`` only (unshifted, it would see row ``i``
    to the right of ``j``).

    Call args:
      x: ``[B, m, n, channels]`` float32.

    Returns:
      ``[B, m, n, d]`` with ``d = 2 * units``: ``[..., :units]`` is ``h^l`` and
      ``[..., units:]`` the shifted ``h^r``. Output at ``(i, j)`` depends only on inputs in
      rows above ``i``, and in row ``i`` at columns ``<= j``.
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.left = DiagonalLSTM(units, name="left_to_right")
        self.right = DiagonalLSTM(units, name="right_to_left")

    def call(self, x):
        h_l = self.left(x)
        h_r = shift_down(tf.reverse(self.right(tf.reverse(x, axis=[2])), axis=[2]))
        return tf.concat([h_l, h_r], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:3], 2 * self.units)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units)
        return config
