"""A preset end to end, as a user runs it: wall time, the cache hit, and every claim read from intervals.

Runs `python -m tieviz experiment --preset P --seeds N` twice in a fresh run store and prints PASS/FAIL
for: the first run's wall time, its overhead (wall time over the sum of its runs' own training times,
target at most 1.2), a cache hit under 5 seconds, the linear-map bias's interval above 0, and each
claim's verdict.

    .venv/bin/python benchmarks/bench_demo.py [--preset demo] [--seeds 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tieviz.experiments.summary_record import Summary  # noqa: E402


def run(preset: str, seeds: int, out: Path, runs: Path) -> float:
    command = [sys.executable, "-m", "tieviz", "experiment", "--preset", preset, "--out", str(out)]
    command += ["--seeds", str(seeds), "--runs-dir", str(runs), "--quiet"]
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def check(name: str, ok: bool, detail: str) -> bool:
    print(f"  {'PASS' if ok else 'FAIL'}  {name}: {detail}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="demo")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--limit", type=float, default=150.0, help="target wall seconds of the first run")
    parser.add_argument("--keep", type=Path, help="keep the run store and summary here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        base = args.keep or Path(scratch)
        first = run(args.preset, args.seeds, base / "out", base / "runs")
        second = run(args.preset, args.seeds, base / "out", base / "runs")
        summary = Summary.read(base / "out" / "summary.json")
    lin = summary.stats["bias.tied.lin_cos"]
    overhead = first / max(summary.train_seconds or 0.0, 1e-9)
    print(f"preset {args.preset}, {summary.n_seeds} seeds, on {summary.device}")
    results = [
        check("first run", first <= args.limit, f"{first:.0f} s (target <= {args.limit:.0f} s)"),
        check("overhead", overhead <= 1.2, f"wall / training time {overhead:.2f} (target <= 1.2)"),
        check("same command again", second < 5, f"{second:.1f} s (target < 5 s)"),
        check(
            "linear-map bias",
            lin.ci_low is not None and lin.ci_low > 0,
            f"{lin.mean:+.3f} [{lin.ci_low}, {lin.ci_high}]",
        ),
        *(
            check(f"verdict {claim}", verdict["status"] == "agrees", verdict["status"])
            for claim, verdict in sorted(summary.verdicts.items())
        ),
    ]
    print(f"{sum(results)}/{len(results)} targets met")


if __name__ == "__main__":
    main()
