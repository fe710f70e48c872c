"""Summarise a checkpoint and read its embedding and unembedding matrices, touching nothing else.

The summary comes from config.json and the tensor headers alone (plus, when tying is undecided, a
comparison of the two matrices), so a multi-GB checkpoint is described in seconds.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tieviz.checkpoints.archive import stage_upload
from tieviz.checkpoints.errors import CheckpointError
from tieviz.checkpoints.family_lookup import Family, config_int, family_for, find_key
from tieviz.checkpoints.weights import FLOAT_DTYPES, WeightSet

_MAX_CONFIG_BYTES = 2**20
_BUFFER = re.compile(r"(^|\.)(inv_freq|masked_bias)$")
_LAYER = re.compile(r"\.(?:h|layers)\.(\d+)\.")
_CLI_KEYS = ("architecture", "model_type", "tied", "vocab_size", "d_model", "n_params", "embedding_share")


TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "spiece.model", "vocab.json", "vocab.txt")


def has_tokenizer_files(ckpt_dir: Path) -> bool:
    """Whether the checkpoint folder holds any file a Hugging Face tokenizer loads from."""
    return any((Path(ckpt_dir) / name).is_file() for name in TOKENIZER_FILES)


@dataclass(frozen=True)
class CheckpointSummary:
    """What tieviz needs to know about a checkpoint before reading any matrix."""

    architecture: str  # e.g. "GPT2LMHeadModel"
    model_type: str  # config.json's model_type, e.g. "gpt2"
    family: str  # our family name (see families.FAMILIES)
    tied: bool
    tied_reason: str
    vocab_size: int
    d_model: int
    n_params: int  # from header shapes; a tied matrix stored twice counts once
    embedding_share: float  # embedding + unembedding parameters (once if tied) / n_params
    embed_key: str
    unembed_key: str | None  # None when the checkpoint stores no separate output matrix
    n_layers: int
    has_tokenizer: bool
    weights_bytes: int
    d_embed: int  # width of the embedding rows; differs from d_model only for projected OPT models
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()  # disagreements between config.json and the weights

    def to_json_dict(self) -> dict[str, Any]:
        """The CLI's JSON: the seven documented keys first, then the rest."""
        data = asdict(self)
        data["notes"] = list(self.notes)
        data["warnings"] = list(self.warnings)
        return {key: data[key] for key in _CLI_KEYS} | {k: v for k, v in data.items() if k not in _CLI_KEYS}


@dataclass(frozen=True)
class EmbeddingPair:
    """W_E and W_U as float32 arrays of shape [V, d]; W_U is the same array as W_E when tied."""

    W_E: np.ndarray
    W_U: np.ndarray
    summary: CheckpointSummary


def read_config(ckpt_dir: Path) -> dict[str, Any]:
    """config.json as a dict, or a CheckpointError: missing, over 1 MiB, not JSON, nested too deep."""
    path = Path(ckpt_dir) / "config.json"
    if not path.is_file():
        raise CheckpointError("The checkpoint has no config.json.")
    if path.stat().st_size > _MAX_CONFIG_BYTES:
        raise CheckpointError("config.json is larger than 1 MiB, which no model config is.")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"config.json is not valid JSON ({exc}).") from exc
    except RecursionError:
        raise CheckpointError("config.json is nested too deeply to be a model config.") from None
    if not isinstance(config, dict):
        raise CheckpointError("config.json must hold a JSON object.")
    return config


def _is_buffer(key: str, shape: tuple[int, ...]) -> bool:
    """Saved non-parameters: rotary frequencies and old GPT-2/NeoX causal masks."""
    if _BUFFER.search(key):
        return True
    return len(shape) == 4 and (key.endswith("attn.bias") or key.endswith("attention.bias"))


def _n_layers(config: dict[str, Any], family: Family, keys: list[str]) -> int:
    try:
        return config_int(config, family.n_layer_keys, "number of layers")
    except CheckpointError:
        return len({m.group(1) for k in keys if (m := _LAYER.search(k))})


_CONFIG_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def _identical(weights: WeightSet, a: str, b: str, config: dict[str, Any]) -> bool:
    """Whether two stored matrices hold the same numbers once loaded, as transformers compares them
    (`torch.equal` on the model's parameters): tensors stored in different dtypes are compared in the
    dtype config.json names (float32 without one). The first row settles most cases cheaply."""
    dtype = None
    if weights.infos[a].dtype != weights.infos[b].dtype:
        named = config.get("dtype", config.get("torch_dtype"))
        dtype = _CONFIG_DTYPES.get(named, torch.float32) if isinstance(named, str) else torch.float32

    def same(rows: int | None) -> bool:
        x, y = weights.tensor(a, rows=rows), weights.tensor(b, rows=rows)
        return torch.equal(x, y) if dtype is None else torch.equal(x.to(dtype), y.to(dtype))

    return same(1) and same(None)


