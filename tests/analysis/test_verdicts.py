"""Verdicts follow the sign of each claim's effect and stay neutral inside the stated margin."""

import math

import pytest

from tieviz.analysis.verdicts import (
    BIAS_MARGIN,
    RATIO_MARGIN,
    bias_verdict,
    lens_verdict,
    ratio_verdict,
    scaling_verdict,
    symmetry_verdict,
)


@pytest.mark.parametrize(
    ("cka_out", "cka_in", "agrees"),
    [
        (0.79, 0.26, True),  # the demo run
        (0.26, 0.79, False),
        (0.50, 0.50, None),
        (0.50 + BIAS_MARGIN / 2, 0.50, None),
        (0.50 + 2 * BIAS_MARGIN, 0.50, True),
    ],
)
def test_bias_verdict_follows_the_sign_of_out_minus_in(cka_out, cka_in, agrees):
    verdict = bias_verdict(cka_out, cka_in)
    assert verdict.agrees is agrees
    assert ("looks more like an output matrix" in verdict.text) == (agrees is True)
    assert f"CKA {cka_out:.2f} to the untied output matrix against {cka_in:.2f}" in verdict.text


def test_bias_verdict_gives_training_advice_only_for_tieviz_runs():
    assert "default preset" in bias_verdict(0.3, 0.5).text
    assert "default preset" not in bias_verdict(0.3, 0.5, tieviz_run=False).text


def test_ratio_verdict_agrees_when_the_output_path_leads_early_and_falls():
    verdict = ratio_verdict(42.85, 1.28)
    assert verdict.agrees is True
    assert "42.9×" in verdict.text and "1.28×" in verdict.text


def test_ratio_verdict_notes_a_lead_that_does_not_shrink():
    verdict = ratio_verdict(1.52, 1.88)
    assert verdict.agrees is None  # half the claim: the early lead holds, its fall does not
    assert "did not shrink" in verdict.text
    assert ratio_verdict(2.0, 2.0 / (1 + RATIO_MARGIN / 2)).agrees is None  # a fall inside the margin


def test_ratio_verdict_says_when_the_input_path_ends_up_ahead():
    verdict = ratio_verdict(8.6, 0.5)  # science.md's reference run: 8.6 at step 10, about 0.5 at the end
    assert verdict.agrees is True
    assert "input path pulled harder (ratio 0.50×)" in verdict.text and "lead fell" not in verdict.text


@pytest.mark.parametrize(
    ("early", "agrees"),
    [(1.0, None), (1 + RATIO_MARGIN / 2, None), (1 - RATIO_MARGIN / 2, None), (0.5, False)],
)
def test_ratio_verdict_without_an_output_lead(early, agrees):
    verdict = ratio_verdict(early, 1.0)
    assert verdict.agrees is agrees
    assert "did not dominate" in verdict.text


def test_ratio_verdict_of_missing_values_is_neutral():
    assert ratio_verdict(math.nan, 1.0).agrees is None


def test_lens_verdict_compares_the_early_half_of_the_layers():
    # Five points: embeddings, four blocks; the last is ~0 by design. Early = the first two.
    untied = [1.0, 0.5, 0.2, 0.05, 0.0]
    tied = [2.0, 0.9, 0.1, 0.02, 0.0]  # higher early, lower later: only the early layers count
    verdict = lens_verdict(tied, untied)
    assert verdict.agrees is True and "1.45" in verdict.text and "0.75" in verdict.text
    assert lens_verdict(untied, tied).agrees is False
    assert lens_verdict(untied, untied).agrees is None


def test_lens_verdict_of_a_two_layer_model_uses_the_embedding_layer():
    # The toy run's numbers: [embeddings, block 1, final].
    assert lens_verdict([0.161, 0.001, 0.0], [0.011, 0.001, 0.0]).agrees is True


def test_lens_verdict_refuses_models_of_different_depth():
    assert "different numbers of layers" in lens_verdict([1.0, 0.0], [1.0, 0.5, 0.0]).text
    assert "at least one layer" in lens_verdict([0.0], [0.0]).text


def test_bias_verdict_claims_nothing_when_both_scores_are_at_chance():
    at_chance = bias_verdict(0.12, 0.05, tieviz_run=False, chance=0.11)
    assert at_chance.agrees is None and "better than chance" in at_chance.text
    assert bias_verdict(0.70, 0.30, tieviz_run=False, chance=0.11).agrees is True


def test_symmetry_verdict_names_what_it_compares_against():
    assert "true transitions" in symmetry_verdict(0.1, 0.3, against="true transitions").text


@pytest.mark.parametrize(
    ("tied_bias", "scaled_bias", "agrees", "word"),
    [
        (0.53, 0.065, True, "shrank"),  # the demo run
        (0.10, 0.30, False, "grew"),
        (0.10, 0.10 - BIAS_MARGIN / 2, None, "barely changed"),
    ],
)
def test_scaling_verdict_asks_whether_alpha_shrank_the_bias(tied_bias, scaled_bias, agrees, word):
    verdict = scaling_verdict(tied_bias, scaled_bias, alpha=5)
    assert verdict.agrees is agrees
    assert word in verdict.text and "α = 5" in verdict.text


def test_scaling_the_input_gradient_down_is_expected_to_grow_the_bias():
    assert scaling_verdict(0.30, 0.50, alpha=0.5).agrees is True
    assert "grew" in scaling_verdict(0.30, 0.50, alpha=0.5).text
    assert scaling_verdict(0.30, 0.10, alpha=0.5).agrees is False


@pytest.mark.parametrize(
    ("tied_bias", "scaled_bias", "alpha"), [(0.3, 0.1, 1.0), (-0.10, -0.30, 5), (0.0, -0.2, 5)]
)
def test_no_causal_test_without_alpha_or_without_a_bias_to_undo(tied_bias, scaled_bias, alpha):
    verdict = scaling_verdict(tied_bias, scaled_bias, alpha)
    assert verdict.agrees is None and "undoes" not in verdict.text


def test_symmetry_verdict_asks_which_direct_path_tracks_the_bigrams():
    toy = symmetry_verdict(corr_tied=0.13, corr_untied=0.32)  # the toy preset's numbers
    assert toy.agrees is True and "0.32 untied against 0.13 tied" in toy.text
    assert symmetry_verdict(0.32, 0.13).agrees is False
    assert symmetry_verdict(0.30, 0.31).agrees is None


def test_lens_verdict_quotes_the_unit_the_chart_shows():
    nats = lens_verdict([math.log(2) * 2, 0.0], [math.log(2), 0.0])
    bits = lens_verdict([math.log(2) * 2, 0.0], [math.log(2), 0.0], bits=True)
    assert "1.39 against 0.693 nats" in nats.text
    assert "2 against 1 bits" in bits.text
