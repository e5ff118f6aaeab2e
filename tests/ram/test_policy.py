"""The location policy's options (detached input, std schedules) and the glimpse-distance measure."""

import json

import numpy as np
import pytest
import tensorflow as tf

import data
from ram import RecurrentAttentionModel
from ram.config import RAMConfig
from ram.evaluation import digit_centres, glimpse_distances
from ram.training import build_model
from tests.ram.test_model import batch, small_model
from trainkit import ConfigError


def reinforce_grads(model, images, labels):
    with tf.GradientTape() as tape:
        out = model.forward(images, sample=True, step=3, std_step=3)
        reinforce = model.compute_ram_losses(out, labels)["reinforce_loss"]
    variables = {v.path: v for v in model.trainable_variables}
    grads = tape.gradient(reinforce, list(variables.values()))
    return {path: (None if g is None else float(tf.reduce_sum(tf.abs(g)))) for path, g in zip(variables, grads)}


@pytest.mark.parametrize("detach", [False, True])
def test_detach_policy_keeps_reinforce_out_of_the_core(detach):
    model = small_model(detach_policy=detach)
    images, labels = batch()
    model(images)
    grads = reinforce_grads(model, images, labels)
    core = [g for path, g in grads.items() if "core_network" in path or "glimpse_network" in path]
    location = [g for path, g in grads.items() if "location_network" in path]
    assert all(g is not None and g > 0 for g in location)
    if detach:
        assert all(g is None or g == 0 for g in core)
    else:
        assert any(g is not None and g > 0 for g in core)


def test_anneal_schedule_goes_from_std_to_std_final():
    model = small_model(std=0.3, std_schedule="anneal", std_final=0.1, std_anneal_steps=100)
    assert float(model.policy_std(0)) == pytest.approx(0.3)
    assert float(model.policy_std(50)) == pytest.approx(0.2)
    assert float(model.policy_std(100)) == pytest.approx(0.1)
    assert float(model.policy_std(10_000)) == pytest.approx(0.1)
    assert float(model.policy_std(None)) == pytest.approx(0.1)  # after training
    assert float(small_model(std=0.3).policy_std(50)) == pytest.approx(0.3)


def test_learned_std_is_trained_by_reinforce():
    model = small_model(std=0.2, std_schedule="learned", detach_policy=True)
    images, labels = batch()
    model(images)
    assert float(model.policy_std()) == pytest.approx(0.2, rel=1e-5)
    grads = reinforce_grads(model, images, labels)
    assert grads["location_network/log_std"] > 0
    model.location_net.log_std.assign(np.log(1e-4))
    assert float(model.policy_std()) == pytest.approx(0.01, rel=1e-5)  # bounded below


def test_policy_options_round_trip_and_refuse_bad_values():
    model = small_model(std_schedule="anneal", std_final=0.07, std_anneal_steps=9, detach_policy=True)
    clone = RecurrentAttentionModel.from_config(model.get_config())
    assert (clone.std_schedule, clone.std_final, clone.std_anneal_steps, clone.detach_policy) == \
        ("anneal", 0.07, 9, True)
    with pytest.raises(ValueError, match="std_schedule"):
        small_model(std_schedule="cosine")
    with pytest.raises(ValueError, match="std_final"):
        small_model(std_schedule="anneal", std_final=0.0)


def test_digit_centres_of_hand_built_masks():
    masks = np.zeros([3, 10, 12, 1], np.float32)
    masks[0, 2:5, 6:9] = 1          # rows 2..4, cols 6..8
    masks[1, 0, 0] = 1
    masks[2, 9, 3:12] = 1
    cols, rows = digit_centres(tf.constant(masks))
    np.testing.assert_allclose(cols.numpy(), [7.0, 0.0, 7.0])
    np.testing.assert_allclose(rows.numpy(), [3.0, 0.0, 9.0])


def test_glimpse_distances_measure_pixels_to_the_digit(tiny_mnist):
    config = RAMConfig.for_dataset("translate", num_glimpses=2, seed=0)
    model = build_model(config, image_size=60, jit_compile=False)
    for layer in (model.location_net.fc,):  # mean location 0 everywhere: the glimpse sits at the centre
        layer.kernel.assign(tf.zeros_like(layer.kernel))
        layer.bias.assign(tf.zeros_like(layer.bias))
    distances = glimpse_distances(model, config, "test", mnist=tiny_mnist, batch_size=7)
    (images, masks), _ = next(iter(data.make_dataset("translate", "test", 1000, seed=0, with_mask=True,
                                                     mnist=tiny_mnist)))
    cols, rows = digit_centres(masks)
    expected = float(tf.reduce_mean(tf.sqrt((cols - 29.5) ** 2 + (rows - 29.5) ** 2)))
    np.testing.assert_allclose(distances, [expected, expected], rtol=1e-5)
    assert 0 < expected < 30 * np.sqrt(2)


