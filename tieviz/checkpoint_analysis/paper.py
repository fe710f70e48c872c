"""The paper's measure on an uploaded pair: is the tied matrix shaped like the untied output matrix?"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tieviz.checkpoint_analysis.loaded import LoadedCheckpoint
from tieviz.checkpoints import CheckpointError


@dataclass(frozen=True)
class PaperComparison:
    """The tied matrix against the untied input and output matrices over the same tokens (claim 1).

    `chance` scores the tied matrix against the untied output matrix with its rows shuffled (tokens
    mismatched): what each measure gives with no real correspondence, since with few tokens per
    dimension the fitted maps score well above 0 on unrelated matrices.
    """

    token_ids: np.ndarray  # [N]
    labels: list[str]  # [N]
    scores: dict[str, float]  # the keys of `bias_scores`: lin_cos_out, lin_cos_in, ... mknn_in
    chance: dict[str, float]  # lin_cos, proc_cos, cka, mknn against the row-shuffled output matrix
    per_token: dict[str, np.ndarray]  # lin_cos_out, lin_cos_in, proc_cos_out, proc_cos_in -> [N]
    notes: tuple[str, ...]


def tied_and_untied(a: LoadedCheckpoint, b: LoadedCheckpoint) -> tuple[LoadedCheckpoint, LoadedCheckpoint]:
    """The pair ordered (tied, untied), refused when it is not one of each over the same vocabulary."""
    if a.summary.tied == b.summary.tied:
        both = "tied" if a.summary.tied else "untied"
        raise CheckpointError(f"Both checkpoints are {both}; the comparison needs one tied and one untied.")
    if a.summary.vocab_size != b.summary.vocab_size:
        raise CheckpointError(
            f"The checkpoints have different vocabularies ({a.summary.vocab_size:,} and "
            f"{b.summary.vocab_size:,} tokens), so their rows are not the same tokens."
        )
    return (a, b) if a.summary.tied else (b, a)


def paper_comparison(
    a: LoadedCheckpoint, b: LoadedCheckpoint, token_ids: np.ndarray, k: int = 10, seed: int = 0
) -> PaperComparison:
    """Claim 1 over `token_ids` with one chance shuffle: `compare` on two loaded checkpoints, in the
    shape the page reads (kept for it until it reads `PairComparison` itself)."""
    from tieviz.checkpoint_analysis.compare import compare

    tied_and_untied(a, b)
    ids = np.asarray(token_ids, dtype=np.int64)
    if ids.size <= k:
        raise ValueError(f"The comparison needs more than {k} tokens, got {ids.size}.")
    result = compare(a, b, token_ids=ids, k=k, shuffles=1, seed=seed)
    return PaperComparison(
        token_ids=result.token_ids_tied,
        labels=list(result.labels),
        scores=result.scores,
        chance=result.chance,
        per_token=result.per_token,
        notes=result.notes,
    )
