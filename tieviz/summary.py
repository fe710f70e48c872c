"""The experiment summary: the numbers behind every claim, computed from three completed runs."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tieviz.analysis.curves import EARLY_FRACTION, LATE_FRACTION, window_mean
from tieviz.config import ExperimentConfig
from tieviz.results import bigram_comparison, bigram_summary, lens_result, lens_summary, top_token_ids
from tieviz.runs import Run


def grad_ratio_summary(runs: dict[str, Run]) -> dict[str, float]:
    ratios = {name: [m["grad_ratio"] for m in run.metrics()] for name, run in runs.items()}
    out = {}
    for name, values in ratios.items():
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
        "run_dir": str(run.path.resolve()),
        "alpha": info["config"]["alpha"],
        "tied": info["config"]["tied"],
        "key": run.key,
    }


def bias_at(runs: dict[str, Run], tokens: np.ndarray, step: int | None = None) -> dict[str, dict[str, float]]:
    """The paper's measures, CKA and mutual 10-NN of the tied and scaled matrices vs the untied pair."""
    from tieviz.analysis.alignment import bias_scores

    untied_in, untied_out = runs["untied"].embeddings(step)
    result = {}
    for name in ("tied", "scaled"):
        shared, _ = runs[name].embeddings(step)
        result[name] = bias_scores(shared[tokens], untied_in[tokens], untied_out[tokens])
    return result


def bias_per_step(runs: dict[str, Run], tokens: np.ndarray) -> dict[int, dict[str, dict[str, float]]]:
    """`bias_at` at every step after 0 saved by all three arms. The last is the final step, whose saved
    embeddings are the trained model's own, so its scores are the run's final bias."""
    common = sorted(set.intersection(*(set(dict(r.checkpoints())) for r in runs.values())))
    return {step: bias_at(runs, tokens, step) for step in common if step > 0}


def bias_over_training(per_step: dict[int, dict[str, dict[str, float]]]) -> dict:
    """CKA and mutual k-NN series, per tied arm, over the steps of `bias_per_step`."""
    steps = sorted(per_step)
    keys = ("cka_out", "cka_in", "mknn_out", "mknn_in")
    series = {name: {k: [per_step[s][name][k] for s in steps] for k in keys} for name in ("tied", "scaled")}
    return {"steps": steps, **series}


def summarize(
    config: ExperimentConfig,
    runs: dict[str, Run],
    progress: Callable[[str, int, int, dict], None] | None = None,
) -> dict:
    tokens = top_token_ids(runs["untied"], config.top_n)
    per_step: dict[int, dict] = {}

    def final_bias() -> dict:
        per_step.update(bias_per_step(runs, tokens))
        return per_step[max(per_step)]

    stages: list[tuple[str, Callable[[], object]]] = [
        ("bias", final_bias),  # scores every saved step, of which the final one is the run's bias
        ("bias_over_training", lambda: bias_over_training(per_step)),
        ("grad_ratio", lambda: grad_ratio_summary(runs)),
        ("bigram", lambda: bigram_summary(bigram_comparison(runs, config.bigram_k))),
        ("lens", lambda: lens_summary({name: lens_result(runs[name]) for name in ("tied", "untied")})),
    ]
    summary: dict = {
        "preset": config.preset,
        "config": config.to_dict(),
        "experiment_key": config.key(),
        "device": config.train.device,
        "n_top_tokens": int(len(tokens)),
        "arms": {name: arm_summary(run) for name, run in runs.items()},
    }
    for index, (key, compute) in enumerate(stages):
        if progress is not None:
            progress("analysis", index, len(stages), {"stage": key})
        summary[key] = compute()
    if progress is not None:
        progress("analysis", len(stages), len(stages), {"stage": "done"})
    return summary
