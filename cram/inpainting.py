"""CRAM inpainting (Sec. III-B2, IV-B): the encoder, a DCGAN-style generator from ``z``, and
local and global discriminators (Iizuka et al. 2017's structure), trained adversarially.

Losses (per batch; ``M`` the binary occlusion mask, ``x`` the original, ``G`` the generated
image, ``C = M * G + (1 - M) * x`` the completed one, ``D_l`` on the 16x16 patch around the
hole, ``D_g`` on the whole image, both ending in a sigmoid):

- reconstruction ``L_rec = sum(M * |G - x|) / sum(M)`` (L1 on the hole, per channel);
- discriminators ``L_D = BCE(D_l(x), 1) + BCE(D_l(C), 0) + BCE(D_g(x), 1) + BCE(D_g(C), 0)``;
- generator and encoder ``L_G = L_rec + adversarial_weight * (BCE(D_l(C), 1) + BCE(D_g(C), 1))
  + clue_weight * L_clue`` (non-saturating GAN loss; Iizuka et al. weight it 0.0004, we use
  0.001 by default).

``train_step`` first updates the discriminators with their own optimizer, then the encoder and
generator with theirs.
"""

import keras
import tensorflow as tf

from cram.blocks import BN_MOMENTUM, cnn, mlp
from cram.clue import check_clue_form, clue_loss
from cram.config import CRAMConfig
from cram.encoder import CRAMEncoder
from trainkit.distribute import replica_count

D = CRAMConfig.for_task("inpaint")  # the defaults of the model's arguments that are also settings
PATCH = 16  # side of the local discriminator's patch, centred on the 8x8 hole


def generator(units, filters, size=32, channels=3):
    """``z [B, units] -> [B, size, size, channels]`` in (0, 1): a dense layer to 4x4, then 3x3
    fractionally-strided (transposed, stride 2) convolutions up to ``size``, BatchNorm + ELU on
    all but the last."""
    ups = {32: 3, 64: 4}[size]
    layers = [keras.layers.Dense(4 * 4 * 4 * filters, name="project"),
              keras.layers.BatchNormalization(momentum=BN_MOMENTUM), keras.layers.ELU(),
              keras.layers.Reshape((4, 4, 4 * filters))]
    for k in range(ups - 1):
        layers += [keras.layers.Conv2DTranspose(max(filters, 4 * filters >> (k + 1)), 3, 2, padding="same"),
                   keras.layers.BatchNormalization(momentum=BN_MOMENTUM), keras.layers.ELU()]
    layers.append(keras.layers.Conv2DTranspose(channels, 3, 2, padding="same", activation="sigmoid"))
    return keras.Sequential(layers, name="generator")


def discriminator(num_convs, filters, name):
    """``num_convs`` 5x5/2 convolutions (BatchNorm + ELU), then a 2-layer MLP to a sigmoid."""
    return keras.Sequential([cnn([filters * 2 ** min(k, 2) for k in range(num_convs)], 5, 2, name + "_cnn"),
                             mlp([256, 1], name + "_mlp"), keras.layers.Activation("sigmoid")], name=name)


def centre_patch(images, size=PATCH):
    start = (images.shape[1] - size) // 2
    return images[:, start:start + size, start:start + size]


