"""The paper's Table 1 for any tied/untied pair of checkpoints: `compare(tied, untied)`.

The tied matrix is scored against the untied model's input matrix W_E and output matrix W_U on the four
measures of `tieviz.analysis.alignment`, over the whole vocabulary by default (as the paper does), beside
a chance floor: the same score against W_U with its rows shuffled, so that no token matches its own row.
The verdict is read on the paper's own measure, the linear-map cosine, against that floor.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from tieviz.analysis.alignment import Matrix, matrix_width, pair_scores
from tieviz.analysis.measures import MEASURE_LABELS, MEASURES
from tieviz.analysis.stats import t_quantile
from tieviz.analysis.verdicts import AGREES, DISAGREES, NO_CLEAR, Verdict
from tieviz.checkpoint_analysis.cost import floor_is_high
from tieviz.checkpoint_analysis.loaded import LoadedCheckpoint

if TYPE_CHECKING:
    from tieviz.checkpoint_analysis.pairing import AlignedPair

Progress = Callable[[str, float], None]
Tokens = int | Literal["all"]
DEFAULT_SHUFFLES = 3  # chance-floor shuffles; each costs one more map fit but no neighbour search
DEFAULT_K = 10  # the paper's mutual 10-NN
PER_TOKEN = ("lin_cos_out", "lin_cos_in", "proc_cos_out", "proc_cos_in")


@dataclass(frozen=True)
class MeasureRow:
    """One measure of Table 1: the tied matrix against the untied W_U ("out") and W_E ("in")."""

    measure: str  # one of alignment.MEASURES
    label: str
    out: float
    inp: float
    chance: float  # mean over the shuffles: the tied matrix against W_U with its rows shuffled
    chance_values: tuple[float, ...]  # one per shuffle

    @property
    def bias(self) -> float:
        """out − in: positive when the tied matrix is shaped more like an output matrix."""
        return self.out - self.inp

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "out": self.out,
            "in": self.inp,
            "bias": self.bias,
            "chance": self.chance,
            "chance_values": list(self.chance_values),
        }


@dataclass(frozen=True)
class PairComparison:
    """Table 1 for one tied and one untied checkpoint over the same N tokens (rows in the same order)."""

    rows: dict[str, MeasureRow]  # measure -> row, in alignment.MEASURES order (the paper's first)
    verdict: Verdict  # read on the linear-map cosine against its chance floor
    n_tokens: int  # tokens compared (N)
    n_matched: int  # tokens both vocabularies share (by id, or by token string when the tokenizers differ)
    alignment: Literal["id", "string"]
    vocab_tied: int
    vocab_untied: int
    width_tied: int
    width_untied: int
    shuffles: int
    k: int
    seed: int
    notes: tuple[str, ...]
    token_ids_tied: np.ndarray = field(repr=False)  # [N] row ids in the tied checkpoint
    token_ids_untied: np.ndarray = field(repr=False)  # [N] the same tokens' ids in the untied one
    labels: Sequence[str] = field(repr=False)  # [N]
    per_token: dict[str, np.ndarray] = field(repr=False)  # PER_TOKEN keys -> [N] cosines
    intervals: Intervals | None = None  # behind the verdict: per-token intervals of the linear-map cosine
    tied_name: str = "tied"
    untied_name: str = "untied"
    seconds: float = 0.0

    @property
    def scores(self) -> dict[str, float]:
        """{"lin_cos_out": .., "lin_cos_in": .., ... "mknn_in"}: `alignment.bias_scores`' keys."""
        return {f"{m}_{side}": getattr(self.rows[m], attr) for m in self.rows for side, attr in _SIDES}

    @property
    def chance(self) -> dict[str, float]:
        """Each measure's chance floor (mean over the shuffles)."""
        return {m: row.chance for m, row in self.rows.items()}

    @property
    def bias(self) -> dict[str, float]:
        return {m: row.bias for m, row in self.rows.items()}

    def to_dict(self, per_token: bool = False) -> dict[str, Any]:
        """Plain JSON types; per-token cosines (N numbers each) only when asked for."""
        data: dict[str, Any] = {
            "tied": self.tied_name,
            "untied": self.untied_name,
            "n_tokens": self.n_tokens,
            "n_matched": self.n_matched,
            "alignment": self.alignment,
            "vocab": {"tied": self.vocab_tied, "untied": self.vocab_untied},
            "width": {"tied": self.width_tied, "untied": self.width_untied},
            "k": self.k,
            "shuffles": self.shuffles,
            "seed": self.seed,
            "measures": {m: row.to_dict() for m, row in self.rows.items()},
            "verdict": {
                "measure": "lin_cos",
                "status": self.verdict.status,
                "text": self.verdict.text,
                "bias_interval": list(self.intervals.bias) if self.intervals else None,
                "out_over_chance_interval": list(self.intervals.out_over_chance) if self.intervals else None,
                "in_over_chance_interval": list(self.intervals.in_over_chance) if self.intervals else None,
            },
            "notes": list(self.notes),
            "seconds": round(self.seconds, 3),
        }
        if per_token:
            data["per_token"] = {
                "token_ids_tied": self.token_ids_tied.tolist(),
                "token_ids_untied": self.token_ids_untied.tolist(),
                "labels": [str(label) for label in self.labels],
            } | {key: values.tolist() for key, values in self.per_token.items()}
        return _finite(data)

    def to_json(self, per_token: bool = False, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(per_token), indent=indent)


