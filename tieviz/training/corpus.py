"""Corpora (toy, pydocs, a user's text file), the word-level tokenizer, and training batches.

All of it works offline: the toy language is generated, the pydocs text ships with CPython, and a
user's file is read from disk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

from tieviz.config import BOUNDS, DataConfig
from tieviz.training.text_file import (
    MAX_CORPUS_BYTES,
    CorpusError,
    decoded_chunks,
    document_pieces,
    kept_documents,
)

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

UNK, EOS = "[UNK]", "[EOS]"
SPECIAL_TOKENS = (UNK, EOS)
MIN_CORPUS_TOKENS = 2_000
MIN_VOCAB = BOUNDS["vocab_size"][0]  # the smallest vocabulary a run accepts, special tokens included
ENCODE_BATCH_CHARS = 2**20  # text handed to the tokenizer per call: its per-token objects stay small
ENCODE_BATCH_PIECES = 4096  # and at most this many documents, for texts of many short paragraphs

__all__ = ["MAX_CORPUS_BYTES", "CorpusError"]  # re-exported: where callers have always found them

Pieces = Iterator[tuple[str, bool]]  # (text, ends a document), see tieviz.training.text_file


@dataclass(frozen=True)
class ToyLanguage:
    """A synthetic language with a known, deliberately asymmetric word-transition matrix."""

    words: list[str]
    transition: np.ndarray  # [W, W], row i = P(next word | word i); rows sum to 1

    def sample(self, n_tokens: int, seed: int) -> list[str]:
        rng = np.random.default_rng(seed)
        cumulative = np.cumsum(self.transition, axis=1)
        state = int(rng.integers(len(self.words)))
        out = []
        draws = rng.random(n_tokens)
        for u in draws:
            out.append(self.words[state])
            state = min(int(np.searchsorted(cumulative[state], u)), len(self.words) - 1)
        return out


TOY_SUCCESSOR_WEIGHTS = (1.0, 0.5, 0.25)  # preference for the 1st, 2nd and 3rd word after one in the cycle
TOY_SUCCESSOR_BOOST = 100.0  # how much more likely a successor is than its frequency alone says


def toy_language(n_words: int, seed: int = 0) -> ToyLanguage:
    """Words with Zipf frequencies (1/rank) that strongly prefer the next few words of a hidden cycle.

    P(next = j | i) is proportional to f_j * (1 + TOY_SUCCESSOR_BOOST * w_ij), where f_j is word j's
    Zipf weight and w_ij is 1, 1/2 or 1/4 when j is the 1st, 2nd or 3rd word after i in the cycle (0
    otherwise). The cycle makes the language asymmetric: P(b|a) high means P(a|b) low. The uneven
    frequencies, as in real text, make the output path pull far harder than the input path early in
    training; an earlier version with nearly uniform frequencies showed an early ratio of only about 1.5.
    """
    if n_words < 8:
        raise CorpusError("the toy language needs at least 8 words")
    rng = np.random.default_rng(seed)
    syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
    words: list[str] = []
    seen = set()
    while len(words) < n_words:
        word = "".join(rng.choice(syllables, size=int(rng.integers(2, 4))))
        if word not in seen:
            seen.add(word)
            words.append(word)
    order = rng.permutation(n_words)
    zipf = 1.0 / np.arange(1, n_words + 1)
    frequency = zipf[np.argsort(rng.permutation(n_words))]
    affinity = np.ones((n_words, n_words))
    for position, word in enumerate(order):
        for offset, weight in enumerate(TOY_SUCCESSOR_WEIGHTS, start=1):
            affinity[word, order[(position + offset) % n_words]] += TOY_SUCCESSOR_BOOST * weight
    transition = frequency[None, :] * affinity
    transition /= transition.sum(axis=1, keepdims=True)
    return ToyLanguage(words=words, transition=transition)


def pydocs_text() -> str:
    """The English documentation topics bundled with every CPython, one topic per paragraph."""
    from pydoc_data.topics import topics

    return "\n\n".join(topics[name] for name in sorted(topics))


def corpus_pieces(cfg: DataConfig) -> Callable[[], Pieces]:
    """A maker of the corpus's pieces, called once per pass, so a file is read again rather than held."""
    if cfg.corpus == "toy":
        language = toy_language(cfg.toy_vocab)
        documents = [" ".join(language.sample(cfg.toy_tokens, seed=1))]
        return lambda: ((doc, True) for doc in documents)
    if cfg.corpus == "pydocs":
        documents = [doc for doc in pydocs_text().split("\n\n") if doc.strip()]
        return lambda: ((doc, True) for doc in documents)
    if cfg.corpus == "file":
        if cfg.path is None:
            raise CorpusError("corpus 'file' needs a path to a UTF-8 text file")
        path = cfg.path
        return lambda: kept_documents(document_pieces(text for _, text in decoded_chunks(path)))
    raise CorpusError(f"unknown corpus {cfg.corpus!r}; use toy, pydocs or a path to a UTF-8 text file")


def _word_tokenizer() -> Tokenizer:
    tokenizer = Tokenizer(models.WordLevel(unk_token=UNK))
    tokenizer.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    return tokenizer


