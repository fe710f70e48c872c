"""The local executor: one worker process per running job, on this machine (the dispatcher that feeds it
is `tieviz.jobs.dispatcher`).

On a CPU-only host, workers come from a "forkserver": a clean process (never a fork of a threaded server
such as Streamlit) that imports torch and tieviz once, so each job starts in milliseconds instead of ~10 s
of imports. On a GPU host each worker is a fresh "spawn" process instead, so that no CUDA state can be
inherited and each worker can be pinned to its own GPU through CUDA_VISIBLE_DEVICES.
"""

from __future__ import annotations

import contextlib
import importlib.util
import multiprocessing
import os
import sys
import types
from pathlib import Path
from typing import Any

from tieviz.env import env_int
from tieviz.jobs.store import JobStore

PRELOAD = [
    "torch",
    "transformers",
    "tieviz.experiments.runner",
    "tieviz.training.loop",
    "tieviz.experiments.summary_record",
    "tieviz.jobs.worker",
    "tieviz.jobs.checkpoint",
    "tieviz.checkpoint_analysis.work",
]


@contextlib.contextmanager
def _parent_script_hidden():
    """Starts children without re-running the parent's main script in them.

    multiprocessing re-imports the parent's `__main__` in every child before its target runs. Under
    Streamlit that module is app.py, so each worker would execute the dashboard script (in Streamlit's bare
    mode) before its job. A stand-in `__main__` naming the empty `tieviz.jobs.process_main` is run instead;
    Streamlit itself swaps `sys.modules["__main__"]` on every script run, so a brief swap here is nothing new.
    """
    stand_in = types.ModuleType("__main__")
    stand_in.__spec__ = importlib.util.find_spec("tieviz.jobs.process_main")
    saved = sys.modules["__main__"]
    sys.modules["__main__"] = stand_in
    try:
        yield
    finally:
        sys.modules["__main__"] = saved


def _local_entry(root: str, job_id: str, gpu: int | None, threads: int | None) -> None:
    """Worker process main: output to the job's log, then the shared job function."""
    if gpu is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(gpu)
    log = os.open(Path(root) / "jobs" / job_id / "worker.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    if threads:
        import torch

        torch.set_num_threads(threads)
    hard = JobStore(Path(root) / "jobs").read(job_id).get("hard_limits")
    if hard:  # checkpoint jobs: the kernel ends a runaway job, not the machine's OOM killer
        from tieviz.jobs.checkpoint import apply_hard_limits

        apply_hard_limits(hard)
    from tieviz.jobs.worker import run_job

    run_job(root, job_id, gpu)


class LocalExecutor:
    """One worker process per running job, on this machine."""

    name = "local"

    def __init__(self) -> None:
        self._gpus: int | None = None
        self._threads: int | None = None
        self._ctx: Any = None

    def _context(self) -> Any:
        if self._ctx is None:
            forkserver = "forkserver" in multiprocessing.get_all_start_methods() and self.gpu_slots() == 0
            self._ctx = multiprocessing.get_context("forkserver" if forkserver else "spawn")
            if forkserver:
                self._ctx.set_forkserver_preload(PRELOAD)
        return self._ctx

    def default_concurrency(self) -> int:
        """One training per GPU, one on a CPU-only host."""
        return max(1, self.gpu_slots())

    def gpu_slots(self) -> int:
        if self._gpus is None:
            import torch

            self._gpus = torch.cuda.device_count()
        return self._gpus

    def warm(self) -> None:
        """Starts the forkserver (and its imports) before the first job needs it."""
        if self._context().get_start_method() == "forkserver":
            from multiprocessing import forkserver

            forkserver.ensure_running()

    def resolve(self, config: Any) -> Any:
        from tieviz.experiments.runner import resolve

        return resolve(config)

    def set_concurrency(self, concurrency: int) -> None:
        """Shares the CPU cores, less one for the server, among the jobs that may run at once.

        Oversubscribed torch threads spin against each other: on a busy 2-core host two threads per job
        made the load test 14x slower than one. TIEVIZ_TORCH_THREADS overrides.
        """
        self._threads = max(1, ((os.cpu_count() or 1) - 1) // max(1, concurrency))

    def launch(self, root: Path, job_id: str, gpu: int | None) -> multiprocessing.Process:
        # Too many threads on a busy CPU make each step many times slower, hence an explicit count.
        threads = env_int("TIEVIZ_TORCH_THREADS", 0) or self._threads
        process = self._context().Process(
            target=_local_entry,
            args=(str(root), job_id, gpu, threads),
            name=f"tieviz-job-{job_id}",
            daemon=True,
        )
        with _parent_script_hidden():
            process.start()
        return process

    def pid(self, handle: multiprocessing.Process) -> int | None:
        return handle.pid

    def poll(self, handle: multiprocessing.Process) -> str | None:
        """None while running; else how the process ended."""
        if handle.exitcode is None:
            return None
        handle.join(0)
        code = handle.exitcode
        return f"killed by signal {-code}" if code < 0 else f"exit code {code}"

    def stop(self, handle: multiprocessing.Process) -> None:
        """Nothing: the worker polls its cancel flag every step."""

    def kill(self, handle: multiprocessing.Process) -> None:
        handle.kill()
