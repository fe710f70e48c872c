"""Checkpoints tieviz must refuse with one clear sentence, running nothing they contain."""

from __future__ import annotations

import json
import os
import pickle
import struct

import pytest
import torch
from safetensors.torch import save_file

from tieviz.checkpoints import CheckpointError, inspect_checkpoint, read_embeddings


def _edit_config(path, **changes):
    config = json.loads((path / "config.json").read_text())
    config.update(changes)
    (path / "config.json").write_text(json.dumps(config))


def test_missing_config(copy_checkpoint):
    path = copy_checkpoint("llama", False)
    (path / "config.json").unlink()
    with pytest.raises(CheckpointError, match="no config.json"):
        inspect_checkpoint(path)


def test_malformed_config(copy_checkpoint):
    path = copy_checkpoint("llama", False)
    (path / "config.json").write_text('{"model_type": "llama", ')
    with pytest.raises(CheckpointError, match="not valid JSON"):
        inspect_checkpoint(path)


def test_config_without_sizes(copy_checkpoint):
    path = copy_checkpoint("llama", False)
    _edit_config(path, vocab_size="sixty-four")
    with pytest.raises(CheckpointError, match="vocab_size"):
        inspect_checkpoint(path)


def test_unknown_architecture(copy_checkpoint):
    path = copy_checkpoint("llama", False)
    _edit_config(path, model_type="my_secret_net", architectures=["MySecretNet"])
    with pytest.raises(CheckpointError, match="Unknown architecture: model_type 'my_secret_net'"):
        inspect_checkpoint(path)


def test_truncated_safetensors(copy_checkpoint):
    path = copy_checkpoint("gpt2", False)
    data = (path / "model.safetensors").read_bytes()
    (path / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="model.safetensors is truncated or corrupt"):
        inspect_checkpoint(path)


@pytest.mark.parametrize("prefix", [struct.pack("<Q", 2**40), struct.pack("<Q", 3), b"\xff" * 8])
def test_corrupt_safetensors_header(copy_checkpoint, prefix):
    path = copy_checkpoint("gpt2", False)
    data = (path / "model.safetensors").read_bytes()
    (path / "model.safetensors").write_bytes(prefix + data[8:])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        inspect_checkpoint(path)


def test_missing_weights(copy_checkpoint):
    path = copy_checkpoint("gpt2", False)
    (path / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="no model.safetensors or pytorch_model.bin"):
        inspect_checkpoint(path)


def test_embedding_shape_mismatching_config(copy_checkpoint):
    path = copy_checkpoint("phi", False)
    _edit_config(path, vocab_size=100)
    with pytest.raises(CheckpointError, match=r"has shape \[64, 16\], but config.json says vocab_size=100"):
        inspect_checkpoint(path)


def test_unembedding_shape_mismatch(copy_checkpoint, family_checkpoints):
    path = copy_checkpoint("llama", False)
    model = family_checkpoints["llama", False][1]
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    state["lm_head.weight"] = torch.zeros(64, 8)
    save_file(state, path / "model.safetensors")
    with pytest.raises(CheckpointError, match="lm_head.weight has shape"):
        inspect_checkpoint(path)


def test_index_naming_a_shard_outside_the_folder(copy_checkpoint):
    path = copy_checkpoint("llama", False)
    (path / "model.safetensors.index.json").write_text(
        json.dumps({"weight_map": {"lm_head.weight": "../../elsewhere.safetensors"}})
    )
    with pytest.raises(CheckpointError, match="not a plain file name"):
        inspect_checkpoint(path)


class _Payload:
    """Unpickling this calls open(marker, "w"): the file appears only if the pickle's code runs."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("writer", ["torch.save", "pickle.dump"])
def test_pickle_carrying_code_is_refused_and_never_runs(copy_checkpoint, tmp_path, writer):
    path = copy_checkpoint("gpt2", False)
    (path / "model.safetensors").unlink()
    marker = tmp_path / "pwned"
    state = {"transformer.wte.weight": torch.zeros(64, 16), "evil": _Payload(str(marker))}
    if writer == "torch.save":
        torch.save(state, path / "pytorch_model.bin")
    else:
        with open(path / "pytorch_model.bin", "wb") as fh:
            pickle.dump(state, fh)
    assert not marker.exists()
    for reader in (inspect_checkpoint, read_embeddings):
        with pytest.raises(CheckpointError, match="pickled code is never run"):
            reader(path)
    assert not marker.exists()
    # control: the same file loaded the unsafe way does run its code, so the check above can fail
    if writer == "pickle.dump":
        with open(path / "pytorch_model.bin", "rb") as fh:
            pickle.load(fh)  # noqa: S301
    else:
        torch.load(path / "pytorch_model.bin", weights_only=False)
    assert marker.exists()
    os.unlink(marker)


def test_nonexistent_path():
    with pytest.raises(CheckpointError, match="does not exist"):
        inspect_checkpoint("/nonexistent/checkpoint")
