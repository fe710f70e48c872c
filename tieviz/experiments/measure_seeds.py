"""From the completed runs of every seed to the experiment's `Summary`: measurements per seed, then stats.

Each seed's tied, untied and scaled runs are measured alike (`measure_seed`); every headline number then
becomes a `SeedStat` over seeds (mean, 95 % t interval, per-seed values). Beside the scores sit what
they must be read against: chance floors (the untied rows shuffled) and the same-recipe baseline (per
seed, the untied output matrix mapped onto a second untied model's, as it is mapped onto the tied one).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tieviz.analysis.alignment import bias_scores, prepare, shuffled_rows
from tieviz.analysis.curves import EARLY_FRACTION, LATE_FRACTION, paper_share_summary, window_mean
from tieviz.analysis.lens import early_layers
from tieviz.analysis.measures import MEASURES, scores
from tieviz.analysis.stats import SeedStat, seed_stat
from tieviz.config import COMPARED_ARMS, ExperimentConfig
from tieviz.experiments.run_analysis import (
    bigram_comparison,
    bigram_summary,
    lens_result,
    lens_summary,
    top_token_ids,
)
from tieviz.experiments.summary_record import SCHEMA_VERSION, Summary
from tieviz.training.run_store import Run

SeedRuns = dict[int, dict[str, Run]]  # seed -> arm name -> completed run
MIN_PERMUTATIONS = 100  # shuffles behind each chance floor, spread over the seeds (5 left an error of 0.006)
BIAS_ARMS = ("tied", "scaled")


def grad_ratio_summary(runs: dict[str, Run]) -> dict[str, float]:
    """Mean ‖out‖/‖in‖ over the first EARLY_FRACTION and the last LATE_FRACTION of steps, per arm."""
    out = {}
    for name, run in runs.items():
        values = [m["grad_ratio"] for m in run.metrics()]
        out[f"{name}_early"] = window_mean(values, 0.0, EARLY_FRACTION)
        out[f"{name}_late"] = window_mean(values, 1.0 - LATE_FRACTION, 1.0)
    return out


def arm_summary(run: Run) -> dict:
    info = run.info
    return {
        "final_train_loss": info["final_train_loss"],
        "final_val_loss": info["final_val_loss"],
        "params": info["params"],
        "tokens_per_second": info["tokens_per_second"],
        "wall_seconds": info.get("wall_seconds"),
        "run_dir": str(run.path.resolve()),
        "alpha": info["config"]["alpha"],
        "tied": info["config"]["tied"],
        "seed": info["config"]["train"]["seed"],
        "key": run.key,
    }


def bias_at(runs: dict[str, Run], tokens: np.ndarray, step: int | None = None) -> dict[str, dict[str, float]]:
    """Every measure of the tied and scaled matrices against the untied pair, at one saved step."""
    untied_in, untied_out = (prepare(m[tokens]) for m in runs["untied"].embeddings(step))  # used twice
    result = {}
    for name in BIAS_ARMS:
        shared, _ = runs[name].embeddings(step)
        result[name] = bias_scores(shared[tokens], untied_in, untied_out)
    return result


def bias_per_step(runs: dict[str, Run], tokens: np.ndarray) -> dict[int, dict[str, dict[str, float]]]:
    """`bias_at` at every step after 0 saved by all three arms. The last is the final step, whose saved
    embeddings are the trained model's own, so its scores are the run's final bias."""
    common = sorted(set.intersection(*(set(dict(r.checkpoints())) for r in runs.values())))
    return {step: bias_at(runs, tokens, step) for step in common if step > 0}


def permutations_per_seed(n_seeds: int) -> int:
    """Shuffles per seed so that the floor averages at least MIN_PERMUTATIONS in all (ceil)."""
    return -(-MIN_PERMUTATIONS // n_seeds)


def chance_floor(
    tied: np.ndarray, untied: list[np.ndarray], permutations: int, seed: int
) -> dict[str, float]:
    """Each measure of tied [N, d] against the untied matrices with their rows shuffled, averaged.

    Shuffling destroys the token correspondence and keeps everything else (N, width, spectrum), so this
    is the score an unrelated matrix of the same shape gets. Small N and d raise it a lot. Each matrix is
    prepared once; a shuffle only permutes its rows.
    """
    rng = np.random.default_rng(seed)
    shuffled: dict[str, list[float]] = {m: [] for m in MEASURES}
    prepared = prepare(tied)
    sources = [prepare(matrix) for matrix in untied]
    for _ in range(permutations):
        order = rng.permutation(tied.shape[0])
        for source in sources:
            for m, value in scores(prepared, shuffled_rows(source, order)).items():
                shuffled[m].append(value)
    return {m: float(np.mean(v)) for m, v in shuffled.items()}


def measure_seed(
    config: ExperimentConfig, runs: dict[str, Run], tokens: np.ndarray, permutations: int, seed: int
) -> dict:
    """Everything measured on one seed's three runs: bias per step, floors, ratios, shares, lens, bigrams."""
    per_step = bias_per_step(runs, tokens)
    final = per_step[max(per_step)]
    untied_in, untied_out = runs["untied"].embeddings()
    tied, _ = runs["tied"].embeddings()
    lens = {name: lens_result(runs[name], settings=config.lens) for name in ("tied", "untied")}
    compared = {name: runs[name] for name in COMPARED_ARMS}
    comparison = bigram_comparison(compared, config.bigram_k)
    return {
        "per_step": per_step,
        "bias": final,
        "floor": chance_floor(tied[tokens], [untied_in[tokens], untied_out[tokens]], permutations, seed),
        "baseline": same_recipe_baseline(runs, tokens) if "baseline" in runs else {},
        "grad_ratio": grad_ratio_summary(compared),
        "grad_share": {name: paper_share_summary(runs[name].metrics()) for name in BIAS_ARMS},
        "lens": lens_summary(lens),
        "bigram": bigram_summary(comparison),
        "val_loss": {name: run.info["final_val_loss"] for name, run in compared.items()},
    }