@pytest.mark.parametrize("activation", ["clip", "tanh"])
def test_a_saturated_mean_gets_a_gradient_only_through_tanh(activation):
    from ram import LocationNetwork
    net = LocationNetwork(0.1, activation=activation)
    h = tf.fill([4, 8], 10.0)
    net(h)
    net.fc.kernel.assign(tf.fill(net.fc.kernel.shape, 0.025))  # pre-activation 2: outside [-1, 1]
    with tf.GradientTape() as tape:
        mu, _ = net(h)
        loss = tf.reduce_sum(mu)
    grad = tape.gradient(loss, net.fc.kernel)
    assert float(tf.reduce_max(tf.abs(mu))) <= 1.0
    if activation == "clip":
        assert grad is None or float(tf.reduce_max(tf.abs(grad))) == 0.0
    else:
        assert float(tf.reduce_max(tf.abs(grad))) > 0.0
    with pytest.raises(ValueError, match="activation"):
        LocationNetwork(0.1, activation="sigmoid")


def test_zero_init_starts_every_glimpse_at_the_bias():
    model = small_model(location_zero_init=True)
    images, _ = batch()
    out = model.forward(images, sample=False)
    np.testing.assert_allclose(out["mu"].numpy(), 0.0, atol=1e-7)  # kernel and bias start at zero
    clone = RecurrentAttentionModel.from_config(model.get_config())
    assert clone.location_net.zero_init
    assert np.abs(small_model().forward(images, sample=False)["mu"].numpy()[:, 1:]).max() > 0


def test_leave_one_out_advantage_compares_the_paths_of_an_image():
    model = small_model(train_paths=2, path_baseline=True)
    # Two images, two paths each (consecutive rows); logits make paths 0 and 3 correct.
    labels = tf.constant([1, 1, 2, 2])
    logits = tf.one_hot([1, 0, 0, 2], 10) * 5.0
    mu = tf.zeros([4, 3, 2])
    locations = tf.constant(np.tile([[[0.1, -0.1]]], [4, 3, 1]), tf.float32)
    out = dict(logits=logits, mu=mu, locations=locations, baselines=tf.fill([4, 3], 0.5), std=tf.constant(0.2))
    reward = model.compute_ram_losses(out, labels, paths=2)["reward"].numpy()
    np.testing.assert_array_equal(reward, [1, 0, 0, 1])
    with tf.GradientTape() as tape:
        tape.watch(mu)
        out["mu"] = mu
        loss = model.compute_ram_losses(out, labels, paths=2)["reinforce_loss"]
    grad = tape.gradient(loss, mu).numpy()
    # Advantages +1, -1, -1, +1: a correct path pulls its mean towards where it looked, a wrong
    # one pushes it away; the learned baseline (0.5 everywhere) plays no part.
    sign = np.sign(grad[:, 0, 0])
    np.testing.assert_array_equal(sign, [-1, 1, 1, -1])
    np.testing.assert_allclose(np.abs(grad[0]), np.abs(grad[1]))
    learned = small_model(train_paths=2)  # learned baseline: advantages 0.5, -0.5, -0.5, 0.5
    with tf.GradientTape() as tape:
        tape.watch(mu)
        out["mu"] = mu
        loss = learned.compute_ram_losses(out, labels, paths=2)["reinforce_loss"]
    np.testing.assert_allclose(tape.gradient(loss, mu).numpy(), grad / 2, rtol=1e-5)


def test_probability_reward_ranks_paths_that_all_answer_right():
    model = small_model(train_paths=2, path_baseline=True, reward="probability")
    # One image, two paths, both right; path 0 is surer of the true class than path 1.
    labels = tf.constant([3, 3])
    logits = tf.constant(np.stack([np.eye(10)[3] * 6.0, np.eye(10)[3] * 2.0]), tf.float32)
    mu = tf.zeros([2, 3, 2])
    locations = tf.constant(np.tile([[[0.1, -0.1]]], [2, 3, 1]), tf.float32)
    out = dict(logits=logits, mu=mu, locations=locations, baselines=tf.fill([2, 3], 0.5), std=tf.constant(0.2))
    losses = model.compute_ram_losses(out, labels, paths=2)
    expected = tf.gather(tf.nn.softmax(logits), labels, batch_dims=1).numpy()
    np.testing.assert_allclose(losses["reward"].numpy(), expected, rtol=1e-6)
    np.testing.assert_array_equal(losses["correct"].numpy(), [1, 1])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([mu, logits])
        out.update(mu=mu, logits=logits)
        losses = model.compute_ram_losses(out, labels, paths=2)
    grad = tape.gradient(losses["reinforce_loss"], mu).numpy()
    # The surer path pulls its mean towards where it looked, the other pushes away; the 0/1
    # reward gives both the same reward and no gradient at all.
    np.testing.assert_array_equal(np.sign(grad[:, 0, 0]), [-1, 1])
    # The reward is a number to REINFORCE, not a path for the classifier's gradient.
    assert tape.gradient(losses["reinforce_loss"], logits) is None
    hit = small_model(train_paths=2, path_baseline=True)
    with tf.GradientTape() as tape:
        tape.watch(mu)
        loss = hit.compute_ram_losses(out, labels, paths=2)["reinforce_loss"]
    np.testing.assert_array_equal(tape.gradient(loss, mu).numpy(), 0.0)


