"""tieviz.ui: the URL value parsers, and the names the pages call as `ui.<name>` all still exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tieviz import ui

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
    assert {"show_figure", "experiment_picker", "estimate_seconds"} <= used  # the scan finds them
    assert sorted(used - set(ui.__all__)) == []
    assert all(hasattr(ui, name) for name in ui.__all__)
