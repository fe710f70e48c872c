"""tieviz.experiments.catalog: a data folder's finished experiments, newest first, and the stamp that sees
changes."""

from __future__ import annotations

import json
import os
from dataclasses import replace

from tieviz.config import preset
from tieviz.experiments.catalog import data_root, landing_entry, list_experiments, listing_stamp

ARM = {"run_dir": "", "key": "", "tied": True, "alpha": 1.0, "final_train_loss": 1.0, "final_val_loss": 1.0}
ARM |= {"params": 1, "tokens_per_second": 1.0}


def write_summary(folder, key, mtime, config=None, **extra):
    config = (config or preset("toy")).to_dict()
    arms = {name: ARM for name in ("tied", "untied", "scaled")}
    raw = {"experiment_key": key, "preset": config["preset"], "config": config, "device": "cpu", "arms": arms}
    path = folder / f"{key}.json"
    path.write_text(json.dumps({**raw, "seeds": list(range(config["seeds"])), **extra}))
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
    assert entries[0].label.startswith(
        f"toy · example · α 5 · {preset('toy').train.steps} steps · 5 seeds from 0 · "
    )
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


def test_labels_tell_examples_sweep_points_and_own_settings_apart(tmp_path):
    from tieviz.experiments.sweep import SweepConfig, save_request
    from tieviz.training.run_store import RunStore

    folder = tmp_path / "experiments"
    folder.mkdir()
    toy = replace(preset("toy"), train=replace(preset("toy").train, device="cpu"))  # as resolved
    sweep = SweepConfig(toy, "alpha", (1.0, 10.0))
    save_request(sweep, RunStore(tmp_path))
    write_summary(folder, toy.key(), 1_000_000, toy)
    for index, point in enumerate(sweep.points()):
        write_summary(folder, point.key(), 2_000_000 + index, point)
    wide = preset("toy", d_model=64, seeds=2, seed=3, device="cpu")
    write_summary(folder, wide.key(), 3_000_000, wide)
    entries = list_experiments(tmp_path)
    labels = [e.label.rsplit(" · ", 1)[0] for e in entries]  # without the time
    assert labels == [
        "toy · trained here · α 5 · 200 steps · 2 seeds from 3 · width 64",
        "toy · sweep point · α 10 · 200 steps · 5 seeds from 0",
        "toy · sweep point · α 1 · 200 steps · 5 seeds from 0",
        "toy · example · α 5 · 200 steps · 5 seeds from 0",
    ]
    assert len(set(labels)) == len(labels)
    # A fresh visitor lands on the newest experiment that is not a sweep's point.
    assert landing_entry(entries).key == wide.key()
    assert landing_entry(entries[1:]).key == toy.key()
    assert landing_entry(entries[1:3]).key == entries[1].key  # only sweep points: the newest
    assert landing_entry([]) is None
