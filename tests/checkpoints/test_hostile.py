"""Hostile uploads end as one line naming the input (CLI: exit 2), in bounded memory, never a traceback."""

from __future__ import annotations

import json
import tracemalloc

import pytest
import torch

from tests.checkpoints.tiny import V
from tieviz import checkpoint_analysis as ca
from tieviz.checkpoints import CheckpointError, inspect_checkpoint, main_inspect

DEEP = "[" * 100_000 + "]" * 100_000


def _edit_config(path, **changes):
    config = json.loads((path / "config.json").read_text())
    config.update(changes)
    (path / "config.json").write_text(json.dumps(config))


def _as_bin(path, **replace) -> None:
    """Turn the checkpoint's safetensors into a pytorch_model.bin, with some tensors replaced."""
    from safetensors.torch import load_file

    state = load_file(path / "model.safetensors") | replace
    (path / "model.safetensors").unlink()
    torch.save(state, path / "pytorch_model.bin")


def _one_line_exit_2(path, capsys, words: str) -> None:
    capsys.readouterr()  # what building the fixture printed
    assert main_inspect(str(path), as_json=True) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and words in err, err
    assert str(path.parent) not in err and "Traceback" not in err


@pytest.mark.parametrize("name", ["config.json", "model.safetensors.index.json"])
def test_json_nested_100000_deep_is_one_line(copy_checkpoint, capsys, name):
    path = copy_checkpoint("gpt2", False)
    (path / name).write_text(DEEP)
    with pytest.raises(CheckpointError, match=f"{name} is nested too deeply"):
        inspect_checkpoint(path)
    _one_line_exit_2(path, capsys, name)


@pytest.mark.parametrize(
    ("kind", "make"),
    [
        ("sparse", lambda t: t.to_sparse()),
        ("meta", lambda t: torch.empty(t.shape, device="meta")),
    ],
)
def test_a_bin_with_a_sparse_or_meta_tensor_is_refused_by_name(copy_checkpoint, capsys, kind, make):
    path = copy_checkpoint("gpt2", True)
    from safetensors.torch import load_file

    wte = load_file(path / "model.safetensors")["transformer.wte.weight"]
    _as_bin(path, **{"transformer.wte.weight": make(wte)})
    with pytest.raises(CheckpointError, match=f"pytorch_model.bin holds transformer.wte.weight .*{kind}"):
        ca.load_checkpoint(path)
    _one_line_exit_2(path, capsys, "transformer.wte.weight")


def test_a_stride_0_tensor_claiming_a_huge_vocabulary_is_refused_in_bounded_memory(tmp_path):
    """2 KB on disk, [10^6, 1] in its header: refused before anything is built per row."""
    import transformers

    vocab = 1_000_000
    config = transformers.GPT2Config(vocab_size=vocab, n_embd=1, n_layer=0, n_head=1, n_positions=4)
    config.save_pretrained(tmp_path)
    torch.save({"transformer.wte.weight": torch.zeros(1, 1).expand(vocab, 1)}, tmp_path / "pytorch_model.bin")
    assert (tmp_path / "pytorch_model.bin").stat().st_size < 4096
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError, match="zero stride"):
            ca.load_checkpoint(tmp_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20, f"{peak / 2**20:.0f} MiB"


@pytest.mark.parametrize("value", [[1e-5], {"eps": 1e-5}, "small"])
def test_an_epsilon_that_is_not_a_number_is_one_line(copy_checkpoint, value):
    path = copy_checkpoint("gpt2", True)
    _edit_config(path, layer_norm_epsilon=value)
    with pytest.raises(CheckpointError, match="config.json's layer_norm_epsilon must be a number"):
        ca.load_checkpoint(path)


@pytest.fixture(scope="module")
def text(family_checkpoints):
    """A token stream over the tiny vocabulary, as a text read with a tokenizer gives it."""
    ids = torch.randint(0, V, (4000,), generator=torch.Generator().manual_seed(0)).numpy()
    return ca.TokenText(ids, None, (), "random ids")


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"n_head": 0}, "could not build the model from config.json (ZeroDivisionError"),
        (
            {"quantization_config": {"quant_method": "bitsandbytes", "load_in_8bit": True}},
            "quantization_config",
        ),
    ],
)
def test_the_lens_on_an_unbuildable_config_is_one_line(copy_checkpoint, tmp_path, text, changes, words):
    path = copy_checkpoint("gpt2", True)
    _edit_config(path, **changes)
    with pytest.raises(CheckpointError) as caught:
        ca.checkpoint_lens(path, text, tmp_path / "lens", steps=1)
    assert words in str(caught.value) and str(tmp_path) not in str(caught.value)


def test_the_lens_runs_a_config_asking_for_flash_attention(copy_checkpoint, tmp_path, text):
    """Flash attention may not be installed; the lens runs attention as plain PyTorch instead."""
    path = copy_checkpoint("gpt2", True)
    _edit_config(path, attn_implementation="flash_attention_2", _attn_implementation="flash_attention_2")
    result = ca.checkpoint_lens(path, text, tmp_path / "lens", steps=1)
    assert result.tuned.kl.shape == (3,)
