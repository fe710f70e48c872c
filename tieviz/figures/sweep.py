"""A sweep's curve: the bias against α (dose–response) or against scale (width, layers, steps), with 95 %
interval bands, and below it the two scores behind the bias beside the chance floor and the same-recipe
baseline. Accepts a partial sweep.json record, as points finish one by one.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from tieviz.analysis.measures import PAPER_MEASURE, measure_record
from tieviz.figures.base import TEMPLATE, CaptionedFigure, arm_colour, mark_no_data

AXIS_TITLES = {
    "alpha": "α, the input-gradient scale (log scale)",
    "d_model": "width d_model (log scale)",
    "n_layers": "layers",
    "steps": "training steps per model (log scale)",
}
LOG_AXES = ("alpha", "d_model", "steps")


def _series(points: list[dict], section: str, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, ci_low, ci_high) per point; NaN where a point lacks the stat or its interval."""

    def get(point: dict, field: str) -> float:
        stat = point.get(section, {}).get(name)
        value = None if stat is None else stat.get(field)
        return np.nan if value is None else float(value)

    return tuple(np.array([get(p, f) for p in points]) for f in ("mean", "ci_low", "ci_high"))


def _band(fig: go.Figure, x, low, high, colour: str, row: int, group: str) -> None:
    keep = np.isfinite(low) & np.isfinite(high)
    if keep.sum() < 1:
        return
    xs, lo, hi = np.asarray(x)[keep], low[keep], high[keep]
    fig.add_trace(
        go.Scatter(
            x=np.concatenate([xs, xs[::-1]]),
            y=np.concatenate([hi, lo[::-1]]),
            mode="lines",
            fill="toself",
            fillcolor=colour,
            opacity=0.18,
            line={"width": 0},
            hoverinfo="skip",
            showlegend=False,
            legendgroup=group,
        ),
        row=row,
        col=1,
    )


def _line(fig, x, y, low, high, label, colour, row, dash="solid", what="") -> None:
    custom = np.stack([low, high], axis=-1)
    fig.add_trace(
        go.Scatter(
            x=x,
            y=y,
            customdata=custom,
            mode="lines+markers",
            name=label,
            legendgroup=label,
            line={"color": colour, "dash": dash, "width": 2.5},
            hovertemplate=f"{label}<br>%{{x:g}}: {what} %{{y:.3f}} "
            "(95 % interval %{customdata[0]:.3f} to %{customdata[1]:.3f})<extra></extra>",
        ),
        row=row,
        col=1,
    )


def sweep_figure(record: dict, measure: str = PAPER_MEASURE) -> CaptionedFigure:
    """The bias of the swept model (top) and its scores to the untied output and input matrices (bottom)
    at every finished point of a sweep.json record, each mean with its 95 % interval as a band."""
    axis, arm = record["axis"], record.get("arm", "scaled" if record["axis"] == "alpha" else "tied")
    name = measure_record(measure).name  # ValueError for an unknown measure
    points = sorted(record.get("points", []), key=lambda p: p[axis])
    x = np.array([float(p[axis]) for p in points])
    kind = "Dose–response" if axis == "alpha" else "Scale trend"
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.55, 0.45])
    fig.update_layout(
        template=TEMPLATE,
        title=f"{kind}: the {arm} model's {name} bias against {AXIS_TITLES[axis].split(' (')[0]}",
        hovermode="closest",
        height=620,
        legend_title_text="mean, 95 % band",
    )
    colour = arm_colour(arm, 0)
    bias = _series(points, "stats", f"bias.{measure}")
    _band(fig, x, bias[1], bias[2], colour, 1, f"{arm} bias")
    _line(fig, x, *bias, f"{arm} bias (out − in)", colour, 1, what="bias")
    fig.add_hline(y=0, line={"dash": "dot", "color": "#888888", "width": 1.5}, row=1, col=1)
    for side, target, dash in (("out", "untied W_U", "solid"), ("in", "untied W_E", "dash")):
        score = _series(points, "stats", f"score.{measure}_{side}")
        line_colour = colour if side == "out" else "#1f77b4"
        _band(fig, x, score[1], score[2], line_colour, 2, f"{arm} vs {target}")
        _line(fig, x, *score, f"{arm} vs {target}", line_colour, 2, dash=dash, what=name)
    for section, label, line_colour in (
        ("floors", "chance floor", "#888888"),
        ("baseline", "same-recipe baseline", "#222222"),
    ):
        mean = _series(points, section, measure)[0]
        if np.isfinite(mean).any():
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=mean,
                    mode="lines",
                    name=label,
                    line={"color": line_colour, "dash": "dot", "width": 1.5},
                    hovertemplate=f"{label}<br>%{{x:g}}: %{{y:.3f}}<extra></extra>",
                ),
                row=2,
                col=1,
            )
    fig.update_yaxes(title_text=f"bias: {name} out − in", row=1, col=1)
    fig.update_yaxes(title_text=name, row=2, col=1)
    fig.update_xaxes(title_text=AXIS_TITLES[axis], row=2, col=1)
    ticks = {"tickvals": x.tolist(), "ticktext": [f"{v:g}" for v in x]}  # ticks at the swept values
    fig.update_xaxes(type="log" if axis in LOG_AXES else "linear", **ticks)
    if not points:
        mark_no_data(fig)
    n_seeds = max((len(p.get("seeds", [])) for p in points), default=0)
    what = (
        "at each α the model is tied and its input-path gradient is scaled by α"
        if axis == "alpha"
        else (f"at each {AXIS_TITLES[axis].split(' (')[0]} the model is tied")
    )
    caption = (
        f"Each point is one experiment ({what}), over {n_seeds} seed{'s' if n_seeds != 1 else ''}; lines "
        "are means and shaded bands 95 % t intervals over seeds (no band with one seed). Top: the bias, its "
        f"{name} to the untied model's output matrix W_U minus that to the input matrix W_E; above the "
        "dotted 0 line the shared matrix is output-shaped, as the paper finds. Bottom: the two scores behind "
        "it, beside the chance floor (the untied rows shuffled, so no token matches: what an unrelated "
        "matrix of this shape scores) and the same-recipe baseline (the untied output matrix against a "
        "second untied model's, trained with its own weights and batch order: how alike two independently "
        "trained output matrices get). A score near the floor says little; the gap to the baseline says "
        "how far from output-like the matrix still is."
        + (
            " The paper's causal test predicts the bias falls as α grows; at α = 1 the model is the plain "
            "tied one."
            if axis == "alpha"
            else ""
        )
    )
    return CaptionedFigure(fig, caption, f"sweep_{axis}_{measure}")
