"""2-D maps of embedding matrices, aligned so that panels can be compared, and nearest-neighbour tables.

A map is a picture, not a measurement: distances in 2-D are only roughly those of the original space,
so nearest neighbours are always computed on the original rows (cosine). Layouts of several matrices
over the same tokens are aligned onto the first one (rotation, reflection, uniform scale, translation),
because UMAP and PCA fix no orientation and two unaligned panels would look different for no reason.

UMAP (umap-learn) takes seconds to import and JIT-compile, so it is imported only inside `layout_2d`;
importing this module needs numpy alone. `cached_embedding_maps` keeps finished layouts on disk.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from tieviz.analysis.matrices import check_matrix, unit_rows
from tieviz.system.atomic import atomic_path

Method = Literal["umap", "pca"]
_CACHE_VERSION = "maps-v1"  # bump when layouts computed from the same inputs would change
_EXACT_MAX_TOKENS = 4096  # UMAP on a precomputed N x N distance matrix up to here (128 MiB at most)
_DISTANCE_DECIMALS = 6


def _pca_2d(x: np.ndarray) -> np.ndarray:
    """Top-2 principal-component scores [N, 2] of the L2-normalised rows of x [N, d].

    Signs are fixed from the scores themselves (largest-magnitude score positive), so the result does
    not depend on the basis of x: a rotated copy of x gives exactly the same picture.
    """
    unit = unit_rows(x)
    centred = unit - unit.mean(axis=0, keepdims=True)
    # eigh of the smaller Gram matrix, not an SVD: LAPACK's SVD was ~50x slower on the shared 2-core CPU.
    n, d = centred.shape
    if d <= n:
        _, vecs = np.linalg.eigh(centred.T @ centred)  # ascending eigenvalues
        scores = centred @ vecs[:, ::-1][:, :2]
    else:
        vals, vecs = np.linalg.eigh(centred @ centred.T)
        scores = vecs[:, ::-1][:, :2] * np.sqrt(np.clip(vals[::-1][:2], 0.0, None))
    if scores.shape[1] < 2:  # width 1: pad with a zero axis so the result is always [N, 2]
        scores = np.pad(scores, ((0, 0), (0, 2 - scores.shape[1])))
    for j in range(2):
        if scores[np.argmax(np.abs(scores[:, j])), j] < 0:
            scores[:, j] = -scores[:, j]
    return scores


def _cosine_distances(x: np.ndarray) -> np.ndarray:
    """Cosine distances [N, N] of the rows of x [N, d], rounded to 1e-6.

    Rounding removes the last-bit differences a change of basis leaves in float arithmetic; UMAP's
    stochastic optimisation would otherwise amplify them into a different picture.
    """
    unit = unit_rows(x)
    dist = np.clip(np.round(1.0 - unit @ unit.T, _DISTANCE_DECIMALS), 0.0, 2.0)
    np.fill_diagonal(dist, 0.0)
    return dist


def _umap_2d(x: np.ndarray, seed: int, n_neighbors: int, min_dist: float) -> np.ndarray:
    """UMAP [N, 2] of x [N, d] with the cosine metric; a fixed seed makes it deterministic (single-threaded).

    Up to _EXACT_MAX_TOKENS rows, UMAP gets a precomputed cosine-distance matrix, which makes the map
    depend only on the cosine geometry: a rotated copy of x gives the same picture. Above that the
    N x N matrix would be too large, so UMAP's own approximate cosine search is used instead.
    """
    import umap  # slow: numba compilation on first use

    exact = x.shape[0] <= _EXACT_MAX_TOKENS
    reducer = umap.UMAP(
        n_components=2,
        n_neighbors=n_neighbors,
        min_dist=min_dist,
        metric="precomputed" if exact else "cosine",
        random_state=seed,
        n_jobs=1,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiny-data and spectral-init notices are not actionable here
        return np.asarray(reducer.fit_transform(_cosine_distances(x) if exact else x), dtype=np.float64)


def layout_2d(
    matrix: np.ndarray,
    method: Method = "umap",
    seed: int = 0,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
) -> np.ndarray:
    """A 2-D layout [N, 2] of the rows of `matrix` [N, d].

    UMAP uses the cosine metric (direction, not length, is what embedding similarity means here); PCA
    works on L2-normalised rows for the same reason, as a fast cosine-ish preview. n_neighbors is
    clamped to N - 1.
    """
    x = check_matrix(matrix)
    if x.shape[0] < 4:
        raise ValueError(f"a 2-D map needs at least 4 tokens, got {x.shape[0]}")
    if method == "pca":
        return _pca_2d(x)
    if method != "umap":
        raise ValueError(f"unknown map method {method!r}; choose 'umap' or 'pca'")
    if n_neighbors < 2:
        raise ValueError(f"UMAP needs n_neighbors >= 2, got {n_neighbors}")
    if not 0.0 <= min_dist <= 1.0:
        raise ValueError(f"UMAP min_dist must be between 0 and 1, got {min_dist}")
    return _umap_2d(x, seed, min(n_neighbors, x.shape[0] - 1), min_dist)


def align_layout(reference: np.ndarray, layout: np.ndarray) -> np.ndarray:
    """`layout` [N, k] mapped onto `reference` [N, k] by the best rotation/reflection, scale and shift.

    Orthogonal Procrustes on the centred point clouds; row i of both must be the same token.
    """
    ref = check_matrix(reference, "reference layout")
    lay = check_matrix(layout, "layout")
    if ref.shape != lay.shape:
        raise ValueError(f"layouts to align must have the same shape, got {ref.shape} and {lay.shape}")
    ref_mean, lay_mean = ref.mean(axis=0), lay.mean(axis=0)
    a, b = ref - ref_mean, lay - lay_mean
    b_norm2 = float(np.sum(b * b))
    if b_norm2 == 0.0:  # all points in one place: only the shift is defined
        return np.broadcast_to(ref_mean, lay.shape).copy()
    u, s, vt = np.linalg.svd(b.T @ a)
    rotation = u @ vt  # may include a reflection, on purpose
    scale = float(s.sum()) / b_norm2
    return scale * (b @ rotation) + ref_mean


def _check_same_tokens(matrices: Mapping[str, np.ndarray]) -> None:
    if not matrices:
        raise ValueError("no embedding matrices were given")
    rows = {name: np.shape(m)[0] if np.ndim(m) == 2 else None for name, m in matrices.items()}
    if len(set(rows.values())) != 1:
        raise ValueError(f"all matrices must have the same tokens (rows), got {rows}")


def embedding_maps(
    matrices: Mapping[str, np.ndarray],
    method: Method = "umap",
    seed: int = 0,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
) -> dict[str, np.ndarray]:
    """A layout [N, 2] per matrix [N, d_i], each aligned onto the first one's layout; keys kept in order."""
    _check_same_tokens(matrices)
    layouts: dict[str, np.ndarray] = {}
    reference: np.ndarray | None = None
    for name, matrix in matrices.items():
        layout = layout_2d(matrix, method, seed, n_neighbors, min_dist)
        if reference is None:
            reference = layout
        else:
            layout = align_layout(reference, layout)
        layouts[name] = layout
    return layouts


