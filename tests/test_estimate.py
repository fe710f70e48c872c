"""tieviz.estimate: the training time estimate grows the right way, uses a measured speed, reads well."""

from __future__ import annotations

import pytest

from tieviz.config import preset
from tieviz.estimate import ANALYSIS_SECONDS, device_words, duration, estimate_seconds, measured_speed


def test_estimate_grows_with_steps_and_model_size():
    small = preset("toy", steps=100)
    assert estimate_seconds(preset("toy", steps=200), "cpu") > estimate_seconds(small, "cpu")
    bigger = preset("toy", steps=100, d_model=256, n_heads=4)
    assert estimate_seconds(bigger, "cpu") > estimate_seconds(small, "cpu")
    assert estimate_seconds(preset("demo"), "cuda") < estimate_seconds(preset("demo"), "cpu")


def test_estimate_uses_a_measured_speed():
    config = preset("toy", steps=100, batch_size=10, seq_len=10, seeds=1)  # 100 tokens a step
    # 3 arms x 100 steps x 100 tokens at 1,000 tokens/s = 30 s, plus the analysis.
    assert estimate_seconds(config, "cpu", 1000.0) == pytest.approx(30.0 + ANALYSIS_SECONDS["cpu"])
    # Every seed trains and analyses its own three arms.
    assert estimate_seconds(preset("toy", steps=100, batch_size=10, seq_len=10, seeds=4), "cpu", 1000.0) == (
        pytest.approx(4 * (30.0 + ANALYSIS_SECONDS["cpu"]))
    )


def test_measured_speed_needs_the_same_shape_and_device():
    config = preset("toy")
    arms = {"tied": {"tokens_per_second": 100.0}, "untied": {"tokens_per_second": 300.0}}
    same = {"config": config.to_dict(), "device": "cpu", "arms": arms}
    assert measured_speed([same], config, "cpu") == 200.0
    assert measured_speed([same], config, "cuda") is None
    assert measured_speed([same], preset("toy", d_model=64), "cpu") is None
    assert measured_speed([{"config": {}}, same], config, "cpu") == 200.0  # a broken summary is skipped


@pytest.mark.parametrize(
    ("seconds", "text"), [(12, "about 10 s"), (150, "about 2 min"), (9000, "about 2.5 h")]
)
def test_duration(seconds, text):
    assert duration(seconds) == text


def test_device_words():
    assert [device_words(d) for d in ("cuda", "mps", "cpu", "xpu")] == [
        "GPU (cuda)",
        "Apple GPU (mps)",
        "CPU",
        "CPU",
    ]
