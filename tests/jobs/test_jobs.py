"""JobManager: queueing, sharing, limits, caching and restarts (tieviz/jobs/__init__.py)."""

from __future__ import annotations

import sys

import pytest

from tests.jobs.helpers import settled, tiny, wait_for
from tieviz.jobs import LimitError, Limits
from tieviz.jobs.store import HOST


def test_importing_jobs_does_not_import_torch():
    import subprocess

    code = "import sys, tieviz.jobs; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_queue_positions_sharing_and_cancelling_without_running(tmp_path, managers):
    manager = managers(tmp_path, concurrency=0)  # queues only: nothing trains in this test
    first = manager.submit(tiny(1), "alice")
    second = manager.submit(tiny(2), "bob")
    third = manager.submit(tiny(3), "carol")
    assert [first.position, second.position, third.position] == [1, 2, 3]
    assert manager.submit(tiny(2), "dave").id == second.id
    assert manager.get(second.id).visitors == ("bob", "dave")

    assert manager.cancel(second.id, "bob").status == "queued"  # dave still wants it
    with pytest.raises(ValueError, match="not submitted by carol"):
        manager.cancel(second.id, "carol")
    assert manager.cancel(second.id, "dave").status == "cancelled"
    assert manager.get(third.id).position == 2
    assert manager.cancel(third.id).status == "cancelled"  # visitor None: an admin
    assert [j.id for j in manager.jobs()] == [third.id, second.id, first.id]
    assert [j.id for j in manager.jobs("dave")] == [second.id]
    assert manager.summary(first.id) is None


def test_per_visitor_queue_limit(tmp_path, managers):
    manager = managers(tmp_path, concurrency=0, limits=Limits(max_queued_per_visitor=2))
    manager.submit(tiny(1), "alice")
    held = manager.submit(tiny(2), "alice")
    bobs = manager.submit(tiny(3), "bob")
    with pytest.raises(LimitError, match="alice already has 2"):
        manager.submit(tiny(4), "alice")
    with pytest.raises(LimitError):
        manager.submit(tiny(3), "alice")  # joining counts too
    assert manager.submit(tiny(2), "alice").id == held.id  # asking again for one's own job is free
    manager.cancel(held.id, "alice")
    assert manager.submit(tiny(3), "alice").id == bobs.id


def test_anonymous_caps_apply_at_submission(tmp_path, managers):
    manager = managers(tmp_path, concurrency=0, limits=Limits(anon_max_steps=50))
    with pytest.raises(LimitError, match="60 training steps"):
        manager.submit(tiny(steps=60), "anonymous")
    with pytest.raises(LimitError, match="60 training steps"):
        manager.submit(tiny(steps=60), "admin")  # a name is no proof of anything
    assert manager.submit(tiny(steps=60), "admin", trusted=True).status == "queued"
    assert manager.jobs("anonymous") == []


def test_sizes_that_cannot_fit_are_refused_for_everyone(tmp_path, managers):
    manager = managers(tmp_path, concurrency=0)
    with pytest.raises(ValueError, match="batch_size 1,000,000,000 is above"):
        manager.submit(tiny(batch_size=1_000_000_000), "admin", trusted=True)
    assert manager.jobs() == []


def test_a_file_that_cannot_be_read_is_refused_at_submission(tmp_path, managers):
    manager = managers(tmp_path, concurrency=0)
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("caf\xe9 ".encode("latin-1") * 200)
    with pytest.raises(ValueError, match="UTF-8"):
        manager.submit(tiny(corpus="file", path=str(bad)), "alice")
    assert manager.jobs() == []


def test_a_corrupt_state_file_neither_stops_the_manager_nor_hides_other_jobs(tmp_path, managers):
    kept = managers(tmp_path, concurrency=0).submit(tiny(1), "alice")
    for name, raw in {"aaaaaaaaaaaa": b"\xff\xfe", "bbbbbbbbbbbb": b"{}", "cccccccccccc": b"[]"}.items():
        (tmp_path / "jobs" / name).mkdir()
        (tmp_path / "jobs" / name / "state.json").write_bytes(raw)
    manager = managers(tmp_path, concurrency=0)  # recover() reads every state at start-up
    assert [j.id for j in manager.jobs()] == [kept.id]
    assert manager.submit(tiny(2), "alice").status == "queued"


def test_identical_requests_share_one_job_and_train_once(tmp_path, managers):
    manager = managers(tmp_path, concurrency=1)
    a = manager.submit(tiny(10), "alice")
    b = manager.submit(tiny(10), "bob")
    c = manager.submit(tiny(11), "carol")
    assert a.id == b.id and c.id != a.id
    for job in (a, c):
        done = wait_for(manager, job.id, settled)
        assert done.status == "done", done.error
        assert done.progress_fraction == 1.0 and done.finished_at >= done.started_at >= done.created_at
    assert manager.get(a.id).visitors == ("alice", "bob")
    assert len(manager.runs.list_runs()) == 8  # two experiments x four models, each trained once
    summary = manager.summary(a.id)
    assert set(summary.arms) == {"tied", "untied", "scaled"}
    assert set(manager.live_metrics(a.id)) == {"tied", "untied", "scaled", "baseline"}  # live: every model
    assert manager.live_metrics(a.id)["tied"][-1]["step"] == 6

    again = manager.submit(tiny(10), "dave")  # a cache hit: done at once, the same job
    assert (again.id, again.status) == (a.id, "done")
    assert len(manager.runs.list_runs()) == 8


def test_restart_keeps_done_interrupts_lost_and_runs_queued(tmp_path, managers):
    import subprocess

    front = managers(tmp_path, concurrency=0)
    queued = front.submit(tiny(20), "alice")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    lost = front.jobs_store.create(
        "somekey",
        tiny(21).to_dict(),
        "bob",
        status="running",
        executor="local",
        worker_pid=gone.pid,
        worker_host=HOST,
        owner_pid=gone.pid,
        owner_host=HOST,
    )
    front.shutdown()

    server = managers(tmp_path, concurrency=1)
    assert server.get(lost["id"]).status == "interrupted"  # at start, before any request
    assert "stopped before it finished" in server.get(lost["id"]).error
    assert wait_for(server, queued.id, settled).status == "done"
    server.shutdown()

    restarted = managers(tmp_path, concurrency=0)
    assert restarted.get(queued.id).status == "done"
    assert restarted.summary(queued.id) is not None
    assert restarted.get(lost["id"]).status == "interrupted"