def train_tokenizer(documents: Iterable[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """A word-level tokenizer over the corpus's most frequent words, so every token is a readable word.

    `documents` may be any iterable of text (pieces of documents too): only word counts are kept.
    """
    tokenizer = _word_tokenizer()
    trainer = trainers.WordLevelTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS))
    tokenizer.train_from_iterator(documents, trainer=trainer)
    if tokenizer.get_vocab_size() < vocab_size:
        n_words = tokenizer.get_vocab_size() - len(SPECIAL_TOKENS)
        fits = n_words + len(SPECIAL_TOKENS)
        advice = (
            f"use --vocab {fits} or less"
            if fits >= MIN_VOCAB
            else f"the smallest vocabulary is {MIN_VOCAB}, so use a text with at least "
            f"{MIN_VOCAB - len(SPECIAL_TOKENS)} different words"
        )
        raise CorpusError(
            f"the corpus has only {n_words} distinct words, too few for a vocabulary of {vocab_size}; "
            + advice
        )
    from transformers import PreTrainedTokenizerFast  # slow to import: only when a corpus is built

    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token=UNK, eos_token=EOS)


@dataclass(frozen=True)
class Corpus:
    """A tokenized corpus: its token stream split into train and validation, and its tokenizer."""

    tokenizer: PreTrainedTokenizerFast
    train_ids: np.ndarray  # [N_train] int32: a 200 MB text is ~40 M tokens, 160 MB at this width
    val_ids: np.ndarray  # [N_val] int32
    truth_log_probs: np.ndarray | None  # [V, V] exact log P(next | current) over token ids (toy only)

    @property
    def vocab_size(self) -> int:
        return len(self.tokenizer)

    @property
    def all_ids(self) -> np.ndarray:
        return np.concatenate([self.train_ids, self.val_ids])

    def token_counts(self) -> np.ndarray:
        """[V] how often each token id occurs in the training split."""
        return np.bincount(self.train_ids, minlength=self.vocab_size)

    def labels(self) -> list[str]:
        return self.tokenizer.convert_ids_to_tokens(list(range(self.vocab_size)))


def encode_pieces(tokenizer: Tokenizer, pieces: Pieces, eos: int) -> np.ndarray:
    """[N] int32 ids of the pieces, with `eos` after each document.

    Encoded about 1 MiB (or 4,096 pieces) at a time, each batch kept as one int32 array: the tokenizer's
    per-token objects and Python's ints never exist for more than one batch.
    """
    parts: list[np.ndarray] = []
    batch: list[str] = []
    ends: list[bool] = []

    def flush() -> None:
        ids: list[int] = []
        for encoding, end in zip(tokenizer.encode_batch_fast(batch), ends, strict=True):
            ids.extend(encoding.ids)
            if end:
                ids.append(eos)
        parts.append(np.asarray(ids, dtype=np.int32))
        batch.clear()
        ends.clear()

    size = 0
    for piece, end in pieces:
        batch.append(piece)
        ends.append(end)
        size += len(piece)
        if size >= ENCODE_BATCH_CHARS or len(batch) >= ENCODE_BATCH_PIECES:
            flush()
            size = 0
    flush()
    return np.concatenate(parts)


def build_corpus(cfg: DataConfig, seq_len: int) -> Corpus:
    """Tokenizes the corpus in two streamed passes (word counts, then ids), never holding a file whole."""
    pieces = corpus_pieces(cfg)
    tokenizer = train_tokenizer((piece for piece, _ in pieces()), cfg.vocab_size)
    stream = encode_pieces(tokenizer.backend_tokenizer, pieces(), tokenizer.eos_token_id)
    if len(stream) < MIN_CORPUS_TOKENS:
        raise CorpusError(
            f"the corpus has only {len(stream)} tokens; at least {MIN_CORPUS_TOKENS} are needed"
        )
    n_val = max(int(len(stream) * cfg.val_fraction), 4 * (seq_len + 1))
    if len(stream) - n_val < 4 * (seq_len + 1):
        raise CorpusError(f"the corpus ({len(stream)} tokens) is too short for sequence length {seq_len}")
    truth = _toy_truth(cfg, tokenizer) if cfg.corpus == "toy" else None
    return Corpus(tokenizer, stream[:-n_val], stream[-n_val:], truth)


def _toy_truth(cfg: DataConfig, tokenizer: PreTrainedTokenizerFast) -> np.ndarray:
    """The toy language's transition matrix in token-id space; pairs involving special tokens are -inf."""
    language = toy_language(cfg.toy_vocab)
    vocab = tokenizer.get_vocab()
    truth = np.full((len(tokenizer), len(tokenizer)), -np.inf)
    ids = np.array([vocab.get(word, -1) for word in language.words])
    present = ids >= 0
    with np.errstate(divide="ignore"):
        log_t = np.log(language.transition)
    truth[np.ix_(ids[present], ids[present])] = log_t[np.ix_(present, present)]
    return truth


class BatchSampler:
    """Random windows of seq_len + 1 tokens, in an order fixed by the seed so every arm sees the same data."""

    def __init__(self, ids: np.ndarray, seq_len: int, batch_size: int, seed: int) -> None:
        self.ids = torch.from_numpy(ids)
        self.seq_len = seq_len
        self.batch_size = batch_size
        self.generator = torch.Generator().manual_seed(seed)

    def next(self) -> torch.Tensor:
        """[B, T + 1] token ids."""
        starts = torch.randint(
            0, len(self.ids) - self.seq_len - 1, (self.batch_size,), generator=self.generator
        )
        offsets = torch.arange(self.seq_len + 1)
        return self.ids[starts[:, None] + offsets[None, :]].long()  # stored as int32, trained on int64


def fixed_windows(ids: np.ndarray, seq_len: int, max_windows: int) -> torch.Tensor:
    """[N, T + 1] evenly spaced, non-overlapping windows: a deterministic evaluation set."""
    n = min(max_windows, (len(ids) - 1) // (seq_len + 1))
    if n < 1:
        raise CorpusError(f"the validation split is shorter than one window of {seq_len + 1} tokens")
    stream = torch.from_numpy(ids[: n * (seq_len + 1)]).long()
    return stream.view(n, seq_len + 1)
