"""The dispatcher and the local worker processes: cancelling, killing, concurrency."""

from __future__ import annotations

import os
import signal
import time

from tests.jobs.helpers import settled, tiny, wait_for
from tieviz.config import ARM_NAMES
from tieviz.experiments.runner import resolve
from tieviz.jobs import Limits
from tieviz.jobs.dispatcher import Dispatcher
from tieviz.jobs.local import LocalExecutor
from tieviz.jobs.store import HOST, JobStore

CONFIG = tiny().to_dict()  # a valid experiment config: the store sets aside states without one


def in_training(job) -> bool:
    return job.status == "running" and job.phase == "tied" and job.step >= 1


def test_a_shared_running_job_stops_only_when_every_visitor_cancels(tmp_path, managers):
    manager = managers(tmp_path, concurrency=1)
    config = tiny(40, steps=400)  # long enough to be caught mid-training
    job = manager.submit(config, "alice")
    manager.submit(config, "bob")
    wait_for(manager, job.id, in_training)
    assert manager.cancel(job.id, "alice").status == "running"
    assert not (tmp_path / "jobs" / job.id / "cancel").exists()
    manager.cancel(job.id, "bob")
    cancelled = wait_for(manager, job.id, settled, timeout=30)
    assert cancelled.status == "cancelled" and cancelled.error is None
    assert cancelled.step < 400
    resolved = resolve(config)
    assert not any(manager.runs.is_complete(resolved.arm(arm).key()) for arm in ARM_NAMES)
    assert manager.runs.list_runs() == [] and manager.summary(job.id) is None
    assert list((tmp_path / "runs" / ".staging").iterdir()) == []  # the cancelled arm's staging is gone


def test_a_killed_worker_leaves_an_interrupted_job_and_a_clean_retrain(tmp_path, managers):
    manager = managers(tmp_path, concurrency=1)
    config = tiny(41, steps=120)  # long enough that the kill lands in the first arm
    job = manager.submit(config, "alice")
    wait_for(manager, job.id, in_training)
    state = manager.jobs_store.read(job.id)
    assert state["worker_host"] == HOST and state["worker_pid"] != os.getpid()
    os.kill(state["worker_pid"], signal.SIGKILL)

    lost = wait_for(manager, job.id, settled, timeout=10)
    assert lost.status == "interrupted"
    assert "signal 9" in lost.error
    resolved = resolve(config)
    assert not any(manager.runs.is_complete(resolved.arm(arm).key()) for arm in ARM_NAMES)
    assert manager.runs.list_runs() == [] and manager.summary(job.id) is None
    leftovers = list((tmp_path / "runs" / ".staging").iterdir())
    assert leftovers and (leftovers[0] / "metrics.jsonl").exists()  # partial files exist, unread

    retry = manager.submit(config, "alice")
    assert retry.id != job.id and retry.status == "queued"
    done = wait_for(manager, retry.id, settled)
    assert done.status == "done", done.error
    assert {run.key for run in manager.runs.list_runs()} == {resolved.arm(arm).key() for arm in ARM_NAMES}
    assert manager.summary(retry.id) is not None
    assert manager.get(job.id).status == "interrupted"  # history is kept


def test_concurrency_limits_running_jobs_across_managers(tmp_path, managers):
    first = managers(tmp_path, concurrency=1)
    second = managers(tmp_path, concurrency=1)  # same host, same folder: still one at a time
    jobs = [first.submit(tiny(50 + i, steps=10), f"visitor{i}") for i in range(3)]
    most = 0
    while not all(settled(first.get(j.id)) for j in jobs):
        most = max(most, sum(first.get(j.id).status == "running" for j in jobs))
        time.sleep(0.02)
    assert most == 1
    assert [first.get(j.id).status for j in jobs] == ["done"] * 3
    started = sorted((first.get(j.id).started_at, j.id) for j in jobs)
    assert [job_id for _, job_id in started] == [j.id for j in jobs]  # first come, first served
    assert second.jobs() == first.jobs()


def test_workers_do_not_rerun_the_parents_main_script(tmp_path):
    """Under Streamlit the parent's __main__ is app.py; a worker must not execute it again."""
    import subprocess
    import sys
    import textwrap
    from pathlib import Path

    marker = tmp_path / "executions.txt"
    script = tmp_path / "main_script.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import os
            with open({str(marker)!r}, "a") as f:
                f.write(f"{{os.getpid()}}\\n")  # every execution of this file leaves its pid

            if __name__ == "__main__":
                from tests.jobs.helpers import tiny
                from tieviz.jobs import JobManager
                manager = JobManager({str(tmp_path / "data")!r}, concurrency=1)
                job = manager.submit(tiny(71), "alice")
                import time
                deadline = time.monotonic() + 240
                while manager.get(job.id).status in ("queued", "running") and time.monotonic() < deadline:
                    time.sleep(0.1)
                print(manager.get(job.id).status)
                manager.shutdown()
            """
        )
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "PYTHONPATH": str(root), "TIEVIZ_TORCH_THREADS": "1"},
    )
    assert done.stdout.strip().splitlines()[-1] == "done", done.stderr[-2000:]
    assert marker.read_text().split() == [str(marker.read_text().split()[0])]  # only the parent ran it
    (log,) = (tmp_path / "data" / "jobs").glob("*/worker.log")
    for output in (log.read_text(), done.stderr):  # runpy warned for every job, before its log opened
        assert "RuntimeWarning" not in output, output[-2000:]


def test_an_untrusted_job_past_the_time_limit_is_stopped_with_the_reason(tmp_path, managers):
    manager = managers(tmp_path, concurrency=1, limits=Limits(anon_max_minutes=0.03))  # about 2 s
    job = manager.submit(tiny(41, steps=5000), "alice")
    stopped = wait_for(manager, job.id, settled, timeout=60)
    assert stopped.status == "cancelled" and "this site's limit" in stopped.error
    assert stopped.step < 5000


def test_a_trusted_job_is_not_timed(tmp_path):
    jobs = JobStore(tmp_path / "jobs")
    old = time.time() - 3600
    free = jobs.create("a", CONFIG, "host", status="running", started_at=old, trusted=True)
    timed = jobs.create("b", CONFIG, "alice", status="running", started_at=old)
    dispatcher = Dispatcher(tmp_path, jobs, LocalExecutor(), concurrency=0, max_minutes=30)
    dispatcher._running = {free["id"]: None, timed["id"]: None}  # as if this dispatcher ran them
    dispatcher._enforce_time_limit()
    assert jobs.cancel_requested(timed["id"]) and "30 minutes" in jobs.read(timed["id"])["cancel_reason"]
    assert jobs.read(timed["id"])["cancel_reason"].endswith("this site's limit for one experiment")
    assert not jobs.cancel_requested(free["id"])


def test_a_timed_out_checkpoint_job_says_what_it_was_not_an_experiment(tmp_path):
    jobs = JobStore(tmp_path / "jobs")
    old = time.time() - 3600
    lens = jobs.create("c", {"task": "lens"}, "alice", status="running", started_at=old, kind="checkpoint")
    dispatcher = Dispatcher(tmp_path, jobs, LocalExecutor(), concurrency=0, max_minutes=30)
    dispatcher._running = {lens["id"]: None}
    dispatcher._enforce_time_limit()
    reason = jobs.read(lens["id"])["cancel_reason"]
    assert reason.endswith("this site's limit for one tuned-lens fit") and "experiment" not in reason
