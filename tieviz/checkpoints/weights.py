"""Which tensors a checkpoint holds (names, shapes, dtypes from headers only), and reading one on demand.

Safetensors headers are parsed by ``safe_open`` without touching tensor data; a tensor read with
framework "pt" is a view of the memory-mapped file, so only the pages used are loaded. Legacy
``pytorch_model.bin`` files go through ``torch.load(weights_only=True)``, which refuses pickled code.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open

from tieviz.checkpoints.errors import CheckpointError

_MAX_INDEX_BYTES = 64 * 2**20
_CHUNK = 1 << 22
_TORCH_DTYPES = {
    torch.float64: "F64",
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
}
FLOAT_DTYPES = frozenset(_TORCH_DTYPES.values())


@dataclass(frozen=True)
class TensorInfo:
    """Where a tensor lives and what its header says; no data."""

    shape: tuple[int, ...]
    dtype: str
    file: Path

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


def _read_json(path: Path) -> Any:
    if path.stat().st_size > _MAX_INDEX_BYTES:
        raise CheckpointError(f"{path.name} is too large to be a checkpoint index.")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path.name} is not valid JSON.") from exc
    except RecursionError:
        raise CheckpointError(f"{path.name} is nested too deeply to be a checkpoint index.") from None


def _index_files(index: Path) -> tuple[list[Path], set[str]]:
    """Shard files named by a ``*.index.json``; each must be a plain file name in the same folder."""
    data = _read_json(index)
    weight_map = data.get("weight_map") if isinstance(data, dict) else None
    if not isinstance(weight_map, dict) or not all(isinstance(v, str) for v in weight_map.values()):
        raise CheckpointError(f"{index.name} has no valid weight_map.")
    files = []
    for name in sorted(set(weight_map.values())):
        if Path(name).name != name or name in (".", ".."):
            raise CheckpointError(f"{index.name} names the shard '{name}', which is not a plain file name.")
        if not (index.parent / name).is_file():
            raise CheckpointError(f"{index.name} lists the shard {name}, which is missing.")
        files.append(index.parent / name)
    return files, set(weight_map)


def _safetensors_files(ckpt_dir: Path) -> tuple[list[Path], set[str]]:
    index = ckpt_dir / "model.safetensors.index.json"
    if index.is_file():
        return _index_files(index)
    if (ckpt_dir / "model.safetensors").is_file():
        return [ckpt_dir / "model.safetensors"], set()
    return sorted(ckpt_dir.glob("*.safetensors")), set()


def _torch_load(path: Path) -> dict[str, torch.Tensor]:
    """A state dict from a legacy .bin; weights_only=True refuses any pickled callable."""
    try:
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError as exc:
            if "mmap" not in str(exc):
                raise
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure to unpickle user bytes is the user's file
        raise CheckpointError(
            f"{path.name} could not be loaded as plain tensors; pickled code is never run "
            f"({type(exc).__name__})."
        ) from exc
    if not isinstance(obj, dict) or not all(isinstance(k, str) for k in obj):
        raise CheckpointError(f"{path.name} does not hold a dictionary of named tensors.")
    return {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}


def _check_layout(file: str, key: str, tensor: torch.Tensor) -> None:
    """Refuse a tensor that is not plainly stored: sparse, quantized, on another device, or repeating.

    A pickle can describe a [V, 1] tensor over one stored number (stride 0): a 2 KB file that claims any
    vocabulary. Checked before anything reads or sizes work by the tensor's shape.
    """
    if tensor.layout != torch.strided:
        raise CheckpointError(f"{file} holds {key} as a {tensor.layout} tensor; only dense tensors are read.")
    if tensor.device.type != "cpu":
        raise CheckpointError(f"{file} holds {key} on the '{tensor.device.type}' device, with no data.")
    if tensor.is_quantized:
        raise CheckpointError(f"{file} holds {key} as a quantized tensor; only float tensors are read.")
    if any(stride == 0 and size > 1 for stride, size in zip(tensor.stride(), tensor.shape, strict=True)):
        raise CheckpointError(f"{file} holds {key} with a zero stride (one stored value repeated).")
    if tensor.numel():
        last = tensor.storage_offset() + sum(
            (n - 1) * st for n, st in zip(tensor.shape, tensor.stride(), strict=True)
        )
        if (last + 1) * tensor.element_size() > tensor.untyped_storage().nbytes():
            raise CheckpointError(f"{file} holds {key} with a shape larger than its stored data.")


class WeightSet:
    """The tensors of one checkpoint: headers up front, data only when asked for."""

    def __init__(self, infos: dict[str, TensorInfo], files: list[Path], state: dict[str, torch.Tensor]):
        self.infos = infos
        self.files = files
        self._state = state  # tensors of a legacy .bin (memory-mapped where torch allows)

    @classmethod
    def open(cls, ckpt_dir: Path) -> WeightSet:
        files, indexed = _safetensors_files(ckpt_dir)
        if files:
            return cls(_scan_safetensors(files, indexed), files, {})
        bin_index = ckpt_dir / "pytorch_model.bin.index.json"
        if bin_index.is_file():
            files, _ = _index_files(bin_index)
        elif (ckpt_dir / "pytorch_model.bin").is_file():
            files = [ckpt_dir / "pytorch_model.bin"]
        else:
            raise CheckpointError("The checkpoint has no model.safetensors or pytorch_model.bin weights.")
        state: dict[str, torch.Tensor] = {}
        infos: dict[str, TensorInfo] = {}
        for path in files:
            for key, tensor in _torch_load(path).items():
                _check_layout(path.name, key, tensor)
                dtype = _TORCH_DTYPES.get(tensor.dtype, str(tensor.dtype))
                infos[key] = TensorInfo(tuple(tensor.shape), dtype, path)
                state[key] = tensor
        return cls(infos, files, state)

    @property
    def weights_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.files)

    def fingerprint(self) -> str:
        """sha256 (16 hex) of the weight files' bytes: what caches of this model's analyses are keyed by.

        Not the folder's name: two uploads in same-named folders would share (wrong) cached results.
        """
        digest = hashlib.sha256()
        for path in sorted(self.files, key=lambda f: f.name):
            digest.update(f"{path.name}\0{path.stat().st_size}\0".encode())
            with open(path, "rb") as handle:
                while chunk := handle.read(_CHUNK):
                    digest.update(chunk)
        return digest.hexdigest()[:16]

    def tensor(self, key: str, rows: int | None = None) -> torch.Tensor:
        """One tensor (or its first ``rows`` rows), read lazily from the file it lives in."""
        if key in self._state:
            return self._state[key] if rows is None else self._state[key][:rows]
        path = self.infos[key].file
        try:
            with safe_open(path, framework="pt") as handle:
                return handle.get_tensor(key) if rows is None else handle.get_slice(key)[:rows]
        except SafetensorError as exc:
            raise CheckpointError(f"{path.name} could not be read ({exc}).") from exc


def _scan_safetensors(files: list[Path], indexed: set[str]) -> dict[str, TensorInfo]:
    infos: dict[str, TensorInfo] = {}
    for path in files:
        try:
            with safe_open(path, framework="numpy") as handle:
                for key in handle.keys():
                    if key in infos:
                        raise CheckpointError(f"The tensor {key} appears in more than one weights file.")
                    view = handle.get_slice(key)
                    infos[key] = TensorInfo(tuple(view.get_shape()), view.get_dtype(), path)
        except SafetensorError as exc:
            raise CheckpointError(
                f"{path.name} is truncated or corrupt: its safetensors header cannot be read ({exc})."
            ) from exc
    missing = sorted(indexed - set(infos))
    if missing:
        raise CheckpointError(f"The index lists {missing[0]}, which no shard contains.")
    return infos
