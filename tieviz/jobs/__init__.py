"""Background jobs: submit an experiment, watch its state, cancel it; training runs outside the caller.

The dashboard and a hosted site call `default_manager()` and nothing else. State lives on disk under
`<data>/jobs` (see `store`), runs under `<data>/runs`, so managers in several processes share one queue
and a restarted server shows what finished, what was interrupted, and what is still queued.
Importing this package does not import torch: the dashboard must start fast.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tieviz.config import ExperimentConfig
from tieviz.env import env_int, env_text
from tieviz.experiments.catalog import data_root
from tieviz.jobs.dispatcher import Dispatcher, Executor, recover
from tieviz.jobs.limits import (
    LimitError,
    Limits,
    check_admission,
    check_queue,
    check_size,
    estimate_params,
    host_token,
    is_host_token,
)
from tieviz.jobs.local import LocalExecutor
from tieviz.jobs.store import ACTIVE, Job, JobStatus, JobStore, job_from_state

if TYPE_CHECKING:
    from tieviz.experiments.summary_record import Summary
from tieviz.training.run_store import RunStore

__all__ = [
    "Job",
    "JobManager",
    "JobStatus",
    "LimitError",
    "Limits",
    "default_manager",
    "estimate_params",
    "is_host_token",
]

EXECUTORS = ("local", "ray")


def make_executor(name: str) -> Executor:
    if name == "local":
        return LocalExecutor()
    if name == "ray":
        from tieviz.jobs.ray_backend import RayExecutor

        return RayExecutor()
    raise ValueError(f"unknown executor {name!r}; TIEVIZ_EXECUTOR must be one of {', '.join(EXECUTORS)}")


class JobManager:
    """Submits, lists and cancels jobs under `root`; its dispatcher thread runs up to `concurrency` of them.

    concurrency None means one per GPU (one on a CPU-only host); 0 makes a manager that only queues,
    leaving the running to another process that shares the folder.
    """

    def __init__(
        self,
        root: Path,
        concurrency: int | None = None,
        limits: Limits | None = None,
        executor: str | None = None,
    ) -> None:
        if concurrency is not None and concurrency < 0:
            raise ValueError(f"concurrency must be 0 or more, not {concurrency}")
        self.root = Path(root)
        self.jobs_store = JobStore(self.root / "jobs")
        self.runs = RunStore(self.root / "runs")
        self.limits = limits or Limits()
        self.executor = make_executor(executor or "local")
        recover(self.jobs_store)  # a restart shows lost runs as interrupted before anyone looks
        self._dispatcher = Dispatcher(
            self.root,
            self.jobs_store,
            self.executor,
            concurrency,
            max_minutes=self.limits.anon_max_minutes,
            disk_caps=(self.limits.runs_max_mb * 2**20, self.limits.jobs_max_mb * 2**20),
        )
        self._dispatcher.start()

    def submit(
        self,
        config: ExperimentConfig,
        visitor: str = "anonymous",
        trusted: bool = False,
        address: str | None = None,
    ) -> Job:
        """Queues the experiment, or joins the identical queued/running job, or returns the cached result.

        `trusted`: the visitor gave the host's token (see `is_host_token`), so the anonymous caps and the
        time limit do not apply. `address`: where the request came from, for the per-address cap and fair
        share (None: the visitor stands for it). Raises LimitError for limits and ValueError for configs
        that cannot run (an unreadable file, sizes that cannot fit in memory).
        """
        from tieviz.experiments.resources import training_flops
        from tieviz.experiments.runner import cached_summary

        config.validate()
        check_size(config, trusted, self.limits)
        resolved = self.executor.resolve(config)
        key = resolved.key()
        with self.jobs_store.queue_lock():
            states = self.jobs_store.all()
            same = [s for s in states if s["key"] == key]
            if (joined := self._join_active(states, same, visitor, trusted)) is not None:
                return joined
            if cached_summary(resolved, self.runs) is not None:
                for state in reversed([s for s in same if s["status"] == "done"]):
                    return self._job(self.jobs_store.update(state["id"], _add_visitor(visitor, trusted)))
                now = time.time()
                return self._job(
                    self.jobs_store.create(
                        key,
                        resolved.to_dict(),
                        visitor,
                        "done",
                        started_at=now,
                        finished_at=now,
                        phase="analysis",
                    )
                )
            check_queue(self._active_count(states, visitor), visitor, self.limits)
            source, tflops = address or visitor, training_flops(resolved) / 1e12
            check_admission(states, source, trusted, tflops, self.limits, time.time())
            return self._job(
                self.jobs_store.create(
                    key, resolved.to_dict(), visitor, trusted=trusted, source=source, tflops=tflops
                )
            )

    def _join_active(self, states: list[dict], same: list[dict], visitor: str, trusted: bool) -> Job | None:
        """The identical job already queued or running (and not being cancelled), now also this visitor's;
        None when there is none. Joining counts against the visitor's queue cap like a new job would."""
        for state in same:
            if state["status"] in ACTIVE and "cancel_requested_at" not in state:
                if visitor not in state["visitors"]:
                    check_queue(self._active_count(states, visitor), visitor, self.limits)
                return self._job(self.jobs_store.update(state["id"], _add_visitor(visitor, trusted)))
        return None

    def submit_checkpoint(
        self, task: dict, visitor: str = "anonymous", trusted: bool = False, address: str | None = None
    ) -> Job:
        """Queues work on a checkpoint (see `tieviz.jobs.checkpoint`), or joins/reuses an identical request.

        The same queue and per-visitor caps as experiments apply; LimitError for a task over this site's
        budget. A done identical job is returned as it is: its results are still in its folder.
        """
        from tieviz.jobs import checkpoint

        key = checkpoint.task_key(task)
        cores = max(1, (os.cpu_count() or 1) - 1)
        checkpoint.check_task(task, trusted, self.limits, cores)
        with self.jobs_store.queue_lock():
            states = self.jobs_store.all()
            same = [s for s in states if s["key"] == key]
            if (joined := self._join_active(states, same, visitor, trusted)) is not None:
                return joined
            for state in reversed([s for s in same if s["status"] == "done"]):
                if checkpoint.result_dir(self.jobs_store.root, state["id"]).is_dir():
                    return self._job(self.jobs_store.update(state["id"], _add_visitor(visitor, trusted)))
            check_queue(self._active_count(states, visitor), visitor, self.limits)
            source = address or visitor
            check_admission(states, source, trusted, 0.0, self.limits, time.time())
            hard = checkpoint.hard_limits(self.limits, trusted, cores, checkpoint.input_bytes(task))
            state = self.jobs_store.create(
                key, task, visitor, trusted=trusted, kind=checkpoint.KIND, hard_limits=hard, source=source
            )
            return self._job(state)

    def find_checkpoint(self, task: dict) -> Job | None:
        """The newest job for exactly this task (any status), without queueing anything."""
        from tieviz.jobs.checkpoint import task_key

        key = task_key(task)
        same = [s for s in self.jobs_store.all() if s["key"] == key]
        return self._job(same[-1]) if same else None

    def result_dir(self, job_id: str) -> Path:
        """The folder a done checkpoint job wrote its results into."""
        from tieviz.jobs.checkpoint import result_dir

        return result_dir(self.jobs_store.root, job_id)

    def get(self, job_id: str) -> Job:
        return self._job(self.jobs_store.read(job_id))

    def jobs(self, visitor: str | None = None, kind: str | None = "experiment") -> list[Job]:
        """Jobs of this kind (None: every kind), those this visitor asked for if given, newest first."""
        states = self.jobs_store.all()
        positions = self.jobs_store.positions(states)
        chosen = [
            s
            for s in states
            if (visitor is None or visitor in s["visitors"])
            and (kind is None or s.get("kind", "experiment") == kind)
        ]
        return [job_from_state(s, positions.get(s["id"])) for s in reversed(chosen)]

    def cancel(self, job_id: str, visitor: str | None = None) -> Job:
        """Withdraws the visitor's request; the job stops once nobody wants it (visitor None: stop now)."""

        def withdraw(state: dict) -> dict | None:
            if state["status"] not in ACTIVE:
                return None
            if visitor is not None:
                if visitor not in state["visitors"]:
                    raise ValueError(f"job {job_id} was not submitted by {visitor}, so they cannot cancel it")
                state["cancelled_by"] = sorted({*state.get("cancelled_by", []), visitor})
                if set(state["visitors"]) - set(state["cancelled_by"]):
                    return state  # someone else still wants it
            if state["status"] == "queued":
                return {**state, "status": "cancelled", "finished_at": time.time()}
            self.jobs_store.request_cancel(job_id)  # the worker stops at its next step
            return {**state, "cancel_requested_at": time.time()}

        return self._job(self.jobs_store.update(job_id, withdraw))

    def live_metrics(self, job_id: str) -> dict[str, list[dict]]:
        """Per arm, the step records reported so far (a few per arm), for live loss and ratio curves."""
        self.jobs_store.read(job_id)  # a clear error for an unknown id
        return self.jobs_store.live(job_id)

    def summary(self, job_id: str) -> Summary | None:
        """The experiment summary of a done job whose runs are all complete; None otherwise."""
        from tieviz.experiments.runner import cached_summary

        state = self.jobs_store.read(job_id)
        if state["status"] != "done" or state.get("kind", "experiment") != "experiment":
            return None
        return cached_summary(ExperimentConfig.from_dict(state["config"]), self.runs)

    def shutdown(self) -> None:
        """Stops dispatching; this manager's running jobs are stopped and marked interrupted."""
        self._dispatcher.shutdown("the server stopped before it finished")

    def _job(self, state: dict) -> Job:
        position = None
        if state["status"] == "queued":
            position = self.jobs_store.positions(self.jobs_store.all()).get(state["id"])
        return job_from_state(state, position)

    @staticmethod
    def _active_count(states: list[dict], visitor: str) -> int:
        return sum(
            1
            for s in states
            if s["status"] in ACTIVE and visitor in s["visitors"] and visitor not in s.get("cancelled_by", [])
        )


def _add_visitor(visitor: str, trusted: bool = False):
    def add(state: dict) -> dict:
        state["trusted"] = bool(state.get("trusted")) or trusted  # a trusted joiner lifts the time limit
        state["visitors"] = (
            [*state["visitors"], visitor] if visitor not in state["visitors"] else state["visitors"]
        )
        state["cancelled_by"] = [v for v in state.get("cancelled_by", []) if v != visitor]  # asking again
        return state

    return add


_default: JobManager | None = None
_default_lock = threading.Lock()


def default_manager() -> JobManager:
    """The process-wide manager, configured from TIEVIZ_DATA, _CONCURRENCY, _EXECUTOR and the limits."""
    global _default
    with _default_lock:
        if _default is None:
            concurrency = env_int("TIEVIZ_CONCURRENCY", 0, minimum=1) or None  # unset: one per GPU, or one
            env_int(
                "TIEVIZ_TORCH_THREADS", 0
            )  # read by each launch; checked here so a bad value stops start-up
            host_token()  # read by the Train page; checked here too, for the same reason
            _default = JobManager(
                data_root(),
                concurrency=concurrency,
                limits=Limits.from_env(),
                executor=env_text("TIEVIZ_EXECUTOR", "local"),
            )
        return _default
