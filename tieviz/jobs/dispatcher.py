"""The dispatcher thread that feeds any executor (local processes, or Ray), and recovery of lost jobs.

The dispatcher lives in the manager's process. Every tick it reaps finished workers, enforces
cancellations, marks jobs whose worker vanished as interrupted, and claims queued jobs while fewer than
`concurrency` run (and up to `checkpoint_concurrency` checkpoint jobs beside them, in their own lane).
Claims happen under the queue lock, so two managers sharing a data folder (in one process or several)
never run the same job, and together never run more than `concurrency` per host.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any, Protocol

from tieviz.env import env_int
from tieviz.jobs.store import HOST, JobStore, pid_alive, process_start, queue_order

CANCEL_GRACE_SECONDS = 20.0  # a worker that ignores its cancel flag this long is killed
SCAN_SECONDS = 2.0  # how often to look for running jobs whose worker has gone


class Executor(Protocol):
    """What the dispatcher needs from a backend; `handle` is whatever `launch` returns."""

    name: str

    def default_concurrency(self) -> int: ...
    def set_concurrency(self, concurrency: int) -> None: ...
    def gpu_slots(self) -> int: ...
    def warm(self) -> None: ...
    def resolve(self, config: Any) -> Any: ...
    def launch(self, root: Path, job_id: str, gpu: int | None) -> Any: ...
    def pid(self, handle: Any) -> int | None: ...
    def poll(self, handle: Any) -> str | None: ...
    def stop(self, handle: Any) -> None: ...
    def kill(self, handle: Any) -> None: ...


def recover(jobs: JobStore, skip: set[str] = frozenset()) -> list[str]:
    """Marks running jobs whose worker (or, for Ray, whose owning manager) is gone as interrupted."""
    lost = []
    for state in jobs.all():
        if state["status"] != "running" or state["id"] in skip:
            continue
        if state.get("executor") == "local" and state.get("worker_pid") is not None:
            watched = (state["worker_pid"], state.get("worker_host"), state.get("worker_started"))
        else:  # not started yet, or a Ray task: Ray stops a dead driver's tasks
            watched = (state.get("owner_pid"), state.get("owner_host"), state.get("owner_started"))
        if pid_alive(*watched) is not False:
            continue

        def interrupt(current: dict, watched=watched) -> dict | None:
            now_watched = current.get("worker_pid") if current.get("executor") == "local" else None
            if current["status"] != "running" or (now_watched is not None and now_watched != watched[0]):
                return None
            reason = "its worker process stopped before it finished (a crash, a kill or a server restart)"
            return {**current, "status": "interrupted", "error": reason, "finished_at": time.time()}

        if jobs.update(state["id"], interrupt)["status"] == "interrupted":
            lost.append(state["id"])
    return lost


def _lane(state: dict) -> str:
    """Which concurrency limit a job counts against: training, or checkpoint work."""
    return "checkpoint" if state.get("kind") == "checkpoint" else "experiment"


class Dispatcher:
    """The thread that claims queued jobs and watches the ones this manager started."""

    def __init__(
        self,
        root: Path,
        jobs: JobStore,
        executor: Executor,
        concurrency: int | None,
        max_minutes: float = 0,
        disk_caps: tuple[int, int] = (0, 0),
    ) -> None:
        self.root, self.jobs, self.executor, self.concurrency = root, jobs, executor, concurrency
        self.max_minutes = max_minutes  # wall-clock limit of untrusted jobs; 0 = none
        # Checkpoint work (an upload being read, a comparison) has its own lane, so that a visitor's upload
        # does not wait behind an hour of someone's training; TIEVIZ_CHECKPOINT_CONCURRENCY sizes it.
        self.checkpoint_concurrency = env_int("TIEVIZ_CHECKPOINT_CONCURRENCY", 1)
        self.disk_caps = disk_caps  # (run store, job store) bytes; see tieviz.jobs.disk
        self._running: dict[str, Any] = {}  # job id -> executor handle
        self._stopping: dict[str, float] = {}  # job id -> when this manager first asked it to stop
        self._halt = threading.Event()
        self._last_scan = 0.0
        self._token = uuid.uuid4().hex  # tells this dispatcher's claims from those of others in this process
        self._thread = threading.Thread(target=self._loop, name="tieviz-dispatcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        if self.concurrency is None:
            self.concurrency = self.executor.default_concurrency()
        self.executor.set_concurrency(self.concurrency)
        if self.concurrency > 0:
            self.executor.warm()
        while not self._halt.is_set():
            try:
                self.tick()
            except Exception as error:  # a bad job folder must not stop the queue
                print(f"tieviz dispatcher: {type(error).__name__}: {error}")
            self._halt.wait(0.2)

    def tick(self) -> None:
        self._reap()
        self._enforce_cancels()
        if time.monotonic() - self._last_scan > SCAN_SECONDS:
            recover(self.jobs, skip=set(self._running))
            self._enforce_time_limit()
            self._last_scan = time.monotonic()
        while self.concurrency and not self._halt.is_set() and self._claim_and_launch():
            pass

    def _reap(self) -> None:
        ended_any = False
        for job_id, handle in list(self._running.items()):
            ended = self.executor.poll(handle)
            if ended is None:
                continue
            ended_any = True
            del self._running[job_id]
            self._stopping.pop(job_id, None)
            cancelled = self.jobs.cancel_requested(job_id)

            def settle(state: dict, ended=ended, cancelled=cancelled) -> dict | None:
                if state["status"] != "running":
                    return None  # the worker recorded its own outcome
                status = "cancelled" if cancelled else "interrupted"
                reason = f"its worker process stopped before it finished ({ended})"
                if state.get("kind") == "checkpoint" and not cancelled:  # a kernel limit, said plainly
                    from tieviz.jobs.checkpoint import ended_reason

                    status, reason = "failed", ended_reason(ended, state)
                error = state.get("cancel_reason") if cancelled else reason
                return {**state, "status": status, "error": error, "finished_at": time.time()}

            self.jobs.update(job_id, settle)
        if ended_any and any(self.disk_caps):
            from tieviz.jobs.disk import enforce_disk_caps

            enforce_disk_caps(self.root, self.jobs, *self.disk_caps)

    def _enforce_cancels(self) -> None:
        for job_id, handle in self._running.items():
            if not self.jobs.cancel_requested(job_id):
                continue
            if job_id not in self._stopping:
                self._stopping[job_id] = time.monotonic()
                self.executor.stop(handle)
            elif time.monotonic() - self._stopping[job_id] > CANCEL_GRACE_SECONDS:
                self.executor.kill(handle)

    def _enforce_time_limit(self) -> None:
        """Asks untrusted jobs running past `max_minutes` to stop; `_enforce_cancels` kills stragglers."""
        if not self.max_minutes:
            return
        now = time.time()
        for job_id in list(self._running):
            if job_id in self._stopping:
                continue
            try:
                state = self.jobs.read(job_id)
            except ValueError:
                continue
            started = state.get("started_at")
            if state.get("trusted") or not started or now - started <= self.max_minutes * 60:
                continue
            from tieviz.jobs.checkpoint import job_words

            reason = f"stopped after {self.max_minutes:g} minutes, this site's limit for {job_words(state)}"
            self.jobs.update(job_id, lambda s, reason=reason: {**s, "cancel_reason": reason})
            self.jobs.request_cancel(job_id)

    def _claim_and_launch(self) -> bool:
        """Claims the oldest queued job if a slot is free and starts it; False when there is nothing to do."""
        with self.jobs.queue_lock():
            states = self.jobs.all()
            mine = [s for s in states if s["status"] == "running" and self._counts_here(s)]
            busy = Counter(_lane(s) for s in mine)
            caps = {"experiment": self.concurrency, "checkpoint": self.checkpoint_concurrency}
            # fair share between sources, then oldest first; only jobs whose lane has a free slot
            queued = [s for s in queue_order(states) if busy[_lane(s)] < caps[_lane(s)]]
            if not queued:
                return False
            slots = self.executor.gpu_slots() if self.executor.name == "local" else 0
            if _lane(queued[0]) == "checkpoint":
                slots = 0  # checkpoint work runs on the CPU and takes no GPU slot
            free = sorted(set(range(slots)) - {s.get("gpu") for s in mine})
            claim = {
                "status": "running",
                "started_at": time.time(),
                "executor": self.executor.name,
                "owner_pid": os.getpid(),
                "owner_host": HOST,
                "owner_started": process_start(os.getpid()),
                "worker_pid": None,
                "claim": self._token,
                "gpu": free[0] if free else None,
            }
            state = self.jobs.update(
                queued[0]["id"], lambda s: {**s, **claim} if s["status"] == "queued" else None
            )
        if state["status"] != "running" or state.get("claim") != self._token:
            return True  # cancelled in between; look again
        try:
            handle = self.executor.launch(self.root, state["id"], state["gpu"])
        except Exception as error:
            reason = f"the job could not start: {type(error).__name__}: {error}"
            self.jobs.update(state["id"], lambda s: {**s, "status": "failed", "error": reason})
            return True
        self._running[state["id"]] = handle
        if (pid := self.executor.pid(handle)) is not None:
            self.jobs.update(
                state["id"],
                lambda s: (
                    {**s, "worker_pid": pid, "worker_host": HOST, "worker_started": process_start(pid)}
                    if s.get("worker_pid") is None
                    else None
                ),
            )
        return True

    def _counts_here(self, state: dict) -> bool:
        if state.get("executor") != self.executor.name:
            return False
        return self.executor.name != "local" or state.get("owner_host") == HOST

    def shutdown(self, reason: str) -> None:
        """Stops the thread and this manager's workers; their jobs become interrupted, the queue stays."""
        self._halt.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        for job_id, handle in list(self._running.items()):
            self.executor.kill(handle)
            for _ in range(100):
                if self.executor.poll(handle) is not None:
                    break
                time.sleep(0.05)

            def stop(state: dict) -> dict | None:
                if state["status"] != "running":
                    return None
                return {**state, "status": "interrupted", "error": reason, "finished_at": time.time()}

            self.jobs.update(job_id, stop)
        self._running.clear()
