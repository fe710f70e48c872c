"""inspect_checkpoint and read_embeddings on tiny checkpoints of every family, tied and untied."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from tests.checkpoints.tiny import FAMILY_OF_MODEL_TYPE, FAMILY_SPECS, D, V, build_model, zip_dir
from tieviz.checkpoints import CheckpointError, inspect_checkpoint, read_embeddings

CASES = [(name, tied) for name in FAMILY_SPECS for tied in (True, False)]


def _expected_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())  # parameters() yields a tied matrix once


@pytest.mark.parametrize(("name", "tied"), CASES)
def test_inspect_directory_gets_architecture_tying_and_sizes(family_checkpoints, name, tied):
    path, model = family_checkpoints[name, tied]
    summary = inspect_checkpoint(path)
    assert summary.architecture == type(model).__name__
    assert summary.model_type == model.config.model_type
    assert summary.family == FAMILY_OF_MODEL_TYPE.get(name, name)
    assert summary.tied is tied
    assert (summary.vocab_size, summary.d_model, summary.n_layers) == (V, D, 2)
    assert summary.n_params == _expected_params(model)
    assert summary.embedding_share == pytest.approx(V * D * (1 if tied else 2) / summary.n_params)
    assert summary.weights_bytes == (path / "model.safetensors").stat().st_size


@pytest.mark.parametrize(("name", "tied"), CASES)
def test_inspect_zip_matches_directory(family_checkpoints, tmp_path, name, tied):
    path, _ = family_checkpoints[name, tied]
    from_zip = inspect_checkpoint(zip_dir(path, tmp_path / "ckpt.zip"))
    assert from_zip == inspect_checkpoint(path)


@pytest.mark.parametrize(("name", "tied"), CASES)
def test_read_embeddings_returns_the_models_matrices(family_checkpoints, name, tied):
    path, model = family_checkpoints[name, tied]
    pair = read_embeddings(path)
    W_E = model.get_input_embeddings().weight.detach().numpy()
    W_U = model.get_output_embeddings().weight.detach().numpy()
    assert pair.W_E.dtype == np.float32 and pair.W_E.shape == (V, D)
    np.testing.assert_array_equal(pair.W_E, W_E)
    np.testing.assert_array_equal(pair.W_U, W_U)
    assert (pair.W_U is pair.W_E) is tied


def test_tied_reasons(family_checkpoints):
    assert (
        inspect_checkpoint(family_checkpoints["llama", True][0]).tied_reason
        == "config flag tie_word_embeddings"
    )
    assert inspect_checkpoint(family_checkpoints["llama", False][0]).tied_reason == "separate output matrix"


def test_identical_matrices_in_an_untied_config_stay_untied_as_transformers_loads_them(tmp_path):
    model = build_model("llama", tied=False)
    with torch.no_grad():
        model.lm_head.weight.copy_(model.model.embed_tokens.weight)
    model.save_pretrained(tmp_path)
    summary = inspect_checkpoint(tmp_path)
    assert not summary.tied and "equal to the embedding" in summary.tied_reason
    assert summary.n_params == _expected_params(model)


def test_missing_flag_and_missing_lm_head_means_tied(copy_checkpoint):
    path = copy_checkpoint("gpt2", True)
    config = json.loads((path / "config.json").read_text())
    del config["tie_word_embeddings"]
    (path / "config.json").write_text(json.dumps(config))
    summary = inspect_checkpoint(path)
    assert (summary.tied, summary.tied_reason) == (True, "no lm_head tensor")


def test_sharded_checkpoint_is_read_through_its_index(tmp_path):
    model = build_model("llama", tied=False)
    model.save_pretrained(tmp_path, max_shard_size="4KB")
    assert (tmp_path / "model.safetensors.index.json").is_file()
    assert len(list(tmp_path.glob("*.safetensors"))) > 2
    summary = inspect_checkpoint(tmp_path)
    assert not summary.tied and summary.n_params == _expected_params(model)
    pair = read_embeddings(tmp_path)
    np.testing.assert_array_equal(pair.W_U, model.lm_head.weight.detach().numpy())


def test_bfloat16_weights_come_back_as_float32(tmp_path):
    model = build_model("qwen2", tied=False).to(torch.bfloat16)
    model.save_pretrained(tmp_path)
    pair = read_embeddings(tmp_path)
    assert pair.W_E.dtype == np.float32
    np.testing.assert_array_equal(pair.W_E, model.model.embed_tokens.weight.float().detach().numpy())


def test_prefixless_keys_are_matched_by_suffix(tmp_path, family_checkpoints):
    """Original GPT-2 files say ``wte.weight`` rather than ``transformer.wte.weight``."""
    src, model = family_checkpoints["gpt2", True]
    state = {k.removeprefix("transformer."): v.contiguous() for k, v in model.state_dict().items()}
    state.pop("lm_head.weight")
    save_file(state, tmp_path / "model.safetensors")
    (tmp_path / "config.json").write_text((src / "config.json").read_text())
    summary = inspect_checkpoint(tmp_path)
    assert summary.embed_key == "wte.weight" and summary.tied


def test_opt_with_projected_embeddings_reports_embedding_width(tmp_path):
    model = build_model("opt", tied=True, word_embed_proj_dim=8)
    model.save_pretrained(tmp_path)
    summary = inspect_checkpoint(tmp_path)
    assert (summary.d_model, summary.d_embed) == (D, 8)
    assert any("word_embed_proj_dim=8" in note for note in summary.notes)
    assert read_embeddings(tmp_path).W_E.shape == (V, 8)


def test_gemma_notes_its_embedding_scale(family_checkpoints):
    assert any(
        "sqrt(d_model)" in note for note in inspect_checkpoint(family_checkpoints["gemma", True][0]).notes
    )


def test_legacy_bin_is_loaded_with_weights_only(tmp_path, family_checkpoints):
    src, model = family_checkpoints["gpt_neox", False]
    torch.save(model.state_dict(), tmp_path / "pytorch_model.bin")
    (tmp_path / "config.json").write_text((src / "config.json").read_text())
    summary = inspect_checkpoint(tmp_path)
    assert summary.tied is False and summary.n_params == _expected_params(model)
    np.testing.assert_array_equal(read_embeddings(tmp_path).W_U, model.lm_head.weight.detach().numpy())


def test_to_json_dict_starts_with_the_cli_keys(family_checkpoints):
    data = inspect_checkpoint(family_checkpoints["phi", False][0]).to_json_dict()
    keys = ["architecture", "model_type", "tied", "vocab_size", "d_model", "n_params", "embedding_share"]
    assert list(data)[:7] == keys
    json.dumps(data)


def test_flag_false_without_output_matrix_is_refused(copy_checkpoint):
    path = copy_checkpoint("llama", True)
    config = json.loads((path / "config.json").read_text())
    config["tie_word_embeddings"] = False
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="no output matrix"):
        inspect_checkpoint(path)


def test_writing_to_the_returned_arrays_leaves_the_checkpoint_unchanged(copy_checkpoint):
    """The arrays are private memory maps: analyses may centre them in place without harming the file."""
    path = copy_checkpoint("llama", False)
    before = (path / "model.safetensors").read_bytes()
    pair = read_embeddings(path)
    pair.W_E[:] = 0.0
    pair.W_U[:] = 1.0
    assert (path / "model.safetensors").read_bytes() == before
    assert read_embeddings(path).W_E.any()


def _set_flag(path, value) -> None:
    """Set tie_word_embeddings in config.json; None removes the key (the family default applies)."""
    config = json.loads((path / "config.json").read_text())
    config.pop("tie_word_embeddings", None)
    if value is not None:
        config["tie_word_embeddings"] = value
    (path / "config.json").write_text(json.dumps(config))


@pytest.mark.parametrize(("name", "flag"), [("gpt2", True), ("gpt2", None), ("llama", True)])
def test_a_config_that_says_tied_over_different_matrices_is_untied_as_transformers_loads_it(
    copy_checkpoint, name, flag
):
    """GPT-2 ties by default; transformers 5 unties when both matrices are stored with other values."""
    import transformers

    path = copy_checkpoint(name, False)
    _set_flag(path, flag)
    summary = inspect_checkpoint(path)
    pair = read_embeddings(path)
    model = transformers.AutoModelForCausalLM.from_pretrained(path)
    loaded_tied = model.get_output_embeddings().weight is model.get_input_embeddings().weight
    assert summary.tied is loaded_tied is False
    assert not np.array_equal(pair.W_E, pair.W_U)
    assert np.array_equal(pair.W_U, model.get_output_embeddings().weight.detach().numpy())
    assert summary.n_params == _expected_params(model)
    (warning,) = summary.warnings
    assert "lm_head.weight" in warning and "untied" in warning
    assert ("by default" in warning) is (flag is None)


def test_a_llama_without_the_flag_and_without_lm_head_names_the_default_and_the_fix(copy_checkpoint):
    path = copy_checkpoint("llama", True)
    _set_flag(path, None)
    with pytest.raises(CheckpointError) as caught:
        inspect_checkpoint(path)
    message = str(caught.value)
    assert "has no tie_word_embeddings" in message and "untied by default" in message
    assert '"tie_word_embeddings": true' in message and "sets tie_word_embeddings to false" not in message


def test_every_family_of_the_family_table_has_a_tiny_checkpoint_under_test():
    """CASES come from the tiny builders; a family added to the table without one would go untested."""
    from tieviz.families import FAMILIES, family_of

    built = {family_of(model_type).name for model_type in FAMILY_SPECS}
    assert built == {family.name for family in FAMILIES}
