"""Two checkpoints made comparable row by row: opened from any path, ordered tied/untied, tokens aligned.

Token alignment is by id when both checkpoints have the same vocabulary (same size and, where both have
a tokenizer, the same token for every id), otherwise by token string: each token the two tokenizers
share is one row, and the result says how many matched.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, overload

import numpy as np

from tieviz.checkpoint_analysis.loaded import LoadedCheckpoint, load_checkpoint
from tieviz.checkpoints.errors import CheckpointError
from tieviz.checkpoints.reader import checkpoint_dir


def resolve_checkpoint_dir(path: Path) -> Path:
    """A checkpoint folder, or the snapshot a Hugging Face hub-cache folder (models--org--name) points to.

    The cache keeps `refs/main` (the revision downloaded last) and one folder per revision under
    `snapshots/`; with no `refs/main` a single snapshot is taken, several are refused by name.
    """
    path = Path(path)
    if not path.is_dir() or (path / "config.json").is_file() or not (path / "snapshots").is_dir():
        return path
    ref = path / "refs" / "main"
    if ref.is_file():
        revision = ref.read_text(encoding="utf-8").strip()
        if revision and Path(revision).name == revision and (path / "snapshots" / revision).is_dir():
            return path / "snapshots" / revision
    snapshots = sorted(p for p in (path / "snapshots").iterdir() if p.is_dir())
    if len(snapshots) == 1:
        return snapshots[0]
    if not snapshots:
        raise CheckpointError(f"The hub-cache folder {path.name} has no downloaded snapshot.")
    names = ", ".join(p.name[:12] for p in snapshots[:4])
    raise CheckpointError(f"The hub-cache folder {path.name} holds several snapshots ({names}); pass one.")


def open_checkpoint(source: str | Path | LoadedCheckpoint, stack: ExitStack) -> LoadedCheckpoint:
    """A loaded checkpoint from a folder, a zip (staged until `stack` closes) or a hub-cache folder."""
    if isinstance(source, LoadedCheckpoint):
        return source
    path = Path(source)
    if not path.exists():
        raise CheckpointError(f"'{path}' does not exist.")
    folder = stack.enter_context(checkpoint_dir(resolve_checkpoint_dir(path)))
    return load_checkpoint(folder)


class _Rows(Sequence[str]):
    """labels[ids[i]] for each i, decoded on use: a whole vocabulary's labels are rarely all read."""

    def __init__(self, labels: Sequence[str], ids: np.ndarray) -> None:
        self._labels, self._ids = labels, ids

    def __len__(self) -> int:
        return len(self._ids)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self._labels[int(i)] for i in self._ids[index]]
        return self._labels[int(self._ids[operator.index(index)])]


@dataclass(frozen=True)
class AlignedPair:
    """The rows to compare: tied [N, d], untied_in and untied_out [N, d'], the same token in each row."""

    tied: np.ndarray
    untied_in: np.ndarray
    untied_out: np.ndarray
    tied_ids: np.ndarray  # [N]
    untied_ids: np.ndarray  # [N]
    labels: Sequence[str]  # [N]
    n_matched: int  # tokens the two vocabularies share
    alignment: Literal["id", "string"]
    vocab: tuple[int, int]  # (tied, untied) vocabulary sizes
    names: tuple[str, str]
    notes: tuple[str, ...]


def order_pair(a: LoadedCheckpoint, b: LoadedCheckpoint) -> tuple[LoadedCheckpoint, LoadedCheckpoint]:
    """(tied, untied), refused unless exactly one of them is tied."""
    if a.summary.tied == b.summary.tied:
        both = "tied" if a.summary.tied else "untied"
        raise CheckpointError(f"Both checkpoints are {both}; the comparison needs one tied and one untied.")
    return (a, b) if a.summary.tied else (b, a)


def _vocab(ckpt: LoadedCheckpoint) -> dict[str, int] | None:
    """Token string -> id over the matrix's rows, or None without a tokenizer."""
    tokenizer = getattr(ckpt.labels, "tokenizer", None)
    if tokenizer is None:
        return None
    rows = ckpt.summary.vocab_size
    return {token: i for token, i in tokenizer.get_vocab().items() if 0 <= i < rows}