BASELINE_METHOD = (
    "per seed, the untied reference's output matrix mapped onto the output matrix of a second untied model "
    "(same recipe, its own initial weights and batch order), exactly as it is mapped onto the tied matrix; "
    "one independent value per seed, 95 % t interval over seeds"
)


def baseline_method(config: ExperimentConfig) -> str:
    """summary.json's `baseline_method`: how the baseline was measured, and when it is not like for like."""
    shared = [
        what
        for what, setting in (("initial weights", config.init), ("batch order", config.data_order))
        if setting == "shared"
    ]
    if not shared:
        return BASELINE_METHOD
    return (
        f"{BASELINE_METHOD}; not like for like here: the untied reference shares its "
        f"{' and '.join(shared)} with the tied model, the baseline model shares nothing"
    )


def same_recipe_baseline(runs: dict[str, Run], tokens: np.ndarray) -> dict[str, float]:
    """Each measure of one seed's untied output matrix (source) against its baseline model's (target).

    Built as the score it benchmarks, `score.tied.*_out`, is: the same untied matrix is the source, only
    the target differs (an independently trained untied output matrix instead of the tied matrix), so the
    two are paired by seed and each seed gives one value independent of every other seed's.
    """
    target = runs["baseline"].embeddings()[1][tokens]
    source = runs["untied"].embeddings()[1][tokens]
    return scores(prepare(target), prepare(source))


def bias_numbers(bias: dict[str, dict[str, float]]) -> dict[str, float]:
    """bias.*, score.* and bias_change.* of one seed from its `bias_at` scores."""
    numbers: dict[str, float] = {}
    for arm in BIAS_ARMS:
        scores = bias[arm]
        for m in MEASURES:
            numbers[f"bias.{arm}.{m}"] = scores[f"{m}_out"] - scores[f"{m}_in"]
            for side in ("out", "in"):
                numbers[f"score.{arm}.{m}_{side}"] = scores[f"{m}_{side}"]
    for m in MEASURES:
        numbers[f"bias_change.{m}"] = numbers[f"bias.scaled.{m}"] - numbers[f"bias.tied.{m}"]
    return numbers


