"""Builders for tiny random checkpoints of every supported family, saved as users' checkpoints are."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import torch
import transformers

V, D = 64, 16
_ATTN = dict(hidden_size=D, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32)
_KV = dict(_ATTN, num_key_value_heads=2)

# family -> (config class name, model class name, architecture, config kwargs, tied variants to build)
FAMILY_SPECS: dict[str, tuple[str, str, dict]] = {
    "gpt2": ("GPT2Config", "GPT2LMHeadModel", dict(n_embd=D, n_layer=2, n_head=2, n_positions=32)),
    "gpt_neox": ("GPTNeoXConfig", "GPTNeoXForCausalLM", dict(_ATTN, max_position_embeddings=32)),
    "llama": ("LlamaConfig", "LlamaForCausalLM", dict(_KV, max_position_embeddings=32)),
    "mistral": ("MistralConfig", "MistralForCausalLM", dict(_KV, max_position_embeddings=32)),
    "qwen2": ("Qwen2Config", "Qwen2ForCausalLM", dict(_KV, max_position_embeddings=32)),
    "opt": (
        "OPTConfig",
        "OPTForCausalLM",
        dict(hidden_size=D, num_hidden_layers=2, num_attention_heads=2, ffn_dim=32, word_embed_proj_dim=D),
    ),
    "gemma": ("GemmaConfig", "GemmaForCausalLM", dict(_KV, head_dim=8, max_position_embeddings=32)),
    "phi": ("PhiConfig", "PhiForCausalLM", dict(_ATTN, max_position_embeddings=32)),
    "phi3": ("Phi3Config", "Phi3ForCausalLM", dict(_KV, max_position_embeddings=32)),
    "olmo": ("OlmoConfig", "OlmoForCausalLM", dict(_KV, max_position_embeddings=32)),
    "olmo2": ("Olmo2Config", "Olmo2ForCausalLM", dict(_KV, max_position_embeddings=32)),
}
FAMILY_OF_MODEL_TYPE = {"mistral": "llama", "qwen2": "llama"}


def build_model(name: str, tied: bool, seed: int = 0, **overrides) -> torch.nn.Module:
    config_cls, model_cls, kwargs = FAMILY_SPECS[name]
    config = getattr(transformers, config_cls)(
        vocab_size=V,
        tie_word_embeddings=tied,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=None,
        **(kwargs | overrides),
    )
    torch.manual_seed(seed)
    return getattr(transformers, model_cls)(config).eval()


def save_checkpoint(model: torch.nn.Module, dest: Path, **save_kwargs) -> Path:
    model.save_pretrained(dest, **save_kwargs)
    return dest


def zip_dir(src: Path, dest_zip: Path, top: str | None = "checkpoint") -> Path:
    """Zip a checkpoint folder, optionally under one top-level folder as users' zips usually are."""
    with zipfile.ZipFile(dest_zip, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(src.iterdir()):
            zf.write(path, f"{top}/{path.name}" if top else path.name)
    return dest_zip


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    """A zip in memory holding `entries` (name inside the zip -> contents), names taken as given."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


class Checkpoints:
    """(family, tied) -> (saved directory, the model it came from), each built on first use."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.built: dict[tuple[str, bool], tuple[Path, torch.nn.Module]] = {}

    def __getitem__(self, key: tuple[str, bool]) -> tuple[Path, torch.nn.Module]:
        if key not in self.built:
            name, tied = key
            model = build_model(name, tied)
            self.built[key] = (
                save_checkpoint(model, self.root / f"{name}-{'tied' if tied else 'untied'}"),
                model,
            )
        return self.built[key]


def save_gpt2_with(dest: Path, W_E, W_U=None, seed: int = 0) -> Path:
    """A tiny GPT-2 checkpoint whose matrices are the given [V, d] arrays: tied when W_U is None.

    For comparisons with a known answer (the matrices are chosen) and sizes `build_model` does not make.
    """
    W_E = torch.as_tensor(W_E, dtype=torch.float32)
    vocab, width = W_E.shape
    config = transformers.GPT2Config(
        vocab_size=vocab, n_embd=width, n_layer=1, n_head=2, n_positions=16, tie_word_embeddings=W_U is None
    )
    torch.manual_seed(seed)
    model = transformers.GPT2LMHeadModel(config).eval()
    with torch.no_grad():
        model.transformer.wte.weight.copy_(W_E)
        if W_U is not None:
            model.lm_head.weight.copy_(torch.as_tensor(W_U, dtype=torch.float32))
    return save_checkpoint(model, dest)
