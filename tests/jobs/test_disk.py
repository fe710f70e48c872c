"""Disk caps: the run and job stores stay under their caps; untrusted work goes first, oldest first."""

from __future__ import annotations

import pytest

from tests.jobs.helpers import tiny
from tieviz.experiments.resources import run_store_bytes, snapshot_count
from tieviz.experiments.runner import arm_seeds
from tieviz.jobs import LimitError, Limits
from tieviz.jobs.disk import enforce_disk_caps
from tieviz.jobs.limits import check_size
from tieviz.jobs.store import JobStore
from tieviz.system.disk_usage import folder_bytes
from tieviz.training.run_store import RunStore

MB = 2**20


def _experiment(data, jobs, seed: int, visitor: str, finished: float, **extra) -> list:
    """A finished job whose three runs each hold 1 MiB; returns the run folders."""
    config = tiny(seed)
    state = jobs.create(config.key(), config.to_dict(), visitor, status="done", finished_at=finished, **extra)
    folders = []
    for name, run_seed in arm_seeds(config):
        folder = RunStore(data / "runs").path(config.arm(name, run_seed).key())
        folder.mkdir(parents=True)
        (folder / "model.safetensors").write_bytes(b"\0" * MB)
        folders.append(folder)
    return [state, folders]


def test_the_run_store_cap_removes_the_oldest_untrusted_experiments_only(tmp_path):
    """Issue 18, case 6: nothing was ever removed; one arm within the caps was ~650 MiB."""
    jobs = JobStore(tmp_path / "jobs")
    old = _experiment(tmp_path, jobs, 1, "stranger01", finished=100)
    host = _experiment(tmp_path, jobs, 2, "hostvisitor", finished=50, trusted=True)
    example = _experiment(tmp_path, jobs, 3, "examples", finished=10)
    new = _experiment(tmp_path, jobs, 4, "stranger02", finished=200)
    cli = tmp_path / "runs" / "cli-run-of-the-host"
    cli.mkdir()
    (cli / "model.safetensors").write_bytes(b"\0" * MB)
    cap = folder_bytes(tmp_path / "runs") - MB // 2  # removing the oldest experiment is enough

    removed = enforce_disk_caps(tmp_path, jobs, runs_max_bytes=cap, jobs_max_bytes=0)
    assert removed == [old[0]["id"]]
    assert not any(f.exists() for f in old[1])
    assert all(f.exists() for f in host[1] + example[1] + new[1]) and cli.exists()
    assert folder_bytes(tmp_path / "runs") <= cap


def test_the_job_store_cap_removes_the_oldest_finished_untrusted_jobs(tmp_path):
    jobs = JobStore(tmp_path / "jobs")
    config = tiny(0).to_dict()
    ids = []
    for index in range(4):
        state = jobs.create(f"k{index}", config, f"v{index:09d}", status="done", finished_at=index)
        (jobs.dir(state["id"]) / "live" / "tied.jsonl").write_bytes(b"x" * MB)
        ids.append(state["id"])
    running = jobs.create("r", config, "someone", status="running")
    (jobs.dir(running["id"]) / "live" / "tied.jsonl").write_bytes(b"x" * MB)
    removed = enforce_disk_caps(tmp_path, jobs, runs_max_bytes=0, jobs_max_bytes=int(2.5 * MB))
    assert removed == ids[:3]
    assert [s["id"] for s in jobs.all()] == [ids[3], running["id"]]


def test_snapshots_are_sized_to_the_model():
    assert snapshot_count(8, 128, 32) == 8  # a toy keeps every snapshot its config asks for
    assert snapshot_count(9, 20_000, 432) < 9  # 69 MB each: the 650 MiB arm of the issue
    assert snapshot_count(9, 20_000, 432) * 2 * 20_000 * 432 * 4 <= 256 * MB
    assert snapshot_count(9, 2_000_000, 4096) == 1  # never below one besides the first and last


def test_an_experiment_too_big_for_the_disk_is_refused_before_it_queues():
    """A 20-seed anonymous job passing every other cap took ~39 GB."""
    big = tiny(0, seeds=20, d_model=432, n_heads=4, vocab_size=20_000)
    assert run_store_bytes(big) > 2**30
    with pytest.raises(LimitError, match="MiB on disk"):
        check_size(big, trusted=False, limits=Limits(anon_max_disk_mb=1024))
    check_size(big, trusted=True, limits=Limits(anon_max_disk_mb=1024))
