"""The toy preset is the classroom demo: five seeds in about a minute, and every claim must hold with an
interval that excludes no effect. This is the acceptance test of the issue on honest claims."""

from __future__ import annotations

import pytest

from tieviz.analysis.measures import MEASURES
from tieviz.config import preset
from tieviz.experiments.runner import run_experiment
from tieviz.training.run_store import RunStore

STAT_NAMES = [
    *(f"bias.{arm}.{m}" for arm in ("tied", "scaled") for m in MEASURES),
    "grad_ratio.tied_early",
    "grad_ratio.tied_late",
    "lens.early_kl_gap",
    "bigram.corr_gap",
    "bigram.truth_corr_gap",
    "grad_share.tied.first_1pct",
    *(f"baseline.{m}" for m in MEASURES),
]


@pytest.mark.slow
def test_the_toy_preset_shows_each_claim_with_intervals_over_five_seeds(tmp_path):
    summary = run_experiment(preset("toy", device="cpu"), RunStore(tmp_path)).to_dict()
    assert len(set(summary["seeds"])) == 5
    for name in STAT_NAMES:
        stat = summary["stats"][name]
        assert len(stat["per_seed"]) == 5, name
        assert stat["ci_low"] <= stat["mean"] <= stat["ci_high"], name
    assert summary["stats"]["bias.tied.lin_cos"]["ci_low"] > 0
    assert set(summary["floors"]) == set(summary["baseline"]) == set(MEASURES)
    assert summary["stats"]["score.tied.lin_cos_out"]["mean"] > summary["floors"]["lin_cos"]["mean"]
    # Independent initialisation and data order: the untied reference shares nothing with the tied model.
    assert summary["config"]["init"] == summary["config"]["data_order"] == "independent"
    assert summary["schema_version"] >= 3 and summary["baseline_method"]
    assert summary["floors_shuffles"] >= 100
    assert summary["lens"]["converged"] is True
    assert all(0 < n < 4000 for steps in summary["lens"]["fit_steps"].values() for n in steps)
    assert summary["bias_over_training"]["tied"]["cka_in"][0] < 0.9
    assert summary["lens"]["held_out"] is True
    assert 0.5 < summary["stats"]["grad_share.tied.first_1pct"]["mean"] <= 1
    assert summary["verdicts"] == dict.fromkeys(("bias", "scaling", "ratio", "lens", "symmetry"), "agrees")
    # The tied direct path is exactly symmetric; the untied one is not.
    assert summary["bigram"]["asymmetry"]["tied"] < 1e-6 < summary["bigram"]["asymmetry"]["untied"]
