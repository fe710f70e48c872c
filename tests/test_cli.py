"""`python -m tieviz experiment`: the toy preset end to end, and bad input as one clear line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tieviz.cli import main
from tieviz.training.run_store import RunStore

TINY = ["--steps", "8", "--batch", "4", "--d-model", "16", "--heads", "2", "--device", "cpu", "--quiet"]
TINY += ["--seeds", "2"]
BIAS_KEYS = {
    "lin_cos_out",
    "lin_cos_in",
    "proc_cos_out",
    "proc_cos_in",
    "cka_out",
    "cka_in",
    "mknn_out",
    "mknn_in",
}


def test_toy_preset_from_the_command_line(tmp_path):
    out, runs = tmp_path / "out", tmp_path / "runs"
    command = [sys.executable, "-m", "tieviz", "experiment", "--preset", "toy", "--out", str(out)]
    command += ["--runs-dir", str(runs), *TINY]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["preset"] == "toy" and summary["device"] == "cpu" and summary["wall_seconds"] > 0
    assert set(summary["arms"]) == {"tied", "untied", "scaled"}
    for arm in summary["arms"].values():
        assert {
            "final_train_loss",
            "final_val_loss",
            "params",
            "tokens_per_second",
            "run_dir",
            "alpha",
            "tied",
        } <= set(arm)
        assert Path(arm["run_dir"]).is_dir()
    assert set(summary["bias"]["tied"]) >= BIAS_KEYS and set(summary["bias"]["scaled"]) >= BIAS_KEYS
    assert {"tied_early", "tied_late", "scaled_early", "untied_early"} <= set(summary["grad_ratio"])
    assert summary["seeds"] == [0, 1] and len(summary["seed_arms"]) == 2
    assert len(summary["stats"]["bias.tied.lin_cos"]["per_seed"]) == 2
    assert set(summary["verdicts"]) == {"bias", "scaling", "ratio", "lens", "symmetry"}
    assert "trained" in done.stdout and "bias: " in done.stdout
    for bar in ("Loading weights", "Writing model shards", "it/s]", "%|"):  # transformers' and tqdm's bars
        assert bar not in done.stderr, f"--quiet printed a progress bar: {done.stderr[-500:]}"

    again = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "cache hit" in again.stdout


def run_cli(args: list[str], capsys) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().err


def assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]


def experiment_args(tmp_path: Path, *extra: str) -> list[str]:
    return ["experiment", "--out", str(tmp_path / "out"), "--runs-dir", str(tmp_path / "runs"), *TINY, *extra]


def test_empty_corpus(tmp_path, capsys):
    corpus = tmp_path / "empty.txt"
    corpus.write_text("  \n\n ")
    code, err = run_cli(experiment_args(tmp_path, "--corpus", str(corpus)), capsys)
    assert_one_line_error(code, err, "empty")


def test_non_utf8_corpus(tmp_path, capsys):
    corpus = tmp_path / "latin1.txt"
    corpus.write_bytes("caf\xe9 na\xefve ".encode("latin-1") * 500)
    code, err = run_cli(experiment_args(tmp_path, "--corpus", str(corpus)), capsys)
    assert_one_line_error(code, err, "not UTF-8")


def test_vocabulary_larger_than_the_corpus(tmp_path, capsys):
    corpus = tmp_path / "small.txt"
    corpus.write_text("".join(f"word{i} " for i in range(20)) * 400)
    code, err = run_cli(
        experiment_args(tmp_path, "--preset", "toy", "--corpus", str(corpus), "--vocab", "500"), capsys
    )
    assert_one_line_error(code, err, "distinct words", "--vocab 22")


def test_diverging_learning_rate_keeps_nothing(tmp_path, capsys):
    code, err = run_cli(experiment_args(tmp_path, "--preset", "toy", "--lr", "1e30"), capsys)
    assert_one_line_error(code, err, "learning rate")
    store = RunStore(tmp_path / "runs")
    assert store.list_runs() == []
    assert not (tmp_path / "out" / "summary.json").exists()


def test_a_summary_that_is_not_one_is_refused_in_one_line(tmp_path, capsys):
    for content in ("{}", "[]", '{"config": {}, "arms": {}, "bias_over_training": [], "lens": {}}', "\udcff"):
        (tmp_path / "summary.json").write_text(content, errors="surrogateescape")
        code, err = run_cli(["figures", str(tmp_path), "--no-png"], capsys)
        assert_one_line_error(code, err, "summary.json")


def test_a_diverging_alpha_is_blamed_on_alpha_not_the_learning_rate(tmp_path, capsys):
    code, err = run_cli(experiment_args(tmp_path, "--preset", "toy", "--alpha", "1e39"), capsys)
    assert_one_line_error(code, err, "α = 1e+39", "smaller α")
    assert "try a lower learning rate" not in err


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--preset", "huge"], "unknown preset"),
        (["--device", "tpu"], "unknown device"),
        (["--steps", "0"], "steps must be at least 1"),
        (["--vocab", "8"], "vocab_size must be at least 16"),
        (["--tokens", "5"], "at least 10"),
        (["--d-model", "30", "--heads", "4"], "divisible"),
        (["--batch", "1000000000"], "batch_size 1,000,000,000 is above"),
        (["--d-model", "1048576", "--heads", "2"], "d_model 1,048,576 is above"),
        (["--batch", "60000", "--seq-len", "4096"], "GiB of memory"),
        (["--alpha", "inf"], "alpha must be a positive number"),
    ],
)
def test_bad_settings(tmp_path, capsys, args, fragment):
    code, err = run_cli(experiment_args(tmp_path, *args), capsys)
    assert_one_line_error(code, err, fragment)
