"""What a trained (or stalled) attribute network's masks and gradients look like.

A stalled run is told apart from a slow one by two readings on a few training batches:

- each attended layer's mask: its mean and its spread over locations. A mask whose mean sits
  near 0 or 1 with little spread is a saturated sigmoid: it selects nothing, and its gradient
  (scaled by ``sigmoid'``, about the mean for a mask near 0) is nearly gone, so it will not
  start selecting later. Batch normalisation after each masked map makes the mask's overall
  level a free direction (it rescales it away), along which such a layer can drift.
- the gradient norm of each part of the network (the four convolutions, the four attention
  layers, the batch normalisations, the head), and of all of it: occasional large norms are
  cut by the optimiser's ``global_clipnorm``.
"""

import keras
import numpy as np
import tensorflow as tf


def part_of(variable_path):
    """The network part a variable belongs to: its top-level layer's name (``conv0``,
    ``attention2``, ``norm1``, ``head``, ``query_embedding``...)."""
    parts = variable_path.split("/")
    return parts[1] if len(parts) > 2 else parts[0]


def mask_and_gradient_report(model, batches):
    """Mask statistics and gradient norms of ``model`` (an :class:`AttributeNetwork`) on ``batches``.

    Args:
      model: a built ``AttributeNetwork``.
      batches: iterable of ``((images [B, 100, 100, 3], queries [B, q]), answers [B])``.

    Returns:
      dict with ``loss`` (mean cross-entropy), ``mask_mean`` and ``mask_std`` (one value per
      attended layer: the mean over batches of each mask's mean and of its standard deviation
      over locations and examples), ``gradient_norm`` (part -> root mean square over batches of
      that part's gradient norm) and ``global_norm`` (the same for all parts together, and the
      largest single batch's, ``global_norm_max``). The model is left as it was (batch
      normalisation's running statistics included).
    """
    # Training mode (batch statistics, as the optimiser sees the network) moves batch
    # normalisation's running statistics: restore them, so that reading a model changes nothing.
    saved = [v.numpy() for v in model.non_trainable_variables]
    try:
        return _report(model, batches)
    finally:
        for variable, value in zip(model.non_trainable_variables, saved):
            variable.assign(value)


def _report(model, batches):
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    losses, means, stds, squares, globals_ = [], [], [], {}, []
    for (images, queries), answers in batches:
        with tf.GradientTape() as tape:
            logits, masks = model((images, queries), return_masks=True, training=True)
            loss = loss_fn(answers, logits)
        grads = tape.gradient(loss, model.trainable_variables)
        per_part = {}
        for variable, grad in zip(model.trainable_variables, grads):
            if grad is not None:
                key = part_of(variable.path)
                per_part[key] = per_part.get(key, 0.0) + float(tf.reduce_sum(tf.square(grad)))
        for key, value in per_part.items():
            squares.setdefault(key, []).append(value)
        globals_.append(np.sqrt(sum(per_part.values())))
        losses.append(float(loss))
        means.append([float(tf.reduce_mean(m)) for m in masks])
        stds.append([float(tf.math.reduce_std(m)) for m in masks])
    if not losses:
        raise ValueError("no batches to diagnose")
    return dict(loss=float(np.mean(losses)),
                mask_mean=[float(v) for v in np.mean(means, axis=0)] if means[0] else [],
                mask_std=[float(v) for v in np.mean(stds, axis=0)] if stds[0] else [],
                gradient_norm={k: float(np.sqrt(np.mean(v))) for k, v in squares.items()},
                global_norm=float(np.sqrt(np.mean(np.square(globals_)))),
                global_norm_max=float(np.max(globals_)))


def format_report(label, report):
    """Three lines: the loss and gradient norms, each mask's mean and spread, the parts' norms."""
    masks = "  ".join(f"{m:.3f}±{s:.3f}" for m, s in zip(report["mask_mean"], report["mask_std"])) or "(none)"
    parts = "  ".join(f"{k} {v:.3g}" for k, v in sorted(report["gradient_norm"].items()))
    return (f"{label}: loss {report['loss']:.3f}, gradient norm {report['global_norm']:.3g} "
            f"(largest batch {report['global_norm_max']:.3g})\n"
            f"  masks, mean±std per attended layer: {masks}\n"
            f"  gradient norm per part: {parts}")
