"""DiagonalLSTM / DiagonalBiLSTM: skewing, shapes, and exact causality by perturbation."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from attention_rnn import DiagonalBiLSTM, DiagonalLSTM, skew, unskew


def test_skew_shifts_row_i_by_i_and_unskew_inverts():
    x = tf.reshape(tf.range(1, 13, dtype=tf.float32), [1, 3, 4, 1])
    s = skew(x).numpy()[0, ..., 0]
    np.testing.assert_array_equal(s, [[1, 2, 3, 4, 0, 0], [0, 5, 6, 7, 8, 0], [0, 0, 9, 10, 11, 12]])
    np.testing.assert_array_equal(unskew(skew(x), 4).numpy(), x.numpy())


@pytest.mark.parametrize("m,n", [(5, 7), (6, 3), (1, 4), (4, 1)])
def test_shapes(m, n):
    x = tf.random.uniform([2, m, n, 3])
    assert DiagonalLSTM(4)(x).shape == (2, m, n, 4)
    layer = DiagonalBiLSTM(4)
    assert layer(x).shape == (2, m, n, 8)
    assert layer.compute_output_shape((2, m, n, 3)) == (2, m, n, 8)


def influence(layer, m, n, channels=2):
    """``dep[r, c, i, j]``: does perturbing the input at (r, c) change the output at (i, j)?"""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, m, n, channels)).astype(np.float32)
    base = layer(x).numpy()
    dep = np.zeros((m, n, m, n), bool)
    for r in range(m):
        for c in range(n):
            y = x.copy()
            y[0, r, c] += 1.0
            dep[r, c] = np.abs(layer(y).numpy() - base).max(axis=(0, 3)) > 1e-6
    return dep


def causal_context(m, n, i, j):
    """The inputs output (i, j) may see: every row above i, and row i at columns <= j."""
    allowed = np.zeros((m, n), bool)
    allowed[:i] = True
    allowed[i, : j + 1] = True
    return allowed


def test_bilstm_output_depends_only_on_rows_above_and_the_left_of_its_row():
    m, n = 5, 6
    keras.utils.set_random_seed(0)
    dep = influence(DiagonalBiLSTM(3), m, n)
    for i in range(m):
        for j in range(n):
            allowed = causal_context(m, n, i, j)
            leaks = dep[:, :, i, j] & ~allowed
            assert not leaks.any(), f"output ({i}, {j}) sees inputs {np.argwhere(leaks).tolist()}"
            # And the whole allowed context does reach it (full receptive field).
            assert dep[:, :, i, j][allowed].all(), f"output ({i}, {j}) misses some of its context"


def test_forward_lstm_sees_the_top_left_rectangle_only():
    m, n = 4, 5
    keras.utils.set_random_seed(1)
    dep = influence(DiagonalLSTM(3), m, n)
    for i in range(m):
        for j in range(n):
            allowed = np.zeros((m, n), bool)
            allowed[: i + 1, : j + 1] = True
            np.testing.assert_array_equal(dep[:, :, i, j], allowed)


def test_compiles_under_xla_and_config_round_trip():
    layer = DiagonalBiLSTM(4, name="bilstm")
    x = tf.random.uniform([2, 6, 5, 3], seed=0)
    eager = layer(x)
    compiled = tf.function(lambda v: layer(v), jit_compile=True)(x)
    np.testing.assert_allclose(eager.numpy(), compiled.numpy(), atol=1e-5)
    clone = DiagonalBiLSTM.from_config(layer.get_config())
    assert clone.units == 4
    with pytest.raises(ValueError, match=r"\[B, m, n, h\] with static m, n"):
        DiagonalLSTM(2)(tf.zeros([2, 5, 3]))


@pytest.mark.parametrize("m,n", [(4, 6), (5, 3), (1, 5), (3, 1)])
def test_agrees_with_the_naive_per_pixel_recurrence(m, n):
    from attention_rnn.reference import naive_diagonal_lstm
    layer = DiagonalLSTM(3)
    x = tf.random.normal([2, m, n, 4], seed=5)
    layer.build(x.shape)
    layer.bias.assign(tf.random.normal(layer.bias.shape, seed=6))  # boundaries must be exact too
    expected = naive_diagonal_lstm(x, layer.input_kernel, layer.state_kernel, layer.bias)
    np.testing.assert_allclose(layer(x).numpy(), expected.numpy(), atol=1e-5)


def test_the_looped_per_pixel_recurrence_is_the_same_oracle():
    from attention_rnn.reference import naive_diagonal_lstm, naive_diagonal_lstm_loop
    layer = DiagonalLSTM(3)
    x = tf.random.normal([2, 4, 5, 4], seed=7)
    layer.build(x.shape)
    layer.bias.assign(tf.random.normal(layer.bias.shape, seed=8))
    weights = (layer.input_kernel, layer.state_kernel, layer.bias)
    looped = tf.function(naive_diagonal_lstm_loop)(x, *weights)
    np.testing.assert_allclose(looped.numpy(), naive_diagonal_lstm(x, *weights).numpy(), atol=1e-5)
    with tf.GradientTape() as tape:  # and it differentiates (the benchmark times forward+backward)
        tape.watch(x)
        loss = tf.reduce_sum(naive_diagonal_lstm_loop(x, *weights))
    assert tape.gradient(loss, x).shape == x.shape


def test_attention_rnn_without_context_is_causal_in_its_lstm_inputs():
    # context_size=1: X^c at (i, j) is X at (i, j) alone, so f_l/f_r at (i, j) see exactly the
    # DiagonalBiLSTM context; the learned combination is per pixel, so the mask inherits it.
    from attention_rnn import AttentionRNN
    m, n = 4, 5
    keras.utils.set_random_seed(2)
    layer = AttentionRNN(3, context_size=1)
    dep = influence(lambda v: layer(v), m, n)
    for i in range(m):
        for j in range(n):
            allowed = causal_context(m, n, i, j)
            assert not (dep[:, :, i, j] & ~allowed).any()


@pytest.mark.parametrize("m,n", [(5, 7), (6, 3), (1, 4), (4, 1)])
def test_bilstm_runs_both_directions_in_one_recurrence_as_two_separate_lstms(m, n):
    """The fused recurrence of both directions equals each direction's DiagonalLSTM alone."""
    keras.utils.set_random_seed(2)
    layer = DiagonalBiLSTM(3)
    x = tf.random.normal([2, m, n, 2], seed=1)
    out = layer(x).numpy()
    np.testing.assert_allclose(out[..., :3], layer.left(x).numpy(), atol=1e-5)
    mirrored = tf.reverse(layer.right(tf.reverse(x, [2])), [2])
    shifted = tf.pad(mirrored, [[0, 0], [1, 0], [0, 0], [0, 0]])[:, :-1]
    np.testing.assert_allclose(out[..., 3:], shifted.numpy(), atol=1e-5)


