"""A staged checkpoint's matrices, token labels and final norm, read from its tensors alone."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tieviz.analysis.bigrams import LayerNormParams
from tieviz.checkpoints import CheckpointError, CheckpointSummary, load_tokenizer_labels, read_embeddings
from tieviz.checkpoints.family_lookup import find_key
from tieviz.checkpoints.reader import read_config
from tieviz.checkpoints.weights import WeightSet
from tieviz.families import BY_MODEL_TYPE

_RUN_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")


@dataclass(frozen=True)
class LoadedCheckpoint:
    """A checkpoint's matrices, readable token labels and (when cheaply readable) its final norm."""

    path: Path  # the checkpoint directory (holds config.json)
    summary: CheckpointSummary
    W_E: np.ndarray  # [V, d] float32
    W_U: np.ndarray  # [V, d] float32; the same array as W_E when tied
    labels: Sequence[str]  # [V], decoded on first use
    final_norm: LayerNormParams | None
    final_norm_note: str  # why there is no final norm, or which tensor it is

    @property
    def arm(self) -> str:
        """ "tied" or "untied": the key its direct path and colours go by in the figures."""
        return "tied" if self.summary.tied else "untied"


def _epsilon(config: dict, key: str | None, default: float) -> float:
    """The norm's epsilon from config.json, checked: a list or a string there is the user's file."""
    value = config.get(key, default) if key else default
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
        raise CheckpointError(f"config.json's {key} must be a number of 0 or more, not {str(value)[:40]}.")
    return float(value)


def read_final_norm(ckpt_dir: Path, summary: CheckpointSummary) -> tuple[LayerNormParams | None, str]:
    """The final norm before the unembedding, read from its tensors alone, or None with the reason."""
    config = read_config(Path(ckpt_dir))
    spec = BY_MODEL_TYPE[summary.model_type].final_norm
    eps = _epsilon(config, spec.eps_key, spec.eps_default)
    if spec.weight_suffix is None:  # a norm without parameters
        return LayerNormParams(
            np.ones(summary.d_embed, np.float32), None, eps, spec.kind
        ), f"{spec.kind}, no weights"
    weights = WeightSet.open(Path(ckpt_dir))
    try:
        key = find_key(sorted(weights.infos), (spec.weight_suffix,), "final norm")
    except CheckpointError:
        key = None
    if key is None or weights.infos[key].shape != (summary.d_embed,):
        return None, "no final-norm weight of the embedding width was found"
    bias_key = key.removesuffix("weight") + "bias"
    weight = weights.tensor(key).float().numpy()
    if spec.plus_one:
        weight = weight + 1.0
    bias = None
    if bias_key in weights.infos and weights.infos[bias_key].shape == (summary.d_embed,):
        bias = weights.tensor(bias_key).float().numpy()
    return LayerNormParams(weight, bias, eps=eps, kind=spec.kind), f"{key} ({spec.kind})"


def load_checkpoint(ckpt_dir: Path) -> LoadedCheckpoint:
    """W_E, W_U, labels and final norm of a staged checkpoint directory."""
    pair = read_embeddings(Path(ckpt_dir))
    norm, note = read_final_norm(Path(ckpt_dir), pair.summary)
    labels = load_tokenizer_labels(Path(ckpt_dir), pair.summary.vocab_size)
    return LoadedCheckpoint(Path(ckpt_dir), pair.summary, pair.W_E, pair.W_U, labels, norm, note)


def example_files(run_dir: Path) -> list[tuple[str, bytes]]:
    """The checkpoint files of a trained run directory (a run is a Hugging Face checkpoint), for staging."""
    return [
        (name, (Path(run_dir) / name).read_bytes()) for name in _RUN_FILES if (Path(run_dir) / name).is_file()
    ]
