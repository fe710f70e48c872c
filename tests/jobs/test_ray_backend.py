"""The Ray executor against a local Ray started here (tieviz/jobs/ray_backend.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.jobs.helpers import settled, tiny, wait_for

ray = pytest.importorskip("ray", reason="Ray is an optional extra (requirements-ray.txt)")


@pytest.fixture(scope="module")
def local_ray():
    repo = str(Path(__file__).resolve().parents[2])
    try:
        ray.init(
            num_cpus=1,
            include_dashboard=False,
            runtime_env={"env_vars": {"PYTHONPATH": repo, "OMP_NUM_THREADS": "1"}},
            log_to_driver=False,
        )
    except Exception as error:  # no shared memory, no free ports, ...
        pytest.skip(f"Ray could not start: {type(error).__name__}: {error}")
    yield
    ray.shutdown()


def test_a_ray_task_runs_the_job_to_done(tmp_path, managers, local_ray, monkeypatch):
    monkeypatch.delenv("TIEVIZ_RAY_ADDRESS", raising=False)
    manager = managers(tmp_path, executor="ray")
    assert manager.executor.default_concurrency() == max(1, int(ray.cluster_resources().get("GPU", 0)))
    job = manager.submit(tiny(60), "alice")
    twin = manager.submit(tiny(60), "bob")
    done = wait_for(manager, job.id, settled, timeout=180)
    assert done.status == "done", done.error
    assert twin.id == job.id and len(manager.runs.list_runs()) == 4  # three arms and the baseline model
    state = manager.jobs_store.read(job.id)
    assert state["executor"] == "ray" and state["worker_pid"] not in (None, os.getpid())
    assert manager.summary(job.id) is not None


def test_cancelling_a_ray_job_stops_it_without_a_complete_run(tmp_path, managers, local_ray):
    manager = managers(tmp_path, executor="ray")
    job = manager.submit(tiny(61, steps=2000), "alice")
    wait_for(manager, job.id, lambda j: j.status == "running" and j.step >= 1, timeout=120)
    manager.cancel(job.id, "alice")
    cancelled = wait_for(manager, job.id, settled, timeout=60)
    assert cancelled.status == "cancelled"
    assert manager.runs.list_runs() == []