@keras.saving.register_keras_serializable(package="cram")
class CRAMInpainter(keras.Model):
    """CRAM for inpainting 32x32 RGB images with a centred hole.

    Call args:
      inputs: ``(occluded [B, 32, 32, 3], masks [B, 32, 32, 1])``; the mask is the clue.

    Returns:
      the completed image ``[B, 32, 32, 3]`` (known pixels kept, generated ones in the hole);
      :meth:`complete` also gives the generated image and the glimpses' thetas.
    """

    # Every argument that is also a setting takes its default from cram.config (the inpainting task's).
    def __init__(self, clue_weight=D.clue_weight, adversarial_weight=D.adversarial_weight,
                 num_glimpses=D.num_glimpses, glimpse_size=D.glimpse_size, filters=D.filters, units=D.units,
                 clue_form=D.clue_form, **kwargs):
        super().__init__(**kwargs)
        self.clue_form = check_clue_form(clue_form)
        self.clue_weight, self.adversarial_weight = clue_weight, adversarial_weight
        self.encoder = CRAMEncoder(num_glimpses, glimpse_size, filters, units, name="encoder")
        self.generator = generator(units, filters)
        self.local_discriminator = discriminator(4, filters, "local_discriminator")
        self.global_discriminator = discriminator(3, filters, "global_discriminator")
        self.glimpse_size = glimpse_size
        self.trackers = {n: keras.metrics.Mean(name=n) for n in
                         ("loss", "hole_l1", "clue_loss", "generator_adversarial", "discriminator_loss", "psnr")}

    def compile(self, generator_optimizer, discriminator_optimizer, **kwargs):
        super().compile(optimizer=generator_optimizer, **kwargs)
        self.discriminator_optimizer = discriminator_optimizer

    def build_optimizers(self):
        """Builds both optimizers' slots, once (so that a checkpoint's load them, and the first
        train step is traced once: see :func:`trainkit.run_dir.build_optimizers`)."""
        if not self.optimizer.built:
            self.optimizer.build(self.generator_variables())
        if not self.discriminator_optimizer.built:
            self.discriminator_optimizer.build(self.discriminator_variables())

    def complete(self, inputs, training=False):
        occluded, masks = (tf.convert_to_tensor(t, tf.float32) for t in inputs)
        z, thetas = self.encoder(occluded, masks, training=training)
        generated = self.generator(z, training=training)
        completed = masks * generated + (1.0 - masks) * occluded
        return dict(generated=generated, completed=completed, thetas=thetas)

    def call(self, inputs, training=None):
        out = self.complete(inputs, training=training)
        if not self.local_discriminator.built:  # build them with the model, for checkpoints
            self.local_discriminator(centre_patch(out["completed"]))
            self.global_discriminator(out["completed"])
        return out["completed"]

    @property
    def metrics(self):
        return list(self.trackers.values())

    def discriminator_variables(self):
        return self.local_discriminator.trainable_variables + self.global_discriminator.trainable_variables

    def generator_variables(self):
        return self.encoder.trainable_variables + self.generator.trainable_variables

    def _judge(self, images, training):
        return (self.local_discriminator(centre_patch(images), training=training),
                self.global_discriminator(images, training=training))

    def _generator_terms(self, inputs, originals, training):
        out = self.complete(inputs, training=training)
        masks = inputs[1]
        hole_l1 = tf.reduce_sum(masks * tf.abs(out["generated"] - originals)) / (3.0 * tf.reduce_sum(masks))
        clue = tf.reduce_mean(clue_loss(masks, out["thetas"], self.glimpse_size, self.clue_form))
        fake_local, fake_global = self._judge(out["completed"], training)
        bce = keras.losses.binary_crossentropy
        adversarial = (tf.reduce_mean(bce(tf.ones_like(fake_local), fake_local))
                       + tf.reduce_mean(bce(tf.ones_like(fake_global), fake_global)))
        total = hole_l1 + self.adversarial_weight * adversarial + self.clue_weight * clue
        return out, dict(loss=total, hole_l1=hole_l1, clue_loss=clue, generator_adversarial=adversarial)

    def _discriminator_loss(self, completed, originals, training):
        bce = keras.losses.binary_crossentropy
        real_local, real_global = self._judge(originals, training)
        fake_local, fake_global = self._judge(tf.stop_gradient(completed), training)
        return sum(tf.reduce_mean(bce(target(p), p)) for p, target in
                   ((real_local, tf.ones_like), (real_global, tf.ones_like),
                    (fake_local, tf.zeros_like), (fake_global, tf.zeros_like)))

    def _record(self, terms, completed, originals, masks):
        terms["psnr"] = tf.reduce_mean(hole_psnr(completed, originals, masks))
        for name, value in terms.items():
            self.trackers[name].update_state(value)
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        inputs, originals = data[0], data[1]
        completed = self.complete(inputs, training=False)["completed"]
        # Losses are means over each replica's slice; gradients are summed over replicas.
        with tf.GradientTape() as tape:
            d_loss = self._discriminator_loss(completed, originals, training=True)
            d_scaled = d_loss / replica_count()
        d_vars = self.discriminator_variables()
        self.discriminator_optimizer.apply_gradients(zip(tape.gradient(d_scaled, d_vars), d_vars))
        with tf.GradientTape() as tape:
            out, terms = self._generator_terms(inputs, originals, training=True)
            g_scaled = terms["loss"] / replica_count()
        g_vars = self.generator_variables()
        self.optimizer.apply_gradients(zip(tape.gradient(g_scaled, g_vars), g_vars))
        terms["discriminator_loss"] = d_loss
        return self._record(terms, out["completed"], originals, inputs[1])

    def test_step(self, data):
        inputs, originals = data[0], data[1]
        out, terms = self._generator_terms(inputs, originals, training=False)
        terms["discriminator_loss"] = self._discriminator_loss(out["completed"], originals, training=False)
        return self._record(terms, out["completed"], originals, inputs[1])

    def get_config(self):
        config = super().get_config()
        config.update(clue_weight=self.clue_weight, adversarial_weight=self.adversarial_weight,
                      clue_form=self.clue_form, num_glimpses=self.encoder.num_glimpses, glimpse_size=self.glimpse_size,
                      filters=self.encoder.filters, units=self.encoder.units)
        return config


def hole_psnr(completed, originals, masks):
    """PSNR (dB, peak 1) over the hole's pixels, per image ``[B]``."""
    mse = tf.reduce_sum(masks * tf.square(completed - originals), [1, 2, 3]) / (3.0 * tf.reduce_sum(masks, [1, 2, 3]))
    return 10.0 * tf.math.log(1.0 / tf.maximum(mse, 1e-10)) / tf.math.log(10.0)


def hole_metrics(completed, originals, masks):
    """Per image ``[B]``: hole L1, hole PSNR, and SSIM of the hole's 8x8 square (bounding box of
    the mask; ``tf.image.ssim`` with a 3x3 filter, since 8 pixels cannot hold the default 11)."""
    l1 = tf.reduce_sum(masks * tf.abs(completed - originals), [1, 2, 3]) / (3.0 * tf.reduce_sum(masks, [1, 2, 3]))
    box = centre_patch(completed, 8), centre_patch(originals, 8)
    ssim = tf.image.ssim(box[0], box[1], max_val=1.0, filter_size=3)
    return l1, hole_psnr(completed, originals, masks), ssim


def evaluate_inpainting(complete, dataset):
    """Mean hole L1, PSNR and SSIM of ``complete(inputs)["completed"]`` (or of a function
    returning the completed image) over ``dataset`` of ``((occluded, masks), originals)``."""
    sums, count = [0.0, 0.0, 0.0], 0
    for inputs, originals in dataset:
        out = complete(inputs)
        completed = out["completed"] if isinstance(out, dict) else out
        for k, values in enumerate(hole_metrics(completed, originals, inputs[1])):
            sums[k] += float(tf.reduce_sum(values))
        count += int(originals.shape[0])
    return dict(hole_l1=sums[0] / count, psnr=sums[1] / count, ssim=sums[2] / count, count=count)
