"""The trainer's multi-tensor (foreach) AdamW gives bitwise the weights of torch's per-tensor loop."""

from __future__ import annotations

import functools

import torch

from tieviz.config import preset
from tieviz.training import loop as train
from tieviz.training.corpus import build_corpus
from tieviz.training.model import build_model


def trained_weights(tmp_path, name: str) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """(initial, trained) weights of a tiny scaled arm."""
    config = preset("toy", steps=12, batch_size=4, d_model=16, n_heads=2, toy_tokens=8000, device="cpu")
    arm = config.arm("scaled")
    corpus = build_corpus(config.data, config.model.seq_len)
    model = build_model(arm, corpus.vocab_size, corpus.tokenizer.eos_token_id)
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    train.train_model(model, corpus, arm, tmp_path / name, lambda record: None)
    return initial, {k: v.clone() for k, v in model.state_dict().items()}


def test_foreach_adamw_changes_no_weight(tmp_path, monkeypatch):
    initial, fast = trained_weights(tmp_path, "foreach")
    real = torch.optim.AdamW

    def per_tensor(*args, **kwargs):
        return real(*args, **{**kwargs, "foreach": False})

    monkeypatch.setattr(train.torch.optim, "AdamW", functools.wraps(real)(per_tensor))
    _, slow = trained_weights(tmp_path, "per-tensor")
    assert fast.keys() == slow.keys()
    for key in fast:
        assert torch.equal(fast[key], slow[key]), key
    assert not torch.equal(fast["transformer.wte.weight"], initial["transformer.wte.weight"])  # it trained
