"""The Train page: bad input (a non-UTF-8 file, a diverging learning rate, bad shapes), cancel, and finish."""

from __future__ import annotations

import time

import pytest

from tests.app.conftest import errors
from tieviz.jobs.store import FINAL, JobStore


def open_advanced(open_app, data, corpus="toy"):
    at = open_app(data, "pages/train.py")
    at.toggle(key="train_advanced").set_value(True).run()
    at.selectbox(key="adv-toy-corpus").set_value(corpus).run()
    return at


def test_non_utf8_upload_is_refused_before_training(open_app, tmp_path):
    at = open_advanced(open_app, tmp_path, corpus="file")
    assert at.button(key="train-start").disabled  # nothing to train on yet
    at.file_uploader(key="train_upload").set_value(
        ("notes.txt", b"caf\xe9 au lait\n" * 50, "text/plain")
    ).run()
    assert not at.exception
    assert any("not UTF-8" in message for message in errors(at))
    assert at.button(key="train-start").disabled
    assert not list((tmp_path / "uploads").rglob("*.txt"))  # the refused file is not kept


def test_utf8_upload_is_accepted(open_app, tmp_path):
    at = open_advanced(open_app, tmp_path, corpus="file")
    at.file_uploader(key="train_upload").set_value(
        ("notes.txt", "café au lait\n".encode() * 50, "text/plain")
    )
    at.run()
    assert not errors(at)
    assert any("150 words" in caption.value for caption in at.caption)
    assert not at.button(key="train-start").disabled
    assert len(list((tmp_path / "uploads").rglob("*.txt"))) == 1


def test_bad_settings_are_explained(open_app, tmp_path):
    at = open_advanced(open_app, tmp_path)
    at.number_input(key="adv-toy-d_model").set_value(30)
    at.number_input(key="adv-toy-heads").set_value(4).run()  # 30 / 4 heads is not a whole number
    assert any("divisible" in message for message in errors(at))
    assert at.button(key="train-start").disabled


def wait_for_jobs(data, timeout: float = 240.0) -> list[dict]:
    """Polls the job folder until every job has ended (the dispatcher and worker run on their own)."""
    jobs = JobStore(data / "jobs")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = jobs.all()
        if states and all(s["status"] in FINAL for s in states):
            return states
        time.sleep(0.5)
    raise AssertionError(f"jobs still running after {timeout} s: {[s['status'] for s in jobs.all()]}")


def test_diverging_learning_rate_fails_with_the_reason(open_app, tmp_path):
    at = open_advanced(open_app, tmp_path)
    for key, value in (("steps", 10), ("batch", 4), ("d_model", 16), ("lr", 1e30)):
        at.number_input(key=f"adv-toy-{key}").set_value(value)
    at.selectbox(key="adv-toy-device").set_value("cpu")
    at.run()
    assert not errors(at)
    at.button(key="train-start").click().run()
    assert not at.exception
    assert not errors(at)
    [job] = wait_for_jobs(tmp_path)
    assert job["status"] == "failed"
    at.run()  # the next poll of the live panel
    shown = [m for m in errors(at) if m.startswith("Training failed")]
    assert shown and "learning rate" in shown[0] and "lower learning rate" in shown[0]
    assert not (tmp_path / "runs" / "experiments").exists()  # nothing reaches the picker


def test_cancel_stops_a_running_job(open_app, tmp_path):
    at = open_advanced(open_app, tmp_path)
    at.number_input(key="adv-toy-steps").set_value(2000)
    at.run()
    at.button(key="train-start").click().run()
    [job] = JobStore(tmp_path / "jobs").all()
    assert job["status"] in ("queued", "running")
    at.button(key=f"cancel-{job['id']}").click().run()
    [job] = wait_for_jobs(tmp_path)
    assert job["status"] == "cancelled"
    at.run()
    assert any(w.value == "Cancelled." for w in at.warning)


