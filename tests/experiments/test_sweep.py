"""Sweeps: values and points, shared runs along α (counted), the record's numbers, and finding it again."""

from __future__ import annotations

import functools
import json

import pytest

from tieviz.config import preset
from tieviz.experiments import measure_seeds as summarize
from tieviz.experiments import run_analysis as results
from tieviz.experiments import runner as experiment
from tieviz.experiments.sweep import (
    SweepConfig,
    collect_sweep,
    list_sweeps,
    parse_values,
    run_sweep,
    save_request,
    sweep_path,
    sweep_rows,
)
from tieviz.training.run_store import RunStore

TINY = dict(steps=10, batch_size=4, d_model=16, n_heads=2, toy_tokens=8000, device="cpu", seeds=2)


def tiny(**overrides):
    return preset("toy", **{**TINY, **overrides})


@pytest.fixture
def trainings(monkeypatch) -> list[dict]:
    """Every arm trained (not fetched from the store) while the test runs, as its config; fast lens."""
    trained: list[dict] = []
    real = experiment._train_and_commit

    def counting(arm, *args, **kwargs):
        trained.append(arm.to_dict())
        return real(arm, *args, **kwargs)

    monkeypatch.setattr(experiment, "_train_and_commit", counting)
    monkeypatch.setattr(summarize, "lens_result", functools.partial(results.lens_result, steps=20))
    return trained


def test_values_are_parsed_sorted_and_deduplicated():
    assert parse_values("alpha", "10, 0.5,1,1") == (0.5, 1.0, 10.0)
    assert parse_values("d_model", [64, 16.0, 32]) == (16, 32, 64)
    assert parse_values("steps", "200") == (200,)


@pytest.mark.parametrize(
    ("axis", "values", "words"),
    [
        ("alpha", "0.5,0", "positive"),
        ("alpha", "-1", "positive"),
        ("alpha", "1,x", "numbers"),
        ("d_model", "16.5", "whole numbers"),
        ("n_layers", "0,1", "whole numbers"),
        ("alpha", " , ", "at least one value"),
        ("heads", "1,2", "unknown sweep axis"),
    ],
)
def test_bad_values_are_refused_with_the_reason(axis, values, words):
    with pytest.raises(ValueError, match=words):
        parse_values(axis, values)


def test_a_width_keeps_its_heads_dividing_it():
    four_heads = tiny(d_model=32, n_heads=4)
    points = SweepConfig(four_heads, "d_model", (16, 18, 20, 21, 24)).points()
    assert [(p.model.d_model, p.model.n_heads) for p in points] == [
        (16, 4),
        (18, 3),
        (20, 4),
        (21, 3),
        (24, 4),
    ]
    assert all(p.model.d_model % p.model.n_heads == 0 for p in points)


def test_each_axis_changes_only_its_setting():
    base = tiny()
    for axis, value, read in (
        ("alpha", 2.0, lambda c: c.alpha),
        ("n_layers", 3, lambda c: c.model.n_layers),
        ("steps", 7, lambda c: c.train.steps),
    ):
        point = SweepConfig(base, axis, (value,)).point(value)
        assert read(point) == value
        assert point.data == base.data and point.seeds == base.seeds
    assert SweepConfig(base, "alpha", (1, 2)).key() != SweepConfig(base, "alpha", (1, 3)).key()


