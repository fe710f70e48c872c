"""Measured data from the paper's own real-scale runs, shipped to show beside tieviz's tiny ones.

From the repository accompanying Lopardo et al. (2026), "Weight Tying Biases Token Embeddings Towards
the Output Space", Apache License 2.0: see README.md in this folder for the attribution and the columns.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
DRIFT_MODELS = ("OLMo-1B-0724-hf", "OLMo-7B-0424-hf", "pythia-1b")
ATTRIBUTION = (
    "Real-scale data: Lopardo et al. (2026), github.com/AntonioLopardo/weight-tying-bias, Apache-2.0."
)


@dataclass(frozen=True)
class GradientNorms:
    """Per-step gradient norms of the paper's tied OLMo-1B (10,000 steps, no scaling)."""

    steps: np.ndarray  # [S]
    input_path: np.ndarray  # [S] norm at the looked-up activations, before the scatter-add
    output_path: np.ndarray  # [S] norm reaching the shared matrix through the output projection


@dataclass(frozen=True)
class Drift:
    """An untied public model's input and output matrices against their step-0 selves (mean cosine)."""

    model: str
    steps: np.ndarray  # [C] released checkpoints
    input_vs_init: np.ndarray  # [C]
    output_vs_init: np.ndarray  # [C]


def olmo1b_gradient_norms() -> GradientNorms:
    with open(HERE / "olmo1b_gradient_norms.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return GradientNorms(
        steps=np.array([int(r["step"]) for r in rows]),
        input_path=np.array([float(r["input_path_l2"]) for r in rows]),
        output_path=np.array([float(r["output_path_l2"]) for r in rows]),
    )


def olmo1b_output_shares() -> dict[str, float]:
    """The paper's OLMo-1B output share over the same fractions of its training as tieviz reports
    (`tieviz.analysis.curves.SHARE_FRACTIONS`), from its per-step norms."""
    from tieviz.analysis.curves import shares_at_fractions

    norms = olmo1b_gradient_norms()
    return shares_at_fractions(norms.input_path, norms.output_path)


def public_drift(model: str) -> Drift:
    if model not in DRIFT_MODELS:
        raise ValueError(f"no drift data for {model!r}; available: {', '.join(DRIFT_MODELS)}")
    raw = json.loads((HERE / f"evolution_{model}.json").read_text())
    return Drift(
        model=raw["model_id"],
        steps=np.asarray(raw["steps"], dtype=np.int64),
        input_vs_init=np.asarray(raw["input_vs_init"], dtype=np.float64),
        output_vs_init=np.asarray(raw["output_vs_init"], dtype=np.float64),
    )
