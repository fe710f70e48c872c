"""Where each supported architecture keeps its embedding and unembedding, and how its config names sizes.

Tensor names are matched by suffix, because checkpoints differ in prefixes: the original GPT-2 files
say ``wte.weight`` while ``save_pretrained`` writes ``transformer.wte.weight``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tieviz.checkpoints.errors import CheckpointError


@dataclass(frozen=True)
class Family:
    """One architecture family: its model_types, tensor-name suffixes and config keys."""

    name: str
    model_types: tuple[str, ...]
    embed_suffixes: tuple[str, ...]
    unembed_suffixes: tuple[str, ...]
    d_model_keys: tuple[str, ...] = ("hidden_size",)
    n_layer_keys: tuple[str, ...] = ("num_hidden_layers",)
    default_tied: bool = False  # what transformers assumes when config.json has no tie_word_embeddings
    embed_dim_key: str | None = None  # config key for the embedding width when it differs from d_model
    note: str = ""


_DECODER = dict(embed_suffixes=("embed_tokens.weight",), unembed_suffixes=("lm_head.weight",))

FAMILIES: tuple[Family, ...] = (
    Family(
        "gpt2",
        ("gpt2",),
        embed_suffixes=("wte.weight",),
        unembed_suffixes=("lm_head.weight",),
        d_model_keys=("n_embd", "hidden_size"),
        n_layer_keys=("n_layer", "num_hidden_layers"),
        default_tied=True,
    ),
    Family(
        "gpt_neox",
        ("gpt_neox",),
        embed_suffixes=("embed_in.weight",),
        unembed_suffixes=("embed_out.weight", "lm_head.weight"),  # transformers 5 names it lm_head in memory
    ),
    Family("llama", ("llama", "mistral", "qwen2", "qwen3", "olmo", "olmo2"), **_DECODER),
    Family(
        "opt",
        ("opt",),
        default_tied=True,
        embed_dim_key="word_embed_proj_dim",
        note="OPT projects embeddings with project_in/project_out when word_embed_proj_dim differs "
        "from hidden_size; the matrices read here are the unprojected ones.",
        **_DECODER,
    ),
    Family(
        "gemma",
        ("gemma", "gemma2"),
        default_tied=True,
        note="Gemma multiplies input embeddings by sqrt(d_model) when it runs; the stored matrix "
        "read here is unscaled.",
        **_DECODER,
    ),
    Family(
        "phi",
        ("phi", "phi3"),
        note="Phi's output layer has a bias (lm_head.bias) that the embedding comparison leaves out.",
        **_DECODER,
    ),
)

_BY_MODEL_TYPE = {model_type: family for family in FAMILIES for model_type in family.model_types}


def family_for(config: dict[str, Any]) -> Family:
    """The family of a parsed config.json, or a CheckpointError naming what is supported."""
    model_type = config.get("model_type")
    if not isinstance(model_type, str) or not model_type:
        raise CheckpointError("config.json has no model_type, so the architecture cannot be recognised.")
    family = _BY_MODEL_TYPE.get(model_type)
    if family is None:
        supported = ", ".join(sorted(_BY_MODEL_TYPE))
        raise CheckpointError(f"Unknown architecture: model_type '{model_type}' is not one of {supported}.")
    return family


def config_int(config: dict[str, Any], keys: tuple[str, ...], what: str) -> int:
    """The first positive integer among ``keys`` in config.json, else a CheckpointError about ``what``."""
    for key in keys:
        value = config.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    raise CheckpointError(f"config.json gives no positive integer {what} (looked for {', '.join(keys)}).")


def find_key(keys: list[str], suffixes: tuple[str, ...], role: str) -> str | None:
    """The single tensor name ending in one of ``suffixes``; None if absent, an error if ambiguous."""
    for suffix in suffixes:
        matches = [k for k in keys if k == suffix or k.endswith("." + suffix)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise CheckpointError(f"Several tensors could be the {role} ({', '.join(sorted(matches))}).")
    return None