def test_an_alpha_sweep_trains_the_tied_untied_and_baseline_runs_once(tmp_path, trainings, monkeypatch):
    lens_fits: list[str] = []
    real_lens = results.model_lens_result

    def counting_lens(model, ids, cache_dir, model_key, *args, **kwargs):
        lens_fits.append(model_key)
        return real_lens(model, ids, cache_dir, model_key, *args, **kwargs)

    monkeypatch.setattr(results, "model_lens_result", counting_lens)
    store = RunStore(tmp_path / "runs")
    record = run_sweep(tiny(), "alpha", "0.5,1,2", store)
    assert len(lens_fits) == len(set(lens_fits)) == 4  # each seed's tied and untied lens, scored once
    # 2 seeds: tied, untied and the baseline's second untied model once each (shared by all points);
    # scaled at 0.5 and 2 (at 1 it is tied)
    arms = [(a["tied"], a["alpha"]) for a in trainings]
    assert len(trainings) == 10
    assert sorted(arms) == sorted(
        [(True, 1.0)] * 2 + [(False, 1.0)] * 4 + [(True, 0.5)] * 2 + [(True, 2.0)] * 2
    )
    assert record["axis"] == "alpha" and record["values"] == [0.5, 1.0, 2.0] and record["complete"]
    assert [p["alpha"] for p in record["points"]] == [0.5, 1.0, 2.0]
    for point in record["points"]:
        assert point["seeds"] == [0, 1]
        for name in ("bias.lin_cos", "bias.proc_cos", "bias.cka", "bias.mknn", "grad_ratio.tied_early"):
            stat = point["stats"][name]
            assert len(stat["per_seed"]) == 2
            assert stat["ci_low"] <= stat["mean"] <= stat["ci_high"]
        assert set(point["floors"]) == set(point["baseline"]) == {"lin_cos", "proc_cos", "cka", "mknn"}
    # At α = 1 the scaled model is the tied model: its bias is the tied bias of every point's experiment.
    at_one = record["points"][1]["stats"]["bias.lin_cos"]["per_seed"]
    summary = experiment.cached_summary(experiment.resolve(tiny(alpha=0.5)), store)
    assert at_one == list(summary.stats["bias.tied.lin_cos"].per_seed)
    assert record["points"][0]["stats"]["bias.lin_cos"]["per_seed"] == list(
        summary.stats["bias.scaled.lin_cos"].per_seed
    )
    assert record["verdict"]["status"] in ("agrees", "no clear effect", "disagrees")
    stored = json.loads(sweep_path(store, record["key"]).read_text())
    assert stored == json.loads(json.dumps(record))

    trainings.clear()
    again = run_sweep(tiny(), "alpha", [2, 1, 0.5], store)  # the same sweep, asked in another order
    assert trainings == [] and again["key"] == record["key"]


def test_a_width_sweep_follows_the_tied_arm_and_shares_nothing(tmp_path, trainings):
    store = RunStore(tmp_path / "runs")
    record = run_sweep(tiny(seeds=1), "d_model", "8,16", store)
    assert len(trainings) == 8  # three arms and the baseline model per width
    assert [(p["d_model"], p["n_heads"]) for p in record["points"]] == [(8, 2), (16, 2)]
    summary = experiment.cached_summary(experiment.resolve(tiny(seeds=1)), store)
    assert record["points"][1]["stats"]["bias.lin_cos"]["mean"] == summary.stats["bias.tied.lin_cos"].mean
    assert record["points"][1]["stats"]["bias.lin_cos"]["ci_low"] is None  # one seed: no interval
    assert record["verdict"]["status"] == "one seed"


def test_a_sweep_is_found_again_and_fills_in_as_points_finish(tmp_path, trainings):
    store = RunStore(tmp_path / "runs")
    base = experiment.resolve(tiny(seeds=1))
    sweep = SweepConfig(base, "steps", (4, 6))
    save_request(sweep, store)
    [(path, found)] = list_sweeps(store)
    assert found == sweep and path == sweep_path(store, sweep.key())
    assert collect_sweep(sweep, store)["points"] == []  # nothing trained yet
    experiment.run_experiment(sweep.point(6), store)
    partial = collect_sweep(sweep, store)
    assert [p["steps"] for p in partial["points"]] == [6] and not partial["complete"]
    experiment.run_experiment(sweep.point(4), store)
    full = collect_sweep(sweep, store)
    assert full["complete"] and [p["steps"] for p in full["points"]] == [4, 6]
    assert json.loads(path.read_text())["complete"]  # stored once complete
    written = path.stat().st_mtime_ns
    assert collect_sweep(sweep, store) == full and path.stat().st_mtime_ns == written  # and not again
    rows = sweep_rows(full)
    assert {r["stat"] for r in rows} >= {"bias.lin_cos", "floor.lin_cos", "score.lin_cos_out"}
    assert len([r for r in rows if r["stat"] == "bias.lin_cos"]) == 2