_SIDES = (("out", "out"), ("in", "inp"))


def _finite(value: Any) -> Any:
    """NaN and infinities as null: JSON has no spelling for them."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def blas_threads():
    """NumPy's BLAS on the cores nobody else keeps busy (`tieviz.system.threads.free_cores`), as a context.

    Beside another busy process a second BLAS thread made a [768, 768] SVD ten times slower here, where on
    a quiet machine it makes the large products nearly twice as fast.
    """
    from threadpoolctl import threadpool_limits

    from tieviz.system.threads import free_cores

    return threadpool_limits(limits=free_cores(), user_api="blas")


def interval(diff: np.ndarray) -> tuple[float, float]:
    """95 % t interval of the mean of per-token differences [N], over tokens."""
    if diff.size < 2:
        return (math.nan, math.nan)
    half = t_quantile(diff.size - 1) * float(diff.std(ddof=1)) / math.sqrt(diff.size)
    mean = float(diff.mean())
    return (mean - half, mean + half)


@dataclass(frozen=True)
class Intervals:
    """95 % intervals over tokens of the linear-map cosine's per-token differences."""

    bias: tuple[float, float]  # to W_U minus to W_E
    out_over_chance: tuple[float, float]  # to W_U minus the shuffled floor (averaged over the shuffles)
    in_over_chance: tuple[float, float]  # to W_E minus the shuffled floor


def pair_verdict(row: MeasureRow, intervals: Intervals) -> Verdict:
    """Claim 1 for one pair, on the linear-map cosine against its chance floor (no fixed margin).

    A score beats chance when the 95 % interval of its per-token excess over the shuffled floor lies
    above 0; when neither score does, the pair says nothing. Otherwise the 95 % interval of the per-token
    bias decides: above 0 agrees, below disagrees, across 0 no clear effect. The intervals are over tokens,
    not over independently trained models: they say a difference is no accident of which tokens were
    compared, not that two other training runs would agree.
    """
    low, high = intervals.bias
    scores = (
        f"linear-map cosine {row.out:.3f} to the untied output matrix against {row.inp:.3f} to the input "
        f"(bias {row.bias:+.3f}, 95 % interval over tokens {low:+.3f} to {high:+.3f}; "
        f"{row.chance:.3f} with the tokens shuffled)"
    )
    if not (intervals.out_over_chance[0] > 0 or intervals.in_over_chance[0] > 0):
        return Verdict(
            NO_CLEAR,
            f"Neither untied matrix matches the tied one better than chance ({scores}), so this pair says "
            "nothing about the bias.",
        )
    if low > 0:
        return Verdict(
            AGREES, f"As in the paper, the tied matrix is shaped more like an output matrix ({scores})."
        )
    if high < 0:
        return Verdict(
            DISAGREES,
            f"Here the tied matrix is shaped more like an input matrix ({scores}): the opposite of the "
            "paper.",
        )
    return Verdict(
        NO_CLEAR, f"The tied matrix is about as close to the untied input as to the output matrix ({scores})."
    )


def _few_tokens_note(n: int, width: int) -> str | None:
    """Why the floor is high when tokens are few per dimension, or None when they are not."""
    if not floor_is_high(n, width):
        return None
    return (
        f"{n:,} tokens for width {width:,}, fewer than 4× the width: the floor is high, "
        "because a least-squares map has as many parameters per output dimension as the width, and with few "
        "tokens per dimension it fits even unrelated matrices well. Read every score against its chance "
        "floor, and compare more tokens where the vocabulary allows."
    )


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
    if (note := _few_tokens_note(n, width)) is not None:
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
