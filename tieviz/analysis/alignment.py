"""How alike two embedding matrices are, token by token, in ways blind to rotation and scale.

Two independently trained matrices live in unrelated bases, so every measure here is invariant to
an orthogonal change of basis and to a global scale (docs/science.md, claim 1). All functions
take float arrays of shape [N, d] whose rows are the same N tokens in the same order; the two
matrices may have different widths.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from tieviz.analysis import neighbours as nn
from tieviz.analysis.matrices import unit_rows
from tieviz.analysis.measures import MEASURES, scores
from tieviz.analysis.prepared import PreparedEmbedding, Scores, Tick, compare_scores, prepare, shuffled

__all__ = [
    "Matrix",
    "matrix_width",
    "MEASURES",
    "EmbeddingSimilarity",
    "PairScores",
    "PreparedEmbedding",
    "bias_scores",
    "column_basis",
    "compare_embeddings",
    "compare_prepared",
    "least_squares_fit",
    "linear_cka",
    "mapped_cosines",
    "mutual_knn_overlap",
    "mutual_knn_per_token",
    "pair_scores",
    "prepare",
    "scores_by_side",
    "shuffled",
    "shuffled_rows",
    "unit_rows",
]


def _pair(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both matrices as float64 [N, d], checked to describe the same N >= 2 tokens."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2:
        raise ValueError(
            f"embedding matrices must be 2-D [tokens, width], got shapes {x.shape} and {y.shape}"
        )
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            f"the two matrices must have the same tokens (rows), got {x.shape[0]} and {y.shape[0]}"
        )
    if x.shape[0] < 2:
        raise ValueError("comparing embeddings needs at least 2 tokens")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("embedding matrices contain NaN or infinite values")
    return x, y


def _centre(x: np.ndarray) -> np.ndarray:
    return x - x.mean(axis=0, keepdims=True)


def _row_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine between matching rows of a and b [N, d] -> [N]; 0 where either row is zero."""
    num = np.einsum("nd,nd->n", a, b)
    den = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def linear_cka(x: np.ndarray, y: np.ndarray) -> float:
    """Linear CKA (Kornblith et al. 2019) of x [N, d1] and y [N, d2]; 1 for equal up to rotation and scale."""
    x, y = _pair(x, y)
    x, y = _centre(x), _centre(y)
    cross = np.linalg.norm(x.T @ y, "fro") ** 2
    den = np.linalg.norm(x.T @ x, "fro") * np.linalg.norm(y.T @ y, "fro")
    if den == 0:
        raise ValueError("linear CKA is undefined when a matrix has identical rows (no variance)")
    return float(cross / den)


def _knn_mask(x: np.ndarray, k: int) -> np.ndarray:
    """Boolean [N, N]: True where column j is among row i's k cosine nearest neighbours (not i itself).

    Ties at the k-th similarity go to the smaller token index, so the result equals a stable sort's first
    k (see `neighbours.nearest`, which finds them without an [N, N] array; this mask is for small N).
    """
    x, _ = _pair(x, x)
    return nn.mask(nn.nearest(x, k))


def mutual_knn_per_token(x: np.ndarray, y: np.ndarray, k: int = 10) -> np.ndarray:
    """For each token, the fraction of its k cosine nearest neighbours in x that are also so in y -> [N]."""
    x, y = _pair(x, x)[0], _pair(y, y)[0]
    _pair(x, y)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    return nn.overlap(nn.nearest(x, k), nn.nearest(y, k))


def mutual_knn_overlap(x: np.ndarray, y: np.ndarray, k: int = 10) -> float:
    """Mean of `mutual_knn_per_token`: 1 when both spaces agree on every token's neighbours."""
    return float(mutual_knn_per_token(x, y, k).mean())


