"""main_inspect: JSON on stdout and exit 0, or one error line on stderr and exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.checkpoints.tiny import zip_dir
from tieviz.checkpoints import main_inspect

REPO = Path(__file__).resolve().parents[2]
CLI_KEYS = ["architecture", "model_type", "tied", "vocab_size", "d_model", "n_params", "embedding_share"]


def test_json_output(family_checkpoints, capsys):
    path, model = family_checkpoints["gpt2", True]
    assert main_inspect(str(path), as_json=True) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data)[:7] == CLI_KEYS
    assert data["architecture"] == "GPT2LMHeadModel" and data["tied"] is True
    assert data["n_params"] == sum(p.numel() for p in model.parameters())


def test_table_output(family_checkpoints, capsys):
    assert main_inspect(str(family_checkpoints["opt", False][0]), as_json=False) == 0
    out = capsys.readouterr().out
    assert "OPTForCausalLM" in out and "embedding_share" in out and "%" in out


def test_bad_input_gives_one_error_line(tmp_path, capsys):
    bad = tmp_path / "model.zip"
    bad.write_bytes(b"garbage")
    assert main_inspect(str(bad), as_json=True) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1


def _run(path: Path) -> subprocess.CompletedProcess:
    code = (
        "import sys; from tieviz.checkpoints import main_inspect; "
        f"sys.exit(main_inspect({str(path)!r}, True))"
    )
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)


def test_subprocess_zip_and_bad_input(family_checkpoints, tmp_path):
    good = _run(zip_dir(family_checkpoints["qwen2", False][0], tmp_path / "q.zip"))
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["model_type"] == "qwen2"
    bad = _run(tmp_path / "missing")
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip().splitlines() == [f"error: '{tmp_path / 'missing'}' does not exist."]
