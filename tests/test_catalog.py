"""tieviz.catalog: a data folder's finished experiments, newest first, and the stamp that sees changes."""

from __future__ import annotations

import json
import os

from tieviz.catalog import data_root, list_experiments, listing_stamp
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
    entries = list_experiments(tmp_path)
    assert [e.key for e in entries] == ["new", "old"]
    assert entries[0].label.startswith(f"toy · toy · {preset('toy').train.steps} steps · ")
    assert entries[0].label.endswith(" · cpu")
    assert list_experiments(tmp_path / "missing") == []


def test_listing_stamp_changes_when_a_summary_does(tmp_path):
    assert listing_stamp(tmp_path) == ()
    folder = tmp_path / "experiments"
    folder.mkdir()
    path = write_summary(folder, "a", 1_000_000)
    (folder / "notes.txt").write_text("not a summary")
    first = listing_stamp(tmp_path)
    assert [name for name, _ in first] == ["a.json"]
    os.utime(path, (2_000_000, 2_000_000))
    assert listing_stamp(tmp_path) != first


def test_data_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TIEVIZ_DATA", str(tmp_path))
    assert data_root() == tmp_path.resolve()
    monkeypatch.delenv("TIEVIZ_DATA")
    monkeypatch.chdir(tmp_path)
    assert data_root() == tmp_path.resolve() / "data"
    assert data_root().is_absolute()
