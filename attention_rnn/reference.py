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


def naive_diagonal_lstm_loop(x, input_kernel, state_kernel, bias):
    """The same per-pixel recurrence as :func:`naive_diagonal_lstm`, as one ``tf.while_loop``
    over the ``m * n`` pixels in raster order (a small graph at any map size, so it can be timed
    at 50x50, where the unrolled version takes longer than 10 minutes to trace). The
    input-to-state term of every pixel is computed before the loop, as the column formulation
    does. Args and returns as :func:`naive_diagonal_lstm`."""
    m, n = x.shape[1], x.shape[2]
    units = state_kernel.shape[1]
    batch = tf.shape(x)[0]
    inputs = tf.einsum("bmnc,cg->mnbg", x, input_kernel) + bias            # [m, n, B, 4u]
    inputs = tf.reshape(inputs, [m * n, batch, 4 * units])
    zeros = tf.zeros([batch, units], x.dtype)
    # Slot 0 holds the zero state outside the map; pixel k = i * n + j lives in slot k + 1.
    h_all = tf.TensorArray(x.dtype, size=m * n + 1, clear_after_read=False, element_shape=[None, units])
    c_all = tf.TensorArray(x.dtype, size=m * n + 1, clear_after_read=False, element_shape=[None, units])
    h_all, c_all = h_all.write(0, zeros), c_all.write(0, zeros)

    def body(k, h_all, c_all):
        i, j = k // n, k % n
        above = h_all.read(tf.where(i > 0, k - n + 1, 0))
        left = tf.where(j > 0, k, 0)
        gates = inputs[k] + above @ state_kernel[0] + h_all.read(left) @ state_kernel[1]
        o, f, ig, g = tf.split(gates, 4, axis=-1)
        c = tf.sigmoid(f) * c_all.read(left) + tf.sigmoid(ig) * tf.tanh(g)
        h = tf.sigmoid(o) * tf.tanh(c)
        return k + 1, h_all.write(k + 1, h), c_all.write(k + 1, c)

    _, h_all, _ = tf.while_loop(lambda k, *_: k < m * n, body, (tf.constant(0), h_all, c_all))
    hidden = h_all.stack()[1:]                                              # [m * n, B, u]
    return tf.transpose(tf.reshape(hidden, [m, n, batch, units]), [2, 0, 1, 3])