def test_reward_is_checked_and_kept_in_the_config():
    with pytest.raises(ValueError, match="reward is 'loss'; expected correct or probability"):
        small_model(reward="loss")
    clone = RecurrentAttentionModel.from_config(small_model(reward="probability").get_config())
    assert clone.reward == "probability"
    with pytest.raises(ConfigError, match="reward"):
        RAMConfig.for_dataset("center", reward="hit").validate()


def test_train_paths_repeat_each_image_and_train():
    model = build_model(RAMConfig.for_dataset("center", num_glimpses=2, train_paths=3, path_baseline=True,
                                              batch_size=8), jit_compile=False)
    images, labels = batch(n=8, size=28)
    seen = []
    forward = model.forward

    def spy(x, *args, **kwargs):
        seen.append(int(x.shape[0]))
        return forward(x, *args, **kwargs)

    model.forward = spy
    logs = model.train_step((tf.constant(images), tf.constant(labels)))
    assert seen == [24]  # 8 images x 3 paths
    assert all(np.isfinite(float(v)) for v in logs.values())
    assert model.get_config()["train_paths"] == 3 and model.get_config()["path_baseline"] is True


def test_path_baseline_needs_several_paths():
    with pytest.raises(ValueError, match="path_baseline needs train_paths >= 2"):
        small_model(path_baseline=True)
    with pytest.raises(ValueError, match="train_paths is 0; expected 1-64"):
        small_model(train_paths=0)
    from trainkit.run_dir import ConfigError
    with pytest.raises(ConfigError, match="path_baseline"):
        RAMConfig.for_dataset("translate", train_paths=1)  # the default leave-one-out baseline needs 2
    old = json.loads(RAMConfig.for_dataset("center").to_json())
    del old["train_paths"], old["path_baseline"]  # a config.json written before the fields
    assert RAMConfig.from_json(json.dumps(old)).train_paths == 1


def test_mean_path_weight_trains_the_classifier_on_the_mean_path_only():
    model = build_model(RAMConfig.for_dataset("center", num_glimpses=2, train_paths=3, path_baseline=True,
                                              mean_path_weight=0.5, batch_size=8), jit_compile=False)
    images, labels = batch(n=8, size=28)
    calls = []
    forward = model.forward

    def spy(x, *args, **kwargs):
        out = forward(x, *args, **kwargs)
        calls.append((int(x.shape[0]), kwargs.get("sample", args[0] if args else None), out))
        return out

    model.forward = spy
    logs = model.train_step((tf.constant(images), tf.constant(labels)))
    # 8 images x 3 sampled paths, then the 8 images once along their mean paths.
    assert [(n, sample) for n, sample, _ in calls] == [(24, True), (8, False)]
    mean_logits = calls[1][2]["logits"]
    expected = float(tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.constant(labels, tf.int32), logits=mean_logits)))
    np.testing.assert_allclose(float(logs["mean_path_loss"]), expected, rtol=1e-5)
    assert model.get_config()["mean_path_weight"] == 0.5
    model.forward = forward
    model.reset_metrics()  # the trackers are running means
    val = model.test_step((tf.constant(images), tf.constant(labels)))  # evaluation follows the mean path
    np.testing.assert_allclose(float(val["mean_path_loss"]), float(val["classification_loss"]), rtol=1e-5)
    # The term reaches the classifier's networks but never the policy: mean locations carry no gradient.
    with tf.GradientTape() as tape:
        losses = model._add_mean_path_loss({"loss": tf.constant(0.0)}, tf.constant(images), tf.constant(labels))
    variables = model.trainable_variables
    grads = dict(zip([v.path for v in variables], tape.gradient(losses["loss"], variables)))
    assert all(g is None for path, g in grads.items() if "location_network" in path)
    assert any(g is not None and float(tf.reduce_sum(tf.abs(g))) > 0
               for path, g in grads.items() if "core_network" in path)


def test_mean_path_weight_is_off_by_default_and_checked():
    model = small_model()
    assert model.mean_path_weight == 0 and "mean_path_loss" not in model.trackers
    with pytest.raises(ValueError, match="mean_path_weight is nan"):
        small_model(mean_path_weight=float("nan"))
    from trainkit.run_dir import ConfigError
    with pytest.raises(ConfigError, match="mean_path_weight"):
        RAMConfig.for_dataset("center", mean_path_weight=-1.0)
    old = json.loads(RAMConfig.for_dataset("center").to_json())
    del old["mean_path_weight"]  # a config.json written before the field
    assert RAMConfig.from_json(json.dumps(old)).mean_path_weight == 0
