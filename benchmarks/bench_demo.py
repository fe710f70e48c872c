"""The demo preset end to end, as a user runs it: wall time, the cache hit, and the paper's direction.

Runs `python -m tieviz experiment --preset demo` twice in a fresh run store and prints PASS/FAIL for
each of the core issue's targets: under 5 minutes on a 2-core CPU, the tied matrix closer to the untied
output matrix than to the input one (linear-map cosine, CKA, mutual k-NN), an early gradient ratio
above 2, the scaled arm less biased than the tied one, and a cache hit under 5 seconds.

    .venv/bin/python benchmarks/bench_demo.py [--preset demo] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(preset: str, out: Path, runs: Path) -> float:
    command = [sys.executable, "-m", "tieviz", "experiment", "--preset", preset, "--out", str(out)]
    started = time.perf_counter()
    subprocess.run([*command, "--runs-dir", str(runs), "--quiet"], cwd=ROOT, check=True)
    return time.perf_counter() - started


def check(name: str, ok: bool, detail: str) -> bool:
    print(f"  {'PASS' if ok else 'FAIL'}  {name}: {detail}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="demo")
    parser.add_argument("--keep", type=Path, help="keep the run store and summary here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        base = args.keep or Path(scratch)
        first = run(args.preset, base / "out", base / "runs")
        second = run(args.preset, base / "out", base / "runs")
        summary = json.loads((base / "out" / "summary.json").read_text())
    tied, scaled, ratio = summary["bias"]["tied"], summary["bias"]["scaled"], summary["grad_ratio"]
    print(f"preset {args.preset} on {summary['device']}")
    results = [
        check("first run", first < 300, f"{first:.0f} s (target < 300 s)"),
        check("same command again", second < 5, f"{second:.1f} s (target < 5 s)"),
        check(
            "linear-map cosine",
            tied["lin_cos_out"] > tied["lin_cos_in"],
            f"out {tied['lin_cos_out']:.3f} vs in {tied['lin_cos_in']:.3f}",
        ),
        check(
            "CKA", tied["cka_out"] > tied["cka_in"], f"out {tied['cka_out']:.3f} vs in {tied['cka_in']:.3f}"
        ),
        check(
            "mutual 10-NN",
            tied["mknn_out"] > tied["mknn_in"],
            f"out {tied['mknn_out']:.3f} vs in {tied['mknn_in']:.3f}",
        ),
        check(
            "early gradient ratio",
            ratio["tied_early"] > 2,
            f"{ratio['tied_early']:.2f} (late {ratio['tied_late']:.2f})",
        ),
        check(
            "scaled arm less biased",
            scaled["cka_out"] - scaled["cka_in"] < tied["cka_out"] - tied["cka_in"],
            f"{scaled['cka_out'] - scaled['cka_in']:+.3f} vs tied {tied['cka_out'] - tied['cka_in']:+.3f}",
        ),
    ]
    print(f"{sum(results)}/{len(results)} targets met")


if __name__ == "__main__":
    main()
