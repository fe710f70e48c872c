from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest

from tests.jobs.helpers import tiny
from tieviz.jobs.store import HOST, JobStore, job_from_state, pid_alive, process_start

CONFIG = tiny().to_dict()  # a valid experiment config: the store sets aside states without one


@pytest.fixture
def jobs(tmp_path) -> JobStore:
    return JobStore(tmp_path / "jobs")


def test_progress_fraction_counts_each_model_and_the_analysis_as_a_fifth(jobs):
    """One seed: tied, untied, scaled, the baseline's second untied model and the analysis, a part each."""
    state = jobs.create("k", CONFIG, "alice")
    job = job_from_state({**state, "status": "running", "phase": "untied", "step": 30, "total": 60})
    assert job.progress_fraction == pytest.approx((1 + 0.5) / 5)
    assert (
        job_from_state(
            {**state, "status": "running", "phase": "analysis", "step": 5, "total": 5}
        ).progress_fraction
        == 1
    )
    assert job_from_state(state).progress_fraction == 0.0
    assert job_from_state({**state, "status": "done"}).progress_fraction == 1.0


def test_progress_fraction_counts_every_seed(jobs):
    """Five seeds of four models and one analysis: 21 parts; the second seed's untied arm half done is 5.5."""
    state = jobs.create("k", {**CONFIG, "seeds": 5}, "alice")
    running = {**state, "status": "running", "phase": "untied", "step": 30, "total": 60, "seed_index": 1}
    assert job_from_state(running).progress_fraction == pytest.approx(5.5 / 21)
    analysis = {**running, "phase": "analysis", "step": 0, "total": 6}
    assert job_from_state(analysis).progress_fraction == pytest.approx(20 / 21)


def test_positions_follow_submission_order_over_queued_jobs_only(jobs):
    first = jobs.create("a", CONFIG, "alice")
    jobs.create("b", CONFIG, "bob", status="running")
    third = jobs.create("c", CONFIG, "carol")
    states = jobs.all()
    assert [s["id"] for s in states][0] == first["id"]
    assert jobs.positions(states) == {first["id"]: 1, third["id"]: 2}
    assert job_from_state(states[1], 7).position is None  # only queued jobs have a place


def test_update_is_atomic_under_concurrent_writers(jobs):
    job_id = jobs.create("k", CONFIG, "alice", step=0)["id"]

    def bump() -> None:
        for _ in range(40):
            jobs.update(job_id, lambda s: {**s, "step": s["step"] + 1})

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert jobs.read(job_id)["step"] == 160


def test_unknown_and_malformed_ids_are_refused(jobs):
    with pytest.raises(ValueError, match="no job"):
        jobs.read("0123456789ab")
    with pytest.raises(ValueError, match="not a job id"):
        jobs.read("../etc")


def test_live_records_come_back_per_arm(jobs):
    job_id = jobs.create("k", CONFIG, "alice")["id"]
    jobs.append_live(job_id, "tied", {"step": 1, "train_loss": 4.0})
    jobs.append_live(job_id, "tied", {"step": 2, "train_loss": 3.5})
    assert jobs.live(job_id) == {"tied": [{"step": 1, "train_loss": 4.0}, {"step": 2, "train_loss": 3.5}]}


def test_pid_alive_tells_live_dead_zombie_and_remote_processes():
    assert pid_alive(os.getpid(), HOST) is True
    assert pid_alive(None, HOST) is False
    assert pid_alive(os.getpid(), "some-other-host") is None
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # exited, not yet reaped: a zombie
    assert pid_alive(child.pid, HOST) is False
    child.wait()
    assert pid_alive(child.pid, HOST) is False


def test_a_reused_pid_does_not_keep_a_dead_job_alive(jobs):
    """The recorded worker died and its pid went to another process: its start time gives it away."""
    from tieviz.jobs.dispatcher import recover

    started = process_start(os.getpid())
    assert started is not None and started > 0
    assert process_start(os.getpid()) == started  # stable for one process
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    try:  # a process started later has a later start time (this one has run for over a second)
        assert process_start(child.pid) > started
    finally:
        child.kill()
        child.wait()
    assert pid_alive(os.getpid(), HOST, started) is True
    assert pid_alive(os.getpid(), HOST, started + 1) is False

    same = jobs.create("same", CONFIG, "alice", status="running")
    reused = jobs.create("reused", CONFIG, "bob", status="running")
    worker = {"executor": "local", "worker_pid": os.getpid(), "worker_host": HOST}
    jobs.update(same["id"], lambda s: {**s, **worker, "worker_started": started})
    jobs.update(reused["id"], lambda s: {**s, **worker, "worker_started": started - 1})

    assert recover(jobs) == [reused["id"]]
    assert jobs.read(same["id"])["status"] == "running"
    assert jobs.read(reused["id"])["status"] == "interrupted"


@pytest.mark.parametrize(
    "raw", [b"\xff\xfe", b"{}", b"[]", b'{"id": "x", "status": "running"}', b"[" * 100_000]
)
def test_a_corrupt_or_foreign_state_file_is_set_aside_not_fatal(jobs, raw, caplog):
    good = jobs.create("k", CONFIG, "alice")
    bad = jobs.root / "0123456789ab"
    bad.mkdir()
    (bad / "state.json").write_bytes(raw)
    with caplog.at_level("WARNING", logger="tieviz.jobs.store"):
        assert [s["id"] for s in jobs.all()] == [good["id"]]
    assert not (bad / "state.json").exists()
    assert [p.name.startswith("state.json.bad-") for p in bad.iterdir()] == [True]
    assert "set aside" in caplog.text


def test_reading_one_corrupt_state_is_a_clear_error_and_sets_it_aside(jobs):
    job_id = jobs.create("k", CONFIG, "alice")["id"]
    (jobs.dir(job_id) / "state.json").write_bytes(b"\xff\xfe")
    with pytest.raises(ValueError, match="set aside"):
        jobs.read(job_id)
    assert not (jobs.dir(job_id) / "state.json").exists()


@pytest.mark.parametrize(
    "change",
    [
        {"config": {"seeds": 1}},  # issue 18, case 7: KeyError 'train' on the Train page for everyone
        {"config": {**CONFIG, "train": {**CONFIG["train"], "steps": "many"}}},
        {"config": {**CONFIG, "data": {**CONFIG["data"], "surprise": 1}}},
        {"step": "3"},
        {"latest": {"train_loss": "low"}},
        {"error": ["not", "a", "sentence"]},
        {"visitors": []},
        {"kind": "mystery"},
        {"kind": "checkpoint", "config": {"no": "task"}},
        {"created_at": True},
    ],
)
def test_a_state_is_validated_as_a_whole_and_set_aside_with_a_log_line(jobs, change, caplog):
    good = jobs.create("k", CONFIG, "alice")
    bad = jobs.create("b", CONFIG, "bob")
    path = jobs.dir(bad["id"]) / "state.json"
    path.write_text(json.dumps({**bad, **change}))
    with caplog.at_level("WARNING", logger="tieviz.jobs.store"):
        assert [s["id"] for s in jobs.all()] == [good["id"]]
    assert "did not write" in caplog.text and not path.exists()


def test_states_this_version_writes_pass_for_every_kind(jobs):
    experiment = jobs.create("k", CONFIG, "alice", source="192.0.2.1", tflops=0.5, trusted=False)
    checkpoint = jobs.create("c", {"task": "text", "checkpoint": "/x"}, "bob", kind="checkpoint")
    assert {s["id"] for s in jobs.all()} == {experiment["id"], checkpoint["id"]}
