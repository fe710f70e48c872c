"""tieviz.experiments.resources: what a run costs (FLOPs over every seed) and how a duration reads."""

from __future__ import annotations

import pytest

from tieviz.config import preset
from tieviz.experiments.resources import device_words, duration, size_words


def test_training_flops_count_every_seed_and_arm():
    from tieviz.experiments.resources import training_flops

    one = training_flops(preset("toy", seeds=1))
    assert training_flops(preset("toy", seeds=5)) == pytest.approx(5 * one)
    assert training_flops(preset("toy", seeds=1, steps=400)) == pytest.approx(2 * one)


@pytest.mark.parametrize(
    ("seconds", "text"), [(12, "about 10 s"), (150, "about 2 min"), (9000, "about 2.5 h")]
)
def test_duration(seconds, text):
    assert duration(seconds) == text


@pytest.mark.parametrize(
    ("n_bytes", "text"),
    [(0, "under 1 MiB"), (20_000, "under 1 MiB"), (340 * 2**20, "340 MiB"), (2.1 * 2**30, "2.1 GiB")],
)
def test_size_words_never_say_zero(n_bytes, text):
    assert size_words(n_bytes) == text


def test_device_words():
    assert [device_words(d) for d in ("cuda", "mps", "cpu", "xpu")] == [
        "GPU (cuda)",
        "Apple GPU (mps)",
        "CPU",
        "CPU",
    ]
