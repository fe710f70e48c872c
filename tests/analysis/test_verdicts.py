"""Verdicts come from 95 % intervals over seeds: above the null agrees, straddling it is no clear effect,
one seed is said to be one seed, and measures that disagree are reported as such."""

import pytest

from tieviz.analysis.measures import MEASURES
from tieviz.analysis.stats import seed_stat
from tieviz.analysis.verdicts import (
    AGREES,
    DISAGREES,
    NO_CLEAR,
    ONE_SEED,
    Verdict,
    bias_claim,
    bias_verdict,
    lens_claim,
    ratio_claim,
    scaling_claim,
    symmetry_claim,
)
from tieviz.config import ExperimentConfig
from tieviz.experiments.summary_record import SCHEMA_VERSION, Summary


def bias_stats(per_measure: dict[str, list[float]], out: float = 0.78) -> dict:
    """stats for the tied bias claim: each measure's per-seed bias, with out/in scores that give it."""
    stats = {}
    for m, values in per_measure.items():
        stats[f"bias.tied.{m}"] = seed_stat(values)
        stats[f"score.tied.{m}_out"] = seed_stat([out] * len(values))
        stats[f"score.tied.{m}_in"] = seed_stat([out - v for v in values])
    return stats


CLEAR = [0.10, 0.11, 0.09, 0.10, 0.12]  # the toy preset's linear-map bias, about
STRADDLES = [0.05, -0.04, 0.03, -0.05, 0.01]
NEGATIVE = [-0.10, -0.11, -0.09, -0.10, -0.12]


def test_an_interval_above_zero_agrees_on_every_measure():
    verdict = bias_claim(bias_stats(dict.fromkeys(MEASURES, CLEAR)))
    assert verdict.status == AGREES and verdict.agrees is True
    assert "0.104 ± 0.014" in verdict.text  # printed with the precision its interval supports
    assert "On the other measures the bias reads the same" in verdict.text


def test_an_interval_that_straddles_zero_is_no_clear_effect():
    verdict = bias_claim(bias_stats(dict.fromkeys(MEASURES, STRADDLES)))
    assert verdict.status == NO_CLEAR and verdict.agrees is None
    assert "includes 0" in verdict.text


def test_an_interval_below_zero_disagrees():
    assert bias_claim(bias_stats(dict.fromkeys(MEASURES, NEGATIVE))).status == DISAGREES


def test_one_seed_gives_the_single_seed_status_in_words():
    verdict = bias_claim(bias_stats(dict.fromkeys(MEASURES, [0.10])))
    assert verdict.status == ONE_SEED and verdict.agrees is None
    assert "one seed" in verdict.text and "3 or more seeds" in verdict.text


def test_measures_that_disagree_are_reported_as_such():
    stats = bias_stats({"lin_cos": STRADDLES, "proc_cos": STRADDLES, "cka": CLEAR, "mknn": CLEAR})
    verdict = bias_claim(stats)
    assert verdict.status == NO_CLEAR  # decided on the paper's measure, not on CKA
    assert "The measures disagree" in verdict.text and "CKA" in verdict.text


def test_a_score_at_the_chance_floor_claims_nothing():
    stats = bias_stats(dict.fromkeys(MEASURES, CLEAR), out=0.50)
    floors = {m: seed_stat([0.55] * 5) for m in MEASURES}
    verdict = bias_claim(stats, floors)
    assert verdict.status == NO_CLEAR and "better than chance" in verdict.text


def scaling_stats(tied: list[float], scaled: list[float]) -> dict:
    stats = {}
    for m in MEASURES:
        stats[f"bias.tied.{m}"] = seed_stat(tied)
        stats[f"bias.scaled.{m}"] = seed_stat(scaled)
        stats[f"bias_change.{m}"] = seed_stat([s - t for s, t in zip(scaled, tied, strict=True)])
    return stats


def test_alpha_that_shrinks_the_bias_agrees_and_says_how_far():
    reversed_ = scaling_claim(scaling_stats(CLEAR, NEGATIVE), alpha=5)
    assert reversed_.status == AGREES and "reversed" in reversed_.text
    shrunk = scaling_claim(scaling_stats(CLEAR, [v / 2 for v in CLEAR]), alpha=5)
    assert shrunk.status == AGREES and "by 50 ± 0 %" in shrunk.text and "still above 0" in shrunk.text


