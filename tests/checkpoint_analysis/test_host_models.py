"""Checkpoints a host lists in TIEVIZ_MODELS (tieviz/checkpoint_analysis/host_models.py)."""

from __future__ import annotations

from tieviz.checkpoint_analysis.host_models import find_host_model, host_models, step_of


def _checkpoint(folder):
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    return folder


def test_listed_folders_and_folders_of_step_checkpoints(tmp_path, monkeypatch):
    single = _checkpoint(tmp_path / "gpt2")
    run = tmp_path / "pythia"
    for name in ("step1000", "step20", "step300"):
        _checkpoint(run / name)
    (run / "notes").mkdir()  # no config.json: not a checkpoint
    monkeypatch.setenv("TIEVIZ_MODELS", f"{single}:{run}:{tmp_path / 'gone'}:")
    found = host_models(tmp_path / "data")
    assert [m.name for m in found] == ["gpt2", "pythia/step20", "pythia/step300", "pythia/step1000"]
    assert found[0].checkpoint == single.resolve()
    assert all(str(tmp_path) not in m.id for m in found)  # the id shows no path
    assert find_host_model(tmp_path / "data", found[2].id) == found[2]
    assert find_host_model(tmp_path / "data", "host-000000000000") is None
    assert found[0].cache_dir("maps").is_relative_to(tmp_path / "data")


def test_unset_lists_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("TIEVIZ_MODELS", raising=False)
    assert host_models(tmp_path) == []


def test_steps_read_from_names():
    assert step_of("step1000") == 1000 and step_of("global_step-20") == 20 and step_of("checkpoint_5") == 5
    assert step_of("stage1-step20000-tokens84B") == 20000 and step_of("r7") == 7  # the CLI's rule
    assert step_of("final") is None
