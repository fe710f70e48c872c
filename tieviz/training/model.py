"""Building the small GPT-2-shaped models, tied or untied, from one seed."""

from __future__ import annotations

import torch
from transformers import GPT2Config, GPT2LMHeadModel
from transformers.utils.logging import disable_progress_bar

from tieviz.config import ArmConfig


def quiet_transformers() -> None:
    """Turns off transformers' progress bar per load and save of weights.

    Those bars flood the CLI's output and the job logs with lines about a few small files; tieviz reports
    its own progress for everything that takes time.
    """
    disable_progress_bar()


def gpt2_config(arm: ArmConfig, vocab_size: int, eos_id: int) -> GPT2Config:
    m = arm.model
    m.validate()
    return GPT2Config(
        vocab_size=vocab_size,
        n_positions=m.seq_len,
        n_embd=m.d_model,
        n_layer=m.n_layers,
        n_head=m.n_heads,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=eos_id,
        eos_token_id=eos_id,
        tie_word_embeddings=arm.tied,
    )


def build_model(arm: ArmConfig, vocab_size: int, eos_id: int) -> GPT2LMHeadModel:
    """A freshly initialised model, drawn from `arm.weights_seed`.

    The untied twin is initialised first and a tied model copies everything but its lm_head, so arms
    drawn from one seed differ only in tying (and alpha), never in the luck of the draw. An untied
    reference with its own init_seed starts from weights of its own, as independently trained models do.
    """
    torch.manual_seed(arm.weights_seed)
    untied = GPT2LMHeadModel(gpt2_config_untied(arm, vocab_size, eos_id))
    if not arm.tied:
        return untied
    tied = GPT2LMHeadModel(gpt2_config(arm, vocab_size, eos_id))
    shared = {k: v for k, v in untied.state_dict().items() if not k.startswith("lm_head.")}
    tied.load_state_dict(shared, strict=False)
    assert tied.lm_head.weight is tied.transformer.wte.weight, "tie_word_embeddings did not tie the matrices"
    return tied


def gpt2_config_untied(arm: ArmConfig, vocab_size: int, eos_id: int) -> GPT2Config:
    config = gpt2_config(arm, vocab_size, eos_id)
    config.tie_word_embeddings = False
    return config


def count_parameters(model: torch.nn.Module) -> int:
    """Distinct parameters: a tied matrix is counted once."""
    return sum(p.numel() for p in model.parameters())
