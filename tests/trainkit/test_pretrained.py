"""Shipped pretrained models: checksum-verified loading, and one clear error for every damage."""

import json

import numpy as np
import pytest
import tensorflow as tf

from ram import training
from ram.config import RAMConfig
from trainkit import RunError, harness, pretrained

CONFIG = RAMConfig.for_dataset("center", num_glimpses=2, patch_size=6, num_scales=1, core="rnn", train_paths=1,
                               path_baseline=False, batch_size=8)


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """A tiny RAM shipped as ``ram`` model ``center`` into a temporary bundle directory."""
    monkeypatch.setattr(pretrained, "bundle_dir", lambda package: str(tmp_path / package / "pretrained"))
    model = training.build_model(CONFIG, jit_compile=False)
    weights = tmp_path / "best.weights.h5"
    model.save_weights(str(weights))
    manifest = pretrained.ship("ram", "center", CONFIG, str(weights), {"test_error_mean": 1.0},
                               {"results": "docs/results/ram_reproduce.json"})
    return model, tmp_path / "ram" / "pretrained", manifest


def test_a_shipped_model_loads_with_its_config_and_answers_as_the_original(shipped):
    model, directory, manifest = shipped
    assert pretrained.names("ram") == ["center"] and manifest["bytes"] == (directory / "center.weights.h5").stat().st_size
    loaded, config = training.load_pretrained("center")
    assert config == CONFIG
    images = tf.random.uniform([3, 28, 28, 1], seed=3)
    np.testing.assert_allclose(loaded(images)["probabilities"].numpy(), model(images)["probabilities"].numpy(),
                               atol=1e-6)
    assert training.load_pretrained("center", mc_samples=4)[1].mc_samples == 4
    assert pretrained.manifest("ram", "center")["figures"] == {"test_error_mean": 1.0}


def test_a_flipped_byte_or_a_truncated_file_is_one_error_before_loading(shipped):
    _, directory, _ = shipped
    path = directory / "center.weights.h5"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(RunError, match=r"model 'center' is damaged \(.*SHA-256 .*expected .*\); reinstall"):
        training.load_pretrained("center")
    path.write_bytes(bytes(data[:1000]))
    with pytest.raises(RunError, match="is damaged"):
        training.load_pretrained("center")


def test_missing_weights_unknown_names_and_damaged_manifests_are_one_error(shipped):
    _, directory, _ = shipped
    with pytest.raises(RunError, match=r"no pretrained ram model 'clutter'; shipped: center"):
        training.load_pretrained("clutter")
    (directory / "center.weights.h5").unlink()
    with pytest.raises(RunError, match=r"has no weights \(.*center.weights.h5 is missing\)"):
        training.load_pretrained("center")
    (directory / "center.json").write_text("{not json")
    with pytest.raises(RunError, match="model 'center' is damaged"):
        pretrained.manifest("ram", "center")


def test_a_manifest_whose_config_is_out_of_range_is_refused(shipped):
    _, directory, _ = shipped
    values = json.loads((directory / "center.json").read_text())
    values["config"]["num_glimpses"] = 0
    (directory / "center.json").write_text(json.dumps(values))
    with pytest.raises(RunError, match="damaged config .*num_glimpses is 0"):
        harness.load_pretrained("ram", "center", RAMConfig, training.build_model)


def test_every_package_answers_for_its_shipped_models():
    for package in ("ram", "attention_rnn", "cram"):
        for name in pretrained.names(package):
            path, manifest = pretrained.verified_weights(package, name)  # the committed files are intact
            assert manifest["name"] == name and manifest["figures"]
