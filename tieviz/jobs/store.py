"""Job state on disk: one JSON file per job, replaced atomically, read-modify-written under a file lock.

Layout of `<root>/jobs/`:
    .lock                 the queue lock: held to submit (deduplicate) and to claim a job to run
    <id>/state.json       everything `Job` shows, plus who owns the job and which process runs it
    <id>/.lock            the job lock: held for every read-modify-write of state.json
    <id>/cancel           present once the job should stop; the worker polls it between steps
    <id>/live/<arm>.jsonl the step records reported so far, for live curves
    <id>/error.log        the traceback of an unexpected failure

State is on disk, not in memory, so any number of managers, in this process or others, share one root,
and a restarted server sees what happened while it was down. Lock order: queue lock, then job lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tieviz.config import ARM_NAMES
from tieviz.jobs.schema import ACTIVE as ACTIVE
from tieviz.jobs.schema import FINAL as FINAL
from tieviz.jobs.schema import STATUSES as STATUSES
from tieviz.jobs.schema import state_problem
from tieviz.training.run_store import read_jsonl, write_json_atomic

JobStatus = Literal["queued", "running", "done", "failed", "cancelled", "interrupted"]
PHASES = (*ARM_NAMES, "analysis")  # the order a job goes through, for every seed before the analysis
HOST = socket.gethostname()
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """What a visitor sees of one job; a snapshot, read again with `JobManager.get`."""

    id: str
    key: str  # experiment key of the resolved config: identical requests share it
    config: dict
    status: JobStatus
    visitors: tuple[str, ...]
    position: int | None  # 1-based place in the queue while queued
    phase: str | None  # "tied", "untied", "scaled" or "analysis" while running
    step: int
    total: int
    latest: dict  # the latest metrics record (train_loss, grad_ratio, val_loss sometimes, ...)
    error: str | None  # one sentence saying why, for failed and interrupted jobs
    created_at: float
    started_at: float | None
    finished_at: float | None
    seed_index: int = 0  # which of the experiment's seeds is training (0-based)
    kind: str = "experiment"  # or "checkpoint": work on an upload (see jobs.checkpoint)

    @property
    def n_seeds(self) -> int:
        return int(self.config.get("seeds", 1))

    @property
    def progress_fraction(self) -> float:
        """Share of the work done: each (seed, arm) and the analysis count one part."""
        if self.status == "done":
            return 1.0
        if self.kind != "experiment":  # checkpoint work reports its own fraction in step/total
            return min(1.0, max(0.0, self.step / self.total)) if self.total > 0 else 0.0
        if self.phase not in PHASES:
            return 0.0
        within = self.step / self.total if self.total > 0 else 0.0
        parts = self.n_seeds * len(ARM_NAMES) + 1
        if self.phase == "analysis":
            done = self.n_seeds * len(ARM_NAMES) + min(within, 1.0)
        else:
            done = self.seed_index * len(ARM_NAMES) + ARM_NAMES.index(self.phase) + min(within, 1.0)
        return min(1.0, max(0.0, done / parts))


def job_from_state(state: dict, position: int | None = None) -> Job:
    return Job(
        id=state["id"],
        key=state["key"],
        config=state["config"],
        status=state["status"],
        visitors=tuple(state["visitors"]),
        position=position if state["status"] == "queued" else None,
        phase=state.get("phase"),
        step=int(state.get("step", 0)),
        total=int(state.get("total", 0)),
        latest=dict(state.get("latest") or {}),
        error=state.get("error"),
        created_at=state["created_at"],
        started_at=state.get("started_at"),
        finished_at=state.get("finished_at"),
        seed_index=int(state.get("seed_index", 0)),
        kind=str(state.get("kind", "experiment")),
    )


@contextlib.contextmanager
def _flock(path: Path) -> Iterator[None]:
    """An exclusive lock on a file; the kernel releases it if the holder dies."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state letter, start time in clock ticks since boot) from /proc/<pid>/stat; None without /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()  # after "(comm)": field 3 (state) onwards
    return fields[0], int(fields[19])  # fields 3 and 22


def process_start(pid: int) -> int | None:
    """When the process started, in clock ticks since boot; None without /proc.

    Stored beside a pid so that a later process given the same pid is not taken for the one recorded.
    """
    stat = _proc_stat(pid)
    return None if stat is None else stat[1]


def pid_alive(pid: int | None, host: str | None, started: int | None = None) -> bool | None:
    """Whether the recorded process still runs and is not a zombie; None when it lives on another host.

    With `started` (from `process_start` when the pid was recorded), a process that now holds the same pid
    but started at another time is a different process, and the recorded one counts as gone.
    """
    if pid is None:
        return False
    if host is not None and host != HOST:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else: /proc still tells its start time and state
    stat = _proc_stat(pid)
    if stat is None:
        return True  # no /proc (macOS): os.kill said it exists
    state, start = stat
    if started is not None and start != started:
        return False
    return state != "Z"


