"""Choosing the device to train on: cuda, then mps, then cpu, unless the user says otherwise.

Kept apart from the trainer so that asking which device would be used does not import transformers.
"""

from __future__ import annotations

import torch


def resolve_device(requested: str) -> str:
    """'auto' picks cuda, then mps, then cpu; an explicit device must exist."""
    if requested == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if requested == "cpu":
        return "cpu"
    if requested == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                "device 'cuda' was asked for, but this machine has no CUDA GPU (try --device auto)"
            )
        return "cuda"
    if requested == "mps":
        if not (getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()):
            raise ValueError("device 'mps' was asked for, but Apple's MPS backend is not available here")
        return "mps"
    raise ValueError(f"unknown device {requested!r}; use auto, cpu, cuda or mps")
