"""Sweep verdicts on known per-seed values: paired change along α, the bias at every point along scale."""

from __future__ import annotations

import pytest

from tieviz.analysis.stats import seed_stat
from tieviz.analysis.trends import paired_change, trend_verdict


def point(axis: str, value: float, per_seed: list[float], seeds: list[int] | None = None) -> dict:
    seeds = list(range(len(per_seed))) if seeds is None else seeds
    return {axis: value, "seeds": seeds, "stats": {"bias.lin_cos": seed_stat(per_seed).to_dict()}}


def test_paired_change_pairs_by_seed():
    first, last = seed_stat([0.3, 0.5, 0.4]), seed_stat([0.1, 0.2])
    change = paired_change(first, last, [0, 1, 2], [2, 0])  # seed 2: 0.1 - 0.4, seed 0: 0.2 - 0.3
    assert change.per_seed == pytest.approx((-0.1, -0.3))
    assert paired_change(first, last, [0, 1, 2], [5, 6]) is None


def test_alpha_shrinking_the_bias_agrees():
    points = [point("alpha", 0.5, [0.30, 0.35, 0.32]), point("alpha", 10, [0.05, 0.09, 0.06])]
    verdict = trend_verdict("alpha", points)
    assert verdict.status == "agrees"
    assert "α = 0.5" in verdict.text and "α = 10" in verdict.text and "do not overlap" in verdict.text


def test_a_bias_left_at_the_largest_alpha_is_never_called_gone():
    straddles = [point("alpha", 1, [0.10, 0.12, 0.11]), point("alpha", 10, [0.03, -0.03, 0.01])]
    verdict = trend_verdict("alpha", straddles)
    assert verdict.status == "agrees"
    assert "gone" not in verdict.text and "remov" not in verdict.text
    assert "no bias is left that 3 seeds can detect" in verdict.text and "not evidence of 0" in verdict.text
    above = [point("alpha", 1, [0.10, 0.12, 0.11]), point("alpha", 10, [0.05, 0.06, 0.055])]
    assert "still above 0" in trend_verdict("alpha", above).text


def test_alpha_growing_the_bias_disagrees_and_noise_is_no_clear_effect():
    grows = [point("alpha", 1, [0.1, 0.12, 0.11]), point("alpha", 5, [0.3, 0.33, 0.31])]
    assert trend_verdict("alpha", grows).status == "disagrees"
    noisy = [point("alpha", 1, [0.1, 0.3, 0.2]), point("alpha", 5, [0.25, 0.1, 0.2])]
    assert trend_verdict("alpha", noisy).status == "no clear effect"


def test_pairing_sees_a_shift_that_overlapping_intervals_hide():
    # Seeds differ a lot, but each seed's bias drops by about 0.05: paired, that is a clear change.
    first = point("alpha", 1, [0.10, 0.30, 0.50])
    last = point("alpha", 5, [0.05, 0.26, 0.44])
    verdict = trend_verdict("alpha", [first, last])
    assert verdict.status == "agrees" and "intervals overlap" in verdict.text


def test_scale_axis_agrees_when_the_bias_holds_at_every_point():
    points = [point("d_model", w, [0.2 + w / 1000, 0.22 + w / 1000, 0.21 + w / 1000]) for w in (16, 32, 64)]
    verdict = trend_verdict("d_model", points)
    assert verdict.status == "agrees" and "grew" in verdict.text and "width = 16" in verdict.text
    points[1] = point("d_model", 32, [-0.1, 0.2, 0.05])
    assert trend_verdict("d_model", points).status == "no clear effect"
    below = [point("n_layers", n, [-0.2, -0.25, -0.22]) for n in (1, 2)]
    assert trend_verdict("n_layers", below).status == "disagrees"


def test_too_few_points_or_seeds_claim_nothing():
    assert trend_verdict("alpha", []).status == "no clear effect"
    assert trend_verdict("alpha", [point("alpha", 1, [0.1, 0.2])]).status == "no clear effect"
    one_seed = [point("steps", 100, [0.1]), point("steps", 200, [0.3])]
    assert trend_verdict("steps", one_seed).status == "one seed"
    assert trend_verdict("alpha", [point("alpha", 1, [0.3]), point("alpha", 5, [0.1])]).status == "one seed"
