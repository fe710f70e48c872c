"""The one tiny GPT-2 the unit tests build directly: deterministic, no dropout, a few thousand weights."""

from __future__ import annotations

import torch
from transformers import GPT2Config, GPT2LMHeadModel


def tiny_gpt2(tied: bool, vocab: int, d_model: int = 16, n_layers: int = 2, seq: int = 12, seed: int = 0):
    """A GPT-2 with `vocab` tokens, tied or not, its weights fixed by `seed`; in training mode."""
    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=vocab,
        n_embd=d_model,
        n_layer=n_layers,
        n_head=2,
        n_positions=seq,
        tie_word_embeddings=tied,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=0,
        eos_token_id=0,
    )
    return GPT2LMHeadModel(config)
