"""Each token's k cosine nearest neighbours over a whole vocabulary, exactly, in bounded memory.

The similarity matrix [N, N] is never held: it is computed in square blocks of `block` rows and columns,
each block once for both of its halves (cosine similarity is symmetric), and every row keeps a running
top-k. A block's candidates are only its entries at or above a lower bound on the row's k-th best value
(the larger of the running k-th best and the block's k-th largest chunk maximum), so the exact top-k is
found from a handful of candidates per row instead of partitioning every row.

Order among equal similarities goes to the smaller token index, so the result equals the first k of a
stable sort of each row by descending similarity, ties included.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tieviz.analysis.matrices import unit_rows

FLOAT64_MAX_ROWS = 8192  # up to here similarities are float64 (cheap); above, float32 (see `nearest`)
BLOCK = 2048  # rows and columns of one similarity block: 16 MiB in float32


class _TopK:
    """Every row's best k (similarity, column) so far, ordered by similarity, then smaller column."""

    def __init__(self, n: int, k: int, dtype: np.dtype) -> None:
        self.k = k
        self.values = np.full((n, k), -np.inf, dtype)
        self.columns = np.full((n, k), n, np.int64)  # n: no neighbour yet (sorts after every real one)

    @property
    def kth(self) -> np.ndarray:
        return self.values[:, -1]

    def offer(self, sims: np.ndarray, row0: int, col0: int, axis: int) -> None:
        """Offer a block's entries to its rows (axis=1: sims[i, j] belongs to row row0 + i) or, for the
        mirrored half of a symmetric block, to its columns (axis=0: sims[i, j] belongs to row col0 + j).

        The other index is split into m strided groups ({g, g + m, g + 2m, ...}); each owner's group
        maxima are m distinct entries, so their k-th largest bounds its k-th best from below, and only
        groups whose maximum reaches the bound (or the running k-th best, if higher) are read in full.
        """
        k = self.k
        owners_n, n = (sims.shape[0], sims.shape[1]) if axis == 1 else (sims.shape[1], sims.shape[0])
        start, other0 = (row0, col0) if axis == 1 else (col0, row0)
        running = self.kth[start : start + owners_n]
        width = min(4, n // (2 * k))
        if width < 1:  # too few entries to bound: read them all
            o, p = np.nonzero((sims if axis == 1 else sims.T) >= running[:, None])
            self._take(sims, o, p, start, other0, axis)
            return
        m = n // width
        if axis == 1:
            maxima = sims[:, : m * width].reshape(owners_n, width, m).max(axis=1)  # [owners, m]
        else:
            maxima = sims[: m * width].reshape(width, m, owners_n).max(axis=0).T
        floor = running.copy()
        first = ~np.isfinite(running)  # rows offered entries for the first time: bound them by this block
        if first.any():
            floor[first] = np.partition(maxima[first], m - k, axis=1)[:, m - k]
        o, g = np.nonzero(maxima >= floor[:, None])
        p = (g[:, None] + m * np.arange(width)).ravel()
        o = np.repeat(o, width)
        values = sims[o, p] if axis == 1 else sims[p, o]
        keep = values >= floor[o]
        o, p = o[keep], p[keep]
        rest = sims[:, m * width :] if axis == 1 else sims[m * width :].T  # entries no group holds
        if rest.size:
            ro, rp = np.nonzero(rest >= floor[:, None])
            o, p = np.concatenate([o, ro]), np.concatenate([p, rp + m * width])
        self._take(sims, o, p, start, other0, axis)

    def _take(self, sims: np.ndarray, o: np.ndarray, p: np.ndarray, start: int, other0: int, axis: int):
        if o.size:
            values = sims[o, p] if axis == 1 else sims[p, o]
            self._merge(o + start, p + other0, values)

    def _merge(self, owners: np.ndarray, others: np.ndarray, values: np.ndarray) -> None:
        rows = np.unique(owners)
        k = self.k
        all_rows = np.concatenate([owners, np.repeat(rows, k)])
        all_cols = np.concatenate([others, self.columns[rows].ravel()])
        all_vals = np.concatenate([values, self.values[rows].ravel()])
        order = np.lexsort((all_cols, -all_vals, all_rows))
        sorted_rows = all_rows[order]
        starts = np.searchsorted(sorted_rows, rows)
        counts = np.diff(np.append(starts, sorted_rows.size))
        rank = np.arange(sorted_rows.size) - np.repeat(starts, counts)
        keep = order[rank < k].reshape(rows.size, k)
        self.values[rows] = all_vals[keep]
        self.columns[rows] = all_cols[keep]


def nearest(
    x: np.ndarray,
    k: int,
    *,
    dtype: type | None = None,
    block: int = BLOCK,
    tick: Callable[[float], None] | None = None,
) -> np.ndarray:
    """[N, k] token ids: each row's k cosine nearest neighbours in x [N, d] (not itself), nearest first.

    Similarities are float64 up to FLOAT64_MAX_ROWS tokens and float32 above (twice as fast, half the
    memory): float32 rounds a cosine by at most about 1e-6, so a neighbour changes only where two
    similarities at the k-th place lie that close, which shifts a mutual k-NN score by 1/(k·N) per such
    token. `tick(fraction)` reports the share of the blocks done.
    """
    n = x.shape[0]
    if not 1 <= k < n:
        raise ValueError(f"k = {k} neighbours needs more than {k} tokens, got {n}")
    if dtype is None:
        dtype = np.float64 if n <= FLOAT64_MAX_ROWS else np.float32
    unit = unit_rows(np.asarray(x, dtype=dtype))
    top = _TopK(n, k, np.dtype(dtype))
    starts = range(0, n, block)
    total, done = len(starts) * (len(starts) + 1) // 2, 0
    for i0 in starts:
        rows = unit[i0 : i0 + block]
        for j0 in range(i0, n, block):
            sims = rows @ unit[j0 : j0 + block].T
            if j0 == i0:
                np.fill_diagonal(sims, -np.inf)
            top.offer(sims, i0, j0, axis=1)
            if j0 != i0:
                top.offer(sims, i0, j0, axis=0)
            done += 1
            if tick is not None:
                tick(done / total)
    return top.columns


def overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per row, the share of a's k neighbours [N, k] that are also among b's [N, k] -> [N]."""
    shared = np.zeros(a.shape[0], dtype=np.int64)
    for start in range(0, a.shape[0], 65536):  # [rows, k, k] booleans, a few MiB at a time
        ra, rb = a[start : start + 65536], b[start : start + 65536]
        shared[start : start + ra.shape[0]] = (ra[:, :, None] == rb[:, None, :]).any(axis=2).sum(axis=1)
    return shared / a.shape[1]


def mask(neighbours: np.ndarray) -> np.ndarray:
    """[N, N] booleans from [N, k] neighbour ids: True at (i, j) when j is one of i's (small N only)."""
    n = neighbours.shape[0]
    out = np.zeros((n, n), dtype=bool)
    np.put_along_axis(out, neighbours, True, axis=1)
    return out
