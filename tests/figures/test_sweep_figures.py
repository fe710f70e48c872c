"""The sweep figure from known sweep.json records: bands from the intervals, floors and baseline as lines."""

from __future__ import annotations

import numpy as np
import pytest

from tieviz.analysis.measures import MEASURES
from tieviz.analysis.stats import seed_stat
from tieviz.figures.sweep import sweep_figure


def record(axis: str, values, biases: list[list[float]]) -> dict:
    points = []
    for value, per_seed in zip(values, biases, strict=True):
        stats = {}
        for m in MEASURES:
            stats[f"bias.{m}"] = seed_stat(per_seed).to_dict()
            stats[f"score.{m}_out"] = seed_stat([0.6 + b for b in per_seed]).to_dict()
            stats[f"score.{m}_in"] = seed_stat([0.6] * len(per_seed)).to_dict()
        points.append(
            {
                axis: value,
                "seeds": list(range(len(per_seed))),
                "stats": stats,
                "floors": {m: seed_stat([0.4] * len(per_seed)).to_dict() for m in MEASURES},
                "baseline": {m: seed_stat([0.8, 0.82]).to_dict() for m in MEASURES}
                if len(per_seed) > 1
                else {},
            }
        )
    return {
        "axis": axis,
        "arm": "scaled" if axis == "alpha" else "tied",
        "values": list(values),
        "points": points,
    }


def traces(fig, name: str):
    return [t for t in fig.data if t.name == name]


def test_dose_response_draws_means_bands_floor_and_baseline():
    sweep = record("alpha", [0.5, 1, 10], [[0.3, 0.32, 0.34], [0.2, 0.22, 0.24], [0.0, 0.02, 0.04]])
    captioned = sweep_figure(sweep)
    fig = captioned.figure
    [bias] = traces(fig, "scaled bias (out − in)")
    assert list(bias.x) == [0.5, 1, 10] and np.allclose(bias.y, [0.32, 0.22, 0.02])
    bands = [t for t in fig.data if t.fill == "toself"]
    assert len(bands) == 3  # bias, score to W_U, score to W_E
    stats = [seed_stat(b) for b in ([0.3, 0.32, 0.34], [0.2, 0.22, 0.24], [0.0, 0.02, 0.04])]
    highs, lows = [s.ci_high for s in stats], [s.ci_low for s in stats]
    assert np.allclose(bands[0].y, highs + lows[::-1])  # the band spans each point's 95 % interval
    assert list(bands[0].x) == [0.5, 1, 10, 10, 1, 0.5]
    [floor] = traces(fig, "chance floor")
    [baseline] = traces(fig, "same-recipe baseline")
    assert np.allclose(floor.y, 0.4) and np.allclose(baseline.y, 0.81)
    assert fig.layout.xaxis2.type == "log" and list(fig.layout.xaxis2.ticktext) == ["0.5", "1", "10"]
    assert "Dose–response" in fig.layout.title.text and "linear-map cosine" in fig.layout.title.text
    assert captioned.name == "sweep_alpha_lin_cos" and "3 seeds" in captioned.caption


def test_scale_trend_of_one_seed_has_no_band_and_no_baseline():
    sweep = record("n_layers", [1, 2], [[0.1], [0.2]])
    fig = sweep_figure(sweep, measure="cka").figure
    assert not [t for t in fig.data if t.fill == "toself"]
    assert not traces(fig, "same-recipe baseline") and traces(fig, "chance floor")
    assert "tied bias (out − in)" in [t.name for t in fig.data]
    assert fig.layout.xaxis.type == "linear"


def test_an_unfinished_sweep_says_no_data_and_bad_measures_are_refused():
    fig = sweep_figure({"axis": "d_model", "values": [16, 32], "points": []}).figure
    assert any(a.text == "no data yet" for a in fig.layout.annotations)
    with pytest.raises(ValueError, match="measure"):
        sweep_figure(record("alpha", [1], [[0.1]]), measure="loss")
