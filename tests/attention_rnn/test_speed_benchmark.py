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
