"""`python -m tieviz compare` and `compare-series` through the real CLI entry, on tiny checkpoints."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

import tieviz
from tests.checkpoint_analysis.conftest import D, V, rotation
from tieviz.checkpoint_analysis.series import step_checkpoints, step_of
from tieviz.cli import main


def test_compare_with_default_settings_through_python_m(output_shaped_pair):
    tied, untied, _ = output_shaped_pair
    done = subprocess.run(
        [sys.executable, "-m", "tieviz", "compare", str(tied), str(untied)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "linear-map cosine (paper)" in done.stdout and "verdict (linear-map cosine): agrees" in done.stdout
    assert "%" in done.stderr  # the progress bar


def test_compare_json_and_out_files(output_shaped_pair, tmp_path, capsys):
    tied, untied, _ = output_shaped_pair
    assert main(["compare", str(tied), str(untied), "--json", "--out", str(tmp_path), "--shuffles", "2"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["measures"]["lin_cos"]["out"] == pytest.approx(1.0, abs=1e-6) and data["shuffles"] == 2
    assert json.loads((tmp_path / "comparison.json").read_text())["n_tokens"] == V
    with open(tmp_path / "per_token.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == V and float(rows[7]["lin_cos_out"]) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tokens", "5"], "--tokens must be more than 10"),
        (["--tokens", "many"], "--tokens takes a number"),
        (["--shuffles", "0"], "at least 1 shuffle"),
    ],
)
def test_bad_flags_are_one_line_and_exit_2(output_shaped_pair, capsys, args, message):
    tied, untied, _ = output_shaped_pair
    assert main(["compare", str(tied), str(untied), "--quiet", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_missing_or_broken_checkpoint_is_one_line_and_exit_2(output_shaped_pair, tmp_path, capsys):
    tied, _, _ = output_shaped_pair
    assert main(["compare", str(tied), str(tmp_path / "nothing"), "--quiet"]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{not json")
    assert main(["compare", str(tied), str(tmp_path / "broken"), "--quiet"]) == 2
    assert capsys.readouterr().err.startswith("error: config.json is not valid JSON")


@pytest.fixture(scope="module")
def training_steps(make_checkpoint, tmp_path_factory):
    """Three tied step checkpoints that grow more output-shaped, and the untied reference."""
    rng = np.random.default_rng(4)
    untied_U = rng.normal(size=(V, D))
    untied = make_checkpoint("series-untied", False, W_E=rng.normal(size=(V, D)), W_U=untied_U)
    folder = tmp_path_factory.mktemp("steps")
    noise = rng.normal(size=(V, D))
    for step, weight in ((3000, 0.9), (20, 0.1), (100, 0.5)):  # saved out of order on purpose
        tied_E = weight * untied_U @ rotation(D).T + (1 - weight) * noise
        path = make_checkpoint(f"series/step{step}", True, W_E=tied_E)
        path.rename(folder / f"step{step}")
    return folder, untied


def test_step_numbers_from_folder_names(tmp_path):
    assert [
        step_of(tmp_path / n) for n in ("step1000", "checkpoint-500", "stage1-step20000-tokens84B", "r7")
    ] == [
        1000,
        500,
        20000,
        7,
    ]
    with pytest.raises(ValueError, match="no step number"):
        step_of(tmp_path / "final")


def test_series_from_one_folder_sorted_by_step_with_files_and_figure(training_steps, tmp_path, capsys):
    folder, untied = training_steps
    assert [s for s, _ in step_checkpoints([folder])] == [20, 100, 3000]
    code = main(["compare-series", str(folder), "--against", str(untied), "--out", str(tmp_path), "--quiet"])
    assert code == 0
    printed = capsys.readouterr().out
    assert printed.index(" 20 ") < printed.index(" 100 ") < printed.index(" 3000 ")
    data = json.loads((tmp_path / "series.json").read_text())
    assert [p["step"] for p in data["points"]] == [20, 100, 3000]
    bias = [p["measures"]["lin_cos"]["bias"] for p in data["points"]]
    assert bias[0] < bias[1] < bias[2]
    with open(tmp_path / "series.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["step"]) for r in rows] == [20, 100, 3000] and "lin_cos_chance" in rows[0]
    html = (tmp_path / "tieviz_bias_over_training_checkpoints.html").read_text()
    assert "OLMo-1B" in html


def test_series_as_a_python_call_on_listed_paths(training_steps):
    folder, untied = training_steps
    paths = [folder / "step3000", folder / "step20", folder / "step100"]
    seen = []
    series = tieviz.compare_series(
        paths, untied, shuffles=1, progress=lambda stage, f: seen.append((stage, f))
    )
    assert series.steps == [20, 100, 3000]
    assert seen[0][0] == "preparing the untied reference" and seen[-1][1] == pytest.approx(1.0)
    assert all(b[1] >= a[1] - 1e-12 for a, b in zip(seen, seen[1:], strict=False))
    assert series.values("lin_cos", "out")[-1] > series.values("lin_cos", "chance")[-1]
    one = tieviz.compare(folder / "step100", untied, shuffles=1)
    assert series.points[1].comparison.scores == pytest.approx(
        one.scores, abs=1e-12
    )  # prepared once, same numbers


def test_series_against_a_tied_reference_is_refused(training_steps, capsys):
    folder, _ = training_steps
    assert main(["compare-series", str(folder), "--against", str(folder / "step20"), "--quiet"]) == 2
    assert "is tied" in capsys.readouterr().err