def _decide_tied(
    config: dict[str, Any], family: Family, weights: WeightSet, embed_key: str, unembed_key: str | None
) -> tuple[bool, str, str]:
    """(tied, why, warning) as transformers 5 decides it when it loads the checkpoint.

    `PreTrainedModel.tie_weights` (transformers 5.23) ties only when the config's flag (or the config
    class's default, which `Family.default_tied` records) says so, and then only when the output matrix
    is absent from the files or stored with exactly the same values; a stored output matrix with other
    values is loaded untied, reported here with a warning. With the flag off nothing is tied, even an
    output matrix stored with the embedding's very values: the model gets two separate matrices.
    """
    explicit = "tie_word_embeddings" in config
    flag = bool(config.get("tie_word_embeddings", family.default_tied))  # transformers tests truthiness
    said = (
        f"config.json sets tie_word_embeddings to {str(flag).lower()}"
        if explicit
        else f"config.json has no tie_word_embeddings, and {family.name} models are "
        f"{'tied' if flag else 'untied'} by default"
    )
    if unembed_key is None:
        if not flag:
            raise CheckpointError(
                f"{said}, but the checkpoint has no output matrix ({family.unembed_suffixes[0]}); "
                'if the model is tied, add "tie_word_embeddings": true to config.json.'
            )
        return True, "config flag tie_word_embeddings" if explicit else "no lm_head tensor", ""
    if not flag:
        if _identical(weights, embed_key, unembed_key, config):
            return False, "separate output matrix, equal to the embedding (untied by config)", ""
        return False, "separate output matrix", ""
    if _identical(weights, embed_key, unembed_key, config):
        return True, "config flag tie_word_embeddings" if explicit else f"{family.name} ties by default", ""
    warning = (
        f"{said}, but the checkpoint stores a separate {unembed_key} with other values than "
        f"{embed_key}: transformers loads it untied, and so does tieviz."
    )
    return False, "separate output matrix (the config says tied)", warning


def _summarise(ckpt_dir: Path) -> tuple[CheckpointSummary, WeightSet]:
    config = read_config(ckpt_dir)
    family = family_for(config)
    vocab = config_int(config, ("vocab_size",), "vocab_size")
    d_model = config_int(config, family.d_model_keys, "model width")
    d_embed = (
        config_int(config, (family.embed_dim_key,), family.embed_dim_key) if family.embed_dim_key else d_model
    )
    weights = WeightSet.open(ckpt_dir)
    keys = sorted(weights.infos)
    embed_key = find_key(keys, family.embed_suffixes, "input embedding")
    if embed_key is None:
        raise CheckpointError(f"No input embedding tensor (…{family.embed_suffixes[0]}) was found.")
    unembed_key = find_key(keys, family.unembed_suffixes, "output unembedding")
    dim_name = family.embed_dim_key or family.d_model_keys[0]
    for key in (embed_key, unembed_key):
        if key is None:
            continue
        info = weights.infos[key]
        if info.shape != (vocab, d_embed):
            raise CheckpointError(
                f"Tensor {key} has shape {list(info.shape)}, but config.json says vocab_size={vocab} "
                f"and {dim_name}={d_embed}."
            )
        if info.dtype not in FLOAT_DTYPES:
            raise CheckpointError(f"Tensor {key} has dtype {info.dtype}; only float weights can be analysed.")
    tied, reason, warning = _decide_tied(config, family, weights, embed_key, unembed_key)
    n_params = sum(i.numel for k, i in weights.infos.items() if not _is_buffer(k, i.shape))
    embed_numel = weights.infos[embed_key].numel
    if tied and unembed_key is not None:
        n_params -= embed_numel
    notes = (family.note,) if family.note else ()
    if family.embed_dim_key and d_embed != d_model:
        notes += (f"Embedding rows have width {dim_name}={d_embed}, not d_model={d_model}.",)
    architectures = config.get("architectures")
    summary = CheckpointSummary(
        architecture=str(architectures[0])
        if isinstance(architectures, list) and architectures
        else "unknown",
        model_type=config["model_type"],
        family=family.name,
        tied=tied,
        tied_reason=reason,
        vocab_size=vocab,
        d_model=d_model,
        n_params=n_params,
        embedding_share=embed_numel * (1 if tied else 2) / max(n_params, 1),
        embed_key=embed_key,
        unembed_key=unembed_key,
        n_layers=_n_layers(config, family, keys),
        has_tokenizer=has_tokenizer_files(ckpt_dir),
        weights_bytes=weights.weights_bytes,
        d_embed=d_embed,
        notes=notes,
        warnings=(warning,) if warning else (),
    )
    return summary, weights


@contextmanager
def checkpoint_dir(path: Path) -> Iterator[Path]:
    """A directory holding the checkpoint: ``path`` itself, or a zip staged into a temporary folder."""
    path = Path(path)
    if path.is_dir():
        yield path
    elif path.is_file():
        with tempfile.TemporaryDirectory(prefix="tieviz-ckpt-") as tmp:
            yield stage_upload(path, Path(tmp))
    else:
        raise CheckpointError(f"'{path}' does not exist.")


def inspect_checkpoint(path: Path) -> CheckpointSummary:
    """Architecture, tying and sizes of a checkpoint directory or zip, from headers only."""
    with checkpoint_dir(path) as ckpt_dir:
        return _summarise(ckpt_dir)[0]


def _float32(tensor: torch.Tensor) -> np.ndarray:
    """float32 numpy without copying float32 data (it stays a view of the memory-mapped file)."""
    return tensor.detach().to(torch.float32).numpy()


def read_embeddings(path: Path) -> EmbeddingPair:
    """W_E [V, d] and W_U [V, d] as float32, reading only those two tensors.

    W_U is the same array as W_E when the checkpoint is tied. From a zip the arrays are copied into
    memory, because the staged files are removed on return.
    """
    path = Path(path)
    with checkpoint_dir(path) as ckpt_dir:
        summary, weights = _summarise(ckpt_dir)
        W_E = _float32(weights.tensor(summary.embed_key))
        if summary.tied or summary.unembed_key is None:
            W_U = W_E
        else:
            W_U = _float32(weights.tensor(summary.unembed_key))
        if not path.is_dir():
            W_E = np.array(W_E, copy=True)
            W_U = W_E if summary.tied else np.array(W_U, copy=True)
    return EmbeddingPair(W_E=W_E, W_U=W_U, summary=summary)
