"""An upload's tokenizer: size and entry caps before loading, risky patterns refused, Rust panics as one
error, loaded once, and texts read in bounded memory."""

from __future__ import annotations

import json
import time
import tracemalloc
from pathlib import Path

import pytest

from tieviz import checkpoint_analysis as ca
from tieviz.checkpoints import CheckpointError
from tieviz.checkpoints.tokenizer import check_tokenizer_files, risky_pattern

V = 64


def _tokenizer_json(vocab: int = V, pattern: str | None = None, added: int = 0) -> dict:
    """A word-level tokenizer.json as the tokenizers library writes it."""
    words = {"[UNK]": 0, **{f"w{i}": i for i in range(1, vocab)}}
    pre = {"type": "Whitespace"}
    if pattern is not None:
        pre = {"type": "Split", "pattern": {"Regex": pattern}, "behavior": "Isolated", "invert": False}
    added_tokens = [
        {
            "id": vocab + i,
            "content": f"<a{i}>",
            "single_word": False,
            "lstrip": False,
            "rstrip": False,
            "normalized": False,
            "special": False,
        }
        for i in range(added)
    ]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added_tokens,
        "normalizer": None,
        "pre_tokenizer": pre,
        "post_processor": None,
        "decoder": None,
        "model": {"type": "WordLevel", "vocab": words, "unk_token": "[UNK]"},
    }


@pytest.fixture
def checkpoint(family_checkpoints, tmp_path) -> Path:
    """A tiny GPT-2 checkpoint folder of our own, to which each test adds its tokenizer."""
    import shutil

    source = family_checkpoints["gpt2", True][0]
    folder = tmp_path / "ckpt"
    shutil.copytree(
        source, folder, ignore=shutil.ignore_patterns("tokenizer*", "vocab*", "merges*", "special*")
    )
    return folder


def _write(folder: Path, tokenizer: dict) -> Path:
    (folder / "tokenizer.json").write_text(json.dumps(tokenizer))
    (folder / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "PreTrainedTokenizerFast"}))
    return folder


def test_a_backtracking_split_pattern_is_refused_at_once(checkpoint):
    """(\\w+\\s?)*$ burned a minute per page run on one line, then panicked."""
    _write(checkpoint, _tokenizer_json(pattern=r"(\w+\s?)*$"))
    started = time.perf_counter()
    text = ca.tokenize_text(checkpoint, "w1 w2 w3 " * 20 + "!", V, "pydocs")
    assert time.perf_counter() - started < 5
    assert text.ids is None and "does not run it" in text.note


def test_real_tokenizers_patterns_pass():
    cl100k = (
        r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
        r"|\s*[\r\n]+|\s+(?!\S)|\s+"
    )
    gpt2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
    assert not risky_pattern(cl100k) and not risky_pattern(gpt2)
    assert risky_pattern(r"(a+)+") and risky_pattern(r"(?:x|y+){2,}") and not risky_pattern(r"[(a+)]*")


def test_too_large_tokenizer_files_are_refused_before_parsing(checkpoint, monkeypatch):
    monkeypatch.setenv("TIEVIZ_TOKENIZER_MAX_MB", "1")
    _write(checkpoint, _tokenizer_json(vocab=100_000))  # ~1.8 MB
    with pytest.raises(CheckpointError, match="TIEVIZ_TOKENIZER_MAX_MB"):
        check_tokenizer_files(checkpoint)
    text = ca.tokenize_text(checkpoint, "w1 w2", V, "pydocs")
    assert text.ids is None and "MiB" in text.note


@pytest.mark.parametrize(
    ("env", "tokenizer"),
    [
        ("TIEVIZ_TOKENIZER_MAX_ENTRIES", _tokenizer_json(vocab=500)),
        ("TIEVIZ_TOKENIZER_MAX_ADDED", _tokenizer_json(added=200)),
    ],
)
def test_too_many_entries_are_refused_before_loading(checkpoint, monkeypatch, env, tokenizer):
    monkeypatch.setenv(env, "100")
    _write(checkpoint, tokenizer)
    text = ca.tokenize_text(checkpoint, "w1 w2", V, "pydocs")
    assert text.ids is None and env in text.note


class PanicException(BaseException):
    """What pyo3 raises for a Rust panic: a BaseException, which `except Exception` lets through."""


PanicException.__module__ = "pyo3_runtime"


def test_a_rust_panic_while_reading_is_one_clear_error(checkpoint, monkeypatch):
    from transformers import PreTrainedTokenizerFast

    _write(checkpoint, _tokenizer_json())

    def panic(*args, **kwargs):
        raise PanicException("called `Result::unwrap()` on an `Err` value")

    monkeypatch.setattr(PreTrainedTokenizerFast, "__call__", panic)
    with pytest.raises(CheckpointError, match="crashed while reading the text"):
        ca.tokenize_text(checkpoint, "w1 w2", V, "pydocs")


def test_the_tokenizer_is_loaded_once_for_labels_and_text(checkpoint, monkeypatch):
    from transformers import AutoTokenizer

    _write(checkpoint, _tokenizer_json())
    calls = []
    real = AutoTokenizer.from_pretrained.__func__

    def counting(cls, *args, **kwargs):
        calls.append(args)
        return real(cls, *args, **kwargs)

    monkeypatch.setattr(AutoTokenizer, "from_pretrained", classmethod(counting))
    loaded = ca.load_checkpoint(checkpoint)
    loaded.labels[3]
    text = ca.tokenize_text(checkpoint, "w1 w2 w3", V, "pydocs")
    assert text.ids is not None and len(calls) == 1


def test_a_one_line_text_file_is_read_in_bounded_memory(checkpoint, tmp_path):
    """A 32 MB one-line text took 4.3 GB on the Checkpoints page, which decoded it whole."""
    _write(checkpoint, _tokenizer_json())
    big = tmp_path / "one-line.txt"
    big.write_bytes(b"w1 w2 w3 w4 " * 1_000_000)  # 12 MB on one line
    tracemalloc.start()
    try:
        text = ca.tokenize_text(checkpoint, big, V, "file", max_tokens=20_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert text.ids is not None and text.ids.size >= 20_000
    assert peak < 6 * 2**20, f"peak {peak / 2**20:.1f} MiB"
