"""Small classroom devices: a toy embedding matrix, the symmetric product it makes, and the tying savings.

W_E W_E^T is symmetric whatever numbers a student types into W_E; inserting a learned map M,
W_E M W_E^T, is symmetric only when M is (for full-rank W_E). The savings calculator shows why
tying was attractive anyway: it removes V x d parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tieviz.analysis.matrices import check_matrix


def default_toy_embeddings() -> tuple[list[str], np.ndarray]:
    """Six tokens with hand-picked 3-d embeddings -> (labels [6], W_E [6, 3]).

    Axes loosely mean "place name", "function word" and "animal story", so neighbours look sensible.
    """
    labels = ["new", "york", "city", "the", "cat", "sat"]
    W_E = np.array(
        [
            [0.9, 0.1, 0.0],  # new
            [1.0, -0.1, 0.1],  # york
            [0.8, 0.2, -0.1],  # city
            [0.1, 1.0, 0.2],  # the
            [-0.1, 0.2, 0.9],  # cat
            [0.0, 0.3, 0.8],  # sat
        ]
    )
    return labels, W_E


def direct_path_tied(W_E: np.ndarray) -> np.ndarray:
    """Tied direct path W_E W_E^T [V, d] -> [V, V]: symmetric for any W_E."""
    W_E = check_matrix(W_E)
    return W_E @ W_E.T


def direct_path_with_map(W_E: np.ndarray, M: np.ndarray) -> np.ndarray:
    """Direct path with a map between embedding and unembedding, W_E M W_E^T [V, d], [d, d] -> [V, V]."""
    W_E = check_matrix(W_E)
    M = np.asarray(M, dtype=np.float64)
    d = W_E.shape[1]
    if M.shape != (d, d):
        raise ValueError(f"the map M must be [{d}, {d}] to fit between the embeddings, got {M.shape}")
    return W_E @ M @ W_E.T


def default_breaking_map(d: int) -> np.ndarray:
    """A deliberately non-symmetric [d, d] map: the identity plus a shift one dimension up."""
    if d < 2:
        raise ValueError(f"a non-symmetric map needs at least 2 dimensions, got {d}")
    return np.eye(d) + np.eye(d, k=1)


@dataclass(frozen=True)
class TyingSavings:
    """Parameters saved by sharing one V x d matrix between input and output."""

    vocab_size: int
    d_model: int
    model_params: float
    saved_params: int  # V * d
    share: float  # saved_params / model_params

    @property
    def label(self) -> str:
        """The model size in words, e.g. "7B" or "350M"."""
        for unit, scale in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
            if self.model_params >= scale:
                return f"{self.model_params / scale:g}{unit}"
        return f"{self.model_params:g}"


def tying_savings(vocab_size: int, d_model: int, model_params: float) -> TyingSavings:
    """How many parameters tying saves (V x d) and what share of a model of `model_params` that is."""
    if vocab_size < 1 or d_model < 1 or model_params <= 0:
        raise ValueError("vocabulary size, width and model size must all be positive")
    saved = vocab_size * d_model
    return TyingSavings(vocab_size, d_model, model_params, saved, saved / model_params)


def standard_savings_table(vocab_size: int = 50_000, d_model: int = 4096) -> list[TyingSavings]:
    """Tying savings for 1B, 7B and 70B models with the same vocabulary and width."""
    return [tying_savings(vocab_size, d_model, size) for size in (1e9, 7e9, 70e9)]
