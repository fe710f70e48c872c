"""Finding the blocks, final norm and unembedding of a Hugging Face causal LM; reading its residual stream.

The lens works on native Hugging Face modules rather than TransformerLens, because TransformerLens
assumes untied embeddings (docs/science.md, "Implementation notes").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce

import torch
from torch import nn

from tieviz.families import FAMILIES, Family, family_of


@dataclass(frozen=True)
class ModelParts:
    """The pieces of a causal LM the lens needs; `unembed(final_norm(h))` gives the model's logits."""

    blocks: list[nn.Module]
    final_norm: nn.Module
    unembed: nn.Module  # lm head / output embedding (tied models share its weight with `embed`)
    embed: nn.Module  # input token embedding


def _get(model: nn.Module, path: str) -> nn.Module | None:
    try:
        return reduce(getattr, path.split("."), model)
    except AttributeError:
        return None


def _candidates(model: nn.Module) -> tuple[Family, ...]:
    """The model's own family first (by config.model_type), then every layout: GPT-Neo, GPT-J and Bloom
    share GPT-2's module names."""
    own = family_of(getattr(getattr(model, "config", None), "model_type", None))
    return (own, *FAMILIES) if own is not None else FAMILIES


def model_parts(model: nn.Module) -> ModelParts:
    """Locate blocks, final norm, unembedding and embedding of a model of a family in `tieviz.families`."""
    for family in _candidates(model):
        blocks = _get(model, family.blocks_path)
        if not isinstance(blocks, nn.ModuleList):
            continue
        if not hasattr(model, "get_output_embeddings") or model.get_output_embeddings() is None:
            raise ValueError(
                "the model has no language-model head; load it as a causal LM (e.g. GPT2LMHeadModel)"
            )
        final_norm = _get(model, family.final_norm_path)
        if final_norm is None:  # OPT-350m style models without a final layer norm
            final_norm = nn.Identity()
        unembed = model.get_output_embeddings()
        project_out = _get(model, family.project_out_path) if family.project_out_path else None
        if project_out is not None:  # OPT projects back to the embedding width before the head
            unembed = nn.Sequential(project_out, unembed)
        return ModelParts(list(blocks), final_norm, unembed, model.get_input_embeddings())
    raise ValueError(
        f"unsupported architecture {type(model).__name__}; expected one of "
        + ", ".join(family.label for family in FAMILIES)
    )


def _first_tensor(output: object) -> torch.Tensor:
    return output[0] if isinstance(output, tuple | list) else output


@torch.no_grad()
def residual_states(model: nn.Module, input_ids: torch.Tensor) -> list[torch.Tensor]:
    """Pre-final-norm residual stream, L+1 tensors [B, T, d]: h_0 = input of block 0, h_l = output of block l.

    Captured with forward hooks because HF's `hidden_states[-1]` already has the final norm applied.
    Runs in eval mode (restoring the previous mode) and without gradients.
    """
    if input_ids.ndim != 2:
        raise ValueError(f"input_ids must be [batch, seq], got shape {tuple(input_ids.shape)}")
    parts = model_parts(model)
    states: list[torch.Tensor] = []

    def grab_input(_module: nn.Module, args: tuple, kwargs: dict) -> None:
        states.append(args[0] if args else kwargs["hidden_states"])

    def grab_output(_module: nn.Module, _args: tuple, output: object) -> None:
        states.append(_first_tensor(output))

    handles = [parts.blocks[0].register_forward_pre_hook(grab_input, with_kwargs=True)]
    handles += [block.register_forward_hook(grab_output) for block in parts.blocks]
    was_training = model.training
    model.eval()
    try:
        model(input_ids=input_ids.to(_device(model)), use_cache=False)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    if len(states) != len(parts.blocks) + 1:
        raise ValueError(
            f"captured {len(states)} residual states for {len(parts.blocks)} blocks; expected L+1"
        )
    return [s.detach() for s in states]


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device
