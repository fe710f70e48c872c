"""Two trainings side by side: how much slower is the pair than one run alone?

Times one 1-seed toy experiment (`python -m tieviz experiment --preset toy --seeds 1`) alone, then two
started together (separate run stores, so neither is a cache hit), and prints the ratio of the pair's
wall time to one alone. On two cores the pair should take about as long as one (ratio ~1); the target is
at most 2.5. Before tieviz chose torch's threads per process (tieviz.system.threads) it was 27.9 on a 2-core
host. `--threads N` forces TIEVIZ_TORCH_THREADS=N in both (e.g. the core count, for the old behaviour).

    .venv/bin/python benchmarks/bench_concurrent.py [--preset toy] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def start(folder: Path, preset: str, env: dict) -> subprocess.Popen:
    command = [sys.executable, "-m", "tieviz", "experiment", "--preset", preset, "--seeds", "1"]
    command += ["--runs-dir", str(folder / "runs"), "--out", str(folder / "out"), "--quiet"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)


def timed(folders: list[Path], preset: str, env: dict) -> float:
    """Wall seconds until every experiment started together has finished."""
    begin = time.perf_counter()
    processes = [start(folder, preset, env) for folder in folders]
    for process in processes:
        if process.wait() != 0:
            raise SystemExit(f"an experiment failed (exit code {process.returncode})")
    return time.perf_counter() - begin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="toy")
    parser.add_argument("--threads", type=int, help="force TIEVIZ_TORCH_THREADS in both processes")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("TIEVIZ_TORCH_THREADS", None)
    if args.threads:
        env["TIEVIZ_TORCH_THREADS"] = str(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        alone = timed([base / "alone"], args.preset, env)
        pair = timed([base / "a", base / "b"], args.preset, env)
    print(f"one {args.preset} experiment alone: {alone:.1f} s")
    print(f"two started together:       {pair:.1f} s")
    print(f"ratio (pair / alone):        {pair / alone:.2f}x  (target <= 2.5x; was 27.9x)")
    print(f"cores: {os.cpu_count()}, load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
