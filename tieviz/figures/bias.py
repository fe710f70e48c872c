"""The bias as it develops (docs/science.md, claim 1): similarity of the shared matrix to the untied input and
output matrices at each saved checkpoint. Accepts partial input, as a run may still be training.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from tieviz.analysis.measures import PAPER_MEASURE, measure_record
from tieviz.figures.base import CaptionedFigure, arm_colour, base_figure, log_ticks, mark_no_data

if TYPE_CHECKING:
    from tieviz.experiments.summary_record import BiasOverTraining


def bias_over_training_figure(
    bias: dict | BiasOverTraining,
    measure: str = PAPER_MEASURE,
    floor: float | None = None,
    baseline: float | None = None,
    n_seeds: int = 1,
) -> CaptionedFigure:
    """Similarity of the tied (and scaled) matrix to the untied output (solid) and input (dashed) matrices
    at each saved checkpoint, x on a log axis because checkpoints are log-spaced. `floor` (rows shuffled)
    and `baseline` (the untied output matrix against a second untied model's) are dotted horizontal lines.
    """
    record = measure_record(measure)  # ValueError for an unknown measure
    name = record.name
    fig = base_figure(
        f"How the bias develops: {name} of the shared matrix to the untied matrices",
        "training step (log scale)",
        f"{name} ({record.one_means})",
        xaxis_type="log",
        legend_title_text="arm, compared with",
    )
    caption = (
        f"Each colour is one tied model; the solid line is its {name} with the untied model's output "
        "matrix W_U, the dashed line with the untied input matrix W_E, measured at each saved checkpoint. "
        "Solid above dashed means the shared matrix looks more like an output matrix than an input one; "
        "the step axis is logarithmic because checkpoints are saved more often early on. "
        + (f"Lines are means over {n_seeds} seeds. " if n_seeds > 1 else "One seed. ")
        + ("The grey dotted line is the chance floor (untied rows shuffled). " if floor is not None else "")
        + (
            "The black dotted line is the same-recipe baseline at the end of training: the untied output "
            "matrix against that of a second untied model trained with its own weights and batch order. "
            if baseline is not None
            else ""
        )
        + "The bias can peak early and then fall back; what counts is where it ends."
    )
    bias = (bias.to_dict() if hasattr(bias, "to_dict") else bias) or {}  # a BiasOverTraining, or partial
    steps = np.asarray(bias.get("steps") or [], dtype=np.float64)
    drawn = False
    for index, arm in enumerate(a for a in ("tied", "scaled") if isinstance(bias.get(a), dict)):
        colour = arm_colour(arm, index)
        for side, target, dash in (("out", "untied W_U", "solid"), ("in", "untied W_E", "dash")):
            values = np.asarray(bias[arm].get(f"{measure}_{side}") or [], dtype=np.float64)
            n = min(len(values), len(steps))
            x, y = steps[:n], values[:n]
            keep = np.isfinite(y) & (x >= 1)
            if not keep.any():
                continue
            drawn = True
            label = f"{arm} vs {target}"
            fig.add_trace(
                go.Scatter(
                    x=x[keep],
                    y=y[keep],
                    mode="lines+markers",
                    name=label,
                    line={"color": colour, "dash": dash, "width": 2.5 if side == "out" else 2},
                    hovertemplate=f"{label}<br>step %{{x}}<br>{name} %{{y:.3f}}<extra></extra>",
                )
            )
    for value, label, colour in (
        (floor, "chance floor", "#888888"),
        (baseline, "same-recipe baseline", "#222222"),
    ):
        if value is not None and np.isfinite(value):
            fig.add_hline(
                y=value,
                line={"dash": "dot", "color": colour, "width": 1.5},
                annotation_text=f"{label} {value:.2f}",
                annotation_position="bottom right",
            )
    if not drawn:
        mark_no_data(fig)
    fig.update_xaxes(**log_ticks(steps[steps >= 1]))
    return CaptionedFigure(fig, caption, f"bias_over_training_{measure}")


def summary_bias_figure(summary, measure: str = PAPER_MEASURE) -> CaptionedFigure:
    """`bias_over_training_figure` of a `tieviz.experiments.summary_record.Summary`, with its floor, baseline
    and seed count."""
    floor, baseline = summary.floors.get(measure), summary.baseline.get(measure)
    return bias_over_training_figure(
        summary.bias_over_training,
        measure,
        floor=None if floor is None else floor.mean,
        baseline=None if baseline is None else baseline.mean,
        n_seeds=summary.n_seeds,
    )
