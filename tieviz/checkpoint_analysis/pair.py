"""One tied/untied pair as the page shows it: the four measures, the chance floor, the verdict, saved to disk.

A comparison runs in a job (`tieviz.checkpoint_analysis.work`), so its result crosses a process boundary
as JSON and .npz. The verdict is read from the paper's measure, the linear-map cosine, against its chance
floor (tokens shuffled); CKA and mutual k-NN are shown beside it, never decide it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tieviz.analysis.verdicts import AGREES, DISAGREES, NO_CLEAR, PAPER_MEASURE, Verdict
from tieviz.checkpoint_analysis.cost import floor_is_high
from tieviz.checkpoint_analysis.loaded import LoadedCheckpoint

PAIR_FILE = "pair.json"
PAIR_ARRAYS = "pair.npz"
Z95 = 1.96


@dataclass(frozen=True)
class PairResult:
    """The tied matrix against the untied input and output matrices over `tokens` tokens."""

    tokens: int
    vocab_size: int
    width: int  # the wider of the two matrices: what the fitted maps' parameter count grows with
    scores: dict[str, float]  # lin_cos_out, lin_cos_in, ... mknn_in
    chance: dict[str, float]  # each measure against the row-shuffled untied output matrix
    shuffles: int  # permutations averaged into `chance`
    notes: tuple[str, ...]
    verdict: Verdict
    token_ids: np.ndarray  # [N]
    labels: list[str]  # [N]
    per_token: dict[str, np.ndarray]  # lin_cos_out, lin_cos_in, proc_cos_out, proc_cos_in -> [N]

    @property
    def all_tokens(self) -> bool:
        return self.tokens >= self.vocab_size

    @property
    def floor_is_high(self) -> bool:
        return floor_is_high(self.tokens, self.width)

    def bias(self, measure: str) -> float:
        return self.scores[f"{measure}_out"] - self.scores[f"{measure}_in"]

    def save(self, out: Path) -> None:
        meta = {
            "tokens": self.tokens,
            "vocab_size": self.vocab_size,
            "width": self.width,
            "scores": self.scores,
            "chance": self.chance,
            "shuffles": self.shuffles,
            "notes": list(self.notes),
            "verdict": {"status": self.verdict.status, "text": self.verdict.text},
            "labels": list(self.labels),
        }
        np.savez(Path(out) / PAIR_ARRAYS, token_ids=self.token_ids, **self.per_token)
        (Path(out) / PAIR_FILE).write_text(json.dumps(meta), encoding="utf-8")


def read_pair(out: Path) -> PairResult:
    """The PairResult a comparison job saved in `out`."""
    meta = json.loads((Path(out) / PAIR_FILE).read_text(encoding="utf-8"))
    with np.load(Path(out) / PAIR_ARRAYS) as arrays:
        token_ids = arrays["token_ids"]
        per_token = {k: arrays[k] for k in arrays.files if k != "token_ids"}
    return PairResult(
        tokens=int(meta["tokens"]),
        vocab_size=int(meta["vocab_size"]),
        width=int(meta["width"]),
        scores={k: float(v) for k, v in meta["scores"].items()},
        chance={k: float(v) for k, v in meta["chance"].items()},
        shuffles=int(meta["shuffles"]),
        notes=tuple(meta["notes"]),
        verdict=Verdict(meta["verdict"]["status"], meta["verdict"]["text"]),
        token_ids=token_ids,
        labels=list(meta["labels"]),
        per_token=per_token,
    )


def pair_verdict(per_token_out: np.ndarray, per_token_in: np.ndarray, chance: float) -> Verdict:
    """Claim 1 for one pair on the linear-map cosine: output-shaped, input-shaped, or no clear effect.

    No direction is claimed when neither mean clears the chance floor. Otherwise the per-token differences
    (output minus input) decide through their 95 % interval: wholly above 0 agrees with the paper, wholly
    below disagrees, straddling 0 is no clear effect. No fixed margin.
    """
    out, in_ = float(np.mean(per_token_out)), float(np.mean(per_token_in))
    diff = np.asarray(per_token_out, dtype=np.float64) - np.asarray(per_token_in, dtype=np.float64)
    half = Z95 * float(np.std(diff, ddof=1)) / math.sqrt(diff.size) if diff.size > 1 else math.inf
    bias = out - in_
    scores = (
        f"linear-map cosine {out:.3f} to the untied output matrix against {in_:.3f} to the input, "
        f"output − input {bias:+.3f} ± {half:.3f}"
    )
    if max(out, in_) <= chance:
        return Verdict(
            NO_CLEAR,
            f"Neither untied matrix matches the tied one better than chance ({scores}; {chance:.3f} with the "
            "tokens shuffled), so this pair says nothing about the bias.",
        )
    if bias - half > 0:
        return Verdict(
            AGREES, f"Here, as in the paper, the tied matrix looks more like an output matrix ({scores})."
        )
    if bias + half < 0:
        return Verdict(
            DISAGREES,
            f"Here the tied matrix looks more like the input matrix ({scores}): the opposite of the paper.",
        )
    return Verdict(
        NO_CLEAR,
        f"Here the tied matrix is about as close to the untied input matrix as to the output one ({scores}).",
    )


def compare_pair(
    a: LoadedCheckpoint,
    b: LoadedCheckpoint,
    token_ids: np.ndarray,
    k: int = 10,
    seed: int = 0,
    progress: Callable[[str, float], None] | None = None,
) -> PairResult:
    """The paper's four measures, the chance floor and the verdict over `token_ids` of a tied/untied pair."""
    from tieviz.checkpoint_analysis.paper import paper_comparison, tied_and_untied

    tied, untied = tied_and_untied(a, b)
    if progress:
        progress("comparing the tied matrix with the untied output and input matrices", 0.0)
    paper = paper_comparison(tied, untied, token_ids, k=k, seed=seed)
    if progress:
        progress("done", 1.0)
    measure = PAPER_MEASURE
    return PairResult(
        tokens=int(paper.token_ids.size),
        vocab_size=tied.summary.vocab_size,
        width=max(tied.W_E.shape[1], untied.W_E.shape[1]),
        scores=paper.scores,
        chance=paper.chance,
        shuffles=1,
        notes=paper.notes,
        verdict=pair_verdict(
            paper.per_token[f"{measure}_out"], paper.per_token[f"{measure}_in"], paper.chance[measure]
        ),
        token_ids=paper.token_ids,
        labels=paper.labels,
        per_token=paper.per_token,
    )
