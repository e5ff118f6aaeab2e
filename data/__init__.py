"""Data: MNIST sources and the seeded tf.data pipelines of the RAM, CRAM and AttentionRNN sets."""

from data.sources import SOURCES, DataError, load_mnist
from data.pipelines import DATASETS, SPLITS, image_size, make_dataset
from data.attributes import make_attribute_dataset
from data import attributes, backgrounds, svhn  # noqa: F401  (data.svhn.make_svhn_occluded, data.attributes...)

__all__ = ["DATASETS", "SOURCES", "SPLITS", "DataError", "image_size", "load_mnist", "make_attribute_dataset",
           "make_dataset"]
