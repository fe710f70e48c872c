"""The paper's measures between two embedding matrices over a whole vocabulary, in bounded memory.

Every [N, d] product is taken in row blocks and summed into [d, d] matrices, so memory grows with the
width, not with N × d copies: a matrix is read as given (float32, even memory-mapped) and each block is
centred and widened to float64 on the fly. The least-squares map, the Procrustes rotation and CKA all
come from one cross product SᵀT [d_s, d_t] per comparison and one eigendecomposition of the Gram matrix
SᵀS per matrix, which `prepare` does once; a row-shuffled copy (the chance floor) shares it, since
shuffling rows changes neither the Gram matrix nor the neighbours, only their order. When N < d the
matrix is replaced by its coordinates in an orthonormal basis of its rows (from the [N, N] Gram matrix):
every measure is blind to such a change of basis, and the products shrink to [N, N].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from tieviz.analysis import neighbours as nn

BLOCK_BYTES = 32 * 2**20  # float64 bytes of one row block
Tick = Callable[[float], None]


@dataclass(frozen=True)
class PreparedEmbedding:
    """One [N, d] matrix with what every comparison needs from it alone, computed once."""

    rows: np.ndarray  # [N, w] the matrix as given, or its coordinates [N, r] in a basis of its rows (N < d)
    mean: np.ndarray  # [w] float64 column means, subtracted block by block
    eigenvalues: np.ndarray  # [r] the centred Gram matrix's eigenvalues above rounding (float64)
    eigenvectors: np.ndarray  # [w, r] their eigenvectors
    neighbours: np.ndarray | None  # [N, k] each row's k cosine nearest neighbours (of the raw rows)
    k: int
    order: np.ndarray | None = None  # row i is rows[order[i]]: a shuffled copy sharing everything else
    columns: int = 0  # the matrix's own width d (rows may hold fewer coordinates when N < d)

    @property
    def n(self) -> int:
        return self.rows.shape[0]

    @property
    def width(self) -> int:
        return self.rows.shape[1]

    @property
    def centred(self) -> np.ndarray:
        """The centred rows [N, w] in float64, whole (coordinates in a basis of the rows when N < d, which
        keep every norm and inner product): for a measure on small matrices, not for a vocabulary."""
        return centred_block(self, slice(0, self.n))

    @property
    def gram_norm(self) -> float:
        """||SᵀS||_F of the centred matrix: CKA's normaliser."""
        return float(np.sqrt(np.sum(self.eigenvalues**2)))