class JobStore:
    """The job directories under `<data root>/jobs`."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def dir(self, job_id: str) -> Path:
        if not job_id or "/" in job_id or job_id.startswith("."):
            raise ValueError(f"{job_id!r} is not a job id")
        return self.root / job_id

    def queue_lock(self) -> contextlib.AbstractContextManager[None]:
        return _flock(self.root / ".lock")

    def job_lock(self, job_id: str) -> contextlib.AbstractContextManager[None]:
        return _flock(self.dir(job_id) / ".lock")

    def create(self, key: str, config: dict, visitor: str, status: str = "queued", **extra: Any) -> dict:
        job_id = uuid.uuid4().hex[:12]
        (self.dir(job_id) / "live").mkdir(parents=True)
        state = {
            "id": job_id,
            "key": key,
            "config": config,
            "status": status,
            "visitors": [visitor],
            "cancelled_by": [],
            "phase": None,
            "step": 0,
            "total": 0,
            "latest": {},
            "error": None,
            "created_at": time.time(),
            "started_at": None,
            "finished_at": None,
            **extra,
        }
        write_json_atomic(self.dir(job_id) / "state.json", state)
        return state

    def read(self, job_id: str) -> dict:
        path = self.dir(job_id) / "state.json"
        try:
            state = _parse_state(path.read_bytes(), job_id)
        except FileNotFoundError:
            raise ValueError(f"there is no job {job_id!r}") from None
        if state is None:
            _set_aside(path)
            raise ValueError(f"there is no job {job_id!r} (its state file was unreadable and set aside)")
        return state

    def update(self, job_id: str, change: Callable[[dict], dict | None]) -> dict:
        """Applies `change` to the state under the job lock; it returns the new state, or None to keep it."""
        with self.job_lock(job_id):
            state = self.read(job_id)
            new = change(dict(state))
            if new is None:
                return state
            write_json_atomic(self.dir(job_id) / "state.json", new)
            return new

    def all(self) -> list[dict]:
        """Every job's state, oldest first (the queue order)."""
        states = []
        for path in self.root.glob("*/state.json"):
            try:
                raw = path.read_bytes()
            except OSError:
                continue  # removed while listing; writes are atomic, so never half-written
            state = _parse_state(raw, path.parent.name)
            if state is None:
                _set_aside(path)
            else:
                states.append(state)
        return sorted(states, key=lambda s: (s["created_at"], s["id"]))

    def positions(self, states: list[dict]) -> dict[str, int]:
        """Each queued job's 1-based place in the fair-share order (`queue_order`)."""
        return {state["id"]: index + 1 for index, state in enumerate(queue_order(states))}

    def request_cancel(self, job_id: str) -> None:
        (self.dir(job_id) / "cancel").touch()

    def cancel_requested(self, job_id: str) -> bool:
        return (self.dir(job_id) / "cancel").exists()

    def append_live(self, job_id: str, arm: str, record: dict) -> None:
        with open(self.dir(job_id) / "live" / f"{arm}.jsonl", "a") as handle:
            handle.write(json.dumps(record) + "\n")

    def live(self, job_id: str) -> dict[str, list[dict]]:
        live = self.dir(job_id) / "live"
        return {
            arm: read_jsonl(live / f"{arm}.jsonl") for arm in ARM_NAMES if (live / f"{arm}.jsonl").exists()
        }


def job_source(state: dict) -> str:
    """Who a job counts against for fair share and the address cap: its address, else its first visitor."""
    return str(state.get("source") or (state["visitors"][0] if state["visitors"] else ""))


def queue_order(states: list[dict]) -> list[dict]:
    """The queued jobs in the order they will run: fair share between sources, then oldest first.

    A source's k-th queued job ranks k + the number of its jobs already running, so a source with a long
    queue cannot starve one that asked once: sources take turns, whoever queued more.
    """
    running: dict[str, int] = {}
    for state in states:
        if state["status"] == "running":
            running[job_source(state)] = running.get(job_source(state), 0) + 1
    seen: dict[str, int] = {}
    ranked = []
    for state in sorted(
        (s for s in states if s["status"] == "queued"), key=lambda s: (s["created_at"], s["id"])
    ):
        source = job_source(state)
        ranked.append((running.get(source, 0) + seen.get(source, 0), state["created_at"], state["id"], state))
        seen[source] = seen.get(source, 0) + 1
    return [item[3] for item in sorted(ranked, key=lambda item: item[:3])]


def _parse_state(raw: bytes, job_id: str) -> dict | None:
    """The job state in `raw`, or None when it is not one this version wrote (corrupt, foreign, hand-edited).

    Checked as a whole (`schema.state_problem`: every field and the config of its kind), because every
    listing sorts and filters on these and the Train page reads the config: one bad file must not take the
    whole queue (and the Train page of every visitor) down with it. Why it was refused is logged.
    """
    try:
        state = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        log.warning("tieviz jobs: job %s has a state that is not JSON (%s)", job_id, type(error).__name__)
        return None
    problem = state_problem(state, job_id)
    if problem is not None:
        log.warning("tieviz jobs: job %s has a state this version did not write: %s", job_id, problem[:200])
        return None
    return state


def _set_aside(path: Path) -> None:
    """Renames an unreadable state file to state.json.bad-<time>, so it is kept for a look but ignored."""
    target = path.with_name(f"{path.name}.bad-{time.time():.0f}")
    try:
        path.rename(target)
    except OSError:
        return  # another process set it aside first
    log.warning("tieviz jobs: set aside the unreadable job state %s as %s", path, target.name)
