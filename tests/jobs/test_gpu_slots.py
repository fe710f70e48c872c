"""On a host with GPUs, the dispatcher runs one job per GPU and gives each running job its own GPU.

No GPU is needed: a stand-in executor says the host has two and records what it was asked to launch.
"""

from __future__ import annotations

import os

from tests.jobs.helpers import tiny
from tieviz.jobs.dispatcher import Dispatcher
from tieviz.jobs.local import LocalExecutor
from tieviz.jobs.store import JobStore

CONFIG = tiny().to_dict()  # a valid experiment config: the store sets aside states without one


class TwoGpuHost(LocalExecutor):
    """The local executor's choices on a two-GPU host, launching nothing: each "worker" runs until ended."""

    def __init__(self) -> None:
        super().__init__()
        self._gpus = 2
        self.launched: dict[str, int | None] = {}  # job id -> GPU it was given
        self.ended: set[str] = set()

    def warm(self) -> None:
        pass

    def launch(self, root, job_id, gpu):
        self.launched[job_id] = gpu
        return job_id

    def pid(self, handle) -> int:
        return os.getpid()  # alive, so the dispatcher's recovery scan leaves the job running

    def poll(self, handle) -> str | None:
        return "exit code 0" if handle in self.ended else None


def test_one_job_per_gpu_each_on_its_own_gpu(tmp_path):
    jobs = JobStore(tmp_path / "jobs")
    host = TwoGpuHost()
    dispatcher = Dispatcher(tmp_path, jobs, host, concurrency=None)
    assert host.default_concurrency() == 2
    first, second, third = (jobs.create(key, CONFIG, "alice")["id"] for key in ("a", "b", "c"))

    dispatcher.concurrency = host.default_concurrency()  # what the dispatcher's thread does first
    dispatcher.tick()
    assert host.launched == {first: 0, second: 1}  # the third waits: both GPUs are busy
    assert jobs.read(third)["status"] == "queued"
    assert {jobs.read(j)["gpu"] for j in (first, second)} == {0, 1}

    jobs.update(first, lambda s: {**s, "status": "done"})  # the worker on GPU 0 finishes
    host.ended.add(first)
    dispatcher.tick()
    assert host.launched[third] == 0  # the freed GPU, not the busy one
    assert jobs.read(third)["status"] == "running"


def test_a_cpu_host_runs_one_job_at_a_time(tmp_path):
    host = TwoGpuHost()
    host._gpus = 0
    assert host.default_concurrency() == 1
    jobs = JobStore(tmp_path / "jobs")
    dispatcher = Dispatcher(tmp_path, jobs, host, concurrency=host.default_concurrency())
    ids = [jobs.create(key, CONFIG, "bob")["id"] for key in ("a", "b")]
    dispatcher.tick()
    assert host.launched == {ids[0]: None}  # no GPU to pin
    assert jobs.read(ids[1])["status"] == "queued"
