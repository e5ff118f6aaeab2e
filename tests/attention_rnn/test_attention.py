"""AttentionRNN and BlockAttentionRNN: shapes, queries, combinations, sampling, configs."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from attention_rnn import AttentionRNN, BlockAttentionRNN, DiagonalBiLSTM, DiagonalLSTM, product_of_gaussians
from attention_rnn.baselines import LocalAttention


def features(m=6, n=7, h=5, batch=2, seed=0):
    return tf.random.uniform([batch, m, n, h], seed=seed)


@pytest.mark.parametrize("combine", ["learned", "independent"])
@pytest.mark.parametrize("context_size", [1, 3])
def test_mask_shape_and_range(combine, context_size):
    layer = AttentionRNN(4, context_size=context_size, combine=combine)
    mask = layer(features())
    assert mask.shape == (2, 6, 7, 1)
    assert 0.0 < float(tf.reduce_min(mask)) and float(tf.reduce_max(mask)) < 1.0


def test_query_changes_the_mask():
    keras.utils.set_random_seed(0)
    layer = AttentionRNN(4)
    x = features()
    a = layer(x, tf.one_hot([1, 1], 10))
    b = layer(x, tf.one_hot([7, 7], 10))
    assert a.shape == (2, 6, 7, 1) and not np.allclose(a.numpy(), b.numpy())
    with pytest.raises(ValueError, match=r"query \[B, q\]"):
        layer(x, tf.zeros([2, 3, 1]))


def test_expectation_returns_activated_mu_and_distribution():
    layer = AttentionRNN(4, return_distribution=True)
    mask, mu, sigma = layer(features())
    np.testing.assert_allclose(mask.numpy(), tf.sigmoid(mu).numpy(), rtol=1e-6)
    assert float(tf.reduce_min(sigma)) > 0
    raw = AttentionRNN(4, mask_activation=None, return_distribution=True)
    mask, mu, _ = raw(features())
    np.testing.assert_array_equal(mask.numpy(), mu.numpy())


def test_independent_combination_is_the_product_of_gaussians():
    mu, sigma = product_of_gaussians(tf.constant(1.0), tf.constant(1.0), tf.constant(3.0), tf.constant(1.0))
    assert float(mu) == pytest.approx(2.0) and float(sigma) == pytest.approx(np.sqrt(0.5))
    mu, sigma = product_of_gaussians(tf.constant(0.0), tf.constant(2.0), tf.constant(1.0), tf.constant(1.0))
    assert float(mu) == pytest.approx(0.8) and float(sigma) == pytest.approx(np.sqrt(0.8))


def test_sampling_is_seeded():
    x = features()

    def masks(seed):
        keras.utils.set_random_seed(0)
        layer = AttentionRNN(4, mode="sample", seed=seed, return_distribution=True)
        return layer(x)

    a, b, c = masks(1), masks(1), masks(2)
    np.testing.assert_array_equal(a[0].numpy(), b[0].numpy())
    np.testing.assert_array_equal(a[1].numpy(), c[1].numpy())  # same weights, same mu
    assert not np.allclose(a[0].numpy(), c[0].numpy())         # different draws


@pytest.mark.parametrize("m,n,gamma", [(8, 8, 2), (7, 10, 3), (5, 5, 4)])
def test_block_attention_any_size(m, n, gamma):
    layer = BlockAttentionRNN(gamma, 4, return_distribution=True)
    mask, mu, _ = layer(features(m, n))
    assert mask.shape == (2, m, n, 1)
    assert mu.shape == (2, -(-m // gamma), -(-n // gamma), 1)


def test_gradients_reach_every_part():
    layer = AttentionRNN(4)
    x = tf.Variable(features())
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x, tf.one_hot([0, 3], 10)))
    grads = tape.gradient(loss, layer.trainable_variables + [x])
    assert all(g is not None and float(tf.reduce_max(tf.abs(g))) > 0 for g in grads)


def test_config_round_trips_and_bad_arguments():
    for layer in (AttentionRNN(3, context_size=1, mode="sample", combine="independent", seed=4),
                  BlockAttentionRNN(2, 3, combine="independent")):
        restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
        assert restored.get_config() == layer.get_config()
    with pytest.raises(ValueError, match="unknown mode 'mean'"):
        AttentionRNN(3, mode="mean")
    with pytest.raises(ValueError, match="unknown combine 'sum'"):
        AttentionRNN(3, combine="sum")


@pytest.mark.parametrize("make, message", [
    (lambda: AttentionRNN(0), "units >= 1"),
    (lambda: AttentionRNN(4, context_size=0), "context_size >= 1"),
    (lambda: BlockAttentionRNN(0, 4), "block_size >= 1"),
    (lambda: DiagonalBiLSTM(-2), "units >= 1"),
    (lambda: DiagonalLSTM(2.5), "units >= 1"),
    (lambda: LocalAttention(0), "units >= 1"),
])
def test_sizes_are_checked_at_construction(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_maps_and_queries_are_named_before_tf_runs():
    layer = AttentionRNN(4)
    with pytest.raises(ValueError, match="empty 0x5 map"):
        layer(tf.zeros([2, 0, 5, 3]))
    with pytest.raises(ValueError, match="3 queries for a batch of 2"):
        layer(tf.zeros([2, 4, 5, 3]), tf.zeros([3, 10]))
    layer(tf.zeros([2, 4, 5, 3]), tf.zeros([2, 10]))
    with pytest.raises(ValueError, match="built for 3-channel features"):
        layer(tf.zeros([2, 4, 5, 6]), tf.zeros([2, 10]))
    with pytest.raises(ValueError, match="built for queries of size 10"):
        layer(tf.zeros([2, 4, 5, 3]), tf.zeros([2, 7]))
    lstm = DiagonalLSTM(2)
    lstm(tf.zeros([1, 3, 3, 4]))
    with pytest.raises(ValueError, match="built for 4-channel features"):
        lstm(tf.zeros([1, 3, 3, 5]))
    soft = LocalAttention(4)
    with pytest.raises(ValueError, match="1 queries for a batch of 2"):
        soft(tf.zeros([2, 4, 5, 3]), tf.zeros([1, 10]))
