"""One tied/untied pair as the page shows it: the four measures, the chance floor, the verdict, saved to disk.

A comparison (`tieviz.compare`) runs in a job (`tieviz.checkpoint_analysis.work`), so its result crosses
a process boundary as JSON and .npz. The verdict is compare's: read from the paper's measure, the
linear-map cosine, against its chance floor (tokens shuffled); CKA and mutual k-NN never decide it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tieviz.analysis.verdicts import Verdict
from tieviz.checkpoint_analysis.cost import floor_is_high
from tieviz.checkpoint_analysis.loaded import LoadedCheckpoint

PAIR_FILE = "pair.json"
PAIR_ARRAYS = "pair.npz"


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


def compare_pair(
    a: LoadedCheckpoint,
    b: LoadedCheckpoint,
    token_ids: np.ndarray | None = None,
    k: int = 10,
    seed: int = 0,
    progress: Callable[[str, float], None] | None = None,
) -> PairResult:
    """`tieviz.compare` of a tied/untied pair over `token_ids` (None: all tokens), kept for the page.

    The few-tokens note of `compare` is left out of `notes`: the page says it itself, with the floor.
    """
    from tieviz.checkpoint_analysis.compare import compare
    from tieviz.checkpoint_analysis.pair_record import few_tokens_note

    ids = None if token_ids is None else [int(i) for i in token_ids]
    result = compare(a, b, tokens="all", token_ids=ids, k=k, seed=seed, progress=progress)
    width = max(result.width_tied, result.width_untied)
    floor_note = few_tokens_note(result.n_tokens, width)
    return PairResult(
        tokens=result.n_tokens,
        vocab_size=result.vocab_tied,
        width=width,
        scores=result.scores,
        chance=result.chance,
        shuffles=result.shuffles,
        notes=tuple(note for note in result.notes if note != floor_note),
        verdict=result.verdict,
        token_ids=np.asarray(result.token_ids_tied),
        labels=[str(label) for label in result.labels],
        per_token=dict(result.per_token),
    )
