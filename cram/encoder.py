"""The CRAM encoder (Sec. III-A, V-A): context network, STN localisation, glimpse network and a
two-layer LSTM core, unrolled over ``num_glimpses`` steps.

Conventions: images and clues are ``[B, H, W, C]`` / ``[B, H, W, 1]`` float32; ``theta [B, 3]
= (s, tx, ty)`` maps output-grid coordinates to source ones, ``x_s = s * x_t + tx`` (see
:class:`cram.SpatialTransformer`), so the glimpse window is centred at ``(tx, ty)`` with half
side ``s`` in normalised [-1, 1] image units (x right, y down).
Every CNN and MLP layer but the last has BatchNorm and ELU (Sec. V-A), except the clue's CNNs
(see :class:`CRAMEncoder`); BatchNorm momentum is :data:`cram.blocks.BN_MOMENTUM`.
"""

import keras
import tensorflow as tf

from cram.blocks import StepwiseStack, cnn, mlp
from cram.config import DEFAULTS as D
from cram.spatial_transformer import SpatialTransformer


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

    def __init__(self, num_glimpses=D.num_glimpses, glimpse_size=D.glimpse_size, filters=D.filters, units=D.units,
                 min_scale=0.1, **kwargs):
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
