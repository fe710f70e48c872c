"""A text read with the checkpoint's own tokenizer: the token stream and frequencies its analyses use.

An uploaded model comes without its training corpus, so token frequencies and empirical bigrams come
from a text (CPython's documentation by default) read with the checkpoint's tokenizer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tieviz.checkpoints.errors import CheckpointError
from tieviz.checkpoints.reader import has_tokenizer_files
from tieviz.experiments.run_analysis import frequent_token_ids, special_ids
from tieviz.training.run_store import Run

MAX_TEXT_TOKENS = 400_000  # enough for stable frequencies of the top few thousand tokens
BATCH_CHARS = 2**18  # characters handed to the tokenizer at once (~60k tokens of English)


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


def _paragraphs(text: str | Path) -> Iterator[str]:
    """The text's non-blank paragraphs, in pieces of about 64 Ki characters cut after a blank (a file read
    by the bounded reader), so a 32 MB text on one line is never decoded, split or tokenized whole. A
    byte-level BPE reads the word after a cut without its leading space: once per ~15k tokens."""
    from tieviz.training.text_file import decoded_chunks, document_pieces, kept_documents

    chunks = (chunk for _, chunk in decoded_chunks(text)) if isinstance(text, Path) else iter([text])
    return (piece for piece, _ in kept_documents(document_pieces(chunks)) if piece.strip())


def _batches(paragraphs: Iterator[str]) -> Iterator[list[str]]:
    """Paragraphs in batches of at most 256 and about BATCH_CHARS characters: the tokenizer's output for a
    batch (Python lists of ids) stays small, and reading stops soon after `max_tokens`."""
    batch: list[str] = []
    chars = 0
    for paragraph in paragraphs:
        batch.append(paragraph)
        chars += len(paragraph)
        if len(batch) == 256 or chars >= BATCH_CHARS:
            yield batch
            batch, chars = [], 0
    if batch:
        yield batch


def tokenize_text(
    ckpt_dir: Path, text: str | Path, vocab_size: int, source: str, max_tokens: int = MAX_TEXT_TOKENS
) -> TokenText:
    """`text` (a string, or a UTF-8 file read piece by piece) read with the checkpoint's own tokenizer.

    Without usable tokenizer files the result has no ids and says why, so analyses that need only the
    matrices can still run on the first token ids. Reading stops after `max_tokens`. A tokenizer that
    panics while reading is a CheckpointError (see `tieviz.checkpoints.tokenizer`).
    """
    if not has_tokenizer_files(Path(ckpt_dir)):
        return TokenText(None, None, (), source, "The checkpoint has no tokenizer files.")
    from tieviz.checkpoints.tokenizer import load_tokenizer, tokenizer_call

    try:
        tokenizer = load_tokenizer(Path(ckpt_dir))
    except CheckpointError as exc:  # broken or refused files mean "no tokenizer", not a crash
        return TokenText(None, None, (), source, str(exc))
    ids: list[int] = []
    read_any = False
    for batch in _batches(_paragraphs(text)):
        read_any = True
        encoded = tokenizer_call(
            "reading the text", lambda b=batch: tokenizer(b, add_special_tokens=False, verbose=False)
        )
        for row in encoded["input_ids"]:
            ids.extend(row)
        if len(ids) >= max_tokens:
            break
    if not read_any:
        raise ValueError("The text is empty.")
    specials = tuple(sorted(set(tokenizer.all_special_ids)))
    return _token_text(np.array(ids[:max_tokens], dtype=np.int64), vocab_size, specials, source)


def text_from_run(run: Run) -> TokenText:
    """A trained run's own corpus (the example checkpoints): its token stream and special tokens."""
    return _token_text(run.tokens(), run.info["vocab_size"], tuple(special_ids(run)), "the run's own corpus")
