"""The symmetry argument: what the direct path W_E W_U can say about bigrams, tied and untied.

Ignoring every block, token i reaches the logits through row i of W_E W_U. Tied, that product is
W_E W_E^T, which is symmetric: it cannot prefer "new -> york" without preferring "york -> new".
Real bigram statistics are asymmetric. Everything here works on the K most frequent tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np


@dataclass(frozen=True)
class LayerNormParams:
    """A final norm applied to each embedding row before the unembedding: weight [d], bias [d] or None."""

    weight: np.ndarray
    bias: np.ndarray | None = None
    eps: float = 1e-5
    kind: Literal["layernorm", "rmsnorm"] = "layernorm"

    def __post_init__(self) -> None:
        if self.kind not in ("layernorm", "rmsnorm"):
            raise ValueError(f"norm kind must be 'layernorm' or 'rmsnorm', got {self.kind!r}")
        if self.bias is not None and np.shape(self.bias) != np.shape(self.weight):
            raise ValueError("the norm's bias must have the same shape as its weight")

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Normalise each row of x [K, d] -> [K, d]."""
        x = np.asarray(x, dtype=np.float64)
        if self.kind == "layernorm":
            x = x - x.mean(axis=1, keepdims=True)
        out = x / np.sqrt((x**2).mean(axis=1, keepdims=True) + self.eps) * np.asarray(self.weight)
        return out if self.bias is None else out + np.asarray(self.bias)


def _stream(token_ids: np.ndarray) -> np.ndarray:
    ids = np.asarray(token_ids).ravel()
    if ids.size and (not np.issubdtype(ids.dtype, np.integer) or ids.min() < 0):
        raise ValueError("token ids must be non-negative integers")
    return ids.astype(np.int64)


def most_frequent(counts: np.ndarray, k: int, exclude: Sequence[int] = ()) -> np.ndarray:
    """Up to k ids [<= k] with the highest counts [V], never a zero count, ties to the smaller id."""
    counts = np.asarray(counts)
    candidates = np.setdiff1d(np.flatnonzero(counts > 0), np.asarray(exclude, dtype=np.int64))
    order = np.lexsort((candidates, -counts[candidates]))
    return candidates[order[: max(k, 0)]]


def bigram_log_probs(
    token_ids: np.ndarray, tokens: np.ndarray, vocab_size: int, smoothing: float = 0.1
) -> np.ndarray:
    """A[i, j] = log P(next = tokens[j] | current = tokens[i]) from the whole stream -> [K, K].

    Additive smoothing runs over the full vocabulary, so each row is a slice of a proper conditional
    distribution (its exponentials sum to at most 1).
    """
    ids = _stream(token_ids)
    tokens = np.asarray(tokens, dtype=np.int64)
    if smoothing <= 0:
        raise ValueError(
            f"smoothing must be positive so that unseen bigrams have a finite log, got {smoothing}"
        )
    if np.any(ids >= vocab_size) or np.any(tokens >= vocab_size) or np.any(tokens < 0):
        raise ValueError(f"token ids must be below the vocabulary size {vocab_size}")
    slot = np.full(vocab_size, -1, dtype=np.int64)
    slot[tokens] = np.arange(tokens.size)
    current, following = slot[ids[:-1]], slot[ids[1:]]
    row_totals = np.bincount(current[current >= 0], minlength=tokens.size)
    both = (current >= 0) & (following >= 0)
    counts = np.zeros((tokens.size, tokens.size))
    np.add.at(counts, (current[both], following[both]), 1.0)
    probs = (counts + smoothing) / (row_totals[:, None] + smoothing * vocab_size)
    return np.log(probs)


def direct_path(
    W_E: np.ndarray, W_U: np.ndarray, tokens: np.ndarray, final_norm: LayerNormParams | None = None
) -> np.ndarray:
    """A[i, j] = norm(W_E[tokens[i]]) . W_U[tokens[j]] -> [K, K]; W_E and W_U are both [V, d] rows.

    Without a norm, tied (W_U = W_E) gives an exactly symmetric matrix. A final norm rescales each
    row separately, which is why the effective path of a real model is only nearly symmetric.
    """
    W_E, W_U = np.asarray(W_E, dtype=np.float64), np.asarray(W_U, dtype=np.float64)
    if W_E.ndim != 2 or W_E.shape != W_U.shape:
        raise ValueError(f"W_E and W_U must both be [vocab, d_model], got {W_E.shape} and {W_U.shape}")
    tokens = np.asarray(tokens, dtype=np.int64)
    rows = W_E[tokens]
    if final_norm is not None:
        rows = final_norm.apply(rows)
    return rows @ W_U[tokens].T


