"""Fitted tuned-lens translators on disk: safetensors files (no pickle) keyed by model, data and settings.

The maths lives in `tieviz.analysis.lens`; this module only saves, loads and caches its results.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

from tieviz.analysis.lens import FIT, TunedLens, train_tuned_lens
from tieviz.system.atomic import atomic_path

_FORMAT = "tieviz-tuned-lens-1"


def save_lens(lens: TunedLens, path: Path, meta: dict[str, Any]) -> None:
    """Write the translators as safetensors (no pickle), `meta` as JSON in its metadata; atomic."""
    tensors = {name: t.detach().contiguous().cpu() for name, t in lens.state_dict().items()}
    header = {"format": _FORMAT, "n_layers": str(lens.n_layers), "meta": json.dumps(meta, sort_keys=True)}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=header)


def read_lens_meta(path: Path) -> dict[str, Any]:
    """The `meta` dict a lens file was saved with."""
    try:
        with safe_open(str(path), framework="pt") as f:
            return json.loads((f.metadata() or {}).get("meta", "{}"))
    except Exception as error:  # safetensors raises its own error types for damaged files
        raise ValueError(f"{path} is not a readable tuned-lens file ({error})") from error


def load_lens(model: nn.Module, path: Path) -> TunedLens:
    """Rebuild a TunedLens for `model` from a file written by `save_lens`."""
    lens = TunedLens(model)
    try:
        with safe_open(str(path), framework="pt") as f:
            header = f.metadata() or {}
            tensors = {name: f.get_tensor(name) for name in f.keys()}
    except Exception as error:  # safetensors raises its own error types for damaged files
        raise ValueError(f"{path} is not a readable tuned-lens file ({error})") from error
    if header.get("format") != _FORMAT or header.get("n_layers") != str(lens.n_layers):
        raise ValueError(f"{path} holds a tuned lens for a different model or format")
    try:
        lens.load_state_dict(tensors, strict=True)
    except RuntimeError as error:
        raise ValueError(f"{path} does not match this model's shape ({error})") from error
    return lens


def model_fingerprint(model: nn.Module) -> str:
    """sha256 (16 hex) of the model's parameter names and bytes; a shared (tied) matrix counts once."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.named_parameters()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:16]


def _ids_hash(ids: torch.Tensor | None) -> str | None:
    return None if ids is None else hashlib.sha256(ids.cpu().contiguous().numpy().tobytes()).hexdigest()[:16]


def cached_tuned_lens(
    model: nn.Module,
    input_ids: torch.Tensor,
    cache_dir: Path,
    steps: int = FIT.max_steps,
    lr: float = FIT.lr,
    seed: int = FIT.seed,
    batch_size: int = FIT.batch_size,
    model_key: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    stop_ids: torch.Tensor | None = None,
    check_every: int = FIT.check_every,
    patience: int = FIT.patience,
    min_delta: float = FIT.min_delta,
) -> TunedLens:
    """Load the lens trained with these settings on this model and data, or train and save it.

    The key covers every fit setting, the data (fit and stopping windows) and `model_key` (default: a
    hash of the weights). A damaged cache file is ignored and replaced. `fit_steps` and `converged` come
    back with a loaded lens.
    """
    settings = {"steps": steps, "lr": lr, "seed": seed, "batch_size": batch_size}
    if stop_ids is not None:  # early stopping: its settings and windows change the fit
        settings.update(check_every=check_every, patience=patience, min_delta=min_delta)
    key_parts = {
        **settings,
        "model": model_key or model_fingerprint(model),
        "data": _ids_hash(input_ids),
        "shape": list(input_ids.shape),
    }
    if stop_ids is not None:
        key_parts.update(stop_data=_ids_hash(stop_ids), stop_shape=list(stop_ids.shape))
    key = hashlib.sha256(json.dumps(key_parts, sort_keys=True).encode()).hexdigest()[:16]
    path = Path(cache_dir) / f"tuned_lens-{key}.safetensors"
    if path.exists():
        try:
            lens = load_lens(model, path)
            meta = read_lens_meta(path)
            lens.fit_steps, lens.converged = int(meta.get("fit_steps", steps)), meta.get("converged")
            return lens
        except ValueError:
            pass
    lens = train_tuned_lens(
        model,
        input_ids,
        steps=steps,
        lr=lr,
        batch_size=batch_size,
        seed=seed,
        progress=progress,
        stop_ids=stop_ids,
        check_every=check_every,
        patience=patience,
        min_delta=min_delta,
    )
    meta = {**key_parts, "format": _FORMAT, "fit_steps": lens.fit_steps, "converged": lens.converged}
    save_lens(lens, path, meta)
    return lens
