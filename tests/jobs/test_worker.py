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


def test_an_unexpected_error_fails_with_its_type_and_keeps_the_traceback(tmp_path, monkeypatch):
    import tieviz.experiments.runner
    from tieviz.jobs.store import JobStore
    from tieviz.jobs.worker import run_job

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(tieviz.experiments.runner, "run_experiment", boom)
    state = JobStore(tmp_path / "jobs").create("key", tiny(31).to_dict(), "alice", status="running")
    assert run_job(str(tmp_path), state["id"]) == "failed"
    failed = JobStore(tmp_path / "jobs").read(state["id"])
    assert failed["error"] == "RuntimeError: boom"
    log = (tmp_path / "jobs" / state["id"] / "error.log").read_text()
    assert "Traceback" in log and "boom" in log


def test_a_state_whose_config_cannot_load_is_set_aside_not_run(tmp_path, managers, caplog):
    manager = managers(tmp_path, concurrency=0)
    broken = {k: v for k, v in tiny(31).to_dict().items() if k != "alpha"}  # from_dict would raise KeyError
    state = manager.jobs_store.create("brokenkey", broken, "alice")
    with caplog.at_level("WARNING", logger="tieviz.jobs.store"):
        assert manager.jobs() == []
    assert "did not write" in caplog.text and not (tmp_path / "jobs" / state["id"] / "state.json").exists()
