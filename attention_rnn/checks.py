"""Argument checks the attention layers share: a clear ValueError naming the argument, raised
before any TF op runs (instead of a silent wrong result or an error from deep inside Keras)."""

import numbers

import tensorflow as tf


def check_sizes(owner, **sizes):
    """Each of ``sizes`` must be an integer >= 1 (``units=0`` would build an empty layer)."""
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{owner} needs {name} >= 1 (an integer), got {value!r}")
    return tuple(int(v) for v in sizes.values())


def check_map(owner, features, channels=None):
    """``features`` as a tensor ``[B, m, n, h]`` with static ``m, n >= 1`` (and ``h ==
    channels`` when the layer was built for a channel count)."""
    features = tf.convert_to_tensor(features)
    shape = features.shape
    if shape.rank != 4 or shape[1] is None or shape[2] is None:
        raise ValueError(f"{owner} expects features [B, m, n, h] with static m, n; got shape {shape}")
    if shape[1] == 0 or shape[2] == 0:
        raise ValueError(f"{owner} got an empty {shape[1]}x{shape[2]} map (shape {shape}); m and n must be >= 1")
    if channels is not None and shape[3] is not None and shape[3] != channels:
        raise ValueError(f"{owner} was built for {channels}-channel features, got shape {shape}")
    return features


def check_query(owner, features, query, size=None):
    """``query`` as a tensor ``[B, q]`` whose batch matches ``features`` (when both are static)
    and, when the layer was built, whose ``q`` is the ``size`` it was built for."""
    query = tf.convert_to_tensor(query, features.dtype)
    if query.shape.rank != 2:
        raise ValueError(f"{owner} expects a query [B, q], got shape {query.shape}")
    batch, queries = features.shape[0], query.shape[0]
    if batch is not None and queries is not None and batch != queries:
        raise ValueError(f"{owner} got {queries} queries for a batch of {batch} feature maps")
    if size is not None and query.shape[1] is not None and query.shape[1] != size:
        raise ValueError(f"{owner} was built for queries of size {size}, got shape {query.shape}")
    return query
