"""The toy preset is the classroom demo: in seconds it must show every claim going the paper's way."""

from __future__ import annotations

import pytest

from tieviz.analysis.verdicts import bias_verdict, lens_verdict, ratio_verdict, scaling_verdict
from tieviz.config import preset
from tieviz.experiment import run_experiment
from tieviz.runs import RunStore


@pytest.mark.slow
def test_the_toy_preset_shows_each_claim_in_the_papers_direction(tmp_path):
    summary = run_experiment(preset("toy", device="cpu"), RunStore(tmp_path))
    tied, scaled = summary["bias"]["tied"], summary["bias"]["scaled"]
    ratio, lens = summary["grad_ratio"], summary["lens"]
    tied_bias = tied["cka_out"] - tied["cka_in"]

    assert bias_verdict(tied["cka_out"], tied["cka_in"]).agrees is True, tied
    assert scaling_verdict(tied_bias, scaled["cka_out"] - scaled["cka_in"], 5.0).agrees is True, scaled
    early_lead = ratio_verdict(ratio["tied_early"], ratio["tied_late"])
    assert early_lead.agrees is True and ratio["tied_early"] > 2 * ratio["tied_late"], ratio
    assert lens_verdict(lens["tied"]["tuned_kl"], lens["untied"]["tuned_kl"]).agrees is True, lens
    # The symmetry argument: the untied direct path tracks the language's real bigrams better.
    corr = summary["bigram"]["corr_with_bigrams"]
    assert corr["untied"] > corr["tied"], corr
    assert summary["bigram"]["asymmetry"]["tied"] < 1e-6 < summary["bigram"]["asymmetry"]["untied"]
