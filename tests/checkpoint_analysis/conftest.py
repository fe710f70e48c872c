"""Tiny tied/untied GPT-2 checkpoints on disk, with word-level tokenizers, for `compare` and its CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.tiny_gpt2 import tiny_gpt2
from tieviz.training.corpus import pydocs_text, train_tokenizer

V, D = 300, 16
DOCS = [d for d in pydocs_text().split("\n\n")[:1500] if d.strip()]


@pytest.fixture(scope="session")
def tokenizers():
    """Two word-level tokenizers that share most words but number them differently."""
    return train_tokenizer(DOCS, V), train_tokenizer(DOCS[::-1][:700], V)


def rotation(d: int, seed: int = 1) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q * np.sign(np.diag(r))


@pytest.fixture(scope="session")
def make_checkpoint(tmp_path_factory, tokenizers) -> Callable[..., Path]:
    """Save a tiny GPT-2 (tied or not) with chosen W_E / W_U [V, D] and tokenizer 0 or 1."""
    root = tmp_path_factory.mktemp("compare-ckpts")

    def make(
        name: str,
        tied: bool,
        W_E: np.ndarray | None = None,
        W_U: np.ndarray | None = None,
        tokenizer: int | None = 0,
        seed: int = 0,
    ) -> Path:
        model = tiny_gpt2(tied, V, d_model=D, seed=seed)
        with torch.no_grad():
            if W_E is not None:
                model.transformer.wte.weight.copy_(torch.as_tensor(W_E, dtype=torch.float32))
            if W_U is not None and not tied:
                model.lm_head.weight.copy_(torch.as_tensor(W_U, dtype=torch.float32))
        folder = root / name
        model.save_pretrained(folder)
        if tokenizer is not None:
            tokenizers[tokenizer].save_pretrained(folder)
        return folder

    return make


@pytest.fixture(scope="session")
def output_shaped_pair(make_checkpoint) -> tuple[Path, Path, np.ndarray]:
    """(tied, untied, tied W_E): the untied W_U is the tied matrix rotated and scaled; W_E unrelated."""
    rng = np.random.default_rng(0)
    tied_E = rng.normal(size=(V, D)).astype(np.float32)
    untied_U = 3.0 * tied_E @ rotation(D)
    tied = make_checkpoint("tied", True, W_E=tied_E)
    untied = make_checkpoint("untied", False, W_E=rng.normal(size=(V, D)), W_U=untied_U)
    return tied, untied, tied_E
