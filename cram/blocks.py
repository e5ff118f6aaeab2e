"""Building blocks of the CRAM networks (Sec. V-A): MLPs and CNNs whose layers but the last
have BatchNorm and ELU, and :class:`StepwiseStack`, shared weights with per-step BatchNorm.
BatchNorm momentum is :data:`BN_MOMENTUM`."""

import keras
import tensorflow as tf

# Keras' default (0.99) lets the running statistics lag far behind in runs of a few hundred
# steps: measured on the inpainter after 100 steps, hole L1 0.228 in inference mode against
# 0.165 with batch statistics on the same images; with 0.9, 0.164 against 0.165.
BN_MOMENTUM = 0.9


def mlp(sizes, name, last_plain=True):
    """Dense layers of ``sizes``; BatchNorm + ELU after each but (if ``last_plain``) the last."""
    layers = []
    for k, size in enumerate(sizes):
        layers.append(keras.layers.Dense(size, name=f"dense{k}"))
        if k < len(sizes) - 1 or not last_plain:
            layers += [keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"bn{k}"), keras.layers.ELU()]
    return keras.Sequential(layers, name=name)


def cnn(filters, kernel, strides, name, pool=False, normalise=True):
    """Convolutions (``same`` padding), each with BatchNorm (if ``normalise``) + ELU, optionally
    followed by a 3x3/2 max-pooling; flattened at the end."""
    layers = []
    for k, f in enumerate(filters):
        layers.append(keras.layers.Conv2D(f, kernel, strides, padding="same", name=f"conv{k}"))
        if normalise:
            layers.append(keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"bn{k}"))
        layers.append(keras.layers.ELU())
        if pool:
            layers.append(keras.layers.MaxPooling2D(3, 2, padding="same"))
    layers.append(keras.layers.Flatten())
    return keras.Sequential(layers, name=name)


@keras.saving.register_keras_serializable(package="cram")
class StepwiseStack(keras.layers.Layer):
    """Layers whose weights are shared over the glimpse steps but whose BatchNorm is per step.

    One BatchNorm shared by all steps would normalise every step with a running mixture of the
    steps' statistics at inference, although each step saw its own batch statistics in
    training. Per-step statistics (as in recurrent batch normalisation, Cooijmans et al. 2016)
    avoid that mismatch.

    ``spec``: a list of ``("conv", filters, kernel, strides)``, ``("pool",)``, ``("flatten",)``
    or ``("dense", units, normalise)``; every conv and every normalised dense is followed by
    BatchNorm (one per step) and ELU. Call ``(x, step=t, training=...)`` with ``t`` a Python int.
    """

    def __init__(self, spec, steps, **kwargs):
        super().__init__(**kwargs)
        self.spec, self.steps = [tuple(item) for item in spec], steps
        self.main, self.norms, self.first_norm = [], [], []  # flat lists, so that Keras tracks them
        for k, item in enumerate(self.spec):
            kind = item[0]
            if kind == "conv":
                self.main.append(keras.layers.Conv2D(item[1], item[2], item[3], padding="same", name=f"conv{k}"))
            elif kind == "dense":
                self.main.append(keras.layers.Dense(item[1], name=f"dense{k}"))
            elif kind == "pool":
                self.main.append(keras.layers.MaxPooling2D(3, 2, padding="same", name=f"pool{k}"))
            elif kind == "flatten":
                self.main.append(keras.layers.Flatten(name=f"flatten{k}"))
            else:
                raise ValueError(f"unknown StepwiseStack item {item!r}")
            normalised = kind == "conv" or (kind == "dense" and item[2])
            self.first_norm.append(len(self.norms) if normalised else None)
            if normalised:
                self.norms.extend(keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"bn{k}_step{t}")
                                  for t in range(steps))

    def build(self, input_shape):
        shape = tuple(input_shape)
        for layer, first in zip(self.main, self.first_norm):
            layer.build(shape)
            shape = tuple(layer.compute_output_shape(shape))
            if first is not None:
                for norm in self.norms[first:first + self.steps]:
                    norm.build(shape)

    def call(self, x, step, training=None):
        for layer, first in zip(self.main, self.first_norm):
            x = layer(x)
            if first is not None:
                x = tf.nn.elu(self.norms[first + min(step, self.steps - 1)](x, training=training))
        return x

    def get_config(self):
        config = super().get_config()
        config.update(spec=[list(item) for item in self.spec], steps=self.steps)
        return config
