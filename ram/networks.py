"""The five networks of RAM (Mnih et al. 2014, Section 3.1 and Fig. 1)."""

import keras
import numpy as np
import tensorflow as tf

from ram.config import DEFAULTS, RAMConfig
from ram.glimpse import GlimpseSensor
from trainkit.settings import check_value


def _dense(units, name, activation=None):
    return keras.layers.Dense(units, activation=activation, name=name)


@keras.saving.register_keras_serializable(package="ram")
class GlimpseNetwork(keras.layers.Layer):
    """``f_g``: what and where, combined.

    In other words: ``h_g = relu(fc(rho(x_t, l_{t-1})))``, ``h_l = relu(fc(l_{t-1}))``,
    ``g_t = relu(fc(h_g) + fc(h_l))``, with ``rho`` the :class:`GlimpseSensor`.

    Call args:
      images: ``[B, H, W, C]`` float32.
      locations: ``[B, 2]`` float32, ``(x, y)`` in [-1, 1] (see :class:`GlimpseSensor`).

    Returns:
      ``g_t``, ``[B, glimpse_units]`` float32.
    """

    def __init__(self, patch_size, num_scales, scale_factor=2.0, unit_pixels=None,
                 hidden_glimpse=128, hidden_location=128, glimpse_units=256, **kwargs):
        super().__init__(**kwargs)
        self.sensor = GlimpseSensor(patch_size, num_scales, scale_factor, unit_pixels, name="sensor")
        self.hidden_glimpse, self.hidden_location = hidden_glimpse, hidden_location
        self.glimpse_units = glimpse_units
        self.fc_glimpse = _dense(hidden_glimpse, "h_g", "relu")
        self.fc_location = _dense(hidden_location, "h_l", "relu")
        self.what = _dense(glimpse_units, "what")
        self.where = _dense(glimpse_units, "where")

    def call(self, images, locations):
        rho = self.sensor(images, locations)
        rho = tf.reshape(rho, [-1, rho.shape[1] * rho.shape[2] * rho.shape[3] * rho.shape[4]])
        h_g = self.fc_glimpse(rho)
        h_l = self.fc_location(locations)
        return tf.nn.relu(self.what(h_g) + self.where(h_l))

    def get_config(self):
        config = super().get_config()
        config.update(patch_size=self.sensor.patch_size, num_scales=self.sensor.num_scales,
                      scale_factor=self.sensor.scale_factor, unit_pixels=self.sensor.unit_pixels,
                      hidden_glimpse=self.hidden_glimpse, hidden_location=self.hidden_location,
                      glimpse_units=self.glimpse_units)
        return config


@keras.saving.register_keras_serializable(package="ram")
class CoreNetwork(keras.layers.Layer):
    """``f_h``: the recurrent state.

    ``core="rnn"`` (the paper's equations): ``h_t = relu(fc(h_{t-1}) + fc(g_t))``.
    ``core="lstm"``: an LSTM cell of the same width (the paper's option for harder sets).

    Call args:
      g_t: ``[B, glimpse_units]`` float32.
      state: list of ``[B, units]`` tensors (one for rnn, ``[h, c]`` for lstm).

    Returns:
      ``(h_t [B, units], new_state)``.
    """

    def __init__(self, units=256, core=DEFAULTS.core, **kwargs):
        super().__init__(**kwargs)
        check_value(RAMConfig, "core", core)
        self.units, self.core = units, core
        if core == "rnn":
            self.fc_h = _dense(units, "fc_h")
            self.fc_g = _dense(units, "fc_g")
        else:
            self.cell = keras.layers.LSTMCell(units, name="lstm")

    def initial_state(self, batch_size):
        zeros = tf.zeros([batch_size, self.units])
        return [zeros] if self.core == "rnn" else [zeros, zeros]

    def call(self, g_t, state):
        if self.core == "rnn":
            h_t = tf.nn.relu(self.fc_h(state[0]) + self.fc_g(g_t))
            return h_t, [h_t]
        h_t, new_state = self.cell(g_t, state)
        return h_t, list(new_state)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, core=self.core)
        return config


