"""`python -m tieviz sweep`: a tiny sweep writes sweep.json; a bad axis or value is one line and exit 2."""

from __future__ import annotations

import functools
import json

import pytest

from tests.test_cli import assert_one_line_error, run_cli
from tieviz.cli import main
from tieviz.experiments import measure_seeds as summarize
from tieviz.experiments import run_analysis as results

TINY = ["--preset", "toy", "--batch", "4", "--heads", "2", "--device", "cpu", "--quiet", "--seeds", "2"]


def sweep_args(tmp_path, *extra: str) -> list[str]:
    return ["sweep", "--out", str(tmp_path / "out"), "--runs-dir", str(tmp_path / "runs"), *TINY, *extra]


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--alpha", "5"], ("one axis", "got none")),
        (["--alpha", "1,2", "--layers", "1,2"], ("one axis", "--alpha, --layers")),
        (["--alpha", "0,1"], ("--alpha", "positive")),
        (["--d-model", "8,x"], ("--d-model", "numbers")),
        (["--steps", "0,5"], ("--steps", "at least 1")),
        (["--layers", "1,2", "--preset", "huge"], ("unknown preset",)),
        (["--layers", "1,2", "--lr", "0"], ("lr must be a positive",)),
    ],
)
def test_bad_sweeps_are_one_line(tmp_path, capsys, args, fragments):
    code, err = run_cli(sweep_args(tmp_path, *args), capsys)
    assert_one_line_error(code, err, *fragments)
    assert not (tmp_path / "out").exists()


def test_a_tiny_sweep_writes_sweep_json(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(summarize, "lens_result", functools.partial(results.lens_result, steps=20))
    code = main(sweep_args(tmp_path, "--layers", "2,1", "--steps", "8", "--d-model", "16"))
    out = capsys.readouterr().out
    assert code == 0
    assert "n_layers = 1: linear-map bias" in out and "verdict: " in out
    record = json.loads((tmp_path / "out" / "sweep.json").read_text())
    assert record["axis"] == "n_layers" and record["values"] == [1, 2] and record["arm"] == "tied"
    assert [p["n_layers"] for p in record["points"]] == [1, 2]
    assert all(p["steps"] == 8 and p["d_model"] == 16 for p in record["points"])  # single values: fixed
    assert all(len(p["stats"]["bias.lin_cos"]["per_seed"]) == 2 for p in record["points"])
    assert (tmp_path / "runs" / "sweeps" / f"{record['key']}.json").exists()

    code = main(["figures", str(tmp_path / "out"), "--no-png"])  # the sweep's figures, one per measure
    assert code == 0 and "wrote 4 files" in capsys.readouterr().out
    html = sorted(p.name for p in (tmp_path / "out" / "figures").iterdir())
    assert html == [f"tieviz_sweep_n_layers_{m}.html" for m in ("cka", "lin_cos", "mknn", "proc_cos")]


@pytest.mark.parametrize("content", ["{}", "[]", '{"axis": "alpha"}', "not json", "\udcff"])
def test_a_sweep_json_that_is_not_one_is_refused_in_one_line(tmp_path, capsys, content):
    (tmp_path / "sweep.json").write_text(content, errors="surrogateescape")
    code, err = run_cli(["figures", str(tmp_path), "--no-png"], capsys)
    assert_one_line_error(code, err, "sweep.json")
    assert not (tmp_path / "figures").exists()
