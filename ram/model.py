"""RecurrentAttentionModel: the glimpse loop, its hybrid loss, and a REINFORCE train_step."""

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from ram.config import DEFAULTS, RAMConfig
from ram.networks import ActionNetwork, BaselineNetwork, CoreNetwork, GlimpseNetwork, LocationNetwork
from trainkit.settings import check_value

LOSS_TERMS = ("loss", "classification_loss", "reinforce_loss", "baseline_loss")
D = DEFAULTS  # every argument that is also a setting takes its default from ram.config


def cross_entropy(logits, labels):
    """Mean softmax cross-entropy of ``logits`` ``[B, classes]`` against integer ``labels`` (any shape of B)."""
    labels = tf.cast(tf.reshape(labels, [-1]), tf.int32)
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))


@keras.saving.register_keras_serializable(package="ram")
class RecurrentAttentionModel(keras.Model):
    """RAM (Mnih et al. 2014): look ``num_glimpses`` times, then classify.

    The loop, for ``t = 1..T`` with ``h_0 = 0``::

        mu_t = f_l(h_{t-1});  l_t ~ N(mu_t, std) (training) or l_t = mu_t (evaluation)
        b_t  = f_b(h_{t-1})                       # baseline for the choice of l_t
        g_t  = f_g(x, l_t);   h_t = f_h(g_t, h_{t-1})
        p(y | x) = softmax(f_a(h_T))

    so the first location is learned too (from ``h_0 = 0``), as in the Torch reproduction.
    Loss (one helper, :meth:`compute_ram_losses`, for training and evaluation)::

        L = CE(y, f_a(h_T))
            - w * mean_b sum_t log N(l_t; mu_t, std) * stop_gradient(R - b_t)   # REINFORCE
            + mean_{b,t} (R - b_t)^2                                         # baseline
        R = 1 if argmax f_a(h_T) = y else 0       (reward="correct", the paper's)
        R = softmax(f_a(h_T))_y                   (reward="probability")

    The sampled ``l_t`` carries no gradient (the location network learns through
    ``log_pi`` only); the baseline sees ``stop_gradient(h_t)``.

    Args:
      num_glimpses: T.
      patch_size, num_scales, scale_factor, unit_pixels: the :class:`ram.GlimpseSensor`.
      std: the location policy's standard deviation, in location units (its start value
        when annealed or learned).
      std_schedule: ``"fixed"``; ``"anneal"``, linearly from ``std`` to ``std_final`` over
        the first ``std_anneal_steps`` training steps, then ``std_final`` (sampled evaluation,
        ``mc_samples > 1``, uses ``std_final``); or ``"learned"``, a trainable scalar
        (see :class:`ram.networks.LocationNetwork`).
      std_final, std_anneal_steps: the ``"anneal"`` schedule.
      detach_policy: the location network sees ``stop_gradient(h_t)``, as the baseline does
        (kevinzakka's PyTorch RAM), so the REINFORCE gradient trains the location network
        alone; False lets it reach the core and glimpse networks through ``mu_t``.
      location_activation: ``"clip"`` or ``"tanh"``, how the policy's mean is kept in [-1, 1]
        (see :class:`ram.networks.LocationNetwork`).
      location_zero_init: start the location network's kernel at zero (see
        :class:`ram.networks.LocationNetwork`).
      core: ``"rnn"`` (the paper's equations) or ``"lstm"``.
      num_classes: number of classes.
      mc_samples: evaluation averages class probabilities over this many sampled paths;
        1 means the deterministic path of mean locations.
      seed: seeds the location noise. The noise of training step ``k`` is a stateless
        function of ``(seed, k)`` (``k`` the optimizer's step count, restored with a
        checkpoint), drawn for the whole global batch and sliced per replica: replicas get
        different draws, a resumed run the same draws as an uninterrupted one, and a
        multi-replica run the same draws as one device on the same global batches.
      hidden_glimpse, hidden_location, glimpse_units, core_units: network widths
        (paper: 128, 128, 256, 256).
      reinforce_weight: weight of the REINFORCE term. Unless ``detach_policy``, its gradient
        also reaches the core and glimpse networks (through ``mu_t``), where at first it is
        mostly noise (rewards are random) and larger than the classification gradient; Adam
        then scales the shared weights' steps by that noise. 0.01 (as in kevinzakka's PyTorch
        RAM) keeps it from drowning the classifier; the location network itself sees only this
        term, and Adam's per-parameter scaling makes its steps insensitive to the weight.
      random_locations: look at uniformly random locations instead (a control: no policy).
      train_paths: M, sampled glimpse paths per training image (as the tfRAM reproductions
        train): each image of a training batch is repeated M times, so a step of B images
        trains on B * M paths (path m of image i at row ``i * M + m``). 1: one path per image.
      path_baseline: the REINFORCE baseline of a path is the mean reward of the *other* M - 1
        paths of the same image (leave-one-out, needs ``train_paths >= 2``) instead of the
        learned ``b_t``: unbiased, and it compares paths on the same image, so a hard image
        does not read as a bad choice of glimpses. The baseline network still trains (its
        loss is reported) but does not enter the advantage.
      mean_path_weight: w_mean >= 0. When > 0, every training step also runs each image once
        along the deterministic mean path (``l_t = mu_t``, the path evaluation uses) and adds
        ``w_mean * CE(y, f_a(h_T^mean))`` to the loss, reported as ``mean_path_loss``: the
        classifier is then trained on the glimpses it will be tested on, not only on sampled
        ones. The mean locations carry no gradient, so this term trains the glimpse, core and
        action networks, never the policy (REINFORCE alone does). It costs one more forward
        and backward pass of B paths per step (a quarter more with ``train_paths=4``).
      reward: ``"correct"``, the paper's 0/1 reward (1 when the answer is right); or
        ``"probability"``, the probability the classifier gives the true class, in [0, 1] as
        the paper's is. Once most paths answer right, the 0/1 reward is the same for every
        path of most images and their advantage is 0; the probability still tells a path
        that made the classifier surer from one that did not. It carries no gradient (the
        classifier learns from the cross-entropy only). Accuracy always counts right answers.

    Call returns a dict: ``probabilities`` ``[B, num_classes]`` float32 and ``locations``
    ``[B, T, 2]`` float32 (``(x, y)`` in [-1, 1], see :class:`ram.GlimpseSensor`).
    """

    def __init__(self, num_glimpses=D.num_glimpses, patch_size=D.patch_size, num_scales=D.num_scales, scale_factor=2.0,
                 unit_pixels=None, std=D.std, core=D.core, num_classes=10, mc_samples=D.mc_samples, seed=D.seed,
                 hidden_glimpse=128, hidden_location=128, glimpse_units=256, core_units=256,
                 reinforce_weight=D.reinforce_weight, random_locations=D.random_locations,
                 std_schedule=D.std_schedule, std_final=D.std_final, std_anneal_steps=D.std_anneal_steps,
                 detach_policy=D.detach_policy, location_activation=D.location_activation,
                 location_zero_init=D.location_zero_init, train_paths=D.train_paths, path_baseline=D.path_baseline,
                 mean_path_weight=D.mean_path_weight, reward=D.reward, **kwargs):
        super().__init__(**kwargs)
        sizes = dict(num_glimpses=num_glimpses, num_classes=num_classes, hidden_glimpse=hidden_glimpse,
                     hidden_location=hidden_location, glimpse_units=glimpse_units, core_units=core_units)
        for name, value in sizes.items():  # 0 would build empty layers and train to chance silently
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        for name, value in dict(std=std, mc_samples=mc_samples, train_paths=train_paths,
                                mean_path_weight=mean_path_weight, reward=reward, std_schedule=std_schedule,
                                std_final=std_final, std_anneal_steps=std_anneal_steps).items():
            check_value(RAMConfig, name, value)  # the ranges and names declared in ram.config
        if isinstance(train_paths, bool) or not isinstance(train_paths, int):
            raise ValueError(f"train_paths must be an integer >= 1, got {train_paths!r}")
        if path_baseline and train_paths < 2:
            raise ValueError(f"path_baseline needs train_paths >= 2 (the other paths of an image), got {train_paths}")
        self.train_paths, self.path_baseline = train_paths, bool(path_baseline)
        self.mean_path_weight = float(mean_path_weight)
        self.reward = reward
        self.std_schedule, self.std_final = std_schedule, float(std_final)
        self.std_anneal_steps, self.detach_policy = int(std_anneal_steps), bool(detach_policy)
        self.num_glimpses, self.std, self.mc_samples, self.seed = num_glimpses, float(std), mc_samples, seed
        self.reinforce_weight = float(reinforce_weight)
        self.random_locations = bool(random_locations)
        self.glimpse_net = GlimpseNetwork(patch_size, num_scales, scale_factor, unit_pixels, hidden_glimpse,
                                          hidden_location, glimpse_units, name="glimpse_network")
        self.core = CoreNetwork(core_units, core, name="core_network")
        self.location_net = LocationNetwork(std, learn_std=std_schedule == "learned", activation=location_activation,
                                            zero_init=location_zero_init, name="location_network")
        self.action_net = ActionNetwork(num_classes, name="action_network")
        self.baseline_net = BaselineNetwork(name="baseline_network")
        extra = ("mean_path_loss",) if self.mean_path_weight > 0 else ()
        self.trackers = {name: keras.metrics.Mean(name=name)
                         for name in LOSS_TERMS + extra + ("accuracy", "reward")}
        self._config = dict(num_glimpses=num_glimpses, patch_size=patch_size, num_scales=num_scales,
                            scale_factor=scale_factor, unit_pixels=unit_pixels, std=std, core=core,
                            num_classes=num_classes, mc_samples=mc_samples, seed=seed,
                            hidden_glimpse=hidden_glimpse, hidden_location=hidden_location,
                            glimpse_units=glimpse_units, core_units=core_units,
                            reinforce_weight=reinforce_weight, random_locations=random_locations,
                            std_schedule=std_schedule, std_final=std_final, std_anneal_steps=std_anneal_steps,
                            detach_policy=detach_policy, location_activation=location_activation,
                            location_zero_init=location_zero_init, train_paths=train_paths,
                            path_baseline=path_baseline, mean_path_weight=mean_path_weight, reward=reward)

    @property
    def sensor(self):
        return self.glimpse_net.sensor

    # ----------------------------------------------------------------------------- forward
    def _check_images(self, images):
        images = tf.convert_to_tensor(images)
        if not images.dtype.is_floating:
            raise TypeError(f"RecurrentAttentionModel expects float images in [0, 1], got {images.dtype.name}")
        if images.shape.rank != 4:
            raise ValueError(f"RecurrentAttentionModel expects images [B, H, W, C], got shape {images.shape}")
        channels = getattr(self, "_channels", None)
        if channels is None:
            self._channels = images.shape[-1]
        elif images.shape[-1] != channels:
            raise ValueError(f"RecurrentAttentionModel was built for {channels}-channel images, "
                             f"got shape {images.shape}")
        return tf.cast(images, tf.float32)

    def _draw(self, sampler, batch, seed):
        """``sampler([batch, 2], seed)`` for this replica's slice of the global batch's draws."""
        context = tf.distribute.get_replica_context()
        replicas = 1 if context is None else context.num_replicas_in_sync
        if replicas == 1:
            return sampler([batch, 2], seed)
        replica = tf.cast(context.replica_id_in_sync_group, tf.int32)
        return sampler([batch * replicas, 2], seed)[replica * batch:(replica + 1) * batch]

    def policy_std(self, step=None):
        """The policy's standard deviation at training step ``step`` (None: after training)."""
        if self.std_schedule == "learned":
            return self.location_net.sigma()
        if self.std_schedule == "fixed":
            return tf.constant(self.std, tf.float32)
        if step is None:
            return tf.constant(self.std_final, tf.float32)
        progress = tf.minimum(tf.cast(step, tf.float32) / self.std_anneal_steps, 1.0)
        return self.std + (self.std_final - self.std) * progress

    def forward(self, images, sample, step=0, std_step=None):
        """Runs the glimpse loop.

        Args:
          images: ``[B, H, W, C]`` float32.
          sample: True to sample each ``l_t`` from the policy, False to use its mean.
          step: int or int tensor keying the location noise (the training step).
          std_step: the training step the policy's std is taken at (see ``std_schedule``);
            None for the std after training.

        Returns:
          dict: ``logits`` ``[B, classes]``; ``mu``, ``locations`` ``[B, T, 2]``;
          ``baselines`` ``[B, T]``; ``states`` ``[B, T, units]`` (h_1..h_T); ``std`` scalar.
        """
        images = self._check_images(images)
        batch = tf.shape(images)[0]
        state = self.core.initial_state(batch)
        h_t = state[0]
        mus, locations, baselines, states = [], [], [], []
        base_seed = tf.stack([tf.constant(self.seed, tf.int64), tf.cast(step, tf.int64)])
        std = self.policy_std(std_step)
        for t in range(self.num_glimpses):
            seed_t = tf.random.experimental.stateless_fold_in(base_seed, t)
            noise = self._draw(tf.random.stateless_normal, batch, seed_t) if sample else None
            mu_t, l_t = self.location_net(tf.stop_gradient(h_t) if self.detach_policy else h_t, noise, std)
            if self.random_locations:  # the control of benchmarks/ram_accuracy.py
                uniform = lambda shape, seed: tf.random.stateless_uniform(shape, seed, -1.0, 1.0)  # noqa: E731
                l_t = self._draw(uniform, batch, tf.random.experimental.stateless_fold_in(seed_t, 1))
            baselines.append(self.baseline_net(h_t))
            g_t = self.glimpse_net(images, l_t)
            h_t, state = self.core(g_t, state)
            mus.append(mu_t)
            locations.append(l_t)
            states.append(h_t)
        return {"logits": self.action_net(h_t), "mu": tf.stack(mus, 1), "locations": tf.stack(locations, 1),
                "baselines": tf.stack(baselines, 1), "states": tf.stack(states, 1), "std": std}

    def call(self, images, training=None):
        if training:
            out = self.forward(images, sample=True)
            return {"probabilities": tf.nn.softmax(out["logits"]), "locations": out["locations"]}
        return self.evaluate_paths(images)

    def evaluate_paths(self, images):
        """Evaluation-time prediction: mean path, or the average of ``mc_samples`` sampled paths."""
        if self.mc_samples == 1:
            out = self.forward(images, sample=False)
            return {"probabilities": tf.nn.softmax(out["logits"]), "locations": out["locations"]}
        images = tf.convert_to_tensor(images, tf.float32)
        batch = tf.shape(images)[0]
        tiled = tf.tile(images, [self.mc_samples, 1, 1, 1])  # all M paths in one batched pass
        out = self.forward(tiled, sample=True)
        probs = tf.nn.softmax(out["logits"])
        probs = tf.reduce_mean(tf.reshape(probs, [self.mc_samples, batch, -1]), axis=0)
        return {"probabilities": probs, "locations": out["locations"][:batch]}

    def explain(self, images):
        """The mean path, with the class probabilities after every glimpse (for pictures).

        Returns:
          dict: ``locations`` ``[B, T, 2]``; ``step_probabilities`` ``[B, T, classes]``
          (step t: after the glimpse at ``locations[:, t]``); ``probabilities`` ``[B, classes]``.
        """
        out = self.forward(images, sample=False)
        step_probs = tf.nn.softmax(self.action_net(out["states"]))
        return {"locations": out["locations"], "step_probabilities": step_probs,
                "probabilities": step_probs[:, -1]}

    # ------------------------------------------------------------------------------ losses
    def compute_ram_losses(self, out, labels, paths=None):
        """The hybrid loss of :class:`RecurrentAttentionModel` and its terms (scalars), plus ``reward``
        and ``correct`` ``[B]`` (``correct``: 1 where the answer is right; with ``reward="correct"`` the same).

        ``paths``: with ``path_baseline``, the batch holds this many consecutive paths per image
        (training: ``train_paths``) and each path's advantage is its reward minus the mean
        reward of the image's other paths; None or 1 uses the learned baseline ``b_t``.
        """
        labels = tf.cast(tf.reshape(labels, [-1]), tf.int32)
        logits = out["logits"]
        classification = cross_entropy(logits, labels)
        correct = tf.cast(tf.equal(tf.argmax(logits, -1, output_type=tf.int32), labels), tf.float32)
        if self.reward == "probability":
            reward = tf.stop_gradient(tf.gather(tf.nn.softmax(logits), labels, batch_dims=1))
        else:
            reward = correct
        policy = tfp.distributions.Normal(loc=out["mu"], scale=out["std"])
        log_pi = tf.reduce_sum(policy.log_prob(tf.stop_gradient(out["locations"])), axis=-1)  # [B, T]
        if self.path_baseline and paths is not None and paths > 1:
            per_image = tf.reshape(reward, [-1, paths])
            others = (tf.reduce_sum(per_image, axis=1, keepdims=True) - per_image) / (paths - 1)
            advantage = tf.stop_gradient(tf.reshape(per_image - others, [-1, 1]))  # [B, 1], same for every t
        else:
            advantage = tf.stop_gradient(reward[:, None] - out["baselines"])
        reinforce = -tf.reduce_mean(tf.reduce_sum(log_pi * advantage, axis=1))
        if self.random_locations:
            reinforce = tf.zeros_like(reinforce)  # no policy to train
        baseline = tf.reduce_mean(tf.square(reward[:, None] - out["baselines"]))
        return {"loss": classification + self.reinforce_weight * reinforce + baseline,
                "classification_loss": classification, "reinforce_loss": reinforce, "baseline_loss": baseline,
                "reward": reward, "correct": correct}

    # ------------------------------------------------------------------------- train/test
    @property
    def metrics(self):
        return list(self.trackers.values())

    def _update_metrics(self, losses, correct):
        for name in LOSS_TERMS:
            self.trackers[name].update_state(losses[name])
        if "mean_path_loss" in losses:
            self.trackers["mean_path_loss"].update_state(losses["mean_path_loss"])
        self.trackers["accuracy"].update_state(correct)
        self.trackers["reward"].update_state(losses["reward"])
        results = {name: tracker.result() for name, tracker in self.trackers.items()}
        if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
            # Keras 3.15 reduces step outputs across workers with reduce("MEAN", axis=0), which
            # needs a batch axis; the values are already aggregated, so their mean is themselves.
            results = {name: value[None] for name, value in results.items()}
        return results

    def train_step(self, data):
        images = originals = data[0]
        labels = original_labels = data[1]
        if self.train_paths > 1:  # M paths per image, consecutive rows
            images = tf.repeat(images, self.train_paths, axis=0)
            labels = tf.repeat(tf.reshape(labels, [-1]), self.train_paths, axis=0)
        with tf.GradientTape() as tape:
            step = self.optimizer.iterations
            out = self.forward(images, sample=True, step=step, std_step=step)
            losses = self.compute_ram_losses(out, labels, paths=self.train_paths)
            if self.mean_path_weight > 0:
                losses = self._add_mean_path_loss(losses, originals, original_labels)
            # Each replica's loss is a mean over its slice; gradients are summed across
            # replicas, so dividing by their number gives the mean over the global batch.
            context = tf.distribute.get_replica_context()
            scaled = losses["loss"] / (1 if context is None else context.num_replicas_in_sync)
        grads = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply(grads, self.trainable_variables)
        return self._update_metrics(losses, losses["correct"])

    def _add_mean_path_loss(self, losses, images, labels, mean_path=None):
        """``losses`` with ``mean_path_weight * CE`` of the images' mean paths added to ``loss``
        (and reported as ``mean_path_loss``); ``mean_path``: that CE when already computed."""
        if mean_path is None:
            mean_path = cross_entropy(self.forward(images, sample=False)["logits"], labels)
        return dict(losses, loss=losses["loss"] + self.mean_path_weight * mean_path, mean_path_loss=mean_path)

    def test_step(self, data):
        images, labels = data[0], data[1]
        out = self.forward(images, sample=False)
        losses = self.compute_ram_losses(out, labels)
        if self.mean_path_weight > 0:  # evaluation already follows the mean path
            losses = self._add_mean_path_loss(losses, images, labels, mean_path=losses["classification_loss"])
        correct = losses["correct"]
        if self.mc_samples > 1:
            probs = self.evaluate_paths(images)["probabilities"]
            labels = tf.cast(tf.reshape(labels, [-1]), tf.int32)
            correct = tf.cast(tf.equal(tf.argmax(probs, -1, output_type=tf.int32), labels), tf.float32)
        return self._update_metrics(losses, correct)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Keras 3.15 all-reduces one whole distributed batch to build the model symbolically,
        # which fails under MultiWorkerMirroredStrategy ("unsupported type PerReplica"). One
        # replica's slice has the same structure and is all the build needs.
        if iterator is not None and self._distribute_strategy is not None:
            for _, _, it in iterator:
                local = self._distribute_strategy.experimental_local_results
                data_batch = tf.nest.map_structure(
                    lambda v: local(v)[0] if isinstance(v, tf.distribute.DistributedValues) else v, next(it))
                break
        return super()._maybe_symbolic_build(data_batch=data_batch)

    def get_config(self):
        config = super().get_config()
        config.update(self._config)
        return config
