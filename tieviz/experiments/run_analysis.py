"""From completed runs to analysis inputs and results, shared by the summary, the figure export and the pages.

The analyses in `tieviz.analysis` take plain arrays; this module knows where those arrays live in a run.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from tieviz.analysis.bigrams import BigramComparison, LayerNormParams, compare_bigrams, most_frequent
from tieviz.config import LensConfig
from tieviz.experiments.summary_record import LensCurves, LensRecord
from tieviz.training.corpus import SPECIAL_TOKENS
from tieviz.training.run_store import Run

LENS_SEQUENCES = 64  # windows the tuned lens is scored on (validation split); fitted on LensConfig's
# The translators are fitted to convergence (`LensConfig`); an upload's lens may cap the steps lower.
DEFAULT_LENS = LensConfig()
LENS_STEPS = 150  # the step cap of an uploaded checkpoint's lens, kept short for large models


def special_ids(run: Run) -> list[int]:
    labels = run.labels()
    return [i for i, label in enumerate(labels) if label in SPECIAL_TOKENS]


def frequent_token_ids(
    counts: np.ndarray | None,
    n: int,
    exclude: Sequence[int] = (),
    vocab_size: int | None = None,
    source: str = "the text",
) -> np.ndarray:
    """The n most frequent tokens outside `exclude` [<= n], most frequent first, from counts [V].

    Without counts (an upload with no tokenizer) the first n ids of the vocabulary stand in. The one
    implementation behind the trained runs' and the uploaded checkpoints' top tokens.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if counts is None:
        if vocab_size is None:
            raise ValueError("without counts the vocabulary size is needed")
        return np.setdiff1d(np.arange(vocab_size), np.asarray(exclude, dtype=np.int64))[:n]
    top = most_frequent(counts, n, exclude)
    if top.size == 0:
        raise ValueError(f"No ordinary token of this vocabulary occurs in {source}.")
    return top


def top_token_ids(run: Run, n: int) -> np.ndarray:
    """The n most frequent non-special tokens of the training split, most frequent first (n = 0: all)."""
    counts = run.counts()
    return frequent_token_ids(counts, n if n > 0 else len(counts), special_ids(run))


def final_norm(run: Run) -> LayerNormParams:
    """The GPT-2 final layer norm (ln_f) of a run's saved model."""
    from safetensors import safe_open

    eps = json.loads((run.path / "config.json").read_text()).get("layer_norm_epsilon", 1e-5)
    with safe_open(str(run.path / "model.safetensors"), framework="numpy") as f:
        keys = set(f.keys())
        prefix = "transformer." if "transformer.ln_f.weight" in keys else ""
        return LayerNormParams(
            f.get_tensor(f"{prefix}ln_f.weight"), f.get_tensor(f"{prefix}ln_f.bias"), eps=eps
        )


def bigram_comparison(runs: dict[str, Run], k: int = 40) -> BigramComparison:
    """Empirical bigrams of the corpus against the tied (W_E W_E^T) and untied (W_E W_U) direct paths."""
    reference = runs["untied"]
    names = [name for name in ("tied", "untied") if name in runs]
    return compare_bigrams(
        reference.tokens(),
        reference.info["vocab_size"],
        reference.labels(),
        {name: runs[name].embeddings() for name in names},
        k=k,
        exclude=special_ids(reference),
        final_norms={name: final_norm(runs[name]) for name in names},
        truth_log_probs=reference.truth_log_probs(),
    )


def bigram_summary(comparison: BigramComparison) -> dict:
    return {
        "tokens": comparison.labels,
        "asymmetry": dict(comparison.asymmetry),
        "corr_with_bigrams": dict(comparison.correlation),
        "corr_with_truth": dict(comparison.truth_correlation),
    }


@dataclass(frozen=True)
class EmbeddingSet:
    """The matrices compared on the maps page, over the same top tokens, most frequent first."""

    token_ids: np.ndarray  # [N]
    labels: list[str]
    counts: np.ndarray  # [N] training-split frequencies
    matrices: dict[str, np.ndarray]  # name -> [N, d]: tied, untied_in, untied_out, scaled

    @classmethod
    def of_rows(
        cls,
        ids: np.ndarray,
        labels: Sequence[str],
        counts: np.ndarray | None,
        matrices: dict[str, np.ndarray],
    ) -> EmbeddingSet:
        """Rows `ids` [N] of full matrices [V, d], with their labels and counts [V] (zeros when unknown)."""
        ids = np.asarray(ids, dtype=np.int64)
        return cls(
            ids,
            [labels[i] for i in ids],
            np.zeros(ids.size, dtype=np.int64) if counts is None else counts[ids],
            {name: matrix[ids] for name, matrix in matrices.items()},
        )


