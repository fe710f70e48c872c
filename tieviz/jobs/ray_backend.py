"""The Ray executor: the same job function as the local one, run as Ray tasks that ask for a GPU.

Select it with TIEVIZ_EXECUTOR=ray; TIEVIZ_RAY_ADDRESS names the cluster (unset: start or join a local
Ray). Ray is an optional extra (requirements-ray.txt), imported only here.

Design assumption: every Ray node sees the manager's data folder at the same path (a shared filesystem
such as NFS), because the task reports progress, reads its cancel flag and writes its run directories
there, exactly as a local worker process does. tieviz must be importable on every node.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from tieviz.error_lines import failure_reason
from tieviz.jobs.store import JobStore
from tieviz.jobs.worker import run_job


class RayExecutor:
    """Each running job is one Ray task; Ray places it on a node with a free GPU (or CPU)."""

    name = "ray"

    def __init__(self) -> None:
        try:
            import ray
        except ImportError:
            raise ValueError(
                "TIEVIZ_EXECUTOR=ray needs the Ray package: pip install -r requirements-ray.txt"
            ) from None
        if not ray.is_initialized():
            ray.init(address=os.environ.get("TIEVIZ_RAY_ADDRESS") or None)
        self._ray = ray
        # max_retries=0: a task whose node died is reported as interrupted, never silently run again.
        self._task = ray.remote(max_retries=0)(run_job)

    def cluster_gpus(self) -> int:
        return int(self._ray.cluster_resources().get("GPU", 0))

    def default_concurrency(self) -> int:
        """One job per GPU in the cluster, one on a CPU-only cluster."""
        return max(1, self.cluster_gpus())

    def set_concurrency(self, concurrency: int) -> None:
        pass  # Ray gives each task the CPUs it asked for

    def gpu_slots(self) -> int:
        return 0  # Ray assigns the GPU and sets CUDA_VISIBLE_DEVICES itself

    def warm(self) -> None:
        pass

    def resolve(self, config: Any) -> Any:
        """Pins the device the cluster will use, which may differ from this (possibly CPU-only) machine's."""
        from tieviz.experiments.runner import resolve

        wants_gpu = config.train.device in ("auto", "cuda") and self.cluster_gpus() > 0
        if config.train.device == "cuda" and not wants_gpu:
            raise ValueError("device 'cuda' was asked for, but the Ray cluster has no GPU (try device auto)")
        pinned = resolve(replace(config, train=replace(config.train, device="cpu")))
        return replace(pinned, train=replace(pinned.train, device="cuda")) if wants_gpu else pinned

    def launch(self, root: Path, job_id: str, gpu: int | None) -> Any:
        device = JobStore(Path(root) / "jobs").read(job_id)["config"]["train"]["device"]
        num_gpus = 1 if device == "cuda" else 0  # `resolve` pinned cuda only where the cluster has GPUs
        return self._task.options(num_gpus=num_gpus, name=f"tieviz-job-{job_id}").remote(str(root), job_id)

    def pid(self, handle: Any) -> int | None:
        return None  # the task records its own pid and host

    def poll(self, handle: Any) -> str | None:
        """None while pending or running; else how the task ended."""
        ready, _ = self._ray.wait([handle], timeout=0)
        if not ready:
            return None
        try:
            return f"finished as {self._ray.get(handle)}"
        except self._ray.exceptions.TaskCancelledError:
            return "cancelled by Ray"
        except Exception as error:
            return failure_reason(error)

    def stop(self, handle: Any) -> None:
        """Drops a task still waiting for resources; a running one also sees its cancel flag."""
        self._ray.cancel(handle)

    def kill(self, handle: Any) -> None:
        self._ray.cancel(handle, force=True)
