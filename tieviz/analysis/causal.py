"""The causal test in numbers: each bias measure for the tied model and the α-scaled tied model.

One function reads them from an experiment summary, so the Causal test page has a single data source
(where intervals over seeds can later replace the single-seed values).
"""

from __future__ import annotations

from dataclasses import dataclass

# Summary keys of the bias measures (tieviz.analysis.alignment.bias_scores), the paper's measure first.
MEASURES = {
    "lin_cos": "linear-map cosine (paper)",
    "proc_cos": "Procrustes cosine (paper)",
    "cka": "linear CKA",
    "mknn": "mutual 10-NN overlap",
}


@dataclass(frozen=True)
class CausalShift:
    """One measure's similarities to the untied output and input matrices, tied against α-scaled."""

    measure: str
    label: str
    tied_out: float
    tied_in: float
    scaled_out: float
    scaled_in: float

    @property
    def tied_bias(self) -> float:
        """Output − input for the tied model: above 0 means output-shaped."""
        return self.tied_out - self.tied_in

    @property
    def scaled_bias(self) -> float:
        """Output − input for the tied model trained with its input gradient scaled by α."""
        return self.scaled_out - self.scaled_in

    @property
    def shift(self) -> float:
        """How much scaling moved the bias (negative: it shrank)."""
        return self.scaled_bias - self.tied_bias


def causal_shifts(summary: dict) -> list[CausalShift]:
    """The tied and scaled arms' bias scores for every measure the summary holds, in `MEASURES` order.

    Raises ValueError when the summary has no scaled arm's scores (an experiment without the causal test).
    """
    bias = summary.get("bias") or {}
    tied, scaled = bias.get("tied"), bias.get("scaled")
    if not isinstance(tied, dict) or not isinstance(scaled, dict):
        raise ValueError("this experiment has no bias scores for both the tied and the scaled model")
    shifts = []
    for measure, label in MEASURES.items():
        keys = (f"{measure}_out", f"{measure}_in")
        if all(k in tied and k in scaled for k in keys):
            values = [float(arm[k]) for arm in (tied, scaled) for k in keys]
            shifts.append(CausalShift(measure, label, *values))
    if not shifts:
        raise ValueError("this experiment's summary has none of the bias measures")
    return shifts
