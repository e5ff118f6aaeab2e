"""The Diagonal (Bi)LSTM of PixelRNN, as AttentionRNN uses it (Khandelwal & Sigal 2019, Sec. 3.1).

Maps are ``[B, m, n, channels]``: ``m`` rows (i, top to bottom) and ``n`` columns (j, left
to right). Skewing shifts row ``i`` right by ``i`` (width ``n + m - 1``), so the anti-diagonals
``i + j = const`` become columns and one step of the recurrence processes a whole column:
``m + n - 1`` sequential steps in all, no per-pixel loop.

The recurrence (:func:`diagonal_recurrence`) walks the anti-diagonals without materialising
the skewed map's padding: the pixels are gathered once into anti-diagonal order, and step
``w`` works on diagonal ``w``'s real pixels only (static slices; a skewed column is about
half padding). Several LSTMs of the same shape (the two directions of
:class:`DiagonalBiLSTM`) run in the same loop, one batched matmul per step.
"""

import keras
import numpy as np
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


def _diagonal_layout(m, n):
    """The anti-diagonals of an ``m x n`` map, as static index arrays.

    Returns:
      ``(order, ranges)``: ``order`` ``[m * n]``, the raster indices ``i * n + j`` sorted by
      diagonal ``w = i + j`` and then by row ``i``; ``ranges`` ``[(lo, hi, offset)]`` per
      diagonal: its rows ``lo..hi`` and where it starts in ``order``.
    """
    ranges, order, offset = [], [], 0
    for w in range(m + n - 1):
        lo, hi = max(0, w - n + 1), min(m - 1, w)
        ranges.append((lo, hi, offset))
        order.extend(i * n + (w - i) for i in range(lo, hi + 1))
        offset += hi - lo + 1
    return np.array(order, np.int32), ranges


def _rows(prev, prev_lo, prev_hi, lo, hi):
    """Rows ``lo..hi`` of a diagonal's state held for rows ``prev_lo..prev_hi`` (``[D, B,
    rows, u]``), zero where it holds none (outside the map)."""
    start, stop = max(lo, prev_lo), min(hi, prev_hi)
    if start > stop:  # none of the rows (a map one row or one column wide)
        return tf.tile(tf.zeros_like(prev[:, :, :1]), [1, 1, hi - lo + 1, 1])
    part = prev[:, :, start - prev_lo:stop - prev_lo + 1]
    return tf.pad(part, [[0, 0], [0, 0], [start - lo, hi - stop], [0, 0]])


def diagonal_recurrence(gate_inputs, state_kernels):
    """``D`` diagonal LSTMs of one shape over the anti-diagonals, each pixel computed once.

    For every pixel and LSTM ``d``, with ``h``, ``c`` zero outside the map::

        [o, f, i, g] = gate_inputs[d, :, i, j] + [h(i - 1, j), h(i, j - 1)] @ state_kernels[d]
        c(i, j) = sigma(f) c(i, j - 1) + sigma(i) tanh(g);   h(i, j) = sigma(o) tanh(c(i, j))

    Pixel ``(i, j)`` lies on diagonal ``w = i + j`` and needs only diagonal ``w - 1``, so the
    ``m + n - 1`` diagonals run in sequence (a static, unrolled loop: XLA fuses each step),
    each on its own real pixels.

    Args:
      gate_inputs: ``[D, B, m, n, 4u]``: the input-to-state term plus bias at every pixel.
      state_kernels: ``[D, 2u, 4u]``: rows ``[:u]`` read ``h(i - 1, j)``, rows ``[u:]`` read
        ``h(i, j - 1)``.

    Returns:
      ``[D, B, m, n, u]``: the hidden states.
    """
    d_count, m, n, gates_width = gate_inputs.shape[0], gate_inputs.shape[2], gate_inputs.shape[3], gate_inputs.shape[4]
    u = gates_width // 4
    batch = tf.shape(gate_inputs)[1]
    order, ranges = _diagonal_layout(m, n)
    flat = tf.reshape(gate_inputs, [d_count, batch, m * n, gates_width])
    diagonals = tf.gather(flat, order, axis=2)                           # [D, B, m * n, 4u], by diagonal
    outputs, h, c, prev_lo, prev_hi = [], None, None, 0, -1
    for lo, hi, offset in ranges:
        x_w = diagonals[:, :, offset:offset + hi - lo + 1]                 # [D, B, rows, 4u]
        if h is None:  # the first diagonal: no state yet
            gates, c_left = x_w, None
        else:
            above = _rows(h, prev_lo, prev_hi, lo - 1, hi - 1)              # h(i - 1, j): row r - 1 of w - 1
            left = _rows(h, prev_lo, prev_hi, lo, hi)                       # h(i, j - 1): row r of w - 1
            c_left = _rows(c, prev_lo, prev_hi, lo, hi)
            rows = hi - lo + 1
            recurrent = tf.matmul(tf.reshape(tf.concat([above, left], -1), [d_count, -1, 2 * u]), state_kernels)
            gates = x_w + tf.reshape(recurrent, [d_count, batch, rows, gates_width])
        o, f, i, g = tf.split(gates, 4, axis=-1)
        c = tf.sigmoid(i) * tf.tanh(g) if c_left is None else tf.sigmoid(f) * c_left + tf.sigmoid(i) * tf.tanh(g)
        h = tf.sigmoid(o) * tf.tanh(c)
        outputs.append(h)
        prev_lo, prev_hi = lo, hi
    hidden = tf.concat(outputs, axis=2)                                   # [D, B, m * n, u], by diagonal
    hidden = tf.gather(hidden, np.argsort(order).astype(np.int32), axis=2)
    return tf.reshape(hidden, [d_count, batch, m, n, u])


