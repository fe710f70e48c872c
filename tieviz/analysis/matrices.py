"""Small checks and transforms shared by the analyses that take embedding matrices [tokens, width]."""

from __future__ import annotations

import numpy as np


def check_matrix(matrix: np.ndarray, what: str = "embedding matrix") -> np.ndarray:
    """The matrix as float64 [N, d], checked finite and 2-D."""
    x = np.asarray(matrix, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"the {what} must be 2-D [tokens, width], got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"the {what} contains NaN or infinite values")
    return x


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1; all-zero rows stay zero."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)
