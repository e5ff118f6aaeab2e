"""Weight averaging (``ema_momentum``): what is averaged, saved, validated and answered with."""

import json

import numpy as np
import pytest

from benchmarks import ram_runs
from ram import training
from ram.config import RAMConfig
from trainkit import ConfigError, RunError

SMALL = dict(num_glimpses=2, patch_size=6, num_scales=2, batch_size=16, epochs=2)


def weights(model):
    return [v.numpy().copy() for v in model.trainable_variables]


def test_averaged_weights_are_validated_saved_beside_the_raw_ones_and_answered_with(tmp_path, tiny_mnist):
    config = RAMConfig.for_dataset("center", ema_momentum=0.5, **SMALL)
    history = training.train(config, str(tmp_path), mnist=tiny_mnist, verbose=0)
    assert len(history.history["val_accuracy"]) == 2
    raw, _ = training.load_trained(str(tmp_path), "latest", averaged=False)
    averaged, loaded = training.load_trained(str(tmp_path), "latest")
    assert loaded.ema_momentum == 0.5
    averages = [v.numpy() for v in raw.optimizer._model_variables_moving_average]
    for a, b in zip(weights(averaged), averages):
        np.testing.assert_array_equal(a, b)
    # With momentum 0.5 over 8 steps the averages trail the raw weights: they must differ.
    assert any(not np.allclose(a, b) for a, b in zip(weights(averaged), weights(raw)))
    images = tiny_mnist["test"][0][:4, ..., None]
    assert not np.allclose(raw(images)["probabilities"], averaged(images)["probabilities"])


def test_validation_measures_the_averaged_weights(tmp_path, tiny_mnist):
    config = RAMConfig.for_dataset("center", ema_momentum=0.9, **dict(SMALL, epochs=1))
    history = training.train(config, str(tmp_path), mnist=tiny_mnist, verbose=0)
    averaged, _ = training.load_trained(str(tmp_path), "latest")
    raw, _ = training.load_trained(str(tmp_path), "latest", averaged=False)
    validation = training.data.make_dataset("center", "validation", 16, seed=0, mnist=tiny_mnist)
    logged = history.history["val_loss"][-1]
    assert averaged.evaluate(validation, verbose=0, return_dict=True)["loss"] == pytest.approx(logged, rel=1e-5)
    assert raw.evaluate(validation, verbose=0, return_dict=True)["loss"] != pytest.approx(logged, rel=1e-5)


def test_a_run_cannot_resume_under_another_momentum(tmp_path, tiny_mnist):
    config = RAMConfig.for_dataset("center", ema_momentum=0.9, **dict(SMALL, epochs=1))
    training.train(config, str(tmp_path), mnist=tiny_mnist, verbose=0)
    with pytest.raises(RunError, match="ema_momentum"):
        training.train(RAMConfig.for_dataset("center", **dict(SMALL, epochs=2)), str(tmp_path), mnist=tiny_mnist,
                       verbose=0)


def test_momentum_is_checked_and_off_by_default():
    assert RAMConfig.for_dataset("translate").ema_momentum == 0
    for bad in (1.0, -0.1, float("nan")):
        with pytest.raises(ConfigError, match="ema_momentum"):
            RAMConfig.for_dataset("translate", ema_momentum=bad)
    old = json.loads(RAMConfig.for_dataset("translate").to_json())
    del old["ema_momentum"]  # a config.json written before the field
    assert RAMConfig.from_json(json.dumps(old)).ema_momentum == 0
    model = training.build_model(RAMConfig.for_dataset("center", **SMALL), jit_compile=False)
    with pytest.raises(ValueError, match="keeps no weight averages"):
        training.use_averaged_weights(model)


def test_averaging_table_lists_only_rows_with_raw_figures():
    plain = dict(task="translate", variant="lstm", test_error_mean=1.5, test_error_mc10=1.0)
    averaged = dict(task="translate", variant="lstm+ema", seed=1, test_error_mean=1.3, test_error_mc10=0.9,
                    test_error_mean_raw=1.45, test_error_mc10_raw=0.95)
    assert ram_runs.format_averaging_table([plain]) == ""
    table = ram_runs.format_averaging_table([plain, averaged]).splitlines()
    assert len(table) == 3
    assert table[2] == "| translate | lstm+ema | 1 | 1.30 | 1.45 | 0.90 | 0.95 |"