def test_a_residual_whose_interval_straddles_zero_is_not_called_removed():
    """The paired change is the causal claim; a residual interval with 0 in it is "not detected", not 0."""
    verdict = scaling_claim(scaling_stats(CLEAR, STRADDLES), alpha=5)
    assert verdict.status == AGREES and "α = 5" in verdict.text
    text = verdict.text.lower()
    assert "remov" not in text and "gone" not in text and "as well as" not in text
    assert "5 seeds cannot detect" in text and "not evidence of 0" in text
    assert "shrinks the bias by" in text  # the size of the change, with its interval


def test_only_an_equivalence_test_calls_a_residual_zero_and_it_states_its_margin():
    tight = [0.002, -0.003, 0.001, 0.0, -0.001]  # a 90 % interval well inside ±0.02
    verdict = scaling_claim(scaling_stats(CLEAR, tight), alpha=5)
    assert "within ±0.02 of 0 by an equivalence test" in verdict.text
    wide = scaling_claim(scaling_stats(CLEAR, STRADDLES), alpha=5)  # includes 0, but also ±0.05
    assert "equivalence test at ±0.02 does not show it" in wide.text


def test_a_residual_above_zero_on_another_measure_is_named():
    """The toy's shape: the linear-map residual includes 0 while CKA's and mutual 10-NN's exclude it."""
    stats = scaling_stats(CLEAR, STRADDLES)
    for m in ("cka", "mknn"):
        stats[f"bias.scaled.{m}"] = seed_stat([0.09, 0.10, 0.08, 0.11, 0.10])
        stats[f"bias_change.{m}"] = seed_stat([-0.01, -0.01, -0.01, -0.01, -0.02])
    text = scaling_claim(stats, alpha=5).text
    assert "Still above 0 on CKA" in text and "mutual 10-NN" in text


def test_the_noisier_run_is_not_rewarded_with_a_stronger_claim():
    """issue 16: +0.021 ± 0.089 must not read "removed" where +0.055 ± 0.023 reads "not removed"."""
    noisy = scaling_claim(scaling_stats([0.19, 0.2, 0.18], [0.10, -0.05, 0.01]), alpha=5)
    sharp = scaling_claim(scaling_stats([0.24, 0.23, 0.22], [0.06, 0.045, 0.06]), alpha=5)
    assert "still above 0" in sharp.text and "no clear change" in noisy.text
    for verdict in (noisy, sharp):
        assert "remov" not in verdict.text.lower()


def test_alpha_that_grows_the_bias_disagrees_and_below_one_the_prediction_flips():
    assert scaling_claim(scaling_stats(CLEAR, [v * 2 for v in CLEAR]), alpha=5).status == DISAGREES
    assert scaling_claim(scaling_stats(CLEAR, [v * 2 for v in CLEAR]), alpha=0.5).status == AGREES


def test_no_causal_test_without_alpha_or_without_a_bias_to_undo():
    assert "no causal test" in scaling_claim(scaling_stats(CLEAR, STRADDLES), alpha=1).text
    nothing = scaling_claim(scaling_stats(STRADDLES, NEGATIVE), alpha=5)
    assert nothing.status == NO_CLEAR and "nothing to undo" in nothing.text


def test_a_change_whose_interval_straddles_zero_is_no_clear_effect():
    noisy = [t + d for t, d in zip(CLEAR, [0.02, -0.03, 0.01, -0.02, 0.015], strict=True)]
    assert scaling_claim(scaling_stats(CLEAR, noisy), alpha=5).status == NO_CLEAR


def ratio_stats(early: list[float], late: list[float]) -> dict:
    return {
        "grad_ratio.tied_early": seed_stat(early),
        "grad_ratio.tied_late": seed_stat(late),
        "grad_ratio.tied_drop": seed_stat([e - x for e, x in zip(early, late, strict=True)]),
    }


def test_ratio_claim_needs_an_early_lead_and_a_fall():
    toy = ratio_claim(ratio_stats([6.2, 13.2, 7.9, 9.0, 8.1], [2.0, 2.1, 1.9, 2.2, 2.0]))
    assert toy.status == AGREES and "×" in toy.text
    no_fall = ratio_claim(ratio_stats([1.5, 1.6, 1.4], [1.6, 1.4, 1.5]))
    assert no_fall.status == NO_CLEAR and "did not clearly fall" in no_fall.text
    input_leads = ratio_claim(ratio_stats([0.5, 0.6, 0.55], [0.4, 0.5, 0.45]))
    assert input_leads.status == DISAGREES
    assert ratio_claim(ratio_stats([7.9], [2.0])).status == ONE_SEED


