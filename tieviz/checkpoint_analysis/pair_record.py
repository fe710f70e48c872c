"""One pair's comparison as a record: Table 1's rows, the verdict read from them, and their JSON.

`tieviz.checkpoint_analysis.compare` computes it; the CLI, the Python call, the page and a series read it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from tieviz.analysis.stats import t_quantile
from tieviz.analysis.verdicts import AGREES, DISAGREES, NO_CLEAR, Verdict
from tieviz.checkpoint_analysis.cost import floor_is_high

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
        return json_safe(data)

    def to_json(self, per_token: bool = False, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(per_token), indent=indent)


_SIDES = (("out", "out"), ("in", "inp"))


def json_safe(value: Any) -> Any:
    """NaN and infinities as null: JSON has no spelling for them."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value


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


def few_tokens_note(n: int, width: int) -> str | None:
    """Why the floor is high when tokens are few per dimension, or None when they are not."""
    if not floor_is_high(n, width):
        return None
    return (
        f"{n:,} tokens for width {width:,}, fewer than 4× the width: the floor is high, "
        "because a least-squares map has as many parameters per output dimension as the width, and with few "
        "tokens per dimension it fits even unrelated matrices well. Read every score against its chance "
        "floor, and compare more tokens where the vocabulary allows."
    )
