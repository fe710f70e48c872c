"""How alike two embedding matrices are, token by token, in ways blind to rotation and scale.

Two independently trained matrices live in unrelated bases, so every measure here is invariant to
an orthogonal change of basis and to a global scale (see shared/science.md, claim 1). All functions
take float arrays of shape [N, d] whose rows are the same N tokens in the same order; the two
matrices may have different widths.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from tieviz.analysis.matrices import unit_rows
from tieviz.analysis.measures import MEASURE_LABELS, MEASURES, scores  # noqa: F401 (labels: older importers)


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

    Ties at the k-th similarity go to the smaller token index, so the result is deterministic and equals
    a stable sort's first k. A partition finds the k-th similarity in linear time per row; a full sort of
    every row cost most of an experiment's analysis.
    """
    unit = unit_rows(x)
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    n = sims.shape[1]
    kth = np.partition(sims, n - k, axis=1)[:, n - k : n - k + 1]  # each row's k-th largest similarity
    mask = sims >= kth
    if (mask.sum(axis=1) == k).all():  # no ties at the k-th value (the usual case)
        return mask
    above = sims > kth
    at = mask & ~above
    wanted = k - above.sum(axis=1, keepdims=True)  # how many of the ties at the k-th value to keep
    return above | (at & (np.cumsum(at, axis=1) <= wanted))


def mutual_knn_per_token(x: np.ndarray, y: np.ndarray, k: int = 10) -> np.ndarray:
    """For each token, the fraction of its k cosine nearest neighbours in x that are also so in y -> [N]."""
    x, y = _pair(x, y)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if k >= x.shape[0]:
        raise ValueError(f"k = {k} neighbours needs more than {k} tokens, got {x.shape[0]}")
    shared = (_knn_mask(x, k) & _knn_mask(y, k)).sum(axis=1)
    return shared / k


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
    source, target = _pair(source, target)
    source, target = _centre(source), _centre(target)
    if method == "linear":
        mapped = least_squares_fit(source, target)
    elif method == "orthogonal":
        return _procrustes_cosines(source, target)
    else:
        raise ValueError(f"method must be 'linear' or 'orthogonal', got {method!r}")
    return _row_cosines(mapped, target)


def _procrustes_cosines(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per-row cosines after the best rotation of centred source onto centred target (zero-padded)."""
    width = max(source.shape[1], target.shape[1])
    source = np.pad(source, ((0, 0), (0, width - source.shape[1])))
    target = np.pad(target, ((0, 0), (0, width - target.shape[1])))
    u, _, vt = np.linalg.svd(source.T @ target)
    return _row_cosines(source @ (u @ vt), target)


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


@dataclass(frozen=True)
class PreparedEmbedding:
    """One [N, d] matrix with what every comparison needs from it alone, computed once.

    The bias over training compares each untied matrix with the tied and the scaled one at every saved
    step; preparing it once halves the neighbour searches and the least-squares bases.
    """

    centred: np.ndarray  # [N, d] float64, column means removed
    basis: np.ndarray  # [N, r] orthonormal columns spanning `centred`: least-squares maps from it
    neighbours: np.ndarray  # [N, N] bool, each row's k cosine nearest neighbours
    gram_norm: float  # ||centredᵀ centred||_F, CKA's normaliser
    k: int


def prepare(x: np.ndarray, k: int = 10) -> PreparedEmbedding:
    """x [N, d] ready for `compare_prepared`; ValueError for what no measure can compare."""
    x, _ = _pair(x, x)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if k >= x.shape[0]:
        raise ValueError(f"k = {k} neighbours needs more than {k} tokens, got {x.shape[0]}")
    centred = _centre(x)
    return PreparedEmbedding(
        centred=centred,
        basis=column_basis(centred),
        neighbours=_knn_mask(x, k),
        gram_norm=float(np.linalg.norm(centred.T @ centred, "fro")),
        k=k,
    )


def shuffled_rows(prepared: PreparedEmbedding, order: np.ndarray) -> PreparedEmbedding:
    """`prepare(x[order])` from `prepare(x)` without redoing its work: every part only permutes.

    Chance floors compare against a hundred shuffles of one matrix; this makes each shuffle an index.
    """
    return PreparedEmbedding(
        centred=prepared.centred[order],
        basis=prepared.basis[order],
        neighbours=prepared.neighbours[order][:, order],
        gram_norm=prepared.gram_norm,
        k=prepared.k,
    )


def compare_prepared(target: PreparedEmbedding, source: PreparedEmbedding) -> EmbeddingSimilarity:
    """`compare_embeddings` of two prepared matrices (same tokens, same k)."""
    if target.centred.shape[0] != source.centred.shape[0] or target.k != source.k:
        raise ValueError("prepared matrices must have the same tokens (rows) and the same k")
    t, src = target.centred, source.centred
    lin = _row_cosines(source.basis @ (source.basis.T @ t), t)
    proc = _procrustes_cosines(src, t)
    den = target.gram_norm * source.gram_norm
    if den == 0:
        raise ValueError("linear CKA is undefined when a matrix has identical rows (no variance)")
    mknn = (target.neighbours & source.neighbours).sum(axis=1) / target.k
    return EmbeddingSimilarity(
        lin_cos=float(lin.mean()),
        proc_cos=float(proc.mean()),
        cka=float(np.linalg.norm(t.T @ src, "fro") ** 2 / den),
        mknn=float(mknn.mean()),
        lin_cos_per_token=lin,
        proc_cos_per_token=proc,
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
    untied_in: np.ndarray,
    untied_out: np.ndarray,
    *,
    k: int = 10,
    shuffles: int = 3,
    seed: int = 0,
    progress=None,
) -> PairScores:
    """Table 1 of one tied/untied pair with its chance floor; rows are the same tokens in the same order.

    The floor's permutations come from `np.random.default_rng(seed)`, one `permutation(N)` per shuffle.
    """
    tied_p = prepare(tied, k)
    out_p = prepare(untied_out, k)
    in_p = prepare(untied_in, k)
    rng = np.random.default_rng(seed)
    n = tied_p.centred.shape[0]
    chance = tuple(
        compare_prepared(tied_p, prepare(np.asarray(untied_out)[rng.permutation(n)], k))
        for _ in range(shuffles)
    )
    return PairScores(compare_prepared(tied_p, out_p), compare_prepared(tied_p, in_p), chance)
