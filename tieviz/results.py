"""From completed runs to analysis inputs and results, shared by the summary, the figure export and the pages.

The analyses in `tieviz.analysis` take plain arrays; this module knows where those arrays live in a run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tieviz.analysis.bigrams import BigramComparison, LayerNormParams, compare_bigrams, most_frequent
from tieviz.data import SPECIAL_TOKENS
from tieviz.runs import Run

LENS_SEQUENCES = 64  # held-out windows the tuned lens is fitted and scored on
LENS_STEPS = 250


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
    """The n most frequent non-special tokens of the training split, most frequent first."""
    return frequent_token_ids(run.counts(), n, special_ids(run))


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


def metrics(runs: dict[str, Run]) -> dict[str, list[dict]]:
    return {name: run.metrics() for name, run in runs.items()}


def held_out_windows(run: Run, n: int = LENS_SEQUENCES):
    """[n, T] token windows from the validation split: text the model never trained on."""
    import torch

    from tieviz.data import fixed_windows

    tokens = run.tokens().astype(np.int64)
    seq_len = run.info["config"]["model"]["seq_len"]
    val = tokens[run.info["n_train_tokens"] :]
    return fixed_windows(val, seq_len - 1, n).to(torch.long)


@dataclass(frozen=True)
class LensResult:
    tuned: object  # tieviz.analysis.lens.LensStatistics
    logit: object
    contributions: np.ndarray  # [L] relative size of each block's update to the residual stream


def lens_result(
    run: Run, steps: int = LENS_STEPS, progress: Callable[[int, int], None] | None = None
) -> LensResult:
    """Tuned and logit lens statistics of one run; the trained translators are cached in the run."""
    return model_lens_result(
        run.load_model(), held_out_windows(run), run.analysis_dir("lens"), run.key, steps, progress
    )


def model_lens_result(
    model,
    ids,
    cache_dir: Path,
    model_key: str,
    steps: int = LENS_STEPS,
    progress: Callable[[int, int], None] | None = None,
) -> LensResult:
    """Tuned lens (translators cached in `cache_dir`), logit lens and block contributions over ids [n, T]."""
    from tieviz.analysis.lens import LogitLens, cached_tuned_lens, lenses_statistics, residual_contributions

    lens = cached_tuned_lens(model, ids, cache_dir, steps=steps, model_key=model_key, progress=progress)
    stats = lenses_statistics(model, {"tuned": lens, "logit": LogitLens(model)}, ids)  # one pass for both
    return LensResult(stats["tuned"], stats["logit"], contributions=residual_contributions(model, ids))


def lens_summary(results: dict[str, LensResult]) -> dict:
    return {
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


def lens_from_summary(stored: dict) -> dict[str, LensResult]:
    """The inverse of `lens_summary`: each model's lens results as read back from summary.json."""
    from tieviz.analysis.lens import LensStatistics

    def statistics(values: dict, kind: str) -> LensStatistics:
        return LensStatistics(
            kl=np.asarray(values[f"{kind}_kl"]),
            cross_entropy=np.asarray(values[f"{kind}_ce"]),
            layer_names=list(values["layers"]),
        )

    return {
        name: LensResult(
            tuned=statistics(values, "tuned"),
            logit=statistics(values, "logit"),
            contributions=np.asarray(values["contributions"]),
        )
        for name, values in stored.items()
    }
