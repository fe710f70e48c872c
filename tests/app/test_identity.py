"""Identity out of the URL: links carry view state only, a typed id claims nothing, trust needs the token."""

from __future__ import annotations

import os
from pathlib import Path

from tests.app.conftest import errors
from tests.app.test_train import open_advanced, wait_for_jobs
from tieviz.jobs.store import JobStore
from tieviz.ui.identity import VISITOR_KEY

TOKEN = "a-host-secret-0123456789"


def start_long_job(at) -> dict:
    at.number_input(key="adv-toy-steps").set_value(2000)
    at.run()
    at.button(key="train-start").click().run()
    assert not at.exception and not errors(at)
    [job] = JobStore(Path(os.environ["TIEVIZ_DATA"]) / "jobs").all()
    return job


def assert_no_identity_in_url(at) -> None:
    me = at.session_state[VISITOR_KEY]
    assert "visitor" not in at.query_params
    values = [
        v for value in at.query_params.values() for v in (value if isinstance(value, list) else [value])
    ]
    assert values and all(me not in value and TOKEN not in value for value in values)


def test_no_url_the_app_writes_holds_the_visitor_id(open_app, tmp_path):
    at = open_advanced(open_app, tmp_path, corpus="file")
    at.file_uploader(key="train_upload").set_value(("notes.txt", b"a b c d e f g h\n" * 500, "text/plain"))
    at.run()
    assert_no_identity_in_url(at)
    at.selectbox(key="adv-toy-corpus").set_value("toy").run()
    job = start_long_job(at)
    assert at.session_state[VISITOR_KEY] in job["visitors"]
    assert_no_identity_in_url(at)
    for page in ("pages/checkpoints.py", "pages/overview.py"):
        at.switch_page(page).run()
        assert not at.exception
        assert_no_identity_in_url(at)
    at.switch_page("pages/train.py").run()
    at.button(key=f"cancel-{job['id']}").click().run()
    assert wait_for_jobs(tmp_path)[0]["status"] == "cancelled"


def test_a_visitor_who_types_another_id_gets_nothing_of_theirs(open_app, tmp_path):
    owner = open_advanced(open_app, tmp_path)
    job = start_long_job(owner)
    their_id = owner.session_state[VISITOR_KEY]

    intruder = open_app(tmp_path, "pages/train.py", query={"visitor": their_id})
    assert not intruder.exception
    assert intruder.session_state[VISITOR_KEY] != their_id
    assert "visitor" not in intruder.query_params
    assert not [b for b in intruder.button if b.key == f"cancel-{job['id']}"]  # not theirs to cancel
    assert any("1 other experiment is queued or running" in c.value for c in intruder.caption)

    owner.button(key=f"cancel-{job['id']}").click().run()
    assert wait_for_jobs(tmp_path)[0]["status"] == "cancelled"


def test_only_the_host_token_lifts_the_limits(open_app, tmp_path, monkeypatch):
    monkeypatch.setenv("TIEVIZ_HOST_TOKEN", TOKEN)
    monkeypatch.setenv("TIEVIZ_ANON_MAX_STEPS", "100")
    at = open_advanced(open_app, tmp_path)
    at.number_input(key="adv-toy-steps").set_value(2000)
    at.run()
    assert any("above this site's limit" in w.value for w in at.warning)  # said before any click
    assert at.button(key="train-start").disabled

    at.text_input(key="host_token_input").input("a-host-secret-0123456788").run()
    assert any("not this site's host token" in m for m in errors(at))
    at.text_input(key="host_token_input").input(TOKEN).run()
    assert any("Host access" in c.value for c in at.caption)
    assert not at.button(key="train-start").disabled
    assert_no_identity_in_url(at)
    at.button(key="train-start").click().run()
    [job] = JobStore(tmp_path / "jobs").all()
    assert job["trusted"] is True and job["config"]["train"]["steps"] == 2000
    at.button(key=f"cancel-{job['id']}").click().run()
    assert wait_for_jobs(tmp_path)[0]["status"] == "cancelled"


def test_an_old_link_with_a_visitor_id_loses_it_on_any_page(open_app, tmp_path):
    at = open_app(tmp_path, query={"visitor": "abcdef123456"})  # the Overview, which asks nobody's id
    assert not at.exception
    assert "visitor" not in at.query_params
    assert at.session_state[VISITOR_KEY] != "abcdef123456"


def test_the_train_page_says_a_run_is_over_the_budget_before_it_is_started(open_app, tmp_path, monkeypatch):
    monkeypatch.setenv("TIEVIZ_ANON_MAX_TFLOPS", "1")
    at = open_advanced(open_app, tmp_path)
    assert not at.warning and not at.button(key="train-start").disabled  # the toy preset is cheap
    at.number_input(key="adv-toy-batch").set_value(256)
    at.number_input(key="adv-toy-seq").set_value(128).run()
    assert any("TFLOPs" in w.value and "budget of 1" in w.value for w in at.warning)
    assert at.button(key="train-start").disabled
    assert JobStore(tmp_path / "jobs").all() == []
