"""get_config / from_config round trips of every CRAM layer and model: a clone is configured
like the original (and, built, has weights of the same shapes)."""

import json

import numpy as np
import pytest

from benchmarks.cram_baselines import ConvEncoder, ConvInpainter
from cram.blocks import StepwiseStack
from cram.classifier import CRAMClassifier
from cram.encoder import CRAMEncoder
from cram.inpainting import CRAMInpainter
from cram.saliency import SaliencyNetwork
from cram.spatial_transformer import SpatialTransformer

CASES = [
    (SpatialTransformer, dict(output_size=(8, 8), name="st")),
    (StepwiseStack, dict(spec=[("conv", 4, 3, 1), ("flatten",), ("dense", 8, True)], steps=2, name="stack")),
    (CRAMEncoder, dict(num_glimpses=2, glimpse_size=8, filters=4, units=8, min_scale=0.2, name="enc")),
    (SaliencyNetwork, dict(filters=(4, 8), name="saliency")),
    (ConvEncoder, dict(filters=4, units=8, name="conv")),
    (CRAMClassifier, dict(num_classes=7, clue="oracle", clue_weight=0.5, num_glimpses=2, glimpse_size=8,
                          filters=4, units=8)),
    (CRAMInpainter, dict(clue_weight=0.5, adversarial_weight=0.01, num_glimpses=2, glimpse_size=8, filters=4,
                         units=8)),
    (ConvInpainter, dict(filters=4, units=8, adversarial_weight=0.01)),
]


@pytest.mark.parametrize("cls,kwargs", CASES, ids=[c.__name__ for c, _ in CASES])
def test_config_round_trip(cls, kwargs):
    original = cls(**kwargs)
    config = original.get_config()
    clone = cls.from_config(config)
    assert clone.get_config() == config
    for name, value in kwargs.items():  # every argument is kept (compared as JSON: tuples are lists)
        if name != "name":
            assert json.loads(json.dumps(config[name])) == json.loads(json.dumps(value)), name


def test_built_clone_has_the_same_weight_shapes():
    kwargs = dict(num_classes=7, clue="oracle", num_glimpses=2, glimpse_size=8, filters=4, units=8)
    images, masks = np.zeros((2, 32, 32, 1), np.float32), np.zeros((2, 32, 32, 1), np.float32)
    original = CRAMClassifier(**kwargs)
    original.explain((images, masks))
    clone = CRAMClassifier.from_config(original.get_config())
    clone.explain((images, masks))
    assert sorted(tuple(w.shape) for w in original.weights) == sorted(tuple(w.shape) for w in clone.weights)
