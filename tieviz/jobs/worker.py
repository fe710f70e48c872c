"""The job function: runs one claimed job to its end and records the outcome in the job's state.

Both executors run exactly this function: the local one in a worker process, the Ray one as a Ray task.
It talks to the manager only through the job directory (state.json, live/, cancel), so it needs the
data folder on a filesystem that the manager can read too.
"""

from __future__ import annotations

import os
import socket
import time
import traceback
from pathlib import Path

from tieviz.config import ARM_NAMES
from tieviz.error_lines import failure_reason
from tieviz.jobs.store import JobStore, process_start

STATE_INTERVAL = 0.3  # seconds between rewrites of state.json while a job runs


def run_job(root: str, job_id: str, gpu: int | None = None) -> str:
    """Trains and analyses the job's experiment under `root`; returns the job's final status.

    `gpu` pins the job to one CUDA device (the local executor's slot); Ray sets the device itself.
    """
    if gpu is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(gpu)  # before CUDA starts, so "cuda" means this GPU
    data = Path(root)
    jobs = JobStore(data / "jobs")

    def start(state: dict) -> dict | None:
        if state["status"] != "running":
            return None  # cancelled or recovered between the claim and now
        pid = os.getpid()
        me = {"worker_pid": pid, "worker_host": socket.gethostname(), "worker_started": process_start(pid)}
        return {**state, **me, "phase": "tied"}

    if jobs.update(job_id, start)["status"] != "running":
        return jobs.read(job_id)["status"]
    if jobs.read(job_id).get("kind") == "checkpoint":
        return _run_checkpoint(data, jobs, job_id)

    from tieviz.config import ExperimentConfig
    from tieviz.experiments.runner import run_experiment
    from tieviz.training.loop import TrainingCancelled
    from tieviz.training.run_store import RunStore

    store = RunStore(data / "runs")

    last_write = {"time": 0.0, "phase": None}

    seeds: list[int] = []

    def progress(phase: str, done: int, total: int, metrics: dict) -> None:
        seed = metrics.get("seed")
        if seed is not None and seed not in seeds:
            seeds.append(seed)
        seed_index = max(len(seeds) - 1, 0)
        if phase in ARM_NAMES and metrics.get("step") is not None and seed_index == 0:
            jobs.append_live(job_id, phase, metrics)  # the live curves follow the first seed
        now = time.monotonic()
        if phase == last_write["phase"] and done < total and now - last_write["time"] < STATE_INTERVAL:
            return  # the state file is rewritten at most a few times a second
        last_write.update(time=now, phase=phase)

        def record(state: dict) -> dict | None:
            if state["status"] != "running":
                return None
            latest = metrics if metrics else state["latest"]
            return {
                **state,
                "phase": phase,
                "step": done,
                "total": total,
                "latest": latest,
                "seed_index": seed_index,
            }

        jobs.update(job_id, record)

    def should_stop() -> bool:
        return jobs.cancel_requested(job_id)

    outcome: dict
    try:
        if should_stop():
            raise TrainingCancelled("cancelled before it started")
        config = ExperimentConfig.from_dict(jobs.read(job_id)["config"])
        run_experiment(config, store, progress, should_stop)  # the manager reads the summary from the store
        outcome = {"status": "done"}
    except TrainingCancelled:
        outcome = {"status": "cancelled", "error": jobs.read(job_id).get("cancel_reason")}
    except ValueError as error:  # the user's to fix: a corpus, a diverging learning rate, ...
        outcome = {"status": "failed", "error": failure_reason(error)}
    except Exception as error:
        (jobs.dir(job_id) / "error.log").write_text(traceback.format_exc())
        outcome = {"status": "failed", "error": failure_reason(error)}
    except BaseException:  # KeyboardInterrupt from ray.cancel, SystemExit from a terminate
        status = "cancelled" if should_stop() else "interrupted"
        _finish(jobs, job_id, {"status": status, "error": None if status == "cancelled" else "stopped"})
        raise
    return _finish(jobs, job_id, outcome)


def _run_checkpoint(data: Path, jobs: JobStore, job_id: str) -> str:
    """Work on an upload (see `tieviz.jobs.checkpoint`); only an interrupt escapes it."""
    from tieviz.jobs.checkpoint import run_checkpoint_job

    try:
        outcome = run_checkpoint_job(data, jobs, job_id)
    except BaseException:  # KeyboardInterrupt from ray.cancel, SystemExit from a terminate
        status = "cancelled" if jobs.cancel_requested(job_id) else "interrupted"
        _finish(jobs, job_id, {"status": status, "error": None if status == "cancelled" else "stopped"})
        raise
    return _finish(jobs, job_id, outcome)


def _finish(jobs: JobStore, job_id: str, outcome: dict) -> str:
    def finish(state: dict) -> dict | None:
        # "interrupted" can be a wrong guess by a manager that could not see this process; the outcome wins.
        if state["status"] not in ("running", "interrupted"):
            return None
        return {**state, "error": None, **outcome, "finished_at": time.time()}

    return jobs.update(job_id, finish)["status"]
