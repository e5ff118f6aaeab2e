"""The naive per-pixel recurrence of a diagonal LSTM: the test oracle and the benchmark baseline.

Same maths as :class:`attention_rnn.DiagonalLSTM`, one pixel at a time in raster order::

    [o, f, i, g](i, j) = K^x x(i, j) + b + K^h_0 h(i - 1, j) + K^h_1 h(i, j - 1)
    c(i, j) = sigma(f) * c(i, j - 1) + sigma(i) * tanh(g);   h(i, j) = sigma(o) * tanh(c(i, j))

(the memory travels along the skewed row, i.e. from the left neighbour), with ``h`` and ``c``
zero outside the map. ``m * n`` sequential steps.
"""

import tensorflow as tf


def naive_diagonal_lstm(x, input_kernel, state_kernel, bias):
    """Args: x ``[B, m, n, C]``; the weights of a :class:`DiagonalLSTM`. Returns ``[B, m, n, units]``."""
    m, n = x.shape[1], x.shape[2]
    units = state_kernel.shape[1]
    zeros = tf.zeros([tf.shape(x)[0], units], x.dtype)
    h = [[None] * n for _ in range(m)]
    c = [[None] * n for _ in range(m)]
    for i in range(m):
        for j in range(n):
            above = h[i - 1][j] if i > 0 else zeros
            left_h = h[i][j - 1] if j > 0 else zeros
            left_c = c[i][j - 1] if j > 0 else zeros
            gates = x[:, i, j] @ input_kernel + bias + above @ state_kernel[0] + left_h @ state_kernel[1]
            o, f, ig, g = tf.split(gates, 4, axis=-1)
            c[i][j] = tf.sigmoid(f) * left_c + tf.sigmoid(ig) * tf.tanh(g)
            h[i][j] = tf.sigmoid(o) * tf.tanh(c[i][j])
    return tf.stack([tf.stack(row, axis=1) for row in h], axis=1)