@keras.saving.register_keras_serializable(package="ram")
class LocationNetwork(keras.layers.Layer):
    """``f_l``: a Gaussian policy over the next location.

    ``mu = clip(fc(h_t), -1, 1)`` (``activation="clip"``) or ``mu = tanh(fc(h_t))``
    (``"tanh"``, as kevinzakka's PyTorch RAM: a clipped mean has no gradient once it leaves
    [-1, 1], so a policy pushed to the border cannot come back); ``l_t = clip(mu + sigma *
    eps, -1, 1)`` when sampling, ``l_t = mu`` otherwise. ``zero_init`` starts ``fc``'s kernel
    at zero, so every glimpse starts at the bias (the centre): the core's state grows in norm
    step after step and while training, and through a random kernel that growth alone pushes
    later means to the border, where a clipped mean has no gradient to come back. The sample is a constant for backprop: the network learns only
    through ``log pi(l_t | mu, sigma)`` in the REINFORCE term.

    ``sigma`` is the ``std`` the model passes in (fixed or annealed), or, with
    ``learn_std=True``, ``exp(log_std)``, a trainable scalar initialised at ``log(std)`` and
    bounded to [0.01, 1] location units (below, ``log pi`` explodes; above, every glimpse is
    noise), trained by the same REINFORCE term.

    Call args:
      h_t: ``[B, units]`` float32.
      noise: ``[B, 2]`` standard normal draws, or None for the mean.
      std: scalar float32, the policy's standard deviation when ``learn_std`` is False.

    Returns:
      ``(mu, l_t)``, each ``[B, 2]`` float32, ``(x, y)`` in [-1, 1].
    """

    def __init__(self, std, learn_std=False, activation=DEFAULTS.location_activation, zero_init=False, **kwargs):
        super().__init__(**kwargs)
        check_value(RAMConfig, "location_activation", activation)
        self.std, self.activation = float(std), activation
        self.learn_std, self.zero_init = bool(learn_std), bool(zero_init)
        self.fc = keras.layers.Dense(2, kernel_initializer="zeros" if zero_init else "glorot_uniform", name="fc")
        if self.learn_std:  # made here: the model reads sigma before this layer's first call
            self.log_std = self.add_weight(name="log_std", shape=(), trainable=True,
                                           initializer=keras.initializers.Constant(float(np.log(self.std))))

    def sigma(self, std=None):
        """The policy's standard deviation: scalar float32."""
        if self.learn_std:
            return tf.exp(tf.clip_by_value(self.log_std, float(np.log(0.01)), 0.0))
        return tf.constant(self.std, tf.float32) if std is None else tf.cast(std, tf.float32)

    def call(self, h_t, noise=None, std=None):
        mu = self.fc(h_t)
        mu = tf.tanh(mu) if self.activation == "tanh" else tf.clip_by_value(mu, -1.0, 1.0)
        if noise is None:
            return mu, tf.stop_gradient(mu)
        return mu, tf.stop_gradient(tf.clip_by_value(mu + self.sigma(std) * noise, -1.0, 1.0))

    def get_config(self):
        config = super().get_config()
        config.update(std=self.std, learn_std=self.learn_std, activation=self.activation, zero_init=self.zero_init)
        return config


@keras.saving.register_keras_serializable(package="ram")
class ActionNetwork(keras.layers.Layer):
    """``f_a``: class logits from the state, ``softmax(fc(h_t))``. Returns ``[B, classes]`` logits."""

    def __init__(self, num_classes=10, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.fc = _dense(num_classes, "fc")

    def call(self, h_t):
        return self.fc(h_t)

    def get_config(self):
        config = super().get_config()
        config.update(num_classes=self.num_classes)
        return config


@keras.saving.register_keras_serializable(package="ram")
class BaselineNetwork(keras.layers.Layer):
    """``b_t = fc(h_t)``: the expected reward, to reduce REINFORCE's variance.

    Its input is ``stop_gradient(h_t)``, so the baseline's regression shapes neither the core
    nor the glimpse network. Returns ``[B]`` float32.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.fc = _dense(1, "fc")

    def call(self, h_t):
        return self.fc(tf.stop_gradient(h_t))[:, 0]