def _matched_ids(
    tied: LoadedCheckpoint, untied: LoadedCheckpoint
) -> tuple[np.ndarray, np.ndarray, str, list[str]]:
    """(tied ids, untied ids, alignment, notes) of every token the two share, by tied id."""
    v_tied, v_untied = tied.summary.vocab_size, untied.summary.vocab_size
    vocab_tied, vocab_untied = _vocab(tied), _vocab(untied)
    if vocab_tied is None or vocab_untied is None:
        if v_tied != v_untied:
            who = "neither checkpoint has a" if vocab_tied is None and vocab_untied is None else "one has no"
            raise CheckpointError(
                f"The vocabularies differ ({v_tied:,} and {v_untied:,} tokens) and {who} tokenizer to match "
                "tokens by string."
            )
        ids = np.arange(v_tied)
        return (
            ids,
            ids,
            "id",
            ["The two tokenizers differ or are missing: the same id is taken to be the same token."],
        )
    if v_tied == v_untied and vocab_tied == vocab_untied:
        ids = np.arange(v_tied)
        return ids, ids, "id", []
    shared = sorted((i, vocab_untied[token]) for token, i in vocab_tied.items() if token in vocab_untied)
    if not shared:
        raise CheckpointError(
            "The two tokenizers share no token, so no row of one matches a row of the other."
        )
    tied_ids = np.array([i for i, _ in shared], dtype=np.int64)
    untied_ids = np.array([j for _, j in shared], dtype=np.int64)
    note = (
        f"The tokenizers differ: tokens matched by string, {len(shared):,} shared of {len(vocab_tied):,} "
        f"(tied) and {len(vocab_untied):,} (untied)."
    )
    return tied_ids, untied_ids, "string", [note]


def aligned_pair(
    a: LoadedCheckpoint,
    b: LoadedCheckpoint,
    tokens: int | Literal["all"] = "all",
    token_ids: Sequence[int] | None = None,
    k: int = 10,
) -> AlignedPair:
    """The rows of the tied W_E, untied W_E and untied W_U to compare, over the same tokens in order."""
    tied, untied = order_pair(a, b)
    tied_ids, untied_ids, alignment, notes = _matched_ids(tied, untied)
    n_matched = tied_ids.size
    if token_ids is not None:
        wanted = np.asarray(token_ids, dtype=np.int64)
        position = np.full(tied.summary.vocab_size, -1, dtype=np.int64)
        if wanted.size and (wanted.min() < 0 or wanted.max() >= position.size):
            raise ValueError(f"token ids must lie in 0 … {position.size - 1} (the tied vocabulary).")
        position[tied_ids] = np.arange(tied_ids.size)
        keep = position[wanted]
        if (keep < 0).any():
            notes.append(f"{int((keep < 0).sum())} of the requested tokens are not in both vocabularies.")
        keep = keep[keep >= 0]
        tied_ids, untied_ids = tied_ids[keep], untied_ids[keep]
    elif tokens != "all":
        if tokens < tied_ids.size:
            notes.append(f"The {tokens:,} lowest token ids of {tied_ids.size:,} shared are compared.")
        tied_ids, untied_ids = tied_ids[:tokens], untied_ids[:tokens]
    if tied_ids.size <= k:
        raise ValueError(f"The comparison needs more than {k} tokens, got {tied_ids.size}.")
    whole = alignment == "id" and tied_ids.size == tied.summary.vocab_size  # rows as they are: no copy
    pick_tied = (lambda m: m) if whole else (lambda m: m[tied_ids])
    pick_untied = (lambda m: m) if whole else (lambda m: m[untied_ids])
    return AlignedPair(
        tied=pick_tied(tied.W_E),
        untied_in=pick_untied(untied.W_E),
        untied_out=pick_untied(untied.W_U),
        tied_ids=tied_ids,
        untied_ids=untied_ids,
        labels=_Rows(tied.labels, tied_ids),
        n_matched=int(n_matched),
        alignment=alignment,  # type: ignore[arg-type]
        vocab=(tied.summary.vocab_size, untied.summary.vocab_size),
        names=(tied.path.name, untied.path.name),
        notes=tuple(notes),
    )
