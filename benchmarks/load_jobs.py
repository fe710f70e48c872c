"""Load test of the job layer: simulated visitors submit, share and cancel tiny experiments at once.

Run: .venv/bin/python benchmarks/load_jobs.py [--visitors 6] [--per-visitor 4] [--max-seconds 600]
Each visitor is a thread with its own plan; every config is asked for by two visitors (duplicates),
some jobs are cancelled by everyone who asked (some while queued, one while running), one by only half
of its visitors (it must still finish), and the per-visitor queue limit makes visitors wait and retry.
Everything is local: worker processes on this machine, no network. Exits 1 if a check fails.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from tieviz.config import ARM_NAMES, preset  # noqa: E402
from tieviz.jobs import JobManager, LimitError, Limits  # noqa: E402
from tieviz.training.run_store import RunStore  # noqa: E402


def tiny(seed: int, steps: int):
    return preset(
        "toy", steps=steps, batch_size=4, d_model=16, n_heads=2, toy_tokens=8000, device="cpu", seed=seed
    )


class PeakMemory(threading.Thread):
    """Samples the peak resident memory (VmHWM) of every worker process while the test runs."""

    def __init__(self, manager: JobManager) -> None:
        super().__init__(daemon=True)
        self.manager, self.worker_peak_kb, self.total_peak_kb, self.halt = manager, 0, 0, threading.Event()

    def run(self) -> None:
        while not self.halt.wait(0.1):
            total = 0
            for state in self.manager.jobs_store.all():
                if state["status"] == "running" and state.get("worker_pid"):
                    hwm, rss = _status_kb(state["worker_pid"])
                    self.worker_peak_kb, total = max(self.worker_peak_kb, hwm), total + rss
            self.total_peak_kb = max(self.total_peak_kb, total)


def _status_kb(pid: int) -> tuple[int, int]:
    try:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    except (OSError, ValueError):
        return 0, 0
    return int(fields.get("VmHWM", "0 kB").split()[0]), int(fields.get("VmRSS", "0 kB").split()[0])


def plan(visitors: int, per_visitor: int, rng: random.Random) -> tuple[dict[str, list[int]], dict, set[int]]:
    """Which seeds each visitor asks for (each seed by two visitors), and who cancels what, and when."""
    n_configs = visitors * per_visitor // 2
    asks: dict[str, list[int]] = {f"visitor{v}": [] for v in range(visitors)}
    askers: dict[int, list[str]] = {}
    for seed in range(n_configs):
        shift = 1 + (seed // visitors) % (visitors - 1)  # a different second visitor in each round
        askers[seed] = [f"visitor{seed % visitors}", f"visitor{(seed + shift) % visitors}"]
        for visitor in askers[seed]:
            asks[visitor].append(seed)
    for seeds in asks.values():
        rng.shuffle(seeds)
    chosen = rng.sample(range(n_configs), 4)
    # (visitor, seed) -> "now" (right after asking), "running" (once it runs), "shared" (once both asked)
    cancels: dict[tuple[str, int], str] = {}
    for seed, when in zip(chosen[:3], ("now", "now", "running"), strict=True):
        for visitor in askers[seed]:
            cancels[(visitor, seed)] = when
    cancels[(askers[chosen[3]][0], chosen[3])] = "shared"  # one of its two visitors: it must still train
    return asks, cancels, set(chosen[:3])


def visitor_thread(manager, visitor, seeds, cancels, steps, submitted, errors, rng, deadline):
    ids: dict[int, str] = {}
    for seed in seeds:
        while time.monotonic() < deadline:
            try:
                job = manager.submit(tiny(seed, steps), visitor)
                ids[seed] = job.id
                submitted.append((visitor, seed, job.id, time.time()))
                break
            except LimitError:
                errors["limit"] += 1
                time.sleep(0.5 + rng.random())  # wait for one of ours to finish, like a person would
        if cancels.get((visitor, seed)) == "now":
            manager.cancel(ids[seed], visitor)
        time.sleep(rng.random() * 0.3)
    for (who, seed), when in cancels.items():
        if who != visitor or when not in ("running", "shared") or seed not in ids:
            continue
        while time.monotonic() < deadline:
            job = manager.get(ids[seed])
            if (
                (job.status != "queued")
                if when == "running"
                else (len(job.visitors) == 2 or job.status != "queued")
            ):
                break
            time.sleep(0.05)
        manager.cancel(ids[seed], visitor)


def check_runs(root: Path) -> tuple[int, list[str]]:
    """Every directory in the run store is complete and its tensors load; returns (count, problems)."""
    from safetensors.numpy import load_file

    store, problems = RunStore(root / "runs"), []
    for path in sorted(
        p for p in store.root.iterdir() if not p.name.startswith(".") and p.name != "experiments"
    ):
        if not store.is_complete(path.name):
            problems.append(f"{path.name}: not complete")
    for run in store.list_runs():
        try:
            load_file(str(run.path / "model.safetensors"))
            w_e, w_u = run.embeddings()
            assert w_e.shape == w_u.shape and len(run.metrics()) == run.info["config"]["train"]["steps"]
        except Exception as error:
            problems.append(f"{run.key}: {type(error).__name__}: {error}")
    return len(store.list_runs()), problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=6)
    parser.add_argument("--per-visitor", type=int, default=4)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=None)
    parser.add_argument("--max-seconds", type=float, default=600)
    parser.add_argument("--threads", default="1", help="torch threads per worker (TIEVIZ_TORCH_THREADS)")
    parser.add_argument("--root", type=Path, default=None, help="data folder (default: a new temporary one)")
    args = parser.parse_args()
    if args.visitors < 5 or args.visitors * args.per_visitor < 20:
        parser.error("the load test needs at least 5 visitors and 20 submissions")
    os.environ.setdefault("TIEVIZ_TORCH_THREADS", args.threads)  # tiny models: 1 thread is fastest
    root = args.root or Path(tempfile.mkdtemp(prefix="tieviz-load-"))
    rng = random.Random(0)
    asks, cancels, fully_cancelled = plan(args.visitors, args.per_visitor, rng)

    started = time.monotonic()
    deadline = started + args.max_seconds
    manager = JobManager(root, concurrency=args.concurrency, limits=Limits(max_queued_per_visitor=3))
    memory = PeakMemory(manager)
    memory.start()
    submitted: list = []
    errors: Counter = Counter()
    threads = [
        threading.Thread(
            target=visitor_thread,
            args=(manager, v, seeds, cancels, args.steps, submitted, errors, random.Random(i), deadline),
        )
        for i, (v, seeds) in enumerate(asks.items())
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    while any(j.status in ("queued", "running") for j in manager.jobs()) and time.monotonic() < deadline:
        time.sleep(0.2)
    timed_out = time.monotonic() >= deadline
    finished_seed = min(set(range(len(asks) * args.per_visitor // 2)) - fully_cancelled)
    cache_hit = manager.submit(tiny(finished_seed, args.steps), "latecomer")
    memory.halt.set()
    manager.shutdown()
    elapsed = time.monotonic() - started

    jobs = manager.jobs()
    by_seed: dict[int, list] = {}
    for job in jobs:
        by_seed.setdefault(job.config["train"]["seed"], []).append(job)
    print(f"data folder {root}; {len(submitted)} submissions from {len(asks)} visitors in {elapsed:.1f} s")
    print(f"{'job':12} {'seed':>4} {'visitors':>8} {'status':10} {'wait s':>7} {'run s':>6}")
    for job in sorted(jobs, key=lambda j: j.created_at):
        wait = (job.started_at or job.finished_at or time.time()) - job.created_at
        run = (job.finished_at - job.started_at) if job.started_at and job.finished_at else 0.0
        seed = job.config["train"]["seed"]
        print(f"{job.id:12} {seed:>4} {len(job.visitors):>8} {job.status:10} {wait:7.1f} {run:6.1f}")
    waits = sorted((j.started_at - j.created_at) for j in jobs if j.started_at and j.status != "cancelled")
    counts = Counter(job.status for job in jobs)
    n_runs, problems = check_runs(root)
    trained = Counter(
        job.key
        for job in jobs
        for arm in ARM_NAMES
        if (root / "jobs" / job.id / "live" / f"{arm}.jsonl").exists()
    )
    done_keys = {job.key for job in jobs if job.status == "done"}

    checks = {
        "finished within the time limit": not timed_out,
        "duplicates shared one job (configs not cancelled)": all(
            len(js) == 1 for s, js in by_seed.items() if s not in fully_cancelled
        ),
        "cancelled by all who asked -> cancelled": all(
            j.status == "cancelled" for s in fully_cancelled for j in by_seed[s]
        ),
        "everything else -> done": all(
            j.status == "done" for s, js in by_seed.items() if s not in fully_cancelled for j in js
        ),
        f"each done config trained once ({len(ARM_NAMES)} model trainings)": all(
            trained[k] == len(ARM_NAMES) for k in done_keys
        ),
        f"run dirs = {len(ARM_NAMES)} x done configs": n_runs == len(ARM_NAMES) * len(done_keys),
        "every run dir complete and loadable": not problems,
        "resubmitting a done config is a cache hit": cache_hit.status == "done"
        and "latecomer" in cache_hit.visitors,
    }
    print(f"\nstatus counts: {dict(counts)}; limit refusals retried: {errors['limit']}")
    print(f"arm trainings: {sum(trained.values())} for {len(done_keys)} done configs; run dirs: {n_runs}")
    if waits:
        print(f"wait before start: median {waits[len(waits) // 2]:.1f} s, max {waits[-1]:.1f} s")
    manager_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"peak RSS: manager {manager_kb / 1024:.0f} MiB, "
        f"largest worker {memory.worker_peak_kb / 1024:.0f} MiB, "
        f"all workers at once {memory.total_peak_kb / 1024:.0f} MiB"
    )
    for problem in problems:
        print(f"  problem: {problem}")
    for name, ok in checks.items():
        print(f"[{'ok' if ok else 'FAIL'}] {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":  # required: worker processes import this file as their __main__
    sys.exit(main())
