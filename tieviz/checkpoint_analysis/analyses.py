"""The trained runs' analyses on one uploaded checkpoint: bigrams, row norms, map rows and the lens.

Each builds the plain arrays the shared implementation takes (`tieviz.analysis`,
`tieviz.experiments.run_analysis`); nothing here re-implements a measure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tieviz.analysis.bigrams import BigramComparison, compare_bigrams
from tieviz.checkpoint_analysis.loaded import LoadedCheckpoint
from tieviz.checkpoint_analysis.token_text import TokenText
from tieviz.env import env_int
from tieviz.experiments.run_analysis import (
    LENS_SEQUENCES,
    LENS_STEPS,
    EmbeddingSet,
    LensResult,
    model_lens_result,
)

LENS_MAX_PARAMS_ENV = "TIEVIZ_LENS_MAX_PARAMS"
DEFAULT_LENS_MAX_PARAMS = 200_000_000
LENS_CONTEXT = 64  # tokens per lens window (fewer when the model's context is shorter)


def checkpoint_bigrams(ckpt: LoadedCheckpoint, text: TokenText, k: int = 40) -> BigramComparison:
    """The text's empirical bigrams against the direct path (raw and, when read, through the final norm)."""
    if text.ids is None:
        raise ValueError("Bigrams need a text read with the checkpoint's tokenizer, and it has none.")
    norms = {ckpt.arm: ckpt.final_norm} if ckpt.final_norm is not None else None
    return compare_bigrams(
        text.ids,
        ckpt.summary.vocab_size,
        ckpt.labels,
        {ckpt.arm: (ckpt.W_E, ckpt.W_U)},
        k=k,
        exclude=text.special_ids,
        final_norms=norms,
    )


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation of two [N] arrays (ties get their average rank); NaN when undefined."""
    from scipy.stats import rankdata

    rx, ry = rankdata(x), rankdata(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    den = np.sqrt((rx**2).sum() * (ry**2).sum())
    return float((rx * ry).sum() / den) if den > 0 else float("nan")


@dataclass(frozen=True)
class NormStats:
    """Row norms of W_E (and W_U when untied) over the chosen tokens, and how they follow frequency."""

    token_ids: np.ndarray  # [N]
    labels: list[str]  # [N]
    counts: np.ndarray | None  # [N] occurrences in the text; None without a tokenizer
    norms: dict[str, np.ndarray]  # "W_E" (and "W_U") -> [N]
    spearman: dict[str, float]  # matrix -> rank correlation of norm with count; empty without counts


def _matrices(ckpt: LoadedCheckpoint) -> dict[str, np.ndarray]:
    """W_E, and W_U when it is a matrix of its own: [V, d] each."""
    return {"W_E": ckpt.W_E} if ckpt.summary.tied else {"W_E": ckpt.W_E, "W_U": ckpt.W_U}


def norm_stats(ckpt: LoadedCheckpoint, text: TokenText, token_ids: np.ndarray) -> NormStats:
    """Row norms of the chosen tokens [N] and their rank correlation with the text's counts."""
    ids = np.asarray(token_ids, dtype=np.int64)
    norms = {
        name: np.linalg.norm(np.asarray(m[ids], dtype=np.float64), axis=1)
        for name, m in _matrices(ckpt).items()
    }
    counts = None if text.counts is None else text.counts[ids]
    rho = {} if counts is None else {name: spearman(values, counts) for name, values in norms.items()}
    return NormStats(ids, [ckpt.labels[i] for i in ids], counts, norms, rho)


def checkpoint_embeddings(ckpt: LoadedCheckpoint, text: TokenText, token_ids: np.ndarray) -> EmbeddingSet:
    """W_E (and W_U when untied) restricted to the chosen tokens, for the maps."""
    return EmbeddingSet.of_rows(token_ids, ckpt.labels, text.counts, _matrices(ckpt))


def lens_max_params() -> int:
    """$TIEVIZ_LENS_MAX_PARAMS (default 200M): the largest model the tuned lens will load."""
    return env_int(LENS_MAX_PARAMS_ENV, DEFAULT_LENS_MAX_PARAMS)


def checkpoint_lens(
    ckpt_dir: Path,
    text: TokenText,
    cache_dir: Path,
    steps: int = LENS_STEPS,
    max_params: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> LensResult:
    """Tuned and logit lens of the full model over windows of the text; translators cached in `cache_dir`.

    The cache is keyed by the weight files' fingerprint, so two checkpoints never share translators.
    """
    import torch

    from tieviz.checkpoints import load_full_model
    from tieviz.checkpoints.weights import WeightSet
    from tieviz.training.corpus import fixed_windows

    if text.ids is None:
        raise ValueError("The tuned lens needs a text read with the checkpoint's tokenizer, and it has none.")
    model = load_full_model(Path(ckpt_dir), lens_max_params() if max_params is None else max_params).float()
    context = getattr(model.config, "max_position_embeddings", None) or getattr(
        model.config, "n_positions", 0
    )
    length = min(LENS_CONTEXT, context if isinstance(context, int) and context > 1 else LENS_CONTEXT)
    ids = fixed_windows(text.ids, length - 1, LENS_SEQUENCES).to(torch.long)
    key = f"weights-{WeightSet.open(Path(ckpt_dir)).fingerprint()}"
    return model_lens_result(model, ids, Path(cache_dir), key, steps, progress)
