"""The Train page's time estimate against the real time, for the toy and the default (demo) experiment.

In a fresh run store, each step runs `python -m tieviz experiment` in a new process (start-up included,
as a job does) and prints the estimate made beforehand from the store's earlier runs, the actual wall
time, and their ratio; the target is 0.7-1.3.

    1. toy, seed 1     no earlier run: the rough guess (printed, not held to the target)
    2. toy, seed 101   from step 1 (same shape)
    3. demo, seed 1    from the toy runs (this machine's speed, another shape)
    4. demo, seed 101  from step 3 (same shape)

Seeds 1 and 101 start seed sets that share no run (a preset trains seeds s .. s + seeds - 1), so every
step trains all its runs; an overlapping set would reuse stored runs, which the estimate also counts.

    .venv/bin/python benchmarks/bench_estimate.py [--only toy] [--keep DIR]
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

from tieviz.config import preset  # noqa: E402
from tieviz.experiments.catalog import list_experiments  # noqa: E402
from tieviz.experiments.runner import stored_run_count  # noqa: E402
from tieviz.experiments.time_estimate import estimate  # noqa: E402
from tieviz.training.run_store import RunStore  # noqa: E402

STEPS = (("toy", 1, False), ("toy", 101, True), ("demo", 1, True), ("demo", 101, True))  # preset, seed, held


def summaries(runs: Path) -> list:
    return [e.header for e in list_experiments(runs)]


def run(name: str, seed: int, runs: Path, out: Path) -> float:
    command = [sys.executable, "-m", "tieviz", "experiment", "--preset", name, "--seed", str(seed)]
    command += ["--device", "cpu", "--out", str(out), "--runs-dir", str(runs), "--quiet"]
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("toy", "demo"), help="run only this preset's steps")
    parser.add_argument("--keep", type=Path, help="keep the run store here")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="tieviz-bench-estimate-"))
    runs = base / "runs"
    print(f"{'experiment':<16}{'basis':<14}{'estimate':>10}{'actual':>10}{'ratio':>8}")
    ok = True
    for name, seed, held in STEPS:
        if args.only and name != args.only:
            continue
        config = preset(name, seed=seed, device="cpu")
        stored = stored_run_count(config, RunStore(runs))
        guess = estimate(config, "cpu", summaries(runs), runs_stored=stored)
        took = run(name, seed, runs, base / f"{name}-{seed}")
        ratio = guess.seconds / took
        verdict = ("PASS" if 0.7 <= ratio <= 1.3 else "FAIL") if held else "(not held)"
        ok &= verdict != "FAIL"
        label = f"{name}, seed {seed}"
        print(
            f"{label:<16}{guess.basis:<14}{guess.seconds:>9.0f}s{took:>9.0f}s{ratio:>8.2f}  {verdict}",
            flush=True,
        )
    print("all held estimates within 0.7-1.3" if ok else "some estimates are outside 0.7-1.3")


if __name__ == "__main__":
    main()
