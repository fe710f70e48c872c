"""Checkpoint jobs: work on an uploaded (or host-listed) checkpoint, run like training, in a worker process.

Staging an upload, reading a text with its tokenizer, the pair comparison, the tuned lens and a
checkpoint series all run here rather than in the server: a tokenizer's Rust panic, a regex that
backtracks for minutes or an allocation past the machine's memory then ends one job with one line, never
the page or the server. A checkpoint job is a job of kind "checkpoint" whose `config` is a task dict
({"task": "compare", ...}); it queues with the experiments, under the same per-visitor and global caps,
and its worker runs under hard limits (`apply_hard_limits`) recorded in the job's state at submission.
What each task does is `tieviz.checkpoint_analysis.work`.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import signal
import time
import traceback
from pathlib import Path
from typing import Any

from tieviz.checkpoint_analysis.cost import (
    WORKER_BASE_BYTES,
    Budget,
    CompareCost,
    compare_cost,
    physical_memory_bytes,
)
from tieviz.error_lines import error_line
from tieviz.jobs.limits import LimitError, Limits
from tieviz.jobs.store import JobStore

KIND = "checkpoint"
TASK_WORDS = {  # each task, as a message about its job names it
    "stage": "reading one upload",
    "text": "reading one text with a tokenizer",
    "compare": "one pair comparison",
    "lens": "one tuned-lens fit",
    "series": "one checkpoint series",
}
TASKS = tuple(TASK_WORDS)
HOST_MEMORY_SHARE = 0.75  # with no memory cap configured, a job may still not take the server's memory
CPU_GRACE_SECONDS = 60  # CPU seconds beyond the time limit before the kernel stops a worker
MIN_JOB_BYTES = 1 << 30  # what any checkpoint job may add: a tokenizer, a text, the two matrices
PROGRESS_STEPS = 1000  # a checkpoint job's progress is step / total with this total
STATE_INTERVAL = 0.3  # seconds between progress writes


def job_words(state: dict[str, Any]) -> str:
    """What a job is, for its messages: "one experiment", or the checkpoint task it ran."""
    if state.get("kind") != KIND:
        return "one experiment"
    return TASK_WORDS.get(state["config"].get("task"), "one checkpoint job")


def task_key(task: dict[str, Any]) -> str:
    """The key identical requests share (so a second visitor joins the queued job or reuses its result)."""
    if task.get("task") not in TASKS:
        raise ValueError(
            f"a checkpoint job's task must be one of {', '.join(TASKS)}, not {task.get('task')!r}"
        )
    blob = json.dumps(task, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return f"{KIND}-{hashlib.sha256(blob).hexdigest()[:20]}"


def budget(limits: Limits, trusted: bool, cores: int = 1) -> Budget:
    """What one checkpoint job may use: the anonymous caps for strangers, the machine for the host."""
    host = int((physical_memory_bytes() or 0) * HOST_MEMORY_SHARE)
    if trusted:
        return Budget(memory_bytes=host)
    memory = limits.anon_max_memory_mb * 2**20 if limits.anon_max_memory_mb else host
    return Budget(
        memory_bytes=min(memory, host) if host else memory,
        seconds=limits.anon_max_minutes * 60,
        flops=limits.anon_max_tflops * 1e12,
    )


def hard_limits(limits: Limits, trusted: bool, cores: int = 1, input_bytes: int = 0) -> dict[str, int]:
    """The kernel limits a checkpoint job's worker runs under: memory its own work may add, CPU seconds.

    The memory is the site's budget, but never less than MIN_JOB_BYTES plus twice the files a staging job
    reads (they are held while written out): the budget sizes the work a visitor chooses (tokens compared,
    a model for the lens), not whether an upload can be read at all. Recorded in the job's state so that
    the worker (started from a long-lived forkserver that does not see later changes of the environment)
    applies exactly what was decided at submission.
    """
    plan = budget(limits, trusted, cores)
    floor = MIN_JOB_BYTES + 2 * int(input_bytes)
    hard = {"memory_bytes": max(int(plan.memory_bytes), floor) if plan.memory_bytes else 0}
    if plan.seconds:
        hard["cpu_seconds"] = int(plan.seconds * max(1, cores) + CPU_GRACE_SECONDS)
    return hard


def check_task(task: dict[str, Any], trusted: bool, limits: Limits, cores: int = 1) -> None:
    """Refuses a task beyond this site's caps before it queues, with the cap and how to stay within it.

    A comparison or series names its sizes (`tokens`, `d_tied`, `d_untied`, the `pairs` it compares);
    the tuned lens names `n_params`. Trusted visitors pass; the hard limits still apply to their workers.
    """
    if trusted:
        return
    if task["task"] in ("compare", "series"):
        sizes = int(task["tokens"]), int(task["d_tied"]), int(task["d_untied"])
        cost = compare_cost(*sizes, cores=cores, vocab=int(task.get("vocab", 0)))
        pairs = max(1, int(task.get("pairs", 1)))
        total = CompareCost(cost.tokens, cost.peak_bytes, cost.flops * pairs, cost.seconds * pairs)
        why = budget(limits, trusted, cores).over(total)
        if why:
            raise LimitError(f"this comparison is too big for this site: {why}; compare fewer tokens")
    params = task.get("n_params")
    if task["task"] != "lens" or not params:
        return
    if limits.anon_max_params and params > limits.anon_max_params:
        raise LimitError(
            f"the tuned lens loads the whole model: {params:,} parameters, above this site's limit of "
            f"{limits.anon_max_params:,}"
        )
    tflops = lens_flops(int(params)) / 1e12
    if limits.anon_max_tflops and tflops > limits.anon_max_tflops:
        raise LimitError(
            f"fitting the tuned lens on this model takes about {tflops:,.0f} TFLOPs, above this site's "
            f"budget of {limits.anon_max_tflops:,}"
        )


def task_params(task: dict[str, Any]) -> int:
    """The parameters a task computes with, for its thread count (`tieviz.system.threads`): the lens's whole
    model, the compared matrices (vocabulary x both widths), none to speak of when reading an upload or a
    text."""
    if task["task"] == "lens":
        return int(task.get("n_params") or 0)
    if task["task"] in ("compare", "series"):
        return int(task.get("vocab") or 0) * (int(task["d_tied"]) + int(task["d_untied"]))
    return 0


def lens_flops(n_params: int) -> float:
    """Rough work of fitting and scoring the tuned lens: forward and backward passes of the whole model
    (6 x parameters per token) over its windows at every step (`tieviz.experiments.run_analysis` LENS_*
    settings)."""
    from tieviz.checkpoint_analysis.analyses import LENS_CONTEXT
    from tieviz.experiments.run_analysis import LENS_SEQUENCES, LENS_STEPS

    return 6.0 * n_params * LENS_SEQUENCES * LENS_CONTEXT * (LENS_STEPS + 2)


def apply_hard_limits(hard: dict[str, int]) -> None:
    """In the worker, before any work: cap the memory the job may add and its CPU seconds.

    Memory is capped through RLIMIT_DATA (heap and private writable mappings) where the kernel enforces it
    (Linux 4.7+), so that memory-mapped weight files, which a 7B checkpoint has by the 10 GiB, do not count;
    elsewhere through RLIMIT_AS. The allowance is what the process already holds plus the job's budget: an
    allocation past it raises MemoryError instead of waking the machine's OOM killer. RLIMIT_CPU stops a
    worker that spins (a backtracking tokenizer regex in Rust never sees a cancel flag) with SIGXCPU.
    """
    extra = int(hard.get("memory_bytes") or 0)
    if extra:
        which = resource.RLIMIT_DATA if _data_limit_works() else resource.RLIMIT_AS
        held = _held_bytes(which)
        limit = held + max(extra, 0)
        _lower(which, limit)
    cpu = int(hard.get("cpu_seconds") or 0)
    if cpu and hasattr(resource, "RLIMIT_CPU"):
        used = int(sum(os.times()[:2]))
        _lower(resource.RLIMIT_CPU, used + cpu, hard_extra=10)


def _data_limit_works() -> bool:
    return hasattr(resource, "RLIMIT_DATA") and os.uname().sysname == "Linux"


def _held_bytes(which: int) -> int:
    """VmData (for RLIMIT_DATA) or VmSize (for RLIMIT_AS) of this process, from /proc; a guess elsewhere."""
    field = "VmData:" if which == getattr(resource, "RLIMIT_DATA", None) else "VmSize:"
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return WORKER_BASE_BYTES


def _lower(which: int, soft: int, hard_extra: int = 0) -> None:
    """Sets a soft (and hard) limit no higher than the current hard limit."""
    _, current_hard = resource.getrlimit(which)
    hard = soft + hard_extra
    if current_hard != resource.RLIM_INFINITY:
        soft, hard = min(soft, current_hard), min(hard, current_hard)
    resource.setrlimit(which, (soft, hard))


def ended_reason(ended: str, state: dict[str, Any]) -> str:
    """One line for a checkpoint job whose worker was stopped by the kernel (see `LocalExecutor.poll`)."""
    hard = state.get("hard_limits") or {}
    if ended == f"killed by signal {int(signal.SIGXCPU)}" and hard.get("cpu_seconds"):
        return (
            f"it used its {hard['cpu_seconds']:,} CPU seconds, this site's limit for one job (a tokenizer "
            "regex that backtracks, or a model too big for this host)"
        )
    if ended == f"killed by signal {int(signal.SIGABRT)}" and hard.get("memory_bytes"):
        return "a library aborted, most likely out of memory under this job's limit; try a smaller model"
    if ended == f"killed by signal {int(signal.SIGKILL)}":
        return "its worker was killed (most likely out of memory); try fewer tokens or a smaller model"
    return f"its worker process stopped before it finished ({ended})"


def result_dir(jobs_root: Path, job_id: str) -> Path:
    """Where a checkpoint job writes its results: <jobs>/<id>/result/."""
    return Path(jobs_root) / job_id / "result"


def run_checkpoint_job(data: Path, jobs: JobStore, job_id: str) -> dict[str, Any]:
    """Runs a claimed checkpoint job's task; returns its outcome (status, error) for the state.

    Every failure becomes one line: a refusal's own sentence, MemoryError as the memory limit, and any
    BaseException other than an interrupt (a tokenizer's Rust panic is a pyo3 PanicException, which
    derives from BaseException) as a failed job instead of a dead worker.
    """
    from tieviz.checkpoint_analysis.work import run_task
    from tieviz.system.threads import threads_for_work

    state = jobs.read(job_id)
    last = {"time": 0.0}

    def progress(stage: str, fraction: float) -> None:
        if jobs.cancel_requested(job_id):
            raise JobCancelled(state.get("cancel_reason"))
        now = time.monotonic()
        if now - last["time"] < STATE_INTERVAL and fraction < 1:
            return
        last["time"] = now
        step = int(max(0.0, min(1.0, fraction)) * PROGRESS_STEPS)
        jobs.update(
            job_id,
            lambda s: (
                {**s, "phase": stage, "step": step, "total": PROGRESS_STEPS}
                if s["status"] == "running"
                else None
            ),
        )

    try:
        progress("starting", 0.0)
        with threads_for_work(task_params(state["config"])):
            run_task(data, result_dir(jobs.root, job_id), state["config"], progress)
    except JobCancelled:
        return {"status": "cancelled", "error": jobs.read(job_id).get("cancel_reason")}
    except (KeyboardInterrupt, SystemExit):
        raise
    except MemoryError:
        return {"status": "failed", "error": memory_line(state)}
    except RuntimeError as error:
        if "allocate" in str(error) and "memory" in str(error):  # torch's allocator under the limit
            return {"status": "failed", "error": memory_line(state)}
        return _failed(jobs, job_id, error)
    except BaseException as error:  # noqa: BLE001 - the job's edge: a panic or any error is one line
        return _failed(jobs, job_id, error)
    return {"status": "done", "phase": "done", "step": PROGRESS_STEPS, "total": PROGRESS_STEPS}


class JobCancelled(Exception):
    """The job's cancel flag was raised (by its visitors or the time limit)."""


def memory_line(state: dict[str, Any]) -> str:
    limit = (state.get("hard_limits") or {}).get("memory_bytes")
    cap = f" of {limit / 2**20:,.0f} MiB" if limit else ""
    return f"it ran out of memory: it needs more than its limit{cap}; compare fewer tokens or a smaller model"


def _failed(jobs: JobStore, job_id: str, error: BaseException) -> dict[str, Any]:
    from tieviz.checkpoints import CheckpointError
    from tieviz.error_lines import failure_reason

    if not isinstance(error, CheckpointError | ValueError):
        try:
            (jobs.dir(job_id) / "error.log").write_text("".join(traceback.format_exception(error)))
        except OSError:
            pass
    if type(error).__name__ == "PanicException":
        return {
            "status": "failed",
            "error": f"a library written in Rust crashed on this input ({error_line(error)})",
        }
    return {"status": "failed", "error": failure_reason(error)}


def input_bytes(task: dict[str, Any]) -> int:
    """Bytes of the uploaded files a staging task reads (0 for other tasks)."""
    if task["task"] != "stage":
        return 0
    folder = Path(task["incoming"])
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file()) if folder.is_dir() else 0
