"""attention_rnn.diagnostics: mask levels and gradient norms tell a saturated mask from a live one."""

import numpy as np
import pytest
import tensorflow as tf

from attention_rnn.diagnostics import format_report, mask_and_gradient_report, part_of
from attention_rnn.model import AttributeNetwork


def _batches(count=2, batch=4, seed=0):
    rng = np.random.default_rng(seed)
    return [((tf.constant(rng.uniform(size=(batch, 32, 32, 3)).astype(np.float32)),
              tf.one_hot(rng.integers(0, 10, batch), 10)), tf.constant(rng.integers(0, 5, batch)))
            for _ in range(count)]


def _network(attention="ctx", mask_norm=False):
    tf.keras.utils.set_random_seed(0)
    model = AttributeNetwork(attention=attention, filters=4, units=4, hidden=8, batch_norm=True, mask_norm=mask_norm)
    model((tf.zeros([1, 32, 32, 3]), tf.zeros([1, 10])))
    return model


def test_report_reads_every_mask_and_part():
    report = mask_and_gradient_report(_network(), _batches())
    assert len(report["mask_mean"]) == len(report["mask_std"]) == 4
    assert all(0 < m < 1 for m in report["mask_mean"])
    for part in ("conv0", "conv3", "attention0", "attention3", "norm0", "head", "query_embedding"):
        assert report["gradient_norm"][part] > 0, part
    # the global norm is the parts' norms together (one batch: exactly)
    single = mask_and_gradient_report(_network(), _batches(count=1))
    assert single["global_norm"] == pytest.approx(np.sqrt(sum(v ** 2 for v in single["gradient_norm"].values())))
    assert single["global_norm_max"] == pytest.approx(single["global_norm"])
    text = format_report("untrained", report)
    assert text.startswith("untrained: loss") and "attention0" in text and "±" in text


def test_reading_a_model_changes_none_of_its_weights():
    model = _network()
    before = [v.numpy().copy() for v in model.variables]
    mask_and_gradient_report(model, _batches())
    assert all(np.array_equal(a, v.numpy()) for a, v in zip(before, model.variables))


def test_a_saturated_mask_shows_as_closed_and_nearly_without_gradient():
    live, closed = _network(), _network()
    closed.attentions[1].score.bias.assign([-12.0])  # sigmoid(-12) ~ 6e-6 everywhere
    live_report = mask_and_gradient_report(live, _batches())
    closed_report = mask_and_gradient_report(closed, _batches())
    assert closed_report["mask_mean"][1] < 1e-4 and closed_report["mask_std"][1] < 1e-4
    assert live_report["mask_mean"][1] > 0.1
    assert closed_report["gradient_norm"]["attention1"] < 1e-2 * live_report["gradient_norm"]["attention1"]


def test_a_mask_divided_by_its_mean_keeps_its_gradient_when_closed():
    live, closed = _network(mask_norm=True), _network(mask_norm=True)
    closed.attentions[1].score.bias.assign([-12.0])
    live_report = mask_and_gradient_report(live, _batches())
    closed_report = mask_and_gradient_report(closed, _batches())
    assert closed_report["mask_mean"][1] < 1e-4  # as closed as above ...
    # ... but its level is divided away, so its shape still gets a gradient of the live one's order.
    assert closed_report["gradient_norm"]["attention1"] > 0.1 * live_report["gradient_norm"]["attention1"]


def test_mask_norm_changes_the_answer_and_round_trips():
    images, _ = _batches(count=1)[0]
    plain, normed = _network(), _network(mask_norm=True)
    normed.set_weights(plain.get_weights())
    assert not np.allclose(plain(images).numpy(), normed(images).numpy())
    config = normed.get_config()
    assert config["mask_norm"] is True
    rebuilt = AttributeNetwork.from_config(config)
    rebuilt(images)
    rebuilt.set_weights(normed.get_weights())
    np.testing.assert_allclose(rebuilt(images).numpy(), normed(images).numpy(), rtol=1e-5, atol=1e-6)


def test_no_attention_and_no_batches():
    report = mask_and_gradient_report(_network("none"), _batches(count=1))
    assert report["mask_mean"] == [] and "(none)" in format_report("x", report)
    with pytest.raises(ValueError, match="no batches"):
        mask_and_gradient_report(_network(), [])


def test_part_of_names_the_top_level_layer():
    assert part_of("attribute_network/attention2/diagonal_bilstm/left_to_right/input_kernel") == "attention2"
    assert part_of("attribute_network/conv0/kernel") == "conv0"
    assert part_of("kernel") == "kernel"
