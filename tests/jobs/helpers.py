"""Helpers for job tests: tiny experiments (seconds each) and waiting for a job to settle."""

from __future__ import annotations

import time

import pytest

from tieviz.config import ExperimentConfig, preset
from tieviz.jobs import Job, JobManager


def tiny(seed: int = 0, **overrides) -> ExperimentConfig:
    """Three arms of a few steps on a small toy corpus; distinct seeds make distinct jobs."""
    settings = dict(
        steps=6, batch_size=4, d_model=16, n_heads=2, toy_tokens=8000, device="cpu", seed=seed, seeds=1
    )
    return preset("toy", **{**settings, **overrides})


def wait_for(manager: JobManager, job_id: str, until, timeout: float = 90.0) -> Job:
    """Polls until `until(job)` holds; fails the test with the job's last state after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        job = manager.get(job_id)
        if until(job):
            return job
        if time.monotonic() > deadline:
            pytest.fail(f"job {job_id} never reached the expected state; last: {job}")
        time.sleep(0.05)


def settled(job: Job) -> bool:
    return job.status not in ("queued", "running")
