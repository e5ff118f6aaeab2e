"""The CRAM encoder (Sec. III-A, V-A): context network, STN localisation, glimpse network and a
two-layer LSTM core, unrolled over ``num_glimpses`` steps.

Conventions: images and clues are ``[B, H, W, C]`` / ``[B, H, W, 1]`` float32; ``theta [B, 3]
= (s, tx, ty)`` maps output-grid coordinates to source ones, ``x_s = s * x_t + tx`` (see
:class:`cram.SpatialTransformer`), so the glimpse window is centred at ``(tx, ty)`` with half
side ``s`` in normalised [-1, 1] image units (x right, y down).
Every CNN and MLP layer but the last has BatchNorm and ELU (Sec. V-A), except the clue's CNNs
(see :class:`CRAMEncoder`); BatchNorm momentum is :data:`BN_MOMENTUM`.
"""

import keras
import tensorflow as tf

from cram.spatial_transformer import SpatialTransformer

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


@keras.saving.register_keras_serializable(package="cram")
class CRAMEncoder(keras.layers.Layer):
    """Encodes ``(image, clue)`` into ``z`` by ``num_glimpses`` spatial-transformer glimpses.

    - Context network: image and clue average-pooled 4x, each through a 3-layer 3x3 CNN with
      3x3/2 max-pooling; concatenated; a 2-layer MLP gives the initial hidden state of the
      core's second LSTM layer (its cell starts at zero).
    - Localisation: image and clue each through a 3-layer 5x5/2 CNN (computed once: they do not
      change between steps); the second LSTM layer's output through a 2-layer MLP; all
      concatenated; a 2-layer MLP gives raw ``(a, b, c)``, and ``theta = (s_min + (1 - s_min) *
      sigmoid(a), tanh(b), tanh(c))``. The last layer starts at zero weights and a bias that
      puts the first glimpse at the centre with ``s = 0.5`` (half the image's side).
      The networks run at every step keep one BatchNorm per step (:class:`StepwiseStack`).
    - The clue's two CNNs have no BatchNorm: a clue that is the same for every image (the hole
      in inpainting) has zero batch variance, which BatchNorm turns into a train/inference
      mismatch.
    - Glimpse network: the ``glimpse_size`` patch ``STN(image, theta)`` through a 3-layer 3x3
      CNN and a 1-layer MLP, ``theta`` through a 1-layer MLP, multiplied elementwise.
    - Core: two LSTM layers; the first reads the glimpse vector, the second the first's output.
      ``z`` is the second layer's final output.

    Call args:
      images: ``[B, H, W, C]``; clues: ``[B, H, W, 1]`` binary (zeros when there is no clue).

    Returns:
      ``(z [B, units], thetas [B, T, 3])``.
    """

    def __init__(self, num_glimpses=6, glimpse_size=16, filters=32, units=256, min_scale=0.1, **kwargs):
        super().__init__(**kwargs)
        self.num_glimpses, self.glimpse_size, self.filters = num_glimpses, glimpse_size, filters
        self.units, self.min_scale = units, min_scale
        f, u = filters, units
        self.context_image = cnn([f, f, f], 3, 1, "context_image", pool=True)
        # No BatchNorm on the clue's branches: in inpainting the clue (the hole) is the same for
        # every image, so its batch variance is 0: BatchNorm would output beta in training and
        # something else in inference, while the running variance decays towards 0.
        self.context_clue = cnn([f, f, f], 3, 1, "context_clue", pool=True, normalise=False)
        self.context_mlp = mlp([u, u], "context_mlp")
        self.where_image = cnn([f, f, f], 5, 2, "where_image")
        self.where_clue = cnn([f, f, f], 5, 2, "where_clue", normalise=False)
        t = num_glimpses
        self.where_state = StepwiseStack([("dense", u, True), ("dense", u, True)], t, name="where_state")
        self.where_hidden = StepwiseStack([("dense", u, True)], t, name="where_hidden")
        s0 = (0.5 - min_scale) / (1.0 - min_scale)  # sigmoid(a0) = s0 gives s = 0.5
        self.where_theta = keras.layers.Dense(3, kernel_initializer="zeros", name="theta",
                                              bias_initializer=keras.initializers.Constant(
                                                  [float(tf.math.log(s0 / (1 - s0))), 0.0, 0.0]))
        self.sensor = SpatialTransformer(glimpse_size, name="sensor")
        self.what_patch = StepwiseStack([("conv", f, 3, 1), ("pool",), ("conv", f, 3, 1), ("pool",),
                                         ("conv", f, 3, 1), ("pool",), ("flatten",), ("dense", u, False)], t,
                                        name="what_patch")
        self.what_theta = keras.layers.Dense(u, name="what_theta")
        self.lstm1 = keras.layers.LSTMCell(u, name="lstm1")
        self.lstm2 = keras.layers.LSTMCell(u, name="lstm2")

    def theta_from(self, raw):
        s = self.min_scale + (1.0 - self.min_scale) * tf.sigmoid(raw[:, :1])
        return tf.concat([s, tf.tanh(raw[:, 1:])], axis=-1)

    def call(self, images, clues, training=None):
        images, clues = tf.convert_to_tensor(images, tf.float32), tf.convert_to_tensor(clues, tf.float32)
        small_image = tf.nn.avg_pool2d(images, 4, 4, "SAME")
        small_clue = tf.nn.avg_pool2d(clues, 4, 4, "SAME")
        context = tf.concat([self.context_image(small_image, training=training),
                             self.context_clue(small_clue, training=training)], -1)
        h2 = self.context_mlp(context, training=training)
        batch = tf.shape(images)[0]
        zeros = tf.zeros([batch, self.units])
        state1, state2 = [zeros, zeros], [h2, zeros]
        where = tf.concat([self.where_image(images, training=training), self.where_clue(clues, training=training)], -1)
        thetas = []
        for step in range(self.num_glimpses):  # a few steps: unrolled in the graph
            state = self.where_state(h2, step=step, training=training)
            hidden = self.where_hidden(tf.concat([where, state], -1), step=step, training=training)
            theta = self.theta_from(self.where_theta(hidden))
            patch = self.sensor(images, theta)
            g = self.what_patch(patch, step=step, training=training) * self.what_theta(theta)
            h1, state1 = self.lstm1(g, state1, training=training)
            h2, state2 = self.lstm2(h1, state2, training=training)
            thetas.append(theta)
        return h2, tf.stack(thetas, axis=1)

    def get_config(self):
        config = super().get_config()
        config.update(num_glimpses=self.num_glimpses, glimpse_size=self.glimpse_size, filters=self.filters,
                      units=self.units, min_scale=self.min_scale)
        return config


