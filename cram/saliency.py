"""The clue of clued classification: a CNN-DecNN saliency network (Sec. V-A).

The paper pre-trains it on MSRA10k, which has no offline copy. Here it learns the same kind of
map, "where is the object", from cluttered MNIST, whose pipeline knows each target's ink: the
target is :func:`target_region`, the ink dilated into a blob as a saliency map would be. The
clue is the network's output thresholded at 0.5.
"""

import keras
import tensorflow as tf

from cram.blocks import BN_MOMENTUM


def target_region(mask, radius=2):
    """The binary target region: ``mask [B, H, W, 1]`` (ink) dilated by ``radius`` pixels."""
    return tf.nn.max_pool2d(mask, 2 * radius + 1, 1, "SAME")


@keras.saving.register_keras_serializable(package="cram")
class SaliencyNetwork(keras.Model):
    """Convolutions down (3x3, stride 2, BatchNorm + ELU) and transposed convolutions up to a
    one-channel sigmoid map of the input's size: ``[B, H, W, C] -> [B, H, W, 1]`` in (0, 1)
    (H, W multiples of 8 or not: the output is cropped to the input's size)."""

    def __init__(self, filters=(32, 64, 64), **kwargs):
        super().__init__(**kwargs)
        self.filters = tuple(filters)
        self.down = [keras.Sequential([keras.layers.Conv2D(f, 3, 2, padding="same"),
                                       keras.layers.BatchNormalization(momentum=BN_MOMENTUM), keras.layers.ELU()],
                                      name=f"down{k}")
                     for k, f in enumerate(self.filters)]
        ups = list(reversed(self.filters[:-1])) + [16]
        self.up = [keras.Sequential([keras.layers.Conv2DTranspose(f, 3, 2, padding="same"),
                                     keras.layers.BatchNormalization(momentum=BN_MOMENTUM), keras.layers.ELU()],
                                    name=f"up{k}")
                   for k, f in enumerate(ups)]
        self.out = keras.layers.Conv2D(1, 3, padding="same", activation="sigmoid", name="saliency")

    def call(self, images, training=None):
        x = images
        for layer in self.down:
            x = layer(x, training=training)
        for layer in self.up:
            x = layer(x, training=training)
        height, width = images.shape[1], images.shape[2]
        return self.out(x)[:, :height, :width]

    def clue(self, images, threshold=0.5):
        """The binary clue ``[B, H, W, 1]``: saliency above ``threshold``."""
        return tf.cast(self(images, training=False) > threshold, tf.float32)

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters)
        return config