def embedding_set(runs: dict[str, Run], n: int, step: int | None = None) -> EmbeddingSet:
    reference = runs["untied"]
    ids = top_token_ids(reference, n)
    untied_in, untied_out = reference.embeddings(step)
    matrices = {"tied": runs["tied"].embeddings(step)[0], "untied_in": untied_in, "untied_out": untied_out}
    if "scaled" in runs:
        matrices["scaled"] = runs["scaled"].embeddings(step)[0]
    return EmbeddingSet.of_rows(ids, reference.labels(), reference.counts(), matrices)


def untied_drift(run: Run) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{"input", "output"}: (steps, mean cosine with step 0) of an untied run's W_E and W_U."""
    from tieviz.analysis.drift import drift_from_start

    saved = {step: run.embeddings(step) for step, _ in run.checkpoints()}
    return {
        "input": drift_from_start({s: m[0] for s, m in saved.items()}),
        "output": drift_from_start({s: m[1] for s, m in saved.items()}),
    }


def metrics(runs: dict[str, Run]) -> dict[str, list[dict]]:
    return {name: run.metrics() for name, run in runs.items()}


def lens_windows(run: Run, n: int = LENS_SEQUENCES, n_fit: int | None = None):
    """([n_fit, T] fit windows from the training split, [n, T] score windows from the validation split).

    The translators are fitted on text the model trained on and scored on text neither the model nor
    the translators ever saw: scored in-sample, the fit's optimism was as large as the tied/untied gap.
    """
    import torch

    from tieviz.training.corpus import fixed_windows

    tokens = run.tokens().astype(np.int64)
    seq_len = run.info["config"]["model"]["seq_len"]
    split = run.info["n_train_tokens"]
    fit = fixed_windows(tokens[:split], seq_len - 1, n if n_fit is None else n_fit).to(torch.long)
    score = fixed_windows(tokens[split:], seq_len - 1, n).to(torch.long)
    return fit, score


@dataclass(frozen=True)
class LensResult:
    tuned: object  # tieviz.analysis.lens.LensStatistics
    logit: object
    contributions: np.ndarray  # [L] relative size of each block's update to the residual stream
    fit_windows: int = 0  # sequences the translators were fitted on (a quarter of them stop the fit)
    score_windows: int = 0  # sequences the statistics were computed on
    held_out: bool = False  # True when no scored sequence was used for fitting
    fit_steps: int = 0  # Adam steps of the kept translators
    converged: bool | None = None  # True: the held-out fit loss stopped falling before the step cap


def lens_result(
    run: Run,
    settings: LensConfig = DEFAULT_LENS,
    progress: Callable[[int, int], None] | None = None,
    steps: int | None = None,
) -> LensResult:
    """Tuned and logit lens statistics of one run, held out; the trained translators are cached in the run.

    Without a progress callback the statistics are also kept in memory per (run, settings): a committed
    run never changes, and every point of an α sweep scores the same tied and untied runs again.
    `steps` lowers the settings' step cap (quick previews and tests; the result says if it converged).
    """
    if steps is not None:
        settings = replace(settings, max_steps=min(steps, settings.max_steps))
    if progress is None:
        return _remembered_lens_result(str(run.path.resolve()), run.key, settings)
    return _lens_result(run, settings, progress)


@functools.lru_cache(maxsize=64)
def _remembered_lens_result(path: str, key: str, settings: LensConfig) -> LensResult:
    return _lens_result(Run(Path(path)), settings, None)


def _lens_result(run: Run, settings: LensConfig, progress: Callable[[int, int], None] | None) -> LensResult:
    fit, score = lens_windows(run, n_fit=settings.fit_windows)
    return model_lens_result(
        run.load_model(), fit, run.analysis_dir("lens"), run.key, settings, progress, score_ids=score
    )