CLUE_FORMS = ("inside", "cover")


def check_clue_form(form):
    """Returns ``form`` if it is one of :data:`CLUE_FORMS`; raises ValueError otherwise."""
    if form not in CLUE_FORMS:
        raise ValueError(f"unknown clue loss form {form!r}; valid: {', '.join(CLUE_FORMS)}")
    return form


def window_coverage(clues, thetas):
    """The share of each clue inside each glimpse window: ``clues [B, H, W, 1]`` binary,
    ``thetas [B, T, 3]`` -> ``[B, T]`` in [0, 1] (1 for an empty clue). Window t is
    ``|x - tx| <= s`` and ``|y - ty| <= s`` over the pixel centres (x, y in [-1, 1], as in
    :class:`SpatialTransformer`), with a linear ramp one pixel wide across each edge."""
    clues = tf.convert_to_tensor(clues, tf.float32)
    thetas = tf.convert_to_tensor(thetas, tf.float32)
    height, width = clues.shape[1], clues.shape[2]

    def window_weights(size, centre, scale):  # [B, T, size]: the window's weight per pixel row/column
        coords = tf.linspace(-1.0, 1.0, size)
        pixel = 2.0 / (size - 1)
        distance = tf.abs(coords[None, None, :] - centre[..., None])
        return tf.clip_by_value((scale[..., None] - distance) / pixel + 0.5, 0.0, 1.0)

    s, tx, ty = thetas[..., 0], thetas[..., 1], thetas[..., 2]
    in_x, in_y = window_weights(width, tx, s), window_weights(height, ty, s)  # [B, T, W], [B, T, H]
    covered = tf.einsum("bhw,bth,btw->bt", clues[..., 0], in_y, in_x)
    total = tf.reduce_sum(clues, axis=[1, 2, 3])[:, None]
    return tf.where(total > 0, covered / tf.maximum(total, 1e-6), 1.0)


def clue_loss(clues, thetas, sensor_size=16, form="inside"):
    """How far the glimpses are from the clue (Sec. IV; the paper's equation was lost, these are
    our forms). ``clues [B, H, W, 1]`` binary, ``thetas [B, T, 3]``; returns ``[B]``, the mean
    over the T glimpses of:

    - ``form="inside"``: ``mean_pixels(1 - STN(clue, theta_t))``, zero when the window lies
      inside the clue, one when none of it does. Pulls windows onto the clue (classification:
      onto the salient digit).
    - ``form="cover"``: ``1 - sum(clue * W_t) / sum(clue)``, one minus the share of the clue
      inside window t, where ``W_t`` is the window ``[tx - s, tx + s] x [ty - s, ty + s]`` as a
      mask on the clue's pixel centres, with one-pixel linear ramps at its edges (so the loss
      is smooth in theta, and exact to a pixel; sampling the clue at the glimpse's 16x16 points
      instead aliases). Zero for any window that contains the whole clue. Inpainting uses it:
      the clue is the hole, which holds no pixels, so windows must take the hole *with* its
      surroundings rather than sit inside it.

    ``inside`` samples the clue bilinearly, like the image; both are differentiable in theta.
    """
    if check_clue_form(form) == "cover":
        return tf.reduce_mean(1.0 - window_coverage(clues, thetas), axis=1)
    t = thetas.shape[1]
    flat = tf.reshape(thetas, [-1, 3])
    tiled = tf.repeat(clues, t, axis=0)  # [B*T, H, W, 1], row-major as flat
    seen = SpatialTransformer(sensor_size)(tiled, flat)
    per = tf.reshape(tf.reduce_mean(1.0 - seen, axis=[1, 2, 3]), [-1, t])
    return tf.reduce_mean(per, axis=1)
