"""The Diagonal (Bi)LSTM of PixelRNN, as AttentionRNN uses it (Khandelwal & Sigal 2019, Sec. 3.1).

Maps are ``[B, m, n, channels]``: ``m`` rows (i, top to bottom) and ``n`` columns (j, left
to right). Skewing shifts row ``i`` right by ``i`` (width ``n + m - 1``), so the anti-diagonals
``i + j = const`` become columns and one step of the recurrence processes a whole column:
``m + n - 1`` sequential steps in all, no per-pixel loop.

The recurrence (:func:`diagonal_recurrence`) steps over the skewed map's columns, but step
``w`` computes diagonal ``w``'s real pixels only (the pixels permuted into diagonal order, not
a skewed map: a skewed column is about half padding). :func:`skew` and :func:`unskew` stay as
the reference of that layout. Several LSTMs of the same shape (the two directions of
:class:`DiagonalBiLSTM`) run in the same loop, with the input and both neighbours in one
batched matmul per step.
"""

import keras
import numpy as np
import tensorflow as tf

from attention_rnn.checks import check_map, check_sizes
from attention_rnn.slicing import slice_axis


def skew(x):
    """``[B, m, n, C] -> [B, m, n + m - 1, C]``: row ``i`` shifted right by ``i``, zeros elsewhere."""
    m, n, c = x.shape[1], x.shape[2], x.shape[3]
    padded = tf.pad(x, [[0, 0], [0, 0], [0, m], [0, 0]])            # [B, m, n + m, C]
    flat = slice_axis(tf.reshape(padded, [-1, m * (n + m), c]), 1, 0, m * (n + m - 1))
    return tf.reshape(flat, [-1, m, n + m - 1, c])


def unskew(x, n):
    """Inverse of :func:`skew`: ``[B, m, n + m - 1, C] -> [B, m, n, C]``."""
    m, width, c = x.shape[1], x.shape[2], x.shape[3]
    flat = tf.pad(tf.reshape(x, [-1, m * width, c]), [[0, 0], [0, m], [0, 0]])
    return slice_axis(tf.reshape(flat, [-1, m, n + m, c]), 2, 0, n)


def _diagonal_rows(m, n):
    """``[(lo, hi)]`` per anti-diagonal ``w = i + j`` of an ``m x n`` map: its rows ``lo..hi``."""
    return [(max(0, w - n + 1), min(m - 1, w)) for w in range(m + n - 1)]


def _diagonal_order(m, n):
    """Pixel indices ``i * n + j`` listed diagonal by diagonal (``w = i + j``), rows ascending."""
    return np.array([i * n + w - i for w, (lo, hi) in enumerate(_diagonal_rows(m, n)) for i in range(lo, hi + 1)],
                    np.int32)


def _permute(x, order, inverse, axis):
    """``tf.gather(x, order, axis)`` for a permutation ``order``; its gradient gathers by ``inverse``.

    (``tf.gather``'s own gradient is a scatter-add, which a permutation does not need.)
    """

    @tf.custom_gradient
    def permuted(x):
        return tf.gather(x, order, axis=axis), lambda dy: tf.gather(dy, inverse, axis=axis)

    return permuted(x)


def _rows_window(t, start, size):
    """Rows ``start .. start + size - 1`` of ``t`` ``[D, B, L, u]``, zero where outside ``0 .. L - 1``."""
    length = t.shape[2]
    lo, hi = max(start, 0), min(start + size, length)
    window = slice_axis(t, 2, lo, hi - lo)
    before, after = lo - start, start + size - hi
    return tf.pad(window, [[0, 0], [0, 0], [before, after], [0, 0]]) if before or after else window