@pytest.mark.parametrize("m,n", [(4, 6), (5, 3), (1, 5), (3, 1), (4, 4)])
def test_gradients_agree_with_the_naive_per_pixel_recurrence(m, n):
    """The column recurrence's custom slice gradients (pads) give the oracle's gradients."""
    from attention_rnn.reference import naive_diagonal_lstm
    layer = DiagonalLSTM(3)
    x = tf.random.normal([2, m, n, 4], seed=9)
    layer.build(x.shape)
    layer.bias.assign(tf.random.normal(layer.bias.shape, seed=10))
    weights = [layer.input_kernel, layer.state_kernel, layer.bias]
    probe = tf.random.normal([2, m, n, 3], seed=11)  # a loss that weighs every output differently

    def gradients(fn):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(fn() * probe)
        return tape.gradient(loss, [x] + weights)

    ours = gradients(lambda: layer(x))
    expected = gradients(lambda: naive_diagonal_lstm(x, *weights))
    for got, want in zip(ours, expected):
        np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-4)


@pytest.mark.parametrize("m,n", [(4, 5), (3, 1)])
def test_bilstm_gradients_in_a_compiled_step_agree_with_two_per_pixel_oracles(m, n):
    """Both directions, fused in one recurrence and traced by tf.function, give the gradients
    of two separate per-pixel LSTMs (the right one mirrored and shifted down a row)."""
    from attention_rnn.reference import naive_diagonal_lstm
    keras.utils.set_random_seed(4)
    layer = DiagonalBiLSTM(2)
    x = tf.random.normal([3, m, n, 3], seed=5)
    layer.build(x.shape)
    for bias in (layer.left.bias, layer.right.bias):
        bias.assign(tf.random.normal(bias.shape, seed=6))
    probe = tf.random.normal([3, m, n, 4], seed=7)
    variables = layer.trainable_variables

    def naive(inputs):
        left, right = layer.left, layer.right
        h_l = naive_diagonal_lstm(inputs, left.input_kernel, left.state_kernel, left.bias)
        mirrored = naive_diagonal_lstm(tf.reverse(inputs, [2]), right.input_kernel, right.state_kernel, right.bias)
        h_r = tf.pad(tf.reverse(mirrored, [2]), [[0, 0], [1, 0], [0, 0], [0, 0]])[:, :-1]
        return tf.concat([h_l, h_r], -1)

    def gradients(forward):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(forward(x) * probe)
        return tape.gradient(loss, [x] + variables)

    ours = tf.function(lambda: gradients(layer))()
    expected = gradients(naive)
    assert len(ours) == len(expected) == 7
    for got, want in zip(ours, expected):
        np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-4)


def test_slice_axis_slices_and_its_gradient_pads():
    from attention_rnn.slicing import slice_axis
    x = tf.reshape(tf.range(24, dtype=tf.float32), [2, 3, 4])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = slice_axis(x, 2, 1, 2)
        loss = tf.reduce_sum(y * tf.constant([[1.0, 2.0]]))
    np.testing.assert_array_equal(y.numpy(), x.numpy()[:, :, 1:3])
    grad = np.zeros([2, 3, 4], np.float32)
    grad[:, :, 1], grad[:, :, 2] = 1.0, 2.0
    np.testing.assert_array_equal(tape.gradient(loss, x).numpy(), grad)
    assert slice_axis(x, -1, 0, 4) is x
    with pytest.raises(ValueError, match="out of range"):
        slice_axis(x, 1, 2, 2)
