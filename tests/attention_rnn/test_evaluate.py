"""attention_rnn.training.evaluate on a tiny rendered MDIST split: accuracy and both mask
correctness figures, overall and by scale bin."""

import numpy as np
import pytest

import data
from attention_rnn import training
from attention_rnn.config import AttributeConfig


@pytest.mark.parametrize("attention", ["ctx", "none"])
def test_evaluate_reports_ink_and_box_correctness(tmp_path, attention):
    config = AttributeConfig(dataset="mdist", attention=attention, filters=4, units=4, hidden=8, seed=3)
    model = training.build_model(config)
    result = training.evaluate(model, config, "test", size=12, mnist=data.load_mnist(), cache_dir=str(tmp_path),
                               batch_size=6)
    assert result["count"] == 12 and 0.0 <= result["accuracy"] <= 1.0
    counts = [row["count"] for row in result["by_scale"].values()]
    assert sum(counts) == 12
    assert 0.0 < result["box_share"] < 1.0
    if attention == "none":
        assert result["correctness"] is None and result["correctness_box"] is None
        assert result["layer_correctness_box"] == []
        assert "(ink)" not in training.format_results(result, "t")
        return
    # The box holds the ink, so at least as much of the mask's mass lies in it.
    assert 0.0 < result["correctness"] <= result["correctness_box"] <= 1.0
    for row in result["by_scale"].values():
        if row["count"]:
            assert row["correctness"] <= row["correctness_box"] + 1e-6
        else:
            assert row["correctness_box"] is None
    assert len(result["layer_correctness_box"]) == 4 and all(0 < v < 1 for v in result["layer_correctness_box"])
    text = training.format_results(result, "t")
    assert "(ink)" in text and "(box)" in text and "each layer's mask alone" in text
    weighted = sum(row["count"] * row["correctness_box"] for row in result["by_scale"].values() if row["count"])
    assert weighted / 12 == pytest.approx(result["correctness_box"], rel=1e-5)
    assert np.isfinite(result["correctness_box"])
