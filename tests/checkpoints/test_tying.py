"""Tying decided as transformers 5 decides it, checked against transformers itself loading each case."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from tests.checkpoints.tiny import build_model
from tieviz.checkpoints import CheckpointError, inspect_checkpoint
from tieviz.families import BY_MODEL_TYPE


def transformers_ties(path) -> bool:
    """Whether `from_pretrained` gives the model one shared matrix."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True)
    return model.get_output_embeddings().weight is model.get_input_embeddings().weight


def _rewrite(path, config_change: dict, weights_change=None) -> None:
    config = json.loads((path / "config.json").read_text())
    for key, value in config_change.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    (path / "config.json").write_text(json.dumps(config))
    if weights_change is not None:
        state = load_file(path / "model.safetensors")
        weights_change(state)
        save_file(state, path / "model.safetensors", metadata={"format": "pt"})


def _copy_embedding_to_head(state: dict) -> None:
    state["lm_head.weight"] = state["model.embed_tokens.weight"].clone()


def _perturb_head(state: dict) -> None:
    state["lm_head.weight"] = state["model.embed_tokens.weight"] + 1.0


@pytest.mark.parametrize(
    ("case", "config_change", "weights_change"),
    [
        (
            "flag false, head stored with the embedding's values",
            {"tie_word_embeddings": False},
            _copy_embedding_to_head,
        ),
        (
            "flag true, head stored with the embedding's values",
            {"tie_word_embeddings": True},
            _copy_embedding_to_head,
        ),
        ("flag true, head stored with other values", {"tie_word_embeddings": True}, _perturb_head),
        (
            "flag absent (llama: untied), head stored equal",
            {"tie_word_embeddings": None},
            _copy_embedding_to_head,
        ),
        ("flag true, no head stored", {"tie_word_embeddings": True}, lambda s: s.pop("lm_head.weight", None)),
        ("flag false, head differs", {"tie_word_embeddings": False}, None),
    ],
)
def test_tying_matches_what_transformers_loads(tmp_path, case, config_change, weights_change):
    model = build_model("llama", tied=False)
    model.save_pretrained(tmp_path)
    _rewrite(tmp_path, config_change, weights_change)
    assert inspect_checkpoint(tmp_path).tied is transformers_ties(tmp_path), case


def test_flag_false_without_a_stored_head_is_refused(tmp_path):
    """transformers would give the model a random output matrix: nothing there to analyse."""
    model = build_model("llama", tied=False)
    model.save_pretrained(tmp_path)
    _rewrite(tmp_path, {"tie_word_embeddings": False}, lambda s: s.pop("lm_head.weight"))
    with pytest.raises(CheckpointError, match="no output matrix"):
        inspect_checkpoint(tmp_path)


def test_head_in_another_dtype_with_equal_values_ties_under_a_true_flag(tmp_path):
    model = build_model("llama", tied=False)
    model.save_pretrained(tmp_path)

    def bf16_embedding_fp32_head(state):
        state["model.embed_tokens.weight"] = state["model.embed_tokens.weight"].to(torch.bfloat16)
        state["lm_head.weight"] = state["model.embed_tokens.weight"].to(torch.float32)

    _rewrite(tmp_path, {"tie_word_embeddings": True}, bf16_embedding_fp32_head)
    assert inspect_checkpoint(tmp_path).tied and transformers_ties(tmp_path)


@pytest.mark.parametrize("model_type", sorted(BY_MODEL_TYPE))
def test_each_familys_default_is_its_transformers_config_default(model_type):
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    assert BY_MODEL_TYPE[model_type].default_tied is CONFIG_MAPPING[model_type]().tie_word_embeddings
