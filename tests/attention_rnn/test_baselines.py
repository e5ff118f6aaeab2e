"""Baselines: SoftAttention sums to one, LocalAttention is a sigmoid map, both take a query."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from attention_rnn import baselines


@pytest.mark.parametrize("layer", [baselines.SoftAttention(8), baselines.LocalAttention(8, context_size=1),
                                   baselines.LocalAttention(8, context_size=3)])
def test_masks(layer):
    keras.utils.set_random_seed(0)
    x = tf.random.uniform([2, 5, 6, 4], seed=0)
    a, b = layer(x, tf.one_hot([0, 0], 10)), layer(x, tf.one_hot([5, 5], 10))
    assert a.shape == (2, 5, 6, 1) and not np.allclose(a.numpy(), b.numpy())
    if isinstance(layer, baselines.SoftAttention):
        np.testing.assert_allclose(a.numpy().sum(axis=(1, 2, 3)), 1.0, rtol=1e-5)
    else:
        assert 0.0 < float(tf.reduce_min(a)) and float(tf.reduce_max(a)) < 1.0
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert restored.get_config() == layer.get_config()


def test_local_context_size_reaches_neighbours():
    keras.utils.set_random_seed(1)
    x = np.random.default_rng(0).uniform(size=(1, 5, 5, 3)).astype(np.float32)
    y = x.copy()
    y[0, 2, 3] += 1.0  # a neighbour of (2, 2)
    for context, changes in ((1, False), (3, True)):
        layer = baselines.LocalAttention(8, context_size=context)
        diff = abs(float(layer(y)[0, 2, 2, 0]) - float(layer(x)[0, 2, 2, 0]))
        assert (diff > 1e-7) == changes
