"""Forward+backward time of DiagonalBiLSTM vs the naive per-pixel recurrence of the same maths.

    python -m benchmarks.diagonal_bilstm [--size 50] [--channels 32] [--batch 32] [--units 32]

The column formulation runs m + n - 1 sequential steps, each a whole skewed column; the naive
one (``attention_rnn.reference.naive_diagonal_lstm_loop``, a ``tf.while_loop`` over pixels)
runs 2 * m * n per-pixel steps (both directions). Target: >= 20x faster on 50x50x32, batch 32.
"""

import time

from absl import app, flags, logging

flags.DEFINE_integer("size", 50, "Map side (m = n).")
flags.DEFINE_integer("channels", 32, "Input channels.")
flags.DEFINE_integer("batch", 32, "Batch size.")
flags.DEFINE_integer("units", 32, "LSTM units per direction.")
flags.DEFINE_integer("repeats", 5, "Timed repetitions (after one warm-up).")
FLAGS = flags.FLAGS


def time_ms(fn, x, repeats):
    fn(x)  # trace / compile
    start = time.perf_counter()
    for _ in range(repeats):
        fn(x).numpy()
    return 1000 * (time.perf_counter() - start) / repeats


def main(_):
    logging.set_verbosity(logging.WARNING)
    import tensorflow as tf

    from attention_rnn import DiagonalBiLSTM
    from attention_rnn.reference import naive_diagonal_lstm_loop as naive_diagonal_lstm

    layer = DiagonalBiLSTM(FLAGS.units)
    x = tf.random.normal([FLAGS.batch, FLAGS.size, FLAGS.size, FLAGS.channels], seed=0)
    layer(x)

    def loss_and_grads(forward):
        @tf.function
        def step(inputs):
            with tf.GradientTape() as tape:
                tape.watch(inputs)
                loss = tf.reduce_sum(forward(inputs))
            grads = tape.gradient(loss, [inputs] + layer.trainable_variables)
            return loss + tf.add_n([tf.reduce_sum(g) for g in grads]) * 0.0
        return step

    def naive(inputs):  # the same two directions, mirrored and shifted, pixel by pixel
        left, right = layer.left, layer.right
        h_l = naive_diagonal_lstm(inputs, left.input_kernel, left.state_kernel, left.bias)
        mirrored = naive_diagonal_lstm(tf.reverse(inputs, [2]), right.input_kernel, right.state_kernel, right.bias)
        h_r = tf.pad(tf.reverse(mirrored, [2]), [[0, 0], [1, 0], [0, 0], [0, 0]])[:, :-1]
        return tf.concat([h_l, h_r], -1)

    column = time_ms(loss_and_grads(layer), x, FLAGS.repeats)
    print(f"column formulation: {column:,.1f} ms forward+backward", flush=True)
    per_pixel = time_ms(loss_and_grads(naive), x, max(1, FLAGS.repeats // 5))
    print(f"naive per-pixel:    {per_pixel:,.1f} ms forward+backward")
    print(f"speed-up: x{per_pixel / column:.1f} ({FLAGS.size}x{FLAGS.size}x{FLAGS.channels}, batch {FLAGS.batch})")


if __name__ == "__main__":
    app.run(main)
