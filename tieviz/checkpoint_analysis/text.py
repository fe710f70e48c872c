"""A text read with the checkpoint's own tokenizer: the token stream and frequencies its analyses use.

An uploaded model comes without its training corpus, so token frequencies and empirical bigrams come
from a text (CPython's documentation by default) read with the checkpoint's tokenizer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tieviz.checkpoints.reader import has_tokenizer_files
from tieviz.results import frequent_token_ids, special_ids
from tieviz.runs import Run

MAX_TEXT_TOKENS = 400_000  # enough for stable frequencies of the top few thousand tokens


@dataclass(frozen=True)
class TokenText:
    """A text as the checkpoint's token ids, and the frequencies it gives; ids is None without a tokenizer."""

    ids: np.ndarray | None  # [L] int64 token stream
    counts: np.ndarray | None  # [V] occurrences of each token id
    special_ids: tuple[int, ...]
    source: str  # what text this is, for the page
    note: str = ""  # why frequencies are missing, or what was left out

    def top_ids(self, vocab_size: int, n: int) -> np.ndarray:
        """The n most frequent ordinary tokens [<= n]; without a tokenizer, the first n ids."""
        return frequent_token_ids(self.counts, n, self.special_ids, vocab_size, self.source)


def _token_text(ids: np.ndarray, vocab_size: int, specials: tuple[int, ...], source: str) -> TokenText:
    ids = np.asarray(ids, dtype=np.int64)
    dropped = int(np.count_nonzero(ids >= vocab_size))
    ids = ids[ids < vocab_size]
    note = f"{dropped:,} tokens with ids beyond the model's vocabulary were left out." if dropped else ""
    counts = np.bincount(ids, minlength=vocab_size)
    return TokenText(ids, counts, tuple(i for i in specials if i < vocab_size), source, note)


def tokenize_text(
    ckpt_dir: Path, text: str, vocab_size: int, source: str, max_tokens: int = MAX_TEXT_TOKENS
) -> TokenText:
    """`text` read with the checkpoint's own tokenizer (no remote code), paragraph by paragraph.

    Without usable tokenizer files the result has no ids and says why, so analyses that need only the
    matrices can still run on the first token ids.
    """
    if not has_tokenizer_files(Path(ckpt_dir)):
        return TokenText(None, None, (), source, "The checkpoint has no tokenizer files.")
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(
            Path(ckpt_dir), local_files_only=True, trust_remote_code=False
        )
    except Exception as exc:  # noqa: BLE001 - broken files mean "no tokenizer", not a crash
        return TokenText(
            None, None, (), source, f"The checkpoint's tokenizer could not be loaded ({type(exc).__name__})."
        )
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    if not paragraphs:
        raise ValueError("The text is empty.")
    ids: list[int] = []
    for start in range(0, len(paragraphs), 256):
        batch = tokenizer(paragraphs[start : start + 256], add_special_tokens=False, verbose=False)
        for row in batch["input_ids"]:
            ids.extend(row)
        if len(ids) >= max_tokens:
            break
    specials = tuple(sorted(set(tokenizer.all_special_ids)))
    return _token_text(np.array(ids[:max_tokens], dtype=np.int64), vocab_size, specials, source)


def text_from_run(run: Run) -> TokenText:
    """A trained run's own corpus (the example checkpoints): its token stream and special tokens."""
    return _token_text(run.tokens(), run.info["vocab_size"], tuple(special_ids(run)), "the run's own corpus")
