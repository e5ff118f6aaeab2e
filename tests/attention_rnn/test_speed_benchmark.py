"""benchmarks.attribute_speed's arithmetic count (the times themselves are benchmarks, not tests)."""

import pytest

from benchmarks.attribute_speed import forward_macs
from tests.conftest import SUBPROCESS_TIMEOUT_S


def test_forward_macs_count_the_base_cnn_and_grow_with_attention_units():
    # The base CNN's four 3x3 convolutions at 100, 50, 25 and 12 pixels (32 filters).
    convolutions = 100 * 100 * 3 * 9 * 32 + (50 * 50 + 25 * 25 + 12 * 12) * 32 * 9 * 32
    none = forward_macs("none", 32)
    assert none == pytest.approx(convolutions, rel=0.02)
    small, large = forward_macs("arnn", 16), forward_macs("arnn", 32)
    assert none < small < large
    # The diagonal LSTMs' matmuls grow as units^2, the context convolution as units.
    assert 2.5 < (large - none) / (small - none) < 4.5


def test_unknown_attention_is_a_flag_error_not_a_traceback():
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-m", "benchmarks.attribute_speed", "--attentions", "none,bogus",
                           "--results", ""], capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S)
    assert done.returncode != 0
    assert "unknown attention bogus; valid: none, san" in done.stderr
    assert "Traceback" not in done.stderr


def test_every_model_is_timed_in_interleaved_rounds_and_keeps_its_fastest(tmp_path):
    import json
    import subprocess
    import sys
    results = tmp_path / "speed.json"
    done = subprocess.run([sys.executable, "-m", "benchmarks.attribute_speed", "--attentions", "none,san",
                           "--xla", "off", "--batch", "2", "--units", "4", "--steps", "1", "--repeats", "3",
                           "--results", str(results)], capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    rows = json.loads(results.read_text())
    assert [r["attention"] for r in rows] == ["none", "san"]
    for row in rows:
        assert row["repeats"] == 3 and row["units"] == 4
        rounds = next(line for line in done.stdout.splitlines() if line.startswith(row["attention"] + ":"))
        per_round = [float(t) for t in rounds.split("rounds: ")[1].rstrip(")").split()]
        assert len(per_round) == 3
        assert row["seconds"] * 1000 == pytest.approx(min(per_round), abs=0.5)
    assert rows[0]["ratio_to_none"] == 1.0
    assert rows[0]["ratio_by_round"] == [1.0, 1.0, 1.0] and len(rows[1]["ratio_by_round"]) == 3
    assert rows[1]["none_images_per_s"] == pytest.approx(rows[0]["images_per_s"])