def diagonal_recurrence(x, kernels, biases):
    """``D`` diagonal LSTMs of one shape over the anti-diagonals, each pixel computed once.

    For every pixel and LSTM ``d``, with ``h``, ``c`` zero outside the map::

        [o, f, i, g] = [x(i, j), h(i - 1, j), h(i, j - 1)] @ kernels[d] + biases[d]
        c(i, j) = sigma(f) c(i, j - 1) + sigma(i) tanh(g);   h(i, j) = sigma(o) tanh(c(i, j))

    Pixel ``(i, j)`` lies on diagonal ``w = i + j`` (column ``w`` of the skewed map) and needs
    only diagonal ``w - 1``, so the ``m + n - 1`` diagonals run in sequence (a static, unrolled
    loop), each on its real pixels only. The pixels are first permuted into diagonal order
    (one gather) and cut into one piece per diagonal (one ``tf.split``); each step reads its
    input and both neighbours in one batched matmul; the outputs, concatenated, are permuted
    back. Every op here has a cheap gradient (gathers, pads, concats; no strided slice, see
    :mod:`attention_rnn.slicing`). (Precomputing the input-to-state products of the whole map
    in one matmul was tried: the gradient of the split of that 4u-wide map cost more.)

    Args:
      x: ``[D, B, m, n, C]``: each LSTM's input map.
      kernels: ``[D, C + 2u, 4u]``: rows ``[:C]`` read ``x(i, j)``, ``[C:C + u]`` read
        ``h(i - 1, j)``, ``[C + u:]`` read ``h(i, j - 1)``.
      biases: ``[D, 4u]``.

    Returns:
      ``[D, B, m, n, u]``: the hidden states.
    """
    d_count, m, n, channels = x.shape[0], x.shape[2], x.shape[3], x.shape[4]
    gates_width = kernels.shape[-1]
    u = gates_width // 4
    batch = tf.shape(x)[1]
    diagonals = _diagonal_rows(m, n)
    order = _diagonal_order(m, n)
    inverse = np.argsort(order).astype(np.int32)
    input_kernels = slice_axis(kernels, 1, 0, channels)
    biases = biases[:, None, None, :]
    pixels = _permute(tf.reshape(x, [d_count, -1, m * n, channels]), order, inverse, axis=2)  # [D, B, mn, C]
    pieces = tf.split(pixels, [hi - lo + 1 for lo, hi in diagonals], axis=2)
    outputs, h, c, prev_lo = [], None, None, 0
    for (lo, hi), x_w in zip(diagonals, pieces):
        rows = hi - lo + 1
        if h is None:  # the first diagonal: no state yet
            inputs, weights = x_w, input_kernels
        else:
            # Neighbours of rows lo..hi in diagonal w - 1 (rows prev_lo..): h(i - 1, j) is its row
            # i - 1, h(i, j - 1) and c(i, j - 1) its row i; zero beyond the map's border.
            above = _rows_window(h, lo - 1 - prev_lo, rows)
            left = _rows_window(h, lo - prev_lo, rows)
            c_left = _rows_window(c, lo - prev_lo, rows)
            inputs, weights = tf.concat([x_w, above, left], -1), kernels
        gates = tf.reshape(tf.matmul(tf.reshape(inputs, [d_count, -1, inputs.shape[-1]]), weights),
                           [d_count, batch, rows, gates_width]) + biases
        o, f, i, g = tf.split(gates, 4, axis=-1)
        c = tf.sigmoid(i) * tf.tanh(g)
        if h is not None:  # not the first diagonal
            c += tf.sigmoid(f) * c_left
        h = tf.sigmoid(o) * tf.tanh(c)
        outputs.append(h)
        prev_lo = lo
    hidden = _permute(tf.concat(outputs, axis=2), inverse, order, axis=2)  # [D, B, mn, u], back to i * n + j
    return tf.reshape(hidden, [d_count, batch, m, n, u])


def shift_down(x):
    """Moves a map down one row (zeros enter at the top): row ``i`` takes row ``i - 1``."""
    return slice_axis(tf.pad(x, [[0, 0], [1, 0], [0, 0], [0, 0]]), 1, 0, x.shape[1])


@keras.saving.register_keras_serializable(package="attention_rnn")
class DiagonalLSTM(keras.layers.Layer):
    """One diagonal LSTM, top-left to bottom-right (Eq. 8).

    Over the skewed input ``X^`` and for columns ``j = 0..n + m - 2``::

        [o, f, i, g] = [sigma, sigma, sigma, tanh](K^h (*) h_{j-1} + K^x (*) X^_j)
        c_j = f * c_{j-1} + i * g;   h_j = o * tanh(c_j)

    ``K^x`` is a 1x1 convolution (inside each step's one matmul). ``K^h`` is a 2x1
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
        (self.units,) = check_sizes(type(self).__name__, units=units)

    def build(self, input_shape):
        channels, u = input_shape[-1], self.units
        self.input_kernel = self.add_weight(name="input_kernel", shape=(channels, 4 * u),
                                            initializer="glorot_uniform")
        self.state_kernel = self.add_weight(name="state_kernel", shape=(2, u, 4 * u),  # rows r-1, r
                                            initializer="orthogonal")
        self.bias = self.add_weight(name="bias", shape=(4 * u,), initializer="zeros")

    def _checked(self, x):
        channels = self.input_kernel.shape[0] if self.built else None
        return check_map(type(self).__name__, x, channels)

    def stacked_kernel(self):
        """``[C + 2u, 4u]``: ``[K^x; K^h_0; K^h_1]``, so the input and both neighbours take one matmul."""
        return tf.concat([self.input_kernel, tf.reshape(self.state_kernel, [2 * self.units, 4 * self.units])], 0)

    def call(self, x):
        x = self._checked(x)
        return tf.squeeze(diagonal_recurrence(x[None], self.stacked_kernel()[None],
                                              tf.convert_to_tensor(self.bias)[None]), 0)

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
        (self.units,) = check_sizes(type(self).__name__, units=units)
        self.left = DiagonalLSTM(units, name="left_to_right")
        self.right = DiagonalLSTM(units, name="right_to_left")

    def build(self, input_shape):
        self.left.build(input_shape)
        self.right.build(input_shape)

    def call(self, x):
        x = self.left._checked(x)
        # Both directions in one recurrence: the right-to-left one on the mirrored map.
        inputs = tf.stack([x, tf.reverse(x, axis=[2])])
        kernels = tf.stack([self.left.stacked_kernel(), self.right.stacked_kernel()])
        biases = tf.stack([tf.convert_to_tensor(self.left.bias), tf.convert_to_tensor(self.right.bias)])
        h_l, h_r = tf.unstack(diagonal_recurrence(inputs, kernels, biases))  # unstack: its gradient is a stack
        return tf.concat([h_l, shift_down(tf.reverse(h_r, axis=[2]))], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:3], 2 * self.units)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units)
        return config
