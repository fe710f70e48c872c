"""tieviz.ui: the URL value parsers, and the names the pages call as `ui.<name>` all still exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tieviz import ui
from tieviz.experiments.time_estimate import STARTUP_SECONDS, estimate

ROOT = Path(__file__).resolve().parents[2]


def test_url_parsers_refuse_what_a_widget_cannot_take():
    assert ui.bounded_int(1, 10)("7") == 7
    for bad in ("0", "11", "seven"):
        with pytest.raises(ValueError):
            ui.bounded_int(1, 10)(bad)
    assert ui.bounded_float(0.0, 1.0)("0.5") == 0.5
    assert ui.choice(("pca", "umap"))("umap") == "umap"
    with pytest.raises(ValueError):
        ui.choice(("pca", "umap"))("tsne")
    assert ui.parse_bool("true") is True and ui.parse_bool("0") is False
    with pytest.raises(ValueError):
        ui.parse_bool("maybe")


def test_every_name_the_pages_use_is_exported():
    scripts = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]
    used = {name for path in scripts for name in re.findall(r"(?<![.\w])ui\.(\w+)", path.read_text())}
    assert {"show_figure", "experiment_picker", "time_estimate"} <= used  # the scan finds them
    assert sorted(used - set(ui.__all__)) == []
    assert all(hasattr(ui, name) for name in ui.__all__)


def test_the_train_page_estimate_reads_earlier_timings_from_the_listing(toy_data, monkeypatch):
    """recent_summaries: the newest summaries, read once per change of the listing, feed the estimate."""
    from tieviz.config import ExperimentConfig
    from tieviz.experiments.summary_record import SummaryHeader

    data, summary = toy_data
    monkeypatch.setenv("TIEVIZ_DATA", str(data))
    summaries = ui.recent_summaries()
    stored = SummaryHeader.read(data / "runs" / "experiments" / f"{summary['experiment_key']}.json")
    assert summaries == [stored]
    config = ExperimentConfig.from_dict(summary["config"])
    guess = estimate(config, summary["device"], summaries)
    assert guess.basis == "same shape"
    # The same experiment in a fresh store: its own training and analysis time, plus a job's start-up.
    expected = summary["train_seconds"] + summary["analysis_seconds"] + STARTUP_SECONDS[summary["device"]]
    assert guess.seconds == pytest.approx(expected)


def test_the_train_page_estimate_leaves_out_what_the_data_folder_already_holds(toy_data, monkeypatch):
    """The same experiment again is read back; one more seed trains only that seed's three runs."""
    from dataclasses import replace

    from tieviz.config import ExperimentConfig

    data, summary = toy_data
    monkeypatch.setenv("TIEVIZ_DATA", str(data))
    summaries, device = ui.recent_summaries(), summary["device"]
    config = ExperimentConfig.from_dict(summary["config"])
    again = ui.time_estimate(config, device, summaries)
    assert again.basis == "stored" and again.seconds == STARTUP_SECONDS[device]

    seeds = config.seeds
    more = ui.time_estimate(replace(config, seeds=seeds + 1), device, summaries)
    one_arm_per_step = summary["train_seconds"] / (3 * seeds * config.train.steps)
    analysis_per_seed = summary["analysis_seconds"] / seeds
    assert more.basis == "same shape"
    assert more.seconds == pytest.approx(
        STARTUP_SECONDS[device] + 3 * config.train.steps * one_arm_per_step + (seeds + 1) * analysis_per_seed
    )


@pytest.mark.parametrize(
    ("agent", "narrow"),
    [
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36",
            True,
        ),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148", True),
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36", False),
        (None, False),
    ],
)
def test_a_phone_is_known_by_its_user_agent(monkeypatch, agent, narrow):
    from types import SimpleNamespace

    from tieviz.ui import presenter

    headers = {} if agent is None else {"User-Agent": agent}
    monkeypatch.setattr(presenter, "st", SimpleNamespace(context=SimpleNamespace(headers=headers)))
    assert presenter.narrow_screen() is narrow