def asymmetry(a: np.ndarray) -> float:
    """||A - A^T||_F / ||A||_F for a square matrix: 0 when symmetric, 2 when antisymmetric."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"asymmetry needs a square matrix, got shape {a.shape}")
    norm = np.linalg.norm(a)
    return 0.0 if norm == 0 else float(np.linalg.norm(a - a.T) / norm)


def matrix_correlation(a: np.ndarray, b: np.ndarray, off_diagonal_only: bool = False) -> float:
    """Pearson correlation between the entries of two same-shape square matrices."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"matrices must have the same shape, got {a.shape} and {b.shape}")
    keep = ~np.eye(a.shape[0], dtype=bool) if off_diagonal_only else np.ones(a.shape, dtype=bool)
    x, y = a[keep], b[keep]
    x, y = x - x.mean(), y - y.mean()
    den = np.sqrt((x**2).sum() * (y**2).sum())
    if den == 0:
        raise ValueError("correlation is undefined for a matrix whose entries are all equal")
    return float((x * y).sum() / den)


@dataclass(frozen=True)
class BigramComparison:
    """Empirical bigrams next to each model's direct path over the same K tokens.

    Rows are the current token, columns the next token. `direct_paths` holds "<model>" (raw product)
    and "<model>_ln" (through the final norm) for each model given; `asymmetry` has those keys plus
    "empirical" (and "truth"); `correlation` is each direct path against the empirical log-probs;
    `truth_correlation` is each direct path and "empirical" against the ground truth, when known.
    """

    tokens: np.ndarray  # [K] token ids, most frequent first
    labels: list[str]  # [K]
    empirical: np.ndarray  # [K, K] log P(next | current)
    direct_paths: dict[str, np.ndarray]  # name -> [K, K]
    asymmetry: dict[str, float]
    correlation: dict[str, float]
    truth: np.ndarray | None = None  # [K, K] ground-truth log P(next | current)
    truth_correlation: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        k = len(self.tokens)
        shapes = [self.empirical.shape, *(m.shape for m in self.direct_paths.values())]
        if self.truth is not None:
            shapes.append(self.truth.shape)
        if len(self.labels) != k or any(s != (k, k) for s in shapes):
            raise ValueError(f"every matrix must be [{k}, {k}] with {k} labels")

    def matrix(self, name: str) -> np.ndarray:
        """The [K, K] matrix called name: "empirical", "truth" or a direct-path key."""
        if name == "empirical":
            return self.empirical
        if name == "truth" and self.truth is not None:
            return self.truth
        if name in self.direct_paths:
            return self.direct_paths[name]
        raise ValueError(f"no matrix called {name!r}; have {['empirical', *self.direct_paths]}")


def compare_bigrams(
    token_ids: np.ndarray,
    vocab_size: int,
    labels_for_ids: Sequence[str],
    matrices: dict[str, tuple[np.ndarray, np.ndarray]],
    k: int = 40,
    exclude: Sequence[int] = (),
    final_norms: dict[str, LayerNormParams] | None = None,
    truth_log_probs: np.ndarray | None = None,
) -> BigramComparison:
    """Empirical bigrams of the stream [L] against each model's (W_E [V, d], W_U [V, d]) direct path.

    Uses the k most frequent tokens, or fewer when the text has fewer distinct tokens.
    `truth_log_probs` [V, V] is a known transition matrix (the synthetic corpus), restricted inside.
    """
    if len(labels_for_ids) < vocab_size:
        raise ValueError(f"need a label for each of the {vocab_size} token ids, got {len(labels_for_ids)}")
    ids = _stream(token_ids)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    tokens = most_frequent(np.bincount(ids) if ids.size else np.zeros(0, dtype=np.int64), k, exclude)
    if len(tokens) < 2:
        raise ValueError("the text needs at least 2 distinct tokens to show bigrams")
    empirical = bigram_log_probs(ids, tokens, vocab_size)

    paths: dict[str, np.ndarray] = {}
    for name, (W_E, W_U) in matrices.items():
        paths[name] = direct_path(W_E, W_U, tokens)
        if final_norms and name in final_norms:
            paths[f"{name}_ln"] = direct_path(W_E, W_U, tokens, final_norms[name])

    truth = None
    if truth_log_probs is not None:
        truth_log_probs = np.asarray(truth_log_probs, dtype=np.float64)
        if truth_log_probs.shape != (vocab_size, vocab_size):
            raise ValueError(f"the true transition matrix must be [{vocab_size}, {vocab_size}]")
        truth = truth_log_probs[np.ix_(tokens, tokens)]

    scores = {"empirical": asymmetry(empirical), **{name: asymmetry(m) for name, m in paths.items()}}
    if truth is not None:
        scores["truth"] = asymmetry(truth)
    truth_corr: dict[str, float] = {}
    if truth is not None:
        truth_corr = {
            name: matrix_correlation(m, truth) for name, m in {"empirical": empirical, **paths}.items()
        }
    return BigramComparison(
        tokens=tokens,
        labels=[str(labels_for_ids[t]) for t in tokens],
        empirical=empirical,
        direct_paths=paths,
        asymmetry=scores,
        correlation={name: matrix_correlation(m, empirical) for name, m in paths.items()},
        truth=truth,
        truth_correlation=truth_corr,
    )
