"""Curves over training: the gradient ratio and share (docs/science.md, claim 2), and each arm's loss.

Every figure accepts partial input, because the dashboard draws them while a run is still training.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from tieviz.analysis.curves import EARLY_FRACTION, early_window_end, ema, series
from tieviz.figures.base import (
    SHARE_AXIS,
    CaptionedFigure,
    arm_colour,
    base_figure,
    log_ticks,
    mark_no_data,
    ordered_arms,
)

RAW_OPACITY = 0.25


def _arm_label(arm: str, alpha: float | None = None) -> str:
    if arm == "untied":
        return "untied (‖∇W_U‖/‖∇W_E‖)"
    if arm == "baseline":  # the second untied model, trained for the same-recipe baseline
        return "baseline untied (‖∇W_U‖/‖∇W_E‖)"
    if arm == "scaled" and alpha is not None:
        return f"scaled (α={alpha:g})"
    return arm


def _max_step(metrics: dict[str, list[dict]]) -> int:
    return max((int(r["step"]) for records in metrics.values() for r in records if "step" in r), default=0)


def _equal_pull_guides(fig: go.Figure, last_step: int, level: float, label: str, label_y: float) -> None:
    """The dashed "equal pull" line at `level` (ratio 1, or a 50% share) with its label, and the shaded
    early window; `label_y` is where the label sits in the axis's own units (log10 on a log axis)."""
    end = max(last_step, 1)
    fig.add_trace(
        go.Scatter(
            x=[0, end],
            y=[level, level],
            mode="lines",
            name="equal pull",
            line={"color": "black", "dash": "dash", "width": 1},
            hovertemplate=f"equal pull: {label}<extra></extra>",
        )
    )
    fig.add_annotation(
        text="equal pull",
        x=end,
        y=label_y,
        xref="x",
        yref="y",
        xanchor="right",
        yanchor="bottom",
        showarrow=False,
        bgcolor="rgba(255, 255, 255, 0.85)",  # readable where the curves run through it
    )
    if (early_end := early_window_end(last_step)) > 0:
        fig.add_vrect(
            x0=0,
            x1=early_end,
            fillcolor="#7f7f7f",
            opacity=0.12,
            line_width=0,
            layer="below",
            annotation_text=f"early window (first {EARLY_FRACTION:.0%})",
            annotation_position="top left",
        )


def _smoothed_pair(
    fig: go.Figure,
    steps: np.ndarray,
    values: np.ndarray,
    smoothed: np.ndarray,
    *,
    name: str,
    colour: str,
    quantity: str,
    fmt: str = ".3g",
) -> None:
    """Raw values as a faint line behind the smoothed one; hover on the smoothed line shows both."""
    group = name
    fig.add_trace(
        go.Scatter(
            x=steps,
            y=values,
            mode="lines",
            name=f"{name} (raw)",
            legendgroup=group,
            showlegend=False,
            opacity=RAW_OPACITY,
            line={"color": colour, "width": 1},
            hovertemplate=f"{name}<br>step %{{x}}<br>raw {quantity} %{{y:{fmt}}}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=steps,
            y=smoothed,
            customdata=values,
            mode="lines+markers" if len(steps) == 1 else "lines",
            name=name,
            legendgroup=group,
            line={"color": colour, "width": 2.5},
            hovertemplate=(
                f"{name}<br>step %{{x}}<br>{quantity} %{{y:{fmt}}} (raw %{{customdata:{fmt}}})<extra></extra>"
            ),
        )
    )


def _log_smooth(values: np.ndarray, smoothing: float) -> np.ndarray:
    """Smooth a positive quantity in log space, so one spike does not dominate a curve drawn on a log axis."""
    return np.exp(ema(np.log(values), smoothing))


