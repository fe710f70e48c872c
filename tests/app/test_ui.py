"""The plain helpers of tieviz.ui: listing experiments, the time estimate, and URL value parsers."""

from __future__ import annotations

import json
import os

import pytest

from tieviz import ui
from tieviz.config import preset


def write_summary(folder, key, mtime, **extra):
    config = preset("toy").to_dict()
    path = folder / f"{key}.json"
    path.write_text(
        json.dumps({"experiment_key": key, "preset": "toy", "config": config, "device": "cpu", **extra})
    )
    os.utime(path, (mtime, mtime))
    return path


def test_list_experiments_newest_first_skipping_unreadable(tmp_path):
    folder = tmp_path / "experiments"
    folder.mkdir()
    write_summary(folder, "old", 1_000_000)
    write_summary(folder, "new", 2_000_000)
    (folder / "broken.json").write_text("{not json")
    (folder / "partial.json").write_text(json.dumps({"experiment_key": "x"}))
    entries = ui.list_experiments(tmp_path)
    assert [e.key for e in entries] == ["new", "old"]
    assert entries[0].label.startswith("toy · toy · 60 steps · ")
    assert entries[0].label.endswith(" · cpu")
    assert ui.list_experiments(tmp_path / "missing") == []


def test_estimate_grows_with_steps_and_model_size():
    small = preset("toy", steps=100)
    assert ui.estimate_seconds(preset("toy", steps=200), "cpu") > ui.estimate_seconds(small, "cpu")
    assert ui.estimate_seconds(preset("toy", steps=100, d_model=256, n_heads=4), "cpu") > ui.estimate_seconds(
        small, "cpu"
    )
    assert ui.estimate_seconds(preset("demo"), "cuda") < ui.estimate_seconds(preset("demo"), "cpu")


def test_estimate_uses_a_measured_speed():
    config = preset("toy", steps=100, batch_size=10, seq_len=10)  # 100 tokens a step
    # 3 arms x 100 steps x 100 tokens at 1,000 tokens/s = 30 s, plus the analysis.
    assert ui.estimate_seconds(config, "cpu", 1000.0) == pytest.approx(30.0 + ui.ANALYSIS_SECONDS["cpu"])


def test_measured_speed_needs_the_same_shape_and_device():
    config = preset("toy")
    arms = {"tied": {"tokens_per_second": 100.0}, "untied": {"tokens_per_second": 300.0}}
    same = {"config": config.to_dict(), "device": "cpu", "arms": arms}
    assert ui.measured_speed([same], config, "cpu") == 200.0
    assert ui.measured_speed([same], config, "cuda") is None
    assert ui.measured_speed([same], preset("toy", d_model=64), "cpu") is None
    assert ui.measured_speed([{"config": {}}, same], config, "cpu") == 200.0  # a broken summary is skipped


@pytest.mark.parametrize(
    ("seconds", "text"), [(12, "about 10 s"), (150, "about 2 min"), (9000, "about 2.5 h")]
)
def test_duration(seconds, text):
    assert ui.duration(seconds) == text


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
