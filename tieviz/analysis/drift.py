"""How far a matrix has moved from its own start: the paper's drift-from-initialisation curves.

Same basis, no alignment: a model's matrix at step s against the same model's matrix at step 0, token by
token. The paper shows that in untied public models the output matrix leaves its start faster than the
input matrix; tieviz's untied runs can be put beside those curves.
"""

from __future__ import annotations

import numpy as np

from tieviz.analysis.matrices import unit_rows


def mean_row_cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Mean cosine between matching rows of a and b, both [V, d] in the same basis."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"need two matrices of one shape [V, d], got {a.shape} and {b.shape}")
    return float(np.einsum("vd,vd->v", unit_rows(a), unit_rows(b)).mean())


def drift_from_start(matrices: dict[int, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(steps [S], mean per-token cosine with step 0 [S]) over saved steps {step: [V, d]}; 1 at step 0."""
    if 0 not in matrices:
        raise ValueError("drift from the start needs the step-0 matrix")
    steps = np.array(sorted(matrices), dtype=np.int64)
    start = matrices[0]
    return steps, np.array([mean_row_cosine(matrices[int(s)], start) for s in steps])
