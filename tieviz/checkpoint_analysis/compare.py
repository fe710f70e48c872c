"""The paper's Table 1 for any tied/untied pair of checkpoints: `compare(tied, untied)`.

The tied matrix is scored against the untied model's input matrix W_E and output matrix W_U on the four
measures of `tieviz.analysis.alignment`, over the whole vocabulary by default (as the paper does), beside
a chance floor: the same score against W_U with its rows shuffled, so that no token matches its own row.
The verdict is read on the paper's own measure, the linear-map cosine, against that floor.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from tieviz.analysis.alignment import Matrix, matrix_width, pair_scores
from tieviz.analysis.measures import MEASURE_LABELS, MEASURES
from tieviz.checkpoint_analysis.loaded import LoadedCheckpoint
from tieviz.checkpoint_analysis.pair_record import (
    Intervals,
    MeasureRow,
    PairComparison,
    few_tokens_note,
    interval,
    pair_verdict,
)

if TYPE_CHECKING:
    from tieviz.checkpoint_analysis.pairing import AlignedPair

Progress = Callable[[str, float], None]
Tokens = int | Literal["all"]
DEFAULT_SHUFFLES = 3  # chance-floor shuffles; each costs one more map fit but no neighbour search
DEFAULT_K = 10  # the paper's mutual 10-NN


def blas_threads():
    """NumPy's BLAS on the cores nobody else keeps busy (`tieviz.system.threads.free_cores`), as a context.

    Beside another busy process a second BLAS thread made a [768, 768] SVD ten times slower here, where on
    a quiet machine it makes the large products nearly twice as fast.
    """
    from threadpoolctl import threadpool_limits

    from tieviz.system.threads import free_cores

    return threadpool_limits(limits=free_cores(), user_api="blas")


def compare_matrices(
    tied: np.ndarray,
    untied_in: Matrix,
    untied_out: Matrix,
    *,
    k: int = DEFAULT_K,
    shuffles: int = DEFAULT_SHUFFLES,
    seed: int = 0,
    labels: Sequence[str] | None = None,
    progress: Progress | None = None,
    token_ids: np.ndarray | None = None,
    untied_token_ids: np.ndarray | None = None,
    notes: Sequence[str] = (),
    n_matched: int | None = None,
    alignment: Literal["id", "string"] = "id",
    vocab: tuple[int, int] | None = None,
    names: tuple[str, str] = ("tied", "untied"),
) -> PairComparison:
    """Table 1 of tied [N, d] against untied_in [N, d'] and untied_out [N, d'], rows the same N tokens.

    The untied matrices may come prepared (`alignment.prepare` with this k), as a series does.
    """
    start = time.perf_counter()
    if shuffles < 1:
        raise ValueError(f"the chance floor needs at least 1 shuffle, got {shuffles}")
    with blas_threads():
        scores = pair_scores(
            tied, untied_in, untied_out, k=k, shuffles=shuffles, seed=seed, progress=progress
        )
    n = scores.out.lin_cos_per_token.shape[0]
    rows = {
        m: MeasureRow(
            measure=m,
            label=MEASURE_LABELS[m],
            out=getattr(scores.out, m),
            inp=getattr(scores.inp, m),
            chance=float(np.mean([getattr(c, m) for c in scores.chance])),
            chance_values=tuple(float(getattr(c, m)) for c in scores.chance),
        )
        for m in MEASURES
    }
    per_token = {
        f"{m}_{side}": getattr(sim, f"{m}_per_token")
        for m in ("lin_cos", "proc_cos")
        for side, sim in (("out", scores.out), ("in", scores.inp))
    }
    floor = np.mean([c.lin_cos_per_token for c in scores.chance], axis=0)  # [N] per token, over shuffles
    intervals = Intervals(
        bias=interval(per_token["lin_cos_out"] - per_token["lin_cos_in"]),
        out_over_chance=interval(per_token["lin_cos_out"] - floor),
        in_over_chance=interval(per_token["lin_cos_in"] - floor),
    )
    width = max(matrix_width(tied), matrix_width(untied_in))
    all_notes = list(notes)
    if (note := few_tokens_note(n, width)) is not None:
        all_notes.append(note)
    ids = np.arange(n) if token_ids is None else np.asarray(token_ids, dtype=np.int64)
    untied_ids = ids if untied_token_ids is None else np.asarray(untied_token_ids, dtype=np.int64)
    vocab_tied, vocab_untied = vocab if vocab is not None else (n, n)
    return PairComparison(
        rows=rows,
        verdict=pair_verdict(rows["lin_cos"], intervals),
        n_tokens=n,
        n_matched=n if n_matched is None else n_matched,
        alignment=alignment,
        vocab_tied=vocab_tied,
        vocab_untied=vocab_untied,
        width_tied=matrix_width(tied),
        width_untied=matrix_width(untied_in),
        shuffles=shuffles,
        k=k,
        seed=seed,
        notes=tuple(all_notes),
        token_ids_tied=ids,
        token_ids_untied=untied_ids,
        labels=list(labels) if labels is not None else [f"tok{i}" for i in ids],
        per_token=per_token,
        intervals=intervals,
        tied_name=names[0],
        untied_name=names[1],
        seconds=time.perf_counter() - start,
    )


CheckpointLike = str | Path | LoadedCheckpoint


def compare(
    tied: CheckpointLike,
    untied: CheckpointLike,
    *,
    tokens: Tokens = "all",
    k: int = DEFAULT_K,
    shuffles: int = DEFAULT_SHUFFLES,
    seed: int = 0,
    progress: Progress | None = None,
    token_ids: Sequence[int] | None = None,
) -> PairComparison:
    """Table 1 of a tied and an untied checkpoint: folders, zips, hub-cache snapshots or loaded ones.

    `tokens` is "all" (the whole shared vocabulary, as the paper) or a count N: the N lowest shared ids
    (byte-pair tokenizers number their tokens roughly by frequency). `token_ids` (ids in the tied
    checkpoint) overrides it, e.g. a text's most frequent tokens. Which argument is tied is decided from
    the checkpoints as transformers decides it; passing them the other way round is allowed.
    """
    from tieviz.checkpoint_analysis.pairing import aligned_pair, open_checkpoint

    start = time.perf_counter()
    _check_tokens(tokens, k)
    if isinstance(shuffles, bool) or not isinstance(shuffles, int) or shuffles < 1:
        raise ValueError(f"the chance floor needs at least 1 shuffle, got {shuffles!r}")
    with ExitStack() as stack:
        if progress:
            progress("reading the checkpoints", 0.0)
        a, b = open_checkpoint(tied, stack), open_checkpoint(untied, stack)
        shown = {id(a): _name(tied, a), id(b): _name(untied, b)}
        pair = aligned_pair(a, b, tokens=tokens, token_ids=token_ids, k=k)
        names = (shown[id(a)], shown[id(b)]) if a.summary.tied else (shown[id(b)], shown[id(a)])
        result = compare_aligned(
            pair,
            pair.untied_in,
            pair.untied_out,
            k=k,
            shuffles=shuffles,
            seed=seed,
            progress=progress,
            names=names,
        )
    return _with_seconds(result, time.perf_counter() - start)


def compare_aligned(
    pair: AlignedPair,
    untied_in: Matrix,
    untied_out: Matrix,
    *,
    k: int,
    shuffles: int,
    seed: int,
    progress: Callable[[str, float], None] | None,
    names: tuple[str, str],
) -> PairComparison:
    """`compare_matrices` on an aligned pair's rows, ids and notes; the untied matrices may come prepared
    (a series prepares its untied reference once for every step)."""
    return compare_matrices(
        pair.tied,
        untied_in,
        untied_out,
        k=k,
        shuffles=shuffles,
        seed=seed,
        labels=pair.labels,
        progress=progress,
        token_ids=pair.tied_ids,
        untied_token_ids=pair.untied_ids,
        notes=pair.notes,
        n_matched=pair.n_matched,
        alignment=pair.alignment,
        vocab=pair.vocab,
        names=names,
    )


def _with_seconds(result: PairComparison, seconds: float) -> PairComparison:
    from dataclasses import replace

    return replace(result, seconds=seconds)


def _name(source: CheckpointLike, loaded: LoadedCheckpoint) -> str:
    """What the user called the checkpoint: the path given, not a staging folder's name."""
    return loaded.path.name if isinstance(source, LoadedCheckpoint) else Path(source).name


def _check_tokens(tokens: Tokens, k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k (neighbours) must be a whole number of at least 1, not {k!r}")
    if tokens == "all":
        return
    if isinstance(tokens, bool) or not isinstance(tokens, int):
        raise ValueError(f"tokens must be a number or 'all', not {tokens!r}")
    if tokens <= k:
        raise ValueError(f"tokens must be more than k = {k} (mutual {k}-NN needs {k + 1}), got {tokens}")
