"""Reading a checkpoint through its family record (`tieviz.families`): which family, sizes, tensor names.

Tensor names are matched by suffix, because checkpoints differ in prefixes: the original GPT-2 files
say ``wte.weight`` while ``save_pretrained`` writes ``transformer.wte.weight``.
"""

from __future__ import annotations

from typing import Any

from tieviz.checkpoints.errors import CheckpointError
from tieviz.families import BY_MODEL_TYPE, FAMILIES, Family, family_of

__all__ = ["FAMILIES", "Family", "config_int", "family_for", "find_key"]


def family_for(config: dict[str, Any]) -> Family:
    """The family of a parsed config.json, or a CheckpointError naming what is supported."""
    model_type = config.get("model_type")
    if not isinstance(model_type, str) or not model_type:
        raise CheckpointError("config.json has no model_type, so the architecture cannot be recognised.")
    family = family_of(model_type)
    if family is None:
        supported = ", ".join(sorted(BY_MODEL_TYPE))
        raise CheckpointError(f"Unknown architecture: model_type '{model_type}' is not one of {supported}.")
    return family


def config_int(config: dict[str, Any], keys: tuple[str, ...], what: str) -> int:
    """The first positive integer among ``keys`` in config.json, else a CheckpointError about ``what``."""
    for key in keys:
        value = config.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    raise CheckpointError(f"config.json gives no positive integer {what} (looked for {', '.join(keys)}).")


def find_key(keys: list[str], suffixes: tuple[str, ...], role: str) -> str | None:
    """The single tensor name ending in one of ``suffixes``; None if absent, an error if ambiguous."""
    for suffix in suffixes:
        matches = [k for k in keys if k == suffix or k.endswith("." + suffix)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise CheckpointError(f"Several tensors could be the {role} ({', '.join(sorted(matches))}).")
    return None
