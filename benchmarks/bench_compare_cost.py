"""The Checkpoints page's cost estimate (tieviz.checkpoint_analysis.cost) against a measured comparison.

Prints, per shape, the estimated and measured peak memory (over the start) and CPU time, and their ratios:
a ratio above 1 means the estimate is cautious (the page then picks fewer tokens than would fit).
Run on a quiet machine: .venv/bin/python benchmarks/bench_compare_cost.py [N:d ...]
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time

SHAPES = ("6000:256", "12000:128", "20000:256")


def measure(n: int, d: int) -> None:
    import numpy as np

    from tieviz.checkpoint_analysis.compare import compare_matrices
    from tieviz.checkpoint_analysis.cost import compare_cost

    rng = np.random.default_rng(0)
    tied, untied_in, untied_out = (rng.normal(size=(n, d)).astype(np.float32) for _ in range(3))
    start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    cpu = time.process_time()
    compare_matrices(tied, untied_in, untied_out, shuffles=3)
    cpu = time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - start
    est = compare_cost(n, d, d, shuffles=3)
    memory = f"estimate {est.peak_bytes / 2**20:8,.0f} MiB, measured {peak / 2**20:8,.0f} MiB"
    seconds = f"estimate {est.seconds:7.1f} s, measured {cpu:7.1f} s"
    ratios = f"{est.peak_bytes / max(peak, 1):.2f}", f"{est.seconds / max(cpu, 1e-9):.2f}"
    print(f"N={n:>6} d={d:>4}  memory: {memory} (ratio {ratios[0]})  CPU: {seconds} (ratio {ratios[1]})")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        n, d = (int(x) for x in sys.argv[2].split(":"))
        measure(n, d)
    else:
        for shape in sys.argv[1:] or SHAPES:  # one process per shape: ru_maxrss is a high-water mark
            subprocess.run([sys.executable, __file__, "--one", shape], check=True)
