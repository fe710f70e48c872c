"""The Sweeps page: empty state, bad values, a recorded sweep's curve and verdict, a sweep started here."""

from __future__ import annotations

import base64
import functools
import json

import numpy as np
import pytest

from tests.app.conftest import errors
from tests.app.test_train import wait_for_jobs
from tieviz.jobs.store import JobStore

PAGE = "pages/sweeps.py"


def test_without_sweeps_the_page_offers_to_start_one(open_app, tmp_path):
    at = open_app(tmp_path, PAGE)
    assert not at.exception and not errors(at)
    assert any("No sweeps yet" in c.value for c in at.caption)
    assert not at.button(key="sweep-start").disabled
    assert any("5 points × 3 seeds" in c.value for c in at.caption)  # the α default: 0.5, 1, 2, 5, 10


def test_bad_values_are_explained_and_start_nothing(open_app, tmp_path):
    at = open_app(tmp_path, PAGE)
    at.text_input(key="sweep_values_alpha").set_value("0.5, -1").run()
    assert any("positive" in message for message in errors(at))
    assert at.button(key="sweep-start").disabled
    at.selectbox(key="sweep_axis").set_value("d_model").run()
    at.text_input(key="sweep_values_d_model").set_value("16, 24.5").run()
    assert any("whole numbers" in message for message in errors(at))
    assert not JobStore(tmp_path / "jobs").all()


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """A data folder holding a finished tiny α sweep (1, 2) of two seeds, run without the dashboard."""
    from tieviz.config import preset
    from tieviz.experiments import measure_seeds as summarize
    from tieviz.experiments import run_analysis as results
    from tieviz.experiments.sweep import run_sweep
    from tieviz.training.run_store import RunStore

    data = tmp_path_factory.mktemp("sweep-data")
    config = preset(
        "toy", steps=10, batch_size=4, d_model=16, n_heads=2, toy_tokens=8000, device="cpu", seeds=2
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(summarize, "lens_result", functools.partial(results.lens_result, steps=20))
        return data, run_sweep(config, "alpha", "1,2", RunStore(data / "runs"))


def plotly_values(values) -> list:
    """An array from a chart's JSON: a plain list, or Plotly's base64 typed array ({"bdata", "dtype"})."""
    if isinstance(values, dict) and "bdata" in values:
        import base64

        import numpy as np

        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return list(values or [])


def test_a_recorded_sweep_shows_its_curve_verdict_and_downloads(open_app, swept):
    data, record = swept
    at = open_app(data, PAGE)
    assert not at.exception and not errors(at)
    assert at.selectbox(key="sweep").value == record["key"]
    # get_by_key raises KeyError for a missing key, so check what each element is, not that it exists.
    chart = json.loads(at.get_by_key("chart-sweep").proto.spec)
    drawn = {float(x) for trace in chart["data"] for x in plotly_values(trace.get("x"))}
    assert {1, 2} <= drawn, drawn  # both α points are on the curve
    labels = {button: at.get_by_key(button).proto.label for button in ("dl-html-sweep", "dl-data-sweep")}
    assert labels == {"dl-html-sweep": "HTML", "dl-data-sweep": "CSV"}
    shown = [e.value for e in [*at.success, *at.info, *at.warning]]
    assert record["verdict"]["text"] in shown
    assert not JobStore(data / "jobs").all()  # its points are stored: nothing is queued again
    at.selectbox(key="sweep_measure").set_value("cka").run()
    assert not at.exception
    chart = json.loads(at.get_by_key("chart-sweep").proto.spec)
    assert "CKA" in chart["layout"]["title"]["text"]


@pytest.mark.slow
def test_a_sweep_started_here_runs_as_jobs_and_fills_in(open_app, tmp_path):
    at = open_app(tmp_path, PAGE)
    at.selectbox(key="sweep_axis").set_value("n_layers").run()
    at.text_input(key="sweep_values_n_layers").set_value("1, 2")
    at.number_input(key="sweep_seeds").set_value(1)
    at.number_input(key="sweep_steps_toy").set_value(6)
    at.selectbox(key="sweep_device").set_value("cpu").run()
    assert not errors(at)
    at.button(key="sweep-start").click().run()
    assert not at.exception and not errors(at)
    jobs = wait_for_jobs(tmp_path, timeout=400)
    assert len(jobs) == 2 and all(j["status"] == "done" for j in jobs), [j.get("error") for j in jobs]
    assert sorted(j["config"]["model"]["n_layers"] for j in jobs) == [1, 2]
    at.run()
    assert not at.exception and not errors(at)
    [stored] = (tmp_path / "runs" / "sweeps").glob("*.json")
    record = json.loads(stored.read_text())
    assert record["complete"] and [p["n_layers"] for p in record["points"]] == [1, 2]
    chart = json.loads(at.get_by_key("chart-sweep").proto.spec)
    [bias] = [t for t in chart["data"] if t.get("name") == "tied bias (out − in)"]
    x = bias["x"]  # Plotly sends arrays base64-encoded
    assert np.frombuffer(base64.b64decode(x["bdata"]), dtype=x["dtype"]).tolist() == [1.0, 2.0]


@pytest.mark.slow
def test_an_unfinished_sweep_is_only_resumed_on_request(open_app, tmp_path):
    from tieviz.config import preset
    from tieviz.experiments.runner import resolve
    from tieviz.experiments.sweep import SweepConfig, save_request
    from tieviz.training.run_store import RunStore

    base = preset("toy", steps=4, batch_size=4, d_model=16, n_heads=2, toy_tokens=8000, device="cpu", seeds=1)
    sweep = SweepConfig(resolve(base), "n_layers", (1, 2))
    save_request(sweep, RunStore(tmp_path / "runs"))  # recorded, as the CLI does first, but never trained
    at = open_app(tmp_path, PAGE)
    assert not at.exception and not errors(at)
    assert at.selectbox(key="sweep").value == sweep.key()
    assert any("neither stored nor queued" in w.value for w in at.warning)
    assert not JobStore(tmp_path / "jobs").all()  # looking queues nothing
    at.button(key="sweep-resume").click().run()
    jobs = wait_for_jobs(tmp_path, timeout=400)
    assert sorted(j["config"]["model"]["n_layers"] for j in jobs) == [1, 2]
    assert all(j["status"] == "done" for j in jobs), [j.get("error") for j in jobs]