def model_lens_result(
    model,
    ids,
    cache_dir: Path,
    model_key: str,
    settings: LensConfig | int = DEFAULT_LENS,
    progress: Callable[[int, int], None] | None = None,
    score_ids=None,
) -> LensResult:
    """Tuned lens fitted on ids [n, T] (translators cached in `cache_dir`), then the tuned and logit lens
    and block contributions scored on score_ids [m, T] (default: ids themselves, which is in-sample).

    The last quarter of ids decides when the fit has converged (`LensConfig`); the rest is fitted on.
    An int for `settings` caps the steps of the default settings.
    """
    from tieviz.analysis.lens import LogitLens, lenses_statistics, residual_contributions
    from tieviz.analysis.lens_cache import cached_tuned_lens

    if isinstance(settings, int):
        settings = replace(DEFAULT_LENS, max_steps=settings)
    scored = ids if score_ids is None else score_ids
    n_fit = ids.shape[0] - ids.shape[0] // 4
    fit_ids, stop_ids = (ids[:n_fit], ids[n_fit:]) if n_fit < ids.shape[0] else (ids, None)
    lens = cached_tuned_lens(
        model,
        fit_ids,
        cache_dir,
        steps=settings.max_steps,
        lr=settings.lr,
        seed=settings.seed,
        batch_size=settings.batch_size,
        model_key=model_key,
        progress=progress,
        stop_ids=stop_ids,
        check_every=settings.check_every,
        patience=settings.patience,
        min_delta=settings.min_delta,
    )
    stats = lenses_statistics(model, {"tuned": lens, "logit": LogitLens(model)}, scored)  # one pass for both
    return LensResult(
        stats["tuned"],
        stats["logit"],
        contributions=residual_contributions(model, scored),
        fit_windows=int(ids.shape[0]),
        score_windows=int(scored.shape[0]),
        held_out=score_ids is not None,
        fit_steps=int(lens.fit_steps),
        converged=lens.converged,
    )


LENS_MODELS = ("tied", "untied")


def lens_summary(results: dict[str, LensResult]) -> dict:
    """Per-layer lens statistics of each model, plus how they were fitted and scored."""
    first = next(iter(results.values()))
    per_model = {
        name: {
            "tuned_kl": result.tuned.kl.tolist(),
            "logit_kl": result.logit.kl.tolist(),
            "tuned_ce": result.tuned.cross_entropy.tolist(),
            "logit_ce": result.logit.cross_entropy.tolist(),
            "contributions": result.contributions.tolist(),
            "layers": list(result.tuned.layer_names),
        }
        for name, result in results.items()
    }
    return {
        **per_model,
        "held_out": all(r.held_out for r in results.values()),
        "fit_windows": first.fit_windows,
        "score_windows": first.score_windows,
        "fit_steps": {name: result.fit_steps for name, result in results.items()},
        "converged": all(bool(r.converged) for r in results.values()),
    }


def lens_bands(stored: LensRecord, metric: str = "kl") -> dict[str, tuple[np.ndarray, np.ndarray]] | None:
    """Each model's tuned-lens per-layer 95 % interval over seeds (low, high) from the summary's lens
    record, in nats; None when the summary has none (one seed, or an older summary)."""
    key = {"kl": "tuned_kl", "cross_entropy": "tuned_ce"}[metric]
    bands = {}
    for name in LENS_MODELS:
        curves = stored.models.get(name)
        low = None if curves is None else getattr(curves, f"{key}_low")
        high = None if curves is None else getattr(curves, f"{key}_high")
        if low is None or high is None or any(v is None for v in (*low, *high)):
            return None
        bands[name] = (np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64))
    return bands


def lens_from_summary(stored: LensRecord) -> dict[str, LensResult]:
    """The inverse of `lens_summary`: each model's lens results as read back from summary.json."""
    from tieviz.analysis.lens import LensStatistics

    def statistics(curves: LensCurves, kind: str) -> LensStatistics:
        return LensStatistics(
            kl=np.asarray(getattr(curves, f"{kind}_kl")),
            cross_entropy=np.asarray(getattr(curves, f"{kind}_ce")),
            layer_names=list(curves.layers),
        )

    return {
        name: LensResult(
            tuned=statistics(curves, "tuned"),
            logit=statistics(curves, "logit"),
            contributions=np.asarray(curves.contributions),
            fit_windows=stored.fit_windows,
            score_windows=stored.score_windows,
            held_out=stored.held_out,
        )
        for name, curves in stored.models.items()
        if name in LENS_MODELS
    }
