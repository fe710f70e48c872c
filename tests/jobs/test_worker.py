"""The job function's outcomes: failed and unexpected errors and their logs (tieviz/jobs/worker.py)."""

from __future__ import annotations

from tests.jobs.helpers import settled, tiny, wait_for


def test_a_diverging_run_fails_with_the_reason_and_leaves_no_run(tmp_path, managers):
    manager = managers(tmp_path, concurrency=1)
    job = manager.submit(tiny(30, lr=1e30), "alice")
    failed = wait_for(manager, job.id, settled)
    assert failed.status == "failed"
    assert "lower learning rate" in failed.error
    assert manager.summary(job.id) is None
    assert manager.runs.list_runs() == []


def test_an_unexpected_error_fails_with_its_type_and_keeps_the_traceback(tmp_path, managers):
    manager = managers(tmp_path, concurrency=0)
    broken = {k: v for k, v in tiny(31).to_dict().items() if k != "alpha"}  # from_dict will raise KeyError
    state = manager.jobs_store.create("brokenkey", broken, "alice")
    runner = managers(tmp_path, concurrency=1)
    failed = wait_for(runner, state["id"], settled)
    assert (failed.status, failed.error) == ("failed", "KeyError: 'alpha'")
    log = (tmp_path / "jobs" / state["id"] / "error.log").read_text()
    assert "Traceback" in log and "from_dict" in log
