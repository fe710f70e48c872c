"""tieviz.analysis.causal: the tied and α-scaled bias scores, read from a summary, on known numbers."""

from __future__ import annotations

import pytest

from tieviz.analysis.causal import MEASURES, causal_shifts


def summary_with(tied: dict, scaled: dict) -> dict:
    return {"bias": {"tied": tied, "scaled": scaled}}


def test_biases_and_shift_on_known_numbers():
    tied = {"cka_out": 0.8, "cka_in": 0.3, "lin_cos_out": 0.7, "lin_cos_in": 0.5}
    scaled = {"cka_out": 0.5, "cka_in": 0.45, "lin_cos_out": 0.6, "lin_cos_in": 0.55}
    shifts = causal_shifts(summary_with(tied, scaled))
    assert [s.measure for s in shifts] == ["lin_cos", "cka"]  # the paper's measure first, missing ones out
    lin, cka = shifts
    assert lin.tied_bias == pytest.approx(0.2) and lin.scaled_bias == pytest.approx(0.05)
    assert cka.tied_bias == pytest.approx(0.5) and cka.scaled_bias == pytest.approx(0.05)
    assert cka.shift == pytest.approx(-0.45)
    assert cka.label == MEASURES["cka"]


@pytest.mark.parametrize(
    "summary", [{}, {"bias": {"tied": {"cka_out": 1.0, "cka_in": 0.0}}}, summary_with({}, {})]
)
def test_no_scaled_arm_or_no_measure_is_a_clear_error(summary):
    with pytest.raises(ValueError, match="bias"):
        causal_shifts(summary)
