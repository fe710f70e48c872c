"""tieviz.ui: the URL value parsers, and the names the pages call as `ui.<name>` all still exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tieviz import ui
from tieviz.timing import STARTUP_SECONDS

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
    assert {"show_figure", "experiment_picker", "estimate"} <= used  # the scan finds them
    assert sorted(used - set(ui.__all__)) == []
    assert all(hasattr(ui, name) for name in ui.__all__)


def test_the_train_page_estimate_reads_earlier_timings_from_the_listing(toy_data, monkeypatch):
    """recent_summaries: the newest summaries, read once per change of the listing, feed the estimate."""
    import json

    from tieviz.config import ExperimentConfig

    data, summary = toy_data
    monkeypatch.setenv("TIEVIZ_DATA", str(data))
    summaries = ui.recent_summaries()
    stored = json.loads((data / "runs" / "experiments" / f"{summary['experiment_key']}.json").read_text())
    assert summaries == [stored]
    config = ExperimentConfig.from_dict(summary["config"])
    guess = ui.estimate(config, summary["device"], summaries)
    assert guess.basis == "same shape"
    # The same experiment again: its own training and analysis time, plus a job's start-up.
    assert guess.seconds == pytest.approx(summary["wall_seconds"] + STARTUP_SECONDS[summary["device"]])