def least_squares_fit(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """source @ M for the least-squares M of source M ≈ target: target projected onto source's columns.

    Solved through the eigenvectors of the [d, d] Gram matrix sourceᵀ source, several times faster than
    `np.linalg.lstsq`'s SVD of the [N, d] source (the bias over training makes hundreds of these fits).
    Directions whose eigenvalue is below eps · max(N, d) of the largest are dropped, as lstsq drops
    negligible singular values, so a rank-deficient source (a repeated column) is handled alike.
    """
    basis = column_basis(source)
    return basis @ (basis.T @ target)


def column_basis(x: np.ndarray) -> np.ndarray:
    """[N, r] orthonormal columns spanning x's columns (r = its numerical rank); see least_squares_fit."""
    values, vectors = np.linalg.eigh(x.T @ x)
    keep = values > values[-1] * max(x.shape) * np.finfo(np.float64).eps
    return (x @ vectors[:, keep]) / np.sqrt(values[keep])


def mapped_cosines(
    source: np.ndarray, target: np.ndarray, method: Literal["linear", "orthogonal"]
) -> np.ndarray:
    """Map centred source [N, ds] onto centred target [N, dt]; per row, mapped-vs-target cosine -> [N].

    "linear" is the least-squares map (any linear transform); "orthogonal" is the Procrustes rotation,
    with the narrower matrix padded by zero columns so widths may differ. Scale does not matter for a
    cosine, so Procrustes needs no scale factor. This is the paper's own similarity measure.
    """
    if method not in ("linear", "orthogonal"):
        raise ValueError(f"method must be 'linear' or 'orthogonal', got {method!r}")
    source, target = _pair(source, target)
    scores = compare_scores(prepare(target, k=None), prepare(source, k=None))
    return scores.lin_cos if method == "linear" else scores.proc_cos


@dataclass(frozen=True)
class EmbeddingSimilarity:
    """Every similarity measure between one tied matrix and one untied matrix, means and per token [N]."""

    lin_cos: float
    proc_cos: float
    cka: float
    mknn: float
    lin_cos_per_token: np.ndarray
    proc_cos_per_token: np.ndarray
    mknn_per_token: np.ndarray


shuffled_rows = shuffled  # `prepare(x[order])` from `prepare(x)`: every part only permutes (chance floors)


def compare_prepared(target: PreparedEmbedding, source: PreparedEmbedding) -> EmbeddingSimilarity:
    """`compare_embeddings` of two prepared matrices (same tokens, same k)."""
    if target.n != source.n or target.k != source.k:
        raise ValueError("prepared matrices must have the same tokens (rows) and the same k")
    return _similarity(compare_scores(target, source))


def _similarity(scores: Scores) -> EmbeddingSimilarity:
    mknn = scores.mknn if scores.mknn is not None else np.full(scores.lin_cos.shape, np.nan)
    return EmbeddingSimilarity(
        lin_cos=float(scores.lin_cos.mean()),
        proc_cos=float(scores.proc_cos.mean()),
        cka=scores.cka,
        mknn=float(mknn.mean()),
        lin_cos_per_token=scores.lin_cos,
        proc_cos_per_token=scores.proc_cos,
        mknn_per_token=mknn,
    )


def compare_embeddings(target: np.ndarray, source: np.ndarray, k: int = 10) -> EmbeddingSimilarity:
    """All measures of how alike target (the tied matrix) [N, d] and source (an untied matrix) [N, d'] are."""
    _pair(target, source)
    return compare_prepared(prepare(target, k), prepare(source, k))


def scores_by_side(similarities: dict[str, EmbeddingSimilarity]) -> dict[str, float]:
    """{"lin_cos_out": .., "lin_cos_in": .., ... "mknn_in"} from the "out" and "in" comparisons."""
    return {f"{m}_{side}": getattr(similarities[side], m) for m in MEASURES for side in ("out", "in")}


Matrix = np.ndarray | PreparedEmbedding


def bias_scores(tied: Matrix, untied_in: Matrix, untied_out: Matrix, k: int = 10) -> dict[str, float]:
    """Similarity of the tied matrix to the untied output ("_out") and input ("_in") matrices, all [N, d]
    (arrays, or prepared with this k when one matrix is compared several times).

    The unembedding bias of claim 1 is each "_out" score minus its "_in" score.
    """
    tied, untied_in, untied_out = (
        m if isinstance(m, PreparedEmbedding) else prepare(m, k) for m in (tied, untied_in, untied_out)
    )
    sides = {"out": scores(tied, untied_out), "in": scores(tied, untied_in)}
    return {f"{m}_{side}": sides[side][m] for m in sides["out"] for side in ("out", "in")}


@dataclass(frozen=True)
class PairScores:
    """The tied matrix against the untied output ("out") and input ("inp") matrices, and against the
    output matrix with its rows shuffled once per chance-floor permutation."""

    out: EmbeddingSimilarity
    inp: EmbeddingSimilarity
    chance: tuple[EmbeddingSimilarity, ...]


def pair_scores(
    tied: np.ndarray,
    untied_in: Matrix,
    untied_out: Matrix,
    *,
    k: int = 10,
    shuffles: int = 3,
    seed: int = 0,
    progress: Callable[[str, float], None] | None = None,
) -> PairScores:
    """Table 1 of one tied/untied pair with its chance floor; rows are the same tokens in the same order.

    Each matrix is prepared once (its Gram eigendecomposition and its neighbours); the shuffled copies
    of the untied output matrix share its preparation, and the untied matrices may come prepared (a
    series of tied checkpoints against one untied model). The floor's permutations are
    `np.random.default_rng(seed).permutation(N)`, one per shuffle. `progress(stage, fraction of all
    the work)` is called as blocks finish.
    """
    matrices = {"tied": tied, "untied input": untied_in, "untied output": untied_out}
    n = _rows(tied)
    for name, m in matrices.items():
        if isinstance(m, PreparedEmbedding):
            if m.k != k:
                raise ValueError(f"the prepared {name} matrix has k = {m.k}, not {k}")
        elif np.ndim(m) != 2:
            raise ValueError(f"the {name} matrix must be 2-D [tokens, width], got shape {np.shape(m)}")
        if _rows(m) != n:
            raise ValueError(
                f"the {name} matrix must have the tied matrix's {n} tokens as rows, not {_rows(m)}"
            )
    widths = {name: min(n, _width(m)) for name, m in matrices.items()}
    pairs = 3 * n * widths["tied"] * widths["untied output"]
    weights = {
        f"preparing the {name} matrix": n * n * _width(m) / 2 + n * widths[name] ** 2
        for name, m in matrices.items()
        if not isinstance(m, PreparedEmbedding)
    }
    weights |= {"tied vs untied output": pairs, "tied vs untied input": pairs}
    weights |= {f"chance floor, shuffle {i + 1} of {shuffles}": pairs for i in range(shuffles)}
    report = _Stages(weights, progress)
    prepared = {
        name: m
        if isinstance(m, PreparedEmbedding)
        else prepare(m, k, tick=report.stage(f"preparing the {name} matrix"))
        for name, m in matrices.items()
    }
    t, out_p = prepared["tied"], prepared["untied output"]
    out = _similarity(compare_scores(t, out_p, tick=report.stage("tied vs untied output")))
    inp = _similarity(compare_scores(t, prepared["untied input"], tick=report.stage("tied vs untied input")))
    rng = np.random.default_rng(seed)
    chance = []
    for i in range(shuffles):
        order = rng.permutation(n)
        tick = report.stage(f"chance floor, shuffle {i + 1} of {shuffles}")
        chance.append(_similarity(compare_scores(t, shuffled(out_p, order), tick=tick)))
    return PairScores(out, inp, tuple(chance))


def matrix_width(m: Matrix) -> int:
    """The width d of a matrix or of a prepared one."""
    return _width(m)


def _rows(m: Matrix) -> int:
    return m.n if isinstance(m, PreparedEmbedding) else int(np.shape(m)[0])


def _width(m: Matrix) -> int:
    """The matrix's own width d."""
    return m.columns if isinstance(m, PreparedEmbedding) else int(np.shape(m)[1])


class _Stages:
    """Turns each stage's own fraction into (stage, fraction of all the work) for a progress callback."""

    def __init__(self, weights: dict[str, float], callback: Callable[[str, float], None] | None) -> None:
        total = sum(weights.values()) or 1.0
        self.callback, self.start, self.share, acc = callback, {}, {}, 0.0
        for name, weight in weights.items():
            self.start[name], self.share[name] = acc / total, weight / total
            acc += weight

    def stage(self, name: str) -> Tick | None:
        if self.callback is None:
            return None
        callback, start, share = self.callback, self.start[name], self.share[name]
        callback(name, start)
        return lambda fraction: callback(name, min(1.0, start + share * fraction))
