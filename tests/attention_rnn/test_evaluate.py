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
    assert len(result["by_answer"]) == 5 and sum(row["count"] for row in result["by_answer"]) == 12
    right = sum(row["count"] * row["accuracy"] for row in result["by_answer"] if row["count"])
    assert right / 12 == pytest.approx(result["accuracy"])
    assert len(result["by_query"]) == 10 and sum(row["count"] for row in result["by_query"]) == 12
    right = sum(row["count"] * row["accuracy"] for row in result["by_query"] if row["count"])
    assert right / 12 == pytest.approx(result["accuracy"])
    text = training.format_results(result, "t")
    assert "by answer: " in text and "by query: digit" in text
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


def test_accuracy_by_group_counts_each_group():
    rows = training.accuracy_by_group(np.array([True, False, True, True]), np.array([0, 0, 2, 2]), 3)
    assert rows == [dict(count=2, accuracy=0.5), dict(count=0, accuracy=None), dict(count=2, accuracy=1.0)]


def test_accuracy_by_answer_names_each_class_s_most_frequent_wrong_answer():
    truths = np.array([0, 0, 0, 0, 1, 1, 2, 2, 2])
    predictions = np.array([0, 2, 2, 1, 1, 1, 2, 2, 2])
    rows = training.accuracy_by_answer(predictions, truths, num_answers=4)
    assert [row["count"] for row in rows] == [4, 2, 3, 0]
    assert rows[0] == dict(count=4, accuracy=0.25, confused_with=2, confused_share=0.5)
    assert rows[1]["accuracy"] == 1.0 and rows[1]["confused_with"] is None
    assert rows[3]["accuracy"] is None and rows[3]["confused_with"] is None
    text = training.format_results(dict(accuracy=5 / 9, count=9, correctness=None, by_scale={}, by_answer=rows,
                                        task="inverse", note=None), "t")
    assert "digit 0 25.0% (as digit 2 50%)" in text and "digit 1 100.0%," in text and "digit 3" not in text