def shift_down(x):
    """Moves a map down one row (zeros enter at the top): row ``i`` takes row ``i - 1``."""
    return tf.pad(x, [[0, 0], [1, 0], [0, 0], [0, 0]])[:, :-1]


@keras.saving.register_keras_serializable(package="attention_rnn")
class DiagonalLSTM(keras.layers.Layer):
    """One diagonal LSTM, top-left to bottom-right (Eq. 8).

    Over the skewed input ``X^`` and for columns ``j = 0..n + m - 2``::

        [o, f, i, g] = [sigma, sigma, sigma, tanh](K^h (*) h_{j-1} + K^x (*) X^_j)
        c_j = f * c_{j-1} + i * g;   h_j = o * tanh(c_j)

    ``K^x`` is a 1x1 convolution (every pixel at once, before the loop). ``K^h`` is a 2x1
    convolution over rows: row ``r`` of column ``j`` reads rows ``r - 1`` and ``r`` of column
    ``j - 1`` (zero above the top row), i.e. the states at ``(i - 1, j)`` and ``(i, j - 1)`` of
    the unskewed map; never row ``r + 1`` (a 'SAME'-padded kernel would see the future).
    States outside the map are zero (:func:`diagonal_recurrence` computes real pixels only),
    so this equals the per-pixel recurrence
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

    def gate_inputs(self, x):
        """The input-to-state term plus bias at every pixel: ``[B, m, n, 4u]``."""
        x = tf.convert_to_tensor(x)
        if x.shape.rank != 4 or x.shape[1] is None or x.shape[2] is None:
            raise ValueError(f"{type(self).__name__} expects [B, m, n, C] with static m, n; got {x.shape}")
        return tf.einsum("bmnc,cg->bmng", x, self.input_kernel) + self.bias

    def stacked_state_kernel(self):
        """``[2u, 4u]``: ``[K^h_0; K^h_1]``, so both neighbours take one matmul."""
        return tf.reshape(self.state_kernel, [2 * self.units, 4 * self.units])

    def call(self, x):
        hidden = diagonal_recurrence(self.gate_inputs(x)[None], self.stacked_state_kernel()[None])
        return hidden[0]

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

    def build(self, input_shape):
        self.left.build(input_shape)
        self.right.build(input_shape)

    def call(self, x):
        x = tf.convert_to_tensor(x)
        # Both directions in one recurrence: the right-to-left one on the mirrored map.
        gates = tf.stack([self.left.gate_inputs(x), self.right.gate_inputs(tf.reverse(x, axis=[2]))])
        kernels = tf.stack([self.left.stacked_state_kernel(), self.right.stacked_state_kernel()])
        hidden = diagonal_recurrence(gates, kernels)
        h_r = shift_down(tf.reverse(hidden[1], axis=[2]))
        return tf.concat([hidden[0], h_r], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:3], 2 * self.units)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units)
        return config
