"""The experiment summary's evidence: chance floors, the same-recipe baseline, stats over seeds."""

from __future__ import annotations

import numpy as np
import pytest

from tieviz.analysis.alignment import MEASURES
from tieviz.experiments.measure_seeds import chance_floor, per_seed_numbers


def test_a_matrix_against_itself_scores_1_but_its_shuffled_rows_score_at_the_floor():
    rng = np.random.default_rng(0)
    tied = rng.normal(size=(120, 32))
    floor = chance_floor(tied, [tied.copy()], permutations=5, seed=0)
    assert set(floor) == set(MEASURES)
    assert floor["cka"] < 0.3 and floor["mknn"] < 0.2
    # A least-squares map over 120 tokens in 32 dimensions already gives a mean cosine near 0.5
    # (docs/science.md).
    assert 0.35 < floor["lin_cos"] < 0.65
    assert floor["proc_cos"] < floor["lin_cos"]


def test_floors_rise_as_tokens_get_fewer_per_dimension():
    rng = np.random.default_rng(1)
    few = chance_floor(rng.normal(size=(40, 32)), [rng.normal(size=(40, 32))], 5, 0)["lin_cos"]
    many = chance_floor(rng.normal(size=(400, 32)), [rng.normal(size=(400, 32))], 5, 0)["lin_cos"]
    assert few > many


def test_per_seed_numbers_are_out_minus_in_and_the_paired_alpha_change():
    scores = {f"{m}_{side}": value for m in MEASURES for side, value in (("out", 0.8), ("in", 0.6))}
    scaled = {f"{m}_{side}": value for m in MEASURES for side, value in (("out", 0.7), ("in", 0.65))}
    measured = {
        "bias": {"tied": scores, "scaled": scaled},
        "grad_ratio": {"tied_early": 8.0, "tied_late": 2.0, "untied_early": 5.0, "untied_late": 2.0},
        "grad_share": {"tied": {"first_1pct": 0.7, "overall": 0.6}, "scaled": None},
        "lens": {"tied": {"tuned_kl": [0.3, 0.01, 0.0]}, "untied": {"tuned_kl": [0.1, 0.01, 0.0]}},
        "bigram": {"corr_with_bigrams": {"tied": 0.1, "untied": 0.3}, "corr_with_truth": {}},
        "val_loss": {"tied": 3.0},
        "baseline": {m: 0.75 for m in MEASURES},
    }
    numbers = per_seed_numbers(measured)
    assert numbers["bias.tied.lin_cos"] == pytest.approx(0.2)
    assert numbers["bias_change.cka"] == pytest.approx(0.05 - 0.2)
    assert numbers["grad_ratio.tied_drop"] == 6.0
    assert numbers["lens.early_kl_gap"] == pytest.approx(0.2)  # the embedding layer of a 2-layer model
    assert numbers["bigram.corr_gap"] == pytest.approx(0.2) and "bigram.truth_corr_gap" not in numbers
    assert "grad_share.scaled.first_1pct" not in numbers and numbers["grad_share.tied.overall"] == 0.6
    assert numbers["baseline.lin_cos"] == 0.75
    assert numbers["baseline_gap.lin_cos"] == pytest.approx(0.8 - 0.75)  # tied-to-output score − baseline


def test_the_summary_records_its_design_baseline_floors_and_lens_fit(tiny_experiment):
    """issue 16's record: own data order, a per-seed baseline, 100+ shuffles, a converged lens."""
    from tieviz.experiments.summary_record import SCHEMA_VERSION

    config, store, summary = tiny_experiment
    raw = summary.to_dict()
    assert raw["schema_version"] == SCHEMA_VERSION >= 3
    assert raw["config"]["data_order"] == "independent" and raw["config"]["init"] == "independent"
    assert (
        "second untied model" in raw["baseline_method"] and "not like for like" not in raw["baseline_method"]
    )
    for m in MEASURES:  # one value per seed, each from that seed's own pair of untied models
        assert raw["stats"][f"baseline.{m}"]["per_seed"] == raw["baseline"][m]["per_seed"]
        assert len(raw["stats"][f"baseline.{m}"]["per_seed"]) == summary.n_seeds == 2
    assert raw["floors_shuffles"] >= 100
    assert all(stat.n == 2 for name, stat in summary.stats.items() if name.startswith("bias."))
    assert summary.lens.held_out is True and summary.lens.fit_windows > 0
    assert raw["lens"]["converged"] is True and summary.lens.converged is True
    steps = [n for per_model in raw["lens"]["fit_steps"].values() for n in per_model]
    assert len(steps) == 4 and all(0 < n < config.lens.max_steps for n in steps)
    assert set(summary.arms) == {"tied", "untied", "scaled"}  # the baseline model is not a compared arm
    assert all(set(arms) == {"tied", "untied", "scaled", "baseline"} for arms in summary.seed_arms.values())


def test_the_baseline_is_measured_exactly_like_the_score_it_benchmarks(tiny_experiment):
    """Per seed: the untied output matrix mapped onto the baseline model's, as onto the tied matrix."""
    from tieviz.analysis.alignment import compare_embeddings
    from tieviz.experiments.run_analysis import top_token_ids
    from tieviz.experiments.runner import stored_runs

    config, store, summary = tiny_experiment
    runs = stored_runs(config, store)
    tokens = top_token_ids(runs[config.seed_list[0]]["untied"], config.top_n)
    for index, seed in enumerate(config.seed_list):
        source = runs[seed]["untied"].embeddings()[1][tokens]
        as_score = compare_embeddings(runs[seed]["tied"].embeddings()[0][tokens], source)
        as_baseline = compare_embeddings(runs[seed]["baseline"].embeddings()[1][tokens], source)
        assert summary.stats["score.tied.lin_cos_out"].per_seed[index] == pytest.approx(as_score.lin_cos)
        assert summary.baseline["lin_cos"].per_seed[index] == pytest.approx(as_baseline.lin_cos)


def test_the_lens_is_fitted_on_training_text_and_scored_on_held_out_text(tiny_experiment):
    from pathlib import Path

    from tieviz.experiments.run_analysis import lens_windows, model_lens_result
    from tieviz.training.run_store import Run

    _, _, summary = tiny_experiment
    run = Run(Path(summary.arms["tied"].run_dir))
    fit, score = lens_windows(run)
    tokens, split = run.tokens(), run.info["n_train_tokens"]
    assert fit.flatten().tolist() == tokens[: fit.numel()].tolist()  # the training split's start
    assert score.flatten().tolist() == tokens[split : split + score.numel()].tolist()  # validation text
    assert summary.lens.fit_windows == fit.shape[0] and summary.lens.score_windows == score.shape[0]
    # Scored on other text than it was fitted on: an in-sample score would reproduce the fit's own KL.
    in_sample = model_lens_result(run.load_model(), fit, run.analysis_dir("lens"), run.key, 20)
    held_out = model_lens_result(
        run.load_model(), fit, run.analysis_dir("lens"), run.key, 20, score_ids=score
    )
    assert held_out.held_out and not in_sample.held_out
    assert not np.allclose(held_out.tuned.kl, in_sample.tuned.kl)
