"""The causal test in numbers: each measure's bias for the tied and the α-scaled tied model, over seeds.

Read from the summary's `stats` (`bias.tied.*`, `bias.scaled.*` and the paired `bias_change.*`), so the
Causal test page has one data source, with intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

from tieviz.analysis.measures import MEASURE_LABELS
from tieviz.analysis.stats import SeedStat


@dataclass(frozen=True)
class CausalShift:
    """One measure's bias (output − input) for the tied and the α-scaled model, and the paired change."""

    measure: str
    label: str
    tied_bias: SeedStat
    scaled_bias: SeedStat
    change: SeedStat  # scaled − tied, seed by seed: negative means scaling shrank the bias


def causal_shifts(stats: dict[str, SeedStat]) -> list[CausalShift]:
    """Every measure with both arms' bias in `stats`, in the registry's order.

    Raises ValueError when there are no scaled arm's scores (an experiment without the causal test).
    """
    shifts = []
    for measure, label in MEASURE_LABELS.items():
        names = (f"bias.tied.{measure}", f"bias.scaled.{measure}", f"bias_change.{measure}")
        if all(name in stats for name in names):
            shifts.append(CausalShift(measure, label, *(stats[name] for name in names)))
    if not shifts:
        raise ValueError("this experiment has no bias scores for both the tied and the scaled model")
    return shifts
