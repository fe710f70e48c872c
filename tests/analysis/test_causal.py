"""tieviz.analysis.causal: the tied and α-scaled biases with their intervals, on known numbers."""

from __future__ import annotations

import pytest

from tieviz.analysis.causal import causal_shifts
from tieviz.analysis.measures import MEASURE_LABELS
from tieviz.analysis.stats import seed_stat


def test_biases_and_the_paired_change_in_the_papers_order():
    stats = {
        "bias.tied.cka": seed_stat([0.5, 0.4]),
        "bias.scaled.cka": seed_stat([0.05, 0.1]),
        "bias_change.cka": seed_stat([-0.45, -0.3]),
        "bias.tied.lin_cos": seed_stat([0.2, 0.2]),
        "bias.scaled.lin_cos": seed_stat([0.05, 0.0]),
        "bias_change.lin_cos": seed_stat([-0.15, -0.2]),
    }
    shifts = causal_shifts(stats)
    assert [s.measure for s in shifts] == ["lin_cos", "cka"]  # the paper's measure first, missing ones out
    lin, cka = shifts
    assert lin.tied_bias.mean == pytest.approx(0.2) and lin.scaled_bias.mean == pytest.approx(0.025)
    assert cka.change.mean == pytest.approx(-0.375) and cka.change.has_interval
    assert cka.label == MEASURE_LABELS["cka"]


@pytest.mark.parametrize("stats", [{}, {"bias.tied.cka": seed_stat([0.5])}])
def test_no_scaled_arm_or_no_measure_is_a_clear_error(stats):
    with pytest.raises(ValueError, match="bias"):
        causal_shifts(stats)