def row_blocks(n: int, width: int) -> list[slice]:
    """Row ranges whose float64 [rows, width] block takes about BLOCK_BYTES."""
    step = max(256, BLOCK_BYTES // (8 * max(width, 1)))
    return [slice(start, min(start + step, n)) for start in range(0, n, step)]


def centred_block(p: PreparedEmbedding, rows: slice) -> np.ndarray:
    """Rows `rows` of the centred matrix as float64 [b, w] (in shuffled order for a shuffled copy)."""
    index = rows if p.order is None else p.order[rows]
    return np.asarray(p.rows[index], dtype=np.float64) - p.mean


def _eigen(gram: np.ndarray, n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Eigenpairs of a Gram matrix, without those below eps · max(N, d) of the largest (rounding), as
    `np.linalg.lstsq` drops negligible singular values."""
    values, vectors = np.linalg.eigh(gram)
    keep = values > values[-1] * max(n, d) * np.finfo(np.float64).eps
    return values[keep], vectors[:, keep]


def _mean(x: np.ndarray) -> np.ndarray:
    """Column means in float64, block by block; ValueError for NaN or infinite entries."""
    total = np.zeros(x.shape[1])
    for rows in row_blocks(*x.shape):
        block = np.asarray(x[rows], dtype=np.float64)
        if not np.isfinite(block).all():
            raise ValueError("embedding matrices contain NaN or infinite values")
        total += block.sum(axis=0)
    return total / x.shape[0]


def prepare(
    x: np.ndarray,
    k: int | None = 10,
    tick: Tick | None = None,
    gram: Literal["auto", "width", "tokens"] = "auto",
) -> PreparedEmbedding:
    """x [N, d] ready for `compare_prepared`; k=None skips the neighbour search (maps only).

    ValueError for what no measure can compare. `tick(fraction)` reports progress. `gram` picks the
    [d, d] ("width") or [N, N] ("tokens") Gram matrix; "auto" takes the smaller (both give the same
    scores; tests compare them).
    """
    if getattr(x, "ndim", None) != 2:
        x = np.asarray(x)
        if x.ndim != 2:
            raise ValueError(f"embedding matrices must be 2-D [tokens, width], got shape {x.shape}")
    n, d = x.shape
    if n < 2:
        raise ValueError("comparing embeddings needs at least 2 tokens")
    if k is not None and not 1 <= k < n:
        raise ValueError(f"k = {k} neighbours needs more than {k} tokens, got {n}")
    mean = _mean(x)
    maps_share = 0.2 if k is not None else 1.0  # of this matrix's work (the search dominates at large N)
    if gram == "tokens" or (
        gram == "auto" and n < d
    ):  # coordinates in a basis of the rows: [N, r] with r < N, from the [N, N] Gram matrix
        centred = np.asarray(x, dtype=np.float64) - mean
        values, vectors = _eigen(centred @ centred.T, n, d)
        rows, mean = vectors * np.sqrt(values), np.zeros(values.size)
        eigenvectors = np.eye(values.size)
    else:
        gram = np.zeros((d, d))
        blocks = row_blocks(n, d)
        for done, block in enumerate(blocks, 1):
            c = np.asarray(x[block], dtype=np.float64) - mean
            gram += c.T @ c
            if tick:
                tick(maps_share * done / len(blocks))
        rows = x
        values, eigenvectors = _eigen(gram, n, d)
    found = None
    if k is not None:
        found = nn.nearest(x, k, tick=(lambda f: tick(maps_share + (1 - maps_share) * f)) if tick else None)
    if tick:
        tick(1.0)
    return PreparedEmbedding(rows, mean, values, eigenvectors, found, k or 0, columns=d)


def shuffled(p: PreparedEmbedding, order: np.ndarray) -> PreparedEmbedding:
    """p with its rows in `order` (row i is p's row order[i]), sharing p's Gram matrix and neighbours.

    The neighbours are p's, renumbered; they equal a fresh search on the shuffled matrix except where
    similarities tie at the k-th place, whose order goes by token index and so follows the shuffle.
    """
    order = np.asarray(order, dtype=np.int64)
    composed = order if p.order is None else p.order[order]
    found = None
    if p.neighbours is not None:
        inverse = np.empty_like(order)
        inverse[order] = np.arange(order.size)
        found = inverse[p.neighbours[order]]
    return replace(p, order=composed, neighbours=found)


@dataclass(frozen=True)
class Scores:
    """Per-token cosines [N] (linear map, Procrustes), CKA and per-token mutual k-NN [N] of one pair."""

    lin_cos: np.ndarray
    proc_cos: np.ndarray
    cka: float
    mknn: np.ndarray | None


def _cross(source: PreparedEmbedding, target: PreparedEmbedding) -> np.ndarray:
    """Sᵀ T [w_s, w_t] of the centred matrices, summed over row blocks in float64."""
    cross = np.zeros((source.width, target.width))
    for rows in row_blocks(source.n, max(source.width, target.width)):
        cross += centred_block(source, rows).T @ centred_block(target, rows)
    return cross


def compare_scores(target: PreparedEmbedding, source: PreparedEmbedding, tick: Tick | None = None) -> Scores:
    """Map the centred source onto the centred target by least squares and by rotation (zero-padded to
    a common width); per-row cosines of mapped and target rows, linear CKA and mutual k-NN."""
    if target.n != source.n or target.k != source.k:
        raise ValueError("prepared matrices must have the same tokens (rows) and the same k")
    den = target.gram_norm * source.gram_norm
    if den == 0:
        raise ValueError("linear CKA is undefined when a matrix has identical rows (no variance)")
    cross = _cross(source, target)
    if tick:
        tick(0.5)
    v, lam = source.eigenvectors, source.eigenvalues
    linear = v @ ((v.T @ cross) / lam[:, None])  # [w_s, w_t] least-squares map (pseudo-inverse)
    width = max(source.width, target.width)
    padded = np.zeros((width, width))
    padded[: source.width, : target.width] = cross
    u, _, vt = np.linalg.svd(padded)
    rotation = (u @ vt)[: source.width, : target.width]
    maps = np.hstack([linear, rotation])
    lin, proc = np.zeros(target.n), np.zeros(target.n)
    blocks = row_blocks(target.n, 2 * width)
    for done, rows in enumerate(blocks, 1):
        s, t = centred_block(source, rows), centred_block(target, rows)
        mapped = s @ maps
        t_norm = np.linalg.norm(t, axis=1)
        lin[rows] = _cosines(mapped[:, : target.width], t, t_norm)
        num, den_rows = (
            np.einsum("nd,nd->n", mapped[:, target.width :], t),
            np.linalg.norm(s, axis=1) * t_norm,
        )
        proc[rows] = np.divide(num, den_rows, out=np.zeros_like(num), where=den_rows > 0)
        if tick:
            tick(0.5 + 0.5 * done / len(blocks))
    mknn = None
    if target.neighbours is not None and source.neighbours is not None:
        mknn = nn.overlap(target.neighbours, source.neighbours)
    return Scores(lin, proc, float(np.sum(cross**2) / den), mknn)


def _cosines(a: np.ndarray, b: np.ndarray, b_norm: np.ndarray) -> np.ndarray:
    num = np.einsum("nd,nd->n", a, b)
    den = np.linalg.norm(a, axis=1) * b_norm
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)