def bias_stats(seed_runs: SeedRuns, tokens: np.ndarray) -> tuple[dict[str, SeedStat], dict[str, SeedStat]]:
    """(stats, floors) of the final bias over other tokens than the summary's, e.g. the whole vocabulary."""
    seeds = sorted(seed_runs)
    permutations = permutations_per_seed(len(seeds))
    numbers, floors = [], []
    for seed in seeds:
        runs = seed_runs[seed]
        numbers.append(bias_numbers(bias_at(runs, tokens)))
        untied_in, untied_out = runs["untied"].embeddings()
        tied = runs["tied"].embeddings()[0][tokens]
        floors.append(chance_floor(tied, [untied_in[tokens], untied_out[tokens]], permutations, seed))
    stats = {name: seed_stat([n[name] for n in numbers]) for name in numbers[0]}
    return stats, {m: seed_stat([f[m] for f in floors]) for m in MEASURES}


def per_seed_numbers(measured: dict) -> dict[str, float]:
    """The headline numbers of one seed, under the stat names of summary.json's `stats`."""
    numbers = bias_numbers(measured["bias"])
    ratio = measured["grad_ratio"]
    for key, value in ratio.items():
        numbers[f"grad_ratio.{key}"] = value
    numbers["grad_ratio.tied_drop"] = ratio["tied_early"] - ratio["tied_late"]
    for arm, share in measured["grad_share"].items():
        if share is not None:
            for window, value in share.items():
                numbers[f"grad_share.{arm}.{window}"] = value
    lens = measured["lens"]
    early = early_layers(len(lens["tied"]["tuned_kl"]))
    for name in ("tied", "untied"):
        numbers[f"lens.early_kl.{name}"] = float(np.mean(lens[name]["tuned_kl"][early]))
    numbers["lens.early_kl_gap"] = numbers["lens.early_kl.tied"] - numbers["lens.early_kl.untied"]
    bigram = measured["bigram"]
    corr = bigram["corr_with_bigrams"]
    numbers["bigram.corr_gap"] = corr["untied"] - corr["tied"]
    truth = bigram.get("corr_with_truth") or {}
    if "tied" in truth and "untied" in truth:
        numbers["bigram.truth_corr_gap"] = truth["untied"] - truth["tied"]
    for name, loss in measured["val_loss"].items():
        numbers[f"val_loss.{name}"] = loss
    for m, value in measured.get("baseline", {}).items():
        numbers[f"baseline.{m}"] = value
        # score minus its baseline, paired by seed: both map the same untied matrix, onto different targets
        numbers[f"baseline_gap.{m}"] = numbers[f"score.tied.{m}_out"] - value
    return numbers


def _mean_tree(trees: list):
    """Element-wise mean of equally shaped nested dicts/lists of numbers; other leaves from the first."""
    first = trees[0]
    if isinstance(first, dict):
        return {k: _mean_tree([t[k] for t in trees]) for k in first}
    if (
        isinstance(first, list)
        and first
        and isinstance(first[0], int | float)
        and not isinstance(first[0], bool)
    ):
        return np.mean(np.asarray(trees, dtype=np.float64), axis=0).tolist()
    if isinstance(first, float):
        return float(np.mean(trees))
    return first


def lens_over_seeds(per_seed: list[dict]) -> dict:
    """The lens section: per-layer means over seeds, each tuned-lens curve's per-layer 95 % interval
    (`tuned_kl_low` / `_high`, `tuned_ce_low` / `_high`), every fit's steps and whether all converged."""
    lens = _mean_tree(per_seed)
    for name in ("tied", "untied"):
        for curve in ("tuned_kl", "tuned_ce"):
            layers = np.asarray([seed[name][curve] for seed in per_seed], dtype=np.float64)  # [seeds, L+1]
            stats = [seed_stat(layers[:, layer]) for layer in range(layers.shape[1])]
            lens[name][f"{curve}_low"] = [s.ci_low for s in stats]
            lens[name][f"{curve}_high"] = [s.ci_high for s in stats]
    lens["fit_steps"] = {name: [seed["fit_steps"][name] for seed in per_seed] for name in ("tied", "untied")}
    lens["converged"] = all(seed["converged"] for seed in per_seed)
    return lens


