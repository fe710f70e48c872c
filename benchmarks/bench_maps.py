"""How long the embedding maps take: UMAP cold and warm, a cache hit, and PCA, on 1,000 tokens x 128 dims.

Run: .venv/bin/python benchmarks/bench_maps.py
Targets (from the issue, on a 2-core CPU): warm UMAP < 5 s, cached < 0.5 s.
"Cold" is the first UMAP call in this process: it includes importing umap and numba compiling it
(numba may reuse its on-disk cache from earlier runs, which makes "cold" look faster).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from tieviz.analysis.maps import cached_embedding_maps, embedding_maps  # noqa: E402

N_TOKENS, WIDTH = 1000, 128
WARM_TARGET_S, CACHED_TARGET_S = 5.0, 0.5


def clustered(seed: int, n: int = N_TOKENS, d: int = WIDTH, clusters: int = 20) -> np.ndarray:
    """[n, d] float32 rows around `clusters` random directions, like token groups in an embedding."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, d))
    return (centres[rng.integers(clusters, size=n)] + 0.6 * rng.normal(size=(n, d))).astype(np.float32)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def verdict(seconds: float, target: float) -> str:
    return f"{'PASS' if seconds < target else 'FAIL'} (target < {target} s)"


def main() -> None:
    cold = timed(lambda: embedding_maps({"tied": clustered(0)}, method="umap"))
    warm = timed(lambda: embedding_maps({"tied": clustered(1)}, method="umap"))
    with tempfile.TemporaryDirectory() as tmp:
        mats = {"tied": clustered(2)}
        miss = timed(lambda: cached_embedding_maps(Path(tmp), mats, method="umap"))
        cached = timed(lambda: cached_embedding_maps(Path(tmp), mats, method="umap"))
    pca = timed(lambda: embedding_maps({"tied": clustered(3)}, method="pca"))

    print(f"embedding maps, {N_TOKENS} tokens x {WIDTH} dims, one matrix")
    print(f"  UMAP cold (import + numba compile): {cold:8.3f} s")
    print(f"  UMAP warm (new matrix):             {warm:8.3f} s   {verdict(warm, WARM_TARGET_S)}")
    print(f"  cache miss (UMAP + write):          {miss:8.3f} s")
    print(f"  cache hit:                          {cached:8.3f} s   {verdict(cached, CACHED_TARGET_S)}")
    print(f"  PCA:                                {pca:8.3f} s")
    print(f"  cached / warm ratio:                {cached / warm:8.4f}")


if __name__ == "__main__":
    main()