def nearest_neighbours(matrix: np.ndarray, index: int, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Indices [k] and cosine similarities [k] of the k rows of `matrix` [N, d] closest to row `index`.

    Computed in the original space, never the 2-D map. The row itself is excluded; ties go to the
    smaller index; k is clamped to N - 1.
    """
    x = check_matrix(matrix)
    n = x.shape[0]
    if not -n <= index < n:
        raise ValueError(f"token index {index} is out of range for {n} tokens")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    index = index % n
    unit = unit_rows(x)
    sims = unit @ unit[index]
    order = np.argsort(-sims, kind="stable")
    order = order[order != index][: min(k, n - 1)]
    return order, sims[order]


def neighbour_table(
    matrices: Mapping[str, np.ndarray],
    labels: Sequence[str],
    index: int,
    k: int = 10,
) -> dict[str, list[tuple[str, float]]]:
    """For each matrix, the k nearest tokens to token `index` as (label, cosine similarity), closest first."""
    _check_same_tokens(matrices)
    n = np.shape(next(iter(matrices.values())))[0]
    if len(labels) != n:
        raise ValueError(f"got {len(labels)} labels for {n} tokens")
    table: dict[str, list[tuple[str, float]]] = {}
    for name, matrix in matrices.items():
        idx, sims = nearest_neighbours(matrix, index, k)
        table[name] = [(str(labels[i]), float(s)) for i, s in zip(idx, sims, strict=True)]
    return table


def _cache_key(
    matrices: Mapping[str, np.ndarray], method: str, seed: int, n_neighbors: int, min_dist: float
) -> str:
    """sha256 over the matrices' names, dtypes, shapes and bytes (in order) and the layout parameters."""
    h = hashlib.sha256(f"{_CACHE_VERSION}|{method}|{seed}|{n_neighbors}|{min_dist!r}".encode())
    for name, matrix in matrices.items():
        arr = np.ascontiguousarray(matrix)
        h.update(f"|{name}|{arr.dtype.str}|{arr.shape}|".encode())
        h.update(memoryview(arr).cast("B"))
    return h.hexdigest()


def _load_cached(path: Path, names: list[str], n: int) -> dict[str, np.ndarray] | None:
    """The layouts stored at `path`, or None when the file is missing, unreadable or does not fit."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if [str(s) for s in data["names"]] != names:
                return None
            layouts = {name: np.array(data[f"layout_{i}"]) for i, name in enumerate(names)}
    except Exception:  # a half-written or corrupt file is simply recomputed
        return None
    if any(lay.shape != (n, 2) or not np.isfinite(lay).all() for lay in layouts.values()):
        return None
    return layouts


def _save_atomic(path: Path, layouts: Mapping[str, np.ndarray]) -> None:
    """Write the layouts as .npz, atomically."""
    arrays = {f"layout_{i}": lay for i, lay in enumerate(layouts.values())}
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, names=np.array(list(layouts), dtype=str), **arrays)
        f.flush()
        os.fsync(f.fileno())


def cached_embedding_maps(
    cache_dir: Path,
    matrices: Mapping[str, np.ndarray],
    method: Method = "umap",
    seed: int = 0,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
) -> dict[str, np.ndarray]:
    """`embedding_maps`, remembered on disk under `cache_dir` (e.g. <run_dir>/analysis/maps).

    Keyed by a hash of the matrices' bytes and every parameter, so a changed matrix or setting never
    returns a stale map. A corrupt cache file is ignored and overwritten.
    """
    _check_same_tokens(matrices)
    names = list(matrices)
    n = np.shape(matrices[names[0]])[0]
    path = Path(cache_dir) / f"{method}-{_cache_key(matrices, method, seed, n_neighbors, min_dist)[:24]}.npz"
    cached = _load_cached(path, names, n)
    if cached is not None:
        return cached
    layouts = embedding_maps(matrices, method, seed, n_neighbors, min_dist)
    _save_atomic(path, layouts)
    return layouts