def bias_over_training(per_seed_steps: list[dict[int, dict]]) -> dict:
    """Every measure's out and in score per tied arm over the saved steps, mean over seeds."""
    steps = sorted(per_seed_steps[0])
    keys = [f"{m}_{side}" for m in MEASURES for side in ("out", "in")]
    series = {
        name: {
            k: [float(np.mean([seed[s][name][k] for seed in per_seed_steps])) for s in steps] for k in keys
        }
        for name in BIAS_ARMS
    }
    return {"steps": steps, **series}


def summarize(
    config: ExperimentConfig,
    seed_runs: SeedRuns,
    progress: Callable[[str, int, int, dict], None] | None = None,
) -> Summary:
    """Measure every seed, then the stats, floors, baseline and verdicts. Runs are [seed][arm].

    NumPy's BLAS runs single-threaded here: the hundreds of [1000, 128] fits and products are too small
    to share between threads, and with another process on the cores (a second job, a sweep) a
    multi-threaded BLAS spun so long that each one took 10-50 times as long.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _summarize(config, seed_runs, progress)


def _summarize(
    config: ExperimentConfig,
    seed_runs: SeedRuns,
    progress: Callable[[str, int, int, dict], None] | None,
) -> Summary:
    from tieviz.analysis.verdicts import experiment_verdicts

    seeds = sorted(seed_runs)
    first = seed_runs[seeds[0]]
    tokens = top_token_ids(first["untied"], config.top_n)
    permutations = permutations_per_seed(len(seeds))
    total = len(seeds) + 1
    measured = []
    for index, seed in enumerate(seeds):
        if progress is not None:
            progress("analysis", index, total, {"stage": f"seed {seed}"})
        measured.append(measure_seed(config, seed_runs[seed], tokens, permutations, seed))
    if progress is not None:
        progress("analysis", len(seeds), total, {"stage": "statistics"})
    numbers = [per_seed_numbers(m) for m in measured]
    names = sorted(set.intersection(*(set(n) for n in numbers)))
    stats = {name: seed_stat([n[name] for n in numbers]) for name in names}
    floors = {m: seed_stat([m_["floor"][m] for m_ in measured]) for m in MEASURES}
    baseline = {m: stats[f"baseline.{m}"] for m in MEASURES if f"baseline.{m}" in stats}
    shares = [m["grad_share"] for m in measured]
    summary = Summary(
        schema_version=SCHEMA_VERSION,
        preset=config.preset,
        config=config,
        experiment_key=config.key(),
        device=config.train.device,
        seeds=seeds,
        n_top_tokens=int(len(tokens)),
        whole_vocabulary=config.top_n == 0,
        arms={name: arm_summary(first[name]) for name in COMPARED_ARMS},
        seed_arms={str(seed): {n: arm_summary(r) for n, r in seed_runs[seed].items()} for seed in seeds},
        bias=_mean_tree([m["bias"] for m in measured]),
        bias_over_training=bias_over_training([m["per_step"] for m in measured]),
        grad_ratio=_mean_tree([m["grad_ratio"] for m in measured]),
        grad_share=None if any(s[a] is None for s in shares for a in BIAS_ARMS) else _mean_tree(shares),
        bigram=measured[0]["bigram"],
        lens=lens_over_seeds([m["lens"] for m in measured]),
        stats=stats,
        floors=floors,
        baseline=baseline,
        baseline_method=baseline_method(config) if baseline else "",
        floors_shuffles=permutations * len(seeds),
        verdicts={},
    )
    summary = summary.with_verdicts(experiment_verdicts(summary))
    if progress is not None:
        progress("analysis", total, total, {"stage": "done"})
    return summary