@pytest.mark.slow
def test_finished_job_joins_the_picker(open_app, tmp_path):
    at = open_advanced(open_app, tmp_path)
    for key, value in (("steps", 6), ("batch", 4), ("d_model", 16)):
        at.number_input(key=f"adv-toy-{key}").set_value(value)
    at.run()
    at.button(key="train-start").click().run()
    assert not at.exception
    [job] = wait_for_jobs(tmp_path, timeout=400)
    assert job["status"] == "done", job.get("error")
    at.run()  # the finished experiment opens by itself, with no click: this run arms the opener
    assert not at.exception
    assert at.get_by_key("train-start")  # still on Train: the opener waits for the browser's next message
    at.run()  # AppTest fires no timers: this run stands in for the opener's tick (tieviz.ui.opening)
    assert not at.exception
    assert at.sidebar.selectbox(key="run").value == job["key"]
    assert at.get_by_key("chart-gradient_ratio")  # now on the Overview, showing the new experiment
    at.switch_page("pages/train.py")
    at.run()  # coming back does not open it again; the button still does
    assert any(s.value.startswith("Finished") for s in at.success)
    at.button(key=f"open-{job['id']}").click().run()
    assert not at.exception
    assert at.get_by_key("chart-gradient_ratio")  # now on the Overview, showing the new experiment


@pytest.mark.parametrize("raw", [b"\xff\xfe", b"{}", b"[]"])
def test_a_corrupt_job_state_file_leaves_the_train_page_working(open_app, tmp_path, raw):
    bad = tmp_path / "jobs" / "0123456789ab"
    bad.mkdir(parents=True)
    (bad / "state.json").write_bytes(raw)
    at = open_app(tmp_path, "pages/train.py")
    assert not at.exception and not errors(at)
    assert at.button(key="train-start")
    assert not (bad / "state.json").exists()  # set aside, so the next visitor does not meet it either


def test_a_job_state_with_a_bad_config_does_not_take_the_train_page_down(open_app, tmp_path):
    """Issue 18, case 7: a state with config {"seeds": 1} passed the old check and raised KeyError 'train'."""
    import json

    from tests.jobs.helpers import tiny

    jobs = JobStore(tmp_path / "jobs")
    good = jobs.create("good", tiny(1).to_dict(), "someone")
    bad = jobs.create("bad", tiny(2).to_dict(), "someone")
    (jobs.dir(bad["id"]) / "state.json").write_text(json.dumps({**bad, "config": {"seeds": 1}}))
    at = open_app(tmp_path, "pages/train.py")
    assert not at.exception
    assert [s["id"] for s in jobs.all()] == [good["id"]]


def test_the_train_page_lists_this_visitors_jobs_and_counts_the_rest(open_app, tmp_path):
    """Issue 18, case 10: the Train page drew a box for every job of every visitor (206 boxes with 206)."""
    from tests.jobs.helpers import tiny

    jobs = JobStore(tmp_path / "jobs")
    for seed in range(30):
        jobs.create(f"k{seed}", tiny(seed).to_dict(), f"visitor{seed:04d}")
    at = open_app(tmp_path, "pages/train.py")
    assert not at.exception
    assert not [m for m in at.markdown if " steps · " in m.value]  # no box of anyone else's job
    assert any("30 other experiments are queued or running" in c.value for c in at.caption)


def test_the_time_shown_is_the_timing_models_not_fixed_words(open_app, tmp_path):
    """A fixed "seconds to a minute" is untrue on a slow host or a GPU: the preset labels say no time, and
    the estimate below them is the timing model's."""
    from tieviz.config import preset
    from tieviz.experiments.resources import duration
    from tieviz.experiments.time_estimate import estimate
    from tieviz.system.device import resolve_device

    at = open_app(tmp_path, "pages/train.py")
    for label in at.radio(key="train_preset").options:
        assert not any(word in label for word in ("second", "minute", "hour")), label
    expected = duration(estimate(preset("toy"), resolve_device("auto"), []).seconds)  # a fresh folder
    assert any(f"Estimated time: {expected}" in md.value for md in at.markdown)