def test_symmetry_and_lens_claims_follow_their_gap_interval():
    assert symmetry_claim(seed_stat([0.15, 0.14, 0.16]), "true transitions").status == AGREES
    assert "true transitions" in symmetry_claim(seed_stat([0.15, 0.14, 0.16]), "true transitions").text
    assert symmetry_claim(seed_stat(STRADDLES)).status == NO_CLEAR
    assert lens_claim(seed_stat([0.16, 0.15, 0.17])).status == AGREES
    assert lens_claim(seed_stat([-0.16, -0.15, -0.17])).status == DISAGREES
    assert lens_claim(seed_stat([0.16])).status == ONE_SEED


def test_no_clear_lens_gap_does_not_claim_the_models_equal():
    text = lens_claim(seed_stat([0.05, -0.04, 0.01])).text
    assert "3 seeds can detect" in text and "about equally" not in text and "does not show them equal" in text


def test_lens_claim_quotes_the_unit_asked_for():
    gap = seed_stat([0.6931471805599453])
    assert "+0.69 nats" in lens_claim(gap).text and "+1.00 bits" in lens_claim(gap, bits=True).text


def test_verdicts_refuse_an_unknown_status():
    with pytest.raises(ValueError, match="status"):
        Verdict("probably", "text")


def test_bias_verdict_of_an_uploaded_pair_claims_nothing_at_chance():
    at_chance = bias_verdict(0.12, 0.05, tieviz_run=False, chance=0.11)
    assert at_chance.status == NO_CLEAR and "better than chance" in at_chance.text
    assert bias_verdict(0.70, 0.30, tieviz_run=False, chance=0.11).status == AGREES
    assert bias_verdict(0.26, 0.79).status == DISAGREES


def test_summary_round_trips_its_verdicts_and_stats():
    stats = {**bias_stats(dict.fromkeys(MEASURES, CLEAR))}
    summary = Summary(
        schema_version=SCHEMA_VERSION,
        preset="toy",
        config=ExperimentConfig(preset="toy", seeds=5),
        experiment_key="k",
        device="cpu",
        seeds=[0, 1, 2, 3, 4],
        n_top_tokens=120,
        whole_vocabulary=False,
        arms={},
        seed_arms={},
        bias={},
        bias_over_training={},
        grad_ratio={},
        grad_share=None,
        bigram={},
        lens={},
        stats=stats,
        floors={},
        baseline={},
        verdicts={},
    ).with_verdicts({"bias": bias_claim(stats)})
    raw = summary.to_dict()
    assert raw["verdicts"] == {"bias": "agrees"} and raw["stats"]["bias.tied.lin_cos"]["per_seed"] == CLEAR
    again = Summary.from_dict(raw)
    assert again.verdict("bias") == summary.verdict("bias")
    assert again.stat("bias.tied.lin_cos") == summary.stat("bias.tied.lin_cos")


def test_a_one_seed_verdict_says_one_seed_once():
    verdict = bias_claim(bias_stats(dict.fromkeys(MEASURES, [0.10])))
    assert verdict.text.count("one seed") == 2  # "(…, one seed …)" in the numbers and the caveat
    assert "(one seed)" not in verdict.text


def test_no_page_module_or_readme_claims_the_bias_removed_or_matched():
    """A null is never read as equivalence: no "removes the bias", no "matches ... as well as"."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    claims = re.compile(
        r"remov\w*\W+(the\W+)?(output\W+)?bias|bias\W+(is\W+)?(gone|removed)|as well as two", re.I
    )
    files = [root / "README.md", *(root / "pages").glob("*.py"), *(root / "tieviz").rglob("*.py")]
    found = [f"{path.name}: {m.group(0)}" for path in files for m in claims.finditer(path.read_text())]
    assert not found, found


def test_the_bias_verdict_reads_the_baseline_gap_from_its_paired_interval():
    stats = bias_stats(dict.fromkeys(MEASURES, CLEAR))
    stats["baseline.lin_cos"] = seed_stat([0.79, 0.80, 0.78, 0.79, 0.80])
    stats["baseline_gap.lin_cos"] = seed_stat([-0.01, 0.005, -0.02, 0.01, -0.005])
    text = bias_claim(stats).text
    assert "within what 5 seeds can tell from it" in text and "as well as" not in text
    stats["baseline_gap.lin_cos"] = seed_stat([-0.05, -0.04, -0.06, -0.05, -0.045])
    assert "score is below it" in bias_claim(stats).text