def gradient_ratio_figure(
    metrics: dict[str, list[dict]],
    smoothing: float = 0.6,
    alpha: float | None = None,
    total_steps: int | None = None,
) -> CaptionedFigure:
    """Output-path / input-path gradient norm per step, one line per arm, on a log axis.

    `total_steps` sets the early window while a run is still training; by default it is the last
    step logged.
    """
    fig = base_figure(
        "Which path pulls harder on the embedding matrix? Output / input gradient norm",
        "training step",
        "gradient ratio ‖output path‖ / ‖input path‖ (log scale)",
        yaxis_type="log",
        legend_title_text="arm",
    )
    caption = (
        "Each line is the size of the gradient arriving at the embedding matrix through the output "
        "projection divided by the size arriving through the input lookup; above the dashed line at 1 the "
        "output path pulls harder, below it the input path does. "
        f"The shaded band is the early window, the first {EARLY_FRACTION:.0%} of steps, where the paper "
        "finds the output path dominates; faint lines are the raw per-step values behind the smoothed ones. "
        "The untied arms have two separate matrices, so their lines compare ‖∇W_U‖ with ‖∇W_E‖."
    )
    drawn = False
    shown = [np.array([1.0])]
    for index, arm in enumerate(ordered_arms(metrics)):
        steps, values = series(metrics[arm], "grad_ratio")
        keep = values > 0  # a zero ratio has no place on a log axis
        steps, values = steps[keep], values[keep]
        if len(steps) == 0:
            continue
        drawn = True
        shown.append(values)
        _smoothed_pair(
            fig,
            steps,
            values,
            _log_smooth(values, smoothing),
            name=_arm_label(arm, alpha),
            colour=arm_colour(arm, index),
            quantity="ratio",
        )
    if not drawn:
        mark_no_data(fig)
        return CaptionedFigure(fig, caption, "gradient_ratio")
    last = total_steps if total_steps is not None else _max_step(metrics)
    _equal_pull_guides(fig, last, 1.0, "ratio 1", label_y=0.0)  # a log axis places labels at log10(1) = 0
    fig.update_yaxes(**log_ticks(np.concatenate(shown)))
    return CaptionedFigure(fig, caption, "gradient_ratio")


def grad_share_figure(
    metrics: dict[str, list[dict]], smoothing: float = 0.6, total_steps: int | None = None
) -> CaptionedFigure:
    """The output path's share of the combined gradient norm, g_out / (g_in + g_out), per step and arm."""
    fig = base_figure(
        "Output path's share of the gradient on the embedding matrix",
        "training step",
        "output share g_out / (g_in + g_out)",
        yaxis=SHARE_AXIS,
        legend_title_text="arm",
    )
    caption = (
        "tieviz's exact split: the share of the combined [V, d] gradient norm on the matrix that arrives "
        "through the output projection; 50% is an even split. This is not the paper's definition (its "
        "input norm is taken on the looked-up activations before they are scattered into the matrix): "
        "the next figure shows that one, beside the paper's own 1B run. "
        f"The shaded band is the first {EARLY_FRACTION:.0%} of steps."
    )
    drawn = False
    for index, arm in enumerate(ordered_arms(metrics)):
        steps_in, g_in = series(metrics[arm], "grad_in")
        steps_out, g_out = series(metrics[arm], "grad_out")
        steps, i_in, i_out = np.intersect1d(steps_in, steps_out, return_indices=True)
        total = g_in[i_in] + g_out[i_out]
        keep = total > 0
        if not keep.any():
            continue
        drawn = True
        share = g_out[i_out][keep] / total[keep]
        _smoothed_pair(
            fig,
            steps[keep],
            share,
            ema(share, smoothing),
            name=_arm_label(arm),
            colour=arm_colour(arm, index),
            quantity="output share",
            fmt=".1%",
        )
    if not drawn:
        mark_no_data(fig)
        return CaptionedFigure(fig, caption, "gradient_share")
    last = total_steps if total_steps is not None else _max_step(metrics)
    _equal_pull_guides(fig, last, 0.5, "50%", label_y=0.5)
    return CaptionedFigure(fig, caption, "gradient_share")


def loss_figure(metrics: dict[str, list[dict]], smoothing: float = 0.6) -> CaptionedFigure:
    """Smoothed training loss (solid) and validation loss (dashed, markers) per arm."""
    fig = base_figure(
        "What each choice costs: training and validation loss",
        "training step",
        "cross-entropy loss (nats per token)",
        legend_title_text="arm, split",
    )
    caption = (
        "Solid lines are the smoothed training loss of each arm (faint: raw per-step values); dashed lines "
        "with markers are the loss on held-out validation text. Lower is better: the gap between arms is "
        "what tying, or scaling its input gradient, costs or gains in prediction quality."
    )
    drawn = False
    for index, arm in enumerate(ordered_arms(metrics)):
        colour = arm_colour(arm, index)
        steps, values = series(metrics[arm], "train_loss")
        if len(steps):
            drawn = True
            _smoothed_pair(
                fig,
                steps,
                values,
                ema(values, smoothing),
                name=f"{arm}, train",
                colour=colour,
                quantity="train loss",
                fmt=".3f",
            )
        val_steps, val_values = series(metrics[arm], "val_loss")
        if len(val_steps):
            drawn = True
            fig.add_trace(
                go.Scatter(
                    x=val_steps,
                    y=val_values,
                    mode="lines+markers",
                    name=f"{arm}, validation",
                    legendgroup=f"{arm}, train",
                    line={"color": colour, "dash": "dash", "width": 2},
                    marker={"size": 7, "symbol": "diamond"},
                    hovertemplate=f"{arm}, validation<br>step %{{x}}<br>val loss %{{y:.3f}}<extra></extra>",
                )
            )
    if not drawn:
        mark_no_data(fig)
    return CaptionedFigure(fig, caption, "loss")
