"""One record per supported architecture: weight names, final norm, module paths and config keys.

Everything that needs to know a family reads this table: reading a checkpoint's matrices and final norm
(`tieviz.checkpoints`), the lens (`tieviz.analysis.model_parts`) and the Checkpoints page's list. Three
tables used to drift apart (Phi was missing from the lens's, so its tuned lens used no final norm).
Tensor names are suffixes, because checkpoints differ in prefixes: the original GPT-2 files say
``wte.weight`` while ``save_pretrained`` writes ``transformer.wte.weight``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FinalNorm:
    """The norm applied to the residual stream before the unembedding."""

    kind: str  # "layernorm" or "rmsnorm"
    weight_suffix: str | None  # None for a norm without parameters (OLMo)
    eps_key: str | None  # config.json key of its epsilon; None when the model hard-codes it
    eps_default: float  # transformers' default when the key is absent
    plus_one: bool = False  # Gemma's RMSNorm scales by (1 + weight)


@dataclass(frozen=True)
class Family:
    """One architecture family: its model_types, tensors, final norm, module paths and config keys."""

    name: str
    label: str  # for people: "GPT-2", "Llama, Mistral, Qwen2/3, OLMo 2"
    model_types: tuple[str, ...]
    embed_suffixes: tuple[str, ...]
    unembed_suffixes: tuple[str, ...]
    final_norm: FinalNorm
    blocks_path: str  # attribute path of the block list in the transformers model
    final_norm_path: str  # attribute path of the final norm module
    project_out_path: str | None = None  # OPT projects back to the embedding width before the head
    d_model_keys: tuple[str, ...] = ("hidden_size",)
    n_layer_keys: tuple[str, ...] = ("num_hidden_layers",)
    default_tied: bool = False  # what transformers assumes when config.json has no tie_word_embeddings
    embed_dim_key: str | None = None  # config key for the embedding width when it differs from d_model
    note: str = ""


_DECODER = dict(
    embed_suffixes=("embed_tokens.weight",),
    unembed_suffixes=("lm_head.weight",),
    blocks_path="model.layers",
)
_RMS = FinalNorm("rmsnorm", "norm.weight", "rms_norm_eps", 1e-6)

FAMILIES: tuple[Family, ...] = (
    Family(
        "gpt2",
        "GPT-2",
        ("gpt2",),
        embed_suffixes=("wte.weight",),
        unembed_suffixes=("lm_head.weight",),
        final_norm=FinalNorm("layernorm", "ln_f.weight", "layer_norm_epsilon", 1e-5),
        blocks_path="transformer.h",
        final_norm_path="transformer.ln_f",
        d_model_keys=("n_embd", "hidden_size"),
        n_layer_keys=("n_layer", "num_hidden_layers"),
        default_tied=True,
    ),
    Family(
        "gpt_neox",
        "GPT-NeoX/Pythia",
        ("gpt_neox",),
        embed_suffixes=("embed_in.weight",),
        unembed_suffixes=("embed_out.weight", "lm_head.weight"),  # transformers 5 names it lm_head in memory
        final_norm=FinalNorm("layernorm", "final_layer_norm.weight", "layer_norm_eps", 1e-5),
        blocks_path="gpt_neox.layers",
        final_norm_path="gpt_neox.final_layer_norm",
    ),
    Family(
        "llama",
        "Llama, Mistral, Qwen2, Qwen3",
        ("llama", "mistral", "qwen2", "qwen3"),
        final_norm=_RMS,
        final_norm_path="model.norm",
        **_DECODER,
    ),
    Family(
        "olmo2",
        "OLMo 2",
        ("olmo2",),
        final_norm=FinalNorm("rmsnorm", "norm.weight", "rms_norm_eps", 1e-5),
        final_norm_path="model.norm",
        **_DECODER,
    ),
    Family(
        "olmo",
        "OLMo",
        ("olmo",),
        final_norm=FinalNorm("layernorm", None, None, 1e-5),
        final_norm_path="model.norm",
        note="OLMo's layer norms have no weights; the final norm is a plain standardisation.",
        **_DECODER,
    ),
    Family(
        "opt",
        "OPT",
        ("opt",),
        embed_suffixes=("embed_tokens.weight",),
        unembed_suffixes=("lm_head.weight",),
        final_norm=FinalNorm("layernorm", "decoder.final_layer_norm.weight", None, 1e-5),
        blocks_path="model.decoder.layers",
        final_norm_path="model.decoder.final_layer_norm",
        project_out_path="model.decoder.project_out",
        default_tied=True,
        embed_dim_key="word_embed_proj_dim",
        note="OPT projects embeddings with project_in/project_out when word_embed_proj_dim differs "
        "from hidden_size; the matrices read here are the unprojected ones.",
    ),
    Family(
        "gemma",
        "Gemma",
        ("gemma", "gemma2"),
        final_norm=FinalNorm("rmsnorm", "norm.weight", "rms_norm_eps", 1e-6, plus_one=True),
        final_norm_path="model.norm",
        default_tied=True,
        note="Gemma multiplies input embeddings by sqrt(d_model) when it runs; the stored matrix "
        "read here is unscaled.",
        **_DECODER,
    ),
    Family(
        "phi",
        "Phi",
        ("phi",),
        final_norm=FinalNorm("layernorm", "final_layernorm.weight", "layer_norm_eps", 1e-5),
        final_norm_path="model.final_layernorm",
        note="Phi's output layer has a bias (lm_head.bias) that the embedding comparison leaves out.",
        **_DECODER,
    ),
    Family(
        "phi3",
        "Phi-3",
        ("phi3",),
        final_norm=FinalNorm("rmsnorm", "norm.weight", "rms_norm_eps", 1e-5),
        final_norm_path="model.norm",
        **_DECODER,
    ),
)

BY_MODEL_TYPE: dict[str, Family] = {t: family for family in FAMILIES for t in family.model_types}


def family_of(model_type: object) -> Family | None:
    """The family of a config's model_type, or None when tieviz does not know it."""
    return BY_MODEL_TYPE.get(model_type) if isinstance(model_type, str) else None


def families_label() -> str:
    """The supported families for people, in table order: "GPT-2, GPT-NeoX/Pythia, … or Phi-3"."""
    labels = [family.label for family in FAMILIES]
    return ", ".join(labels[:-1]) + " or " + labels[-1]
