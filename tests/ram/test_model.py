"""RecurrentAttentionModel: outputs, REINFORCE gradients, determinism, configs."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from ram import (ActionNetwork, BaselineNetwork, CoreNetwork, GlimpseNetwork, LocationNetwork,
                 RecurrentAttentionModel)
from ram.config import RAMConfig
from ram.training import DecayWithFloor, build_model


def small_model(**kwargs):
    # The paper's model (an RNN core, one path per image, the learned baseline), not the recipe
    # the library defaults to.
    args = dict(num_glimpses=3, patch_size=6, num_scales=2, unit_pixels=8, std=0.2, seed=1, core="rnn",
                train_paths=1, path_baseline=False, hidden_glimpse=16, hidden_location=16, glimpse_units=32,
                core_units=32)
    args.update(kwargs)
    return RecurrentAttentionModel(**args)


def batch(n=16, size=24, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, (n, size, size, 1)).astype(np.float32), rng.integers(0, 10, n).astype(np.int32)


def test_call_outputs():
    model = small_model()
    images, _ = batch()
    for training in (False, True):
        out = model(images, training=training)
        assert out["probabilities"].shape == (16, 10) and out["locations"].shape == (16, 3, 2)
        np.testing.assert_allclose(out["probabilities"].numpy().sum(-1), 1.0, rtol=1e-5)
        assert float(tf.reduce_max(tf.abs(out["locations"]))) <= 1.0
    # Evaluation uses the mean path: deterministic.
    a, b = model(images)["locations"], model(images)["locations"]
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_mc_samples_average_sampled_paths():
    model = small_model(mc_samples=4)
    images, _ = batch()
    out = model(images)
    assert out["probabilities"].shape == (16, 10) and out["locations"].shape == (16, 3, 2)
    np.testing.assert_allclose(out["probabilities"].numpy().sum(-1), 1.0, rtol=1e-5)


def test_explain_gives_per_step_probabilities():
    out = small_model().explain(batch()[0])
    assert out["step_probabilities"].shape == (16, 3, 10)
    np.testing.assert_allclose(out["probabilities"].numpy(), out["step_probabilities"].numpy()[:, -1])


def _gradients(model, images, labels, term):
    with tf.GradientTape() as tape:
        losses = model.compute_ram_losses(model.forward(images, sample=True), labels)
    variables = model.trainable_variables
    return dict(zip([v.path for v in variables], tape.gradient(losses[term], variables)))


def test_location_network_learns_through_reinforce_only():
    model = small_model()
    images, labels = batch()
    model(images)
    # Make some predictions right and some wrong so that R - b is not zero everywhere.
    by_reinforce = _gradients(model, images, labels, "reinforce_loss")
    by_classification = _gradients(model, images, labels, "classification_loss")
    location_paths = [p for p in by_reinforce if "location_network" in p]
    assert location_paths
    for path in location_paths:
        assert by_reinforce[path] is not None and float(tf.reduce_max(tf.abs(by_reinforce[path]))) > 0
        # Sampled locations carry no gradient: the classifier cannot train the policy.
        assert by_classification[path] is None or float(tf.reduce_max(tf.abs(by_classification[path]))) == 0
    by_baseline = _gradients(model, images, labels, "baseline_loss")
    core = [p for p in by_baseline if "core_network" in p]
    assert all(by_baseline[p] is None or float(tf.reduce_max(tf.abs(by_baseline[p]))) == 0 for p in core)


def test_location_weights_change_after_a_train_step():
    # The paper's single path with the learned baseline: every path has a non-zero advantage. (With
    # the defaults' leave-one-out baseline, an untrained model whose four paths of an image all
    # answer alike gives them all zero advantage, and a first step may leave the policy as it was.)
    keras.utils.set_random_seed(0)
    config = RAMConfig(dataset="translate", num_glimpses=3, patch_size=6, num_scales=2, unit_pixels=8, core="rnn",
                       train_paths=1, path_baseline=False)
    model = build_model(config, image_size=24)
    images, labels = batch(32)
    before = {v.path: v.numpy().copy() for v in model.trainable_variables}
    model.fit(images, labels, batch_size=32, epochs=1, verbose=0)
    changed = {p for v in model.trainable_variables for p in [v.path] if not np.array_equal(before[p], v.numpy())}
    assert any("location_network" in p for p in changed)
    assert any("baseline_network" in p for p in changed)
    assert any("glimpse_network" in p for p in changed)


def test_same_seed_same_first_step_losses():
    def first_losses():
        keras.utils.set_random_seed(3)
        config = RAMConfig(dataset="translate", num_glimpses=3, patch_size=6, num_scales=2, unit_pixels=8, seed=3)
        model = build_model(config, image_size=24)
        images, labels = batch(32)
        return model.train_on_batch(images, labels, return_dict=True)

    a, b = first_losses(), first_losses()
    for name in ("loss", "classification_loss", "reinforce_loss", "baseline_loss"):
        assert a[name] == pytest.approx(b[name], abs=1e-6), name


def test_lstm_core_trains():
    config = RAMConfig(dataset="translate", num_glimpses=2, patch_size=6, num_scales=1, unit_pixels=8, core="lstm")
    model = build_model(config, image_size=24)
    logs = model.train_on_batch(*batch(16), return_dict=True)
    assert np.isfinite(logs["loss"])


def test_config_round_trips():
    model = small_model(core="lstm", mc_samples=2)
    clone = RecurrentAttentionModel.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    for layer in (GlimpseNetwork(5, 2, unit_pixels=3.0), CoreNetwork(8, "lstm"), LocationNetwork(0.3),
                  ActionNetwork(7), BaselineNetwork()):
        assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()


def test_bad_arguments():
    with pytest.raises(ValueError, match="core is 'gru'; expected rnn or lstm"):
        CoreNetwork(8, "gru")
    with pytest.raises(ValueError, match=r"std is 0.0; expected in \(0, 10\]"):
        small_model(std=0.0)


def test_learning_rate_decays_to_a_floor():
    schedule = DecayWithFloor(1e-3, decay_steps=500, rate=0.97, floor_ratio=0.1)
    assert float(schedule(0)) == pytest.approx(1e-3)
    assert float(schedule(499)) == pytest.approx(1e-3)
    assert float(schedule(500)) == pytest.approx(0.97e-3)
    assert float(schedule(10**6)) == pytest.approx(1e-4)


@pytest.mark.parametrize("name", ["core_units", "glimpse_units", "hidden_glimpse", "hidden_location", "num_classes"])
def test_layer_sizes_must_be_positive_integers(name):
    with pytest.raises(ValueError, match=f"{name} must be an integer >= 1, got 0"):
        RecurrentAttentionModel(**{name: 0})
