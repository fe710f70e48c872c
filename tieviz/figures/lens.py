"""The lens's figures (docs/science.md, claim 3): per-layer KL or cross-entropy, per-block updates."""

from __future__ import annotations

from typing import Literal

import numpy as np
import plotly.graph_objects as go

from tieviz.analysis.lens import LensStatistics
from tieviz.analysis.stats import nats_to_bits
from tieviz.figures.base import TEMPLATE, CaptionedFigure, arm_colour

METRIC_NAMES = {  # the lens measures, as every menu, axis and title names them
    "kl": "KL to the final prediction",
    "cross_entropy": "next-token cross-entropy",
}


def _in_unit(values: np.ndarray, bits: bool) -> np.ndarray:
    """Lens values (stored in nats) in the unit the figure shows."""
    return nats_to_bits(values) if bits else values


def _values(stats: LensStatistics, metric: str, bits: bool) -> np.ndarray:
    return _in_unit(np.asarray(getattr(stats, metric), dtype=np.float64), bits)


def lens_figure(
    stats: dict[str, LensStatistics],
    metric: Literal["kl", "cross_entropy"] = "kl",
    logit_stats: dict[str, LensStatistics] | None = None,
    bits: bool = True,
    bands: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> CaptionedFigure:
    """One line per model across layers: tuned lens solid, logit lens (when given) dashed. `bands` gives
    each model's tuned-lens per-layer 95 % interval over seeds (low, high), in nats, drawn shaded."""
    if metric not in METRIC_NAMES:
        raise ValueError(f"metric must be 'kl' or 'cross_entropy', got {metric!r}")
    if not stats:
        raise ValueError("give lens statistics for at least one model")
    unit = "bits" if bits else "nats"
    fig = go.Figure()
    for index, (name, model_stats) in enumerate(stats.items()):
        band = (bands or {}).get(name)
        if band is not None:
            low, high = (_in_unit(np.asarray(b, dtype=np.float64), bits) for b in band)
            x = list(model_stats.layer_names)
            fig.add_trace(
                go.Scatter(
                    x=x + x[::-1],
                    y=np.concatenate([high, low[::-1]]),
                    fill="toself",
                    fillcolor=arm_colour(name, index),
                    opacity=0.2,
                    line={"width": 0},
                    hoverinfo="skip",
                    name=f"{name}, 95 % interval",
                    showlegend=False,
                )
            )
        variants = [("tuned lens", model_stats, "solid")]
        if logit_stats and name in logit_stats:
            variants.append(("logit lens", logit_stats[name], "dash"))
        for lens_name, lens_stats, dash in variants:
            fig.add_trace(
                go.Scatter(
                    x=list(lens_stats.layer_names),
                    y=_values(lens_stats, metric, bits),
                    mode="lines+markers",
                    name=f"{name}, {lens_name}",
                    line={"color": arm_colour(name, index), "dash": dash},
                    hovertemplate=f"{name}, {lens_name}<br>layer %{{x}}<br>%{{y:.3f}} {unit}<extra></extra>",
                )
            )
    fig.update_layout(
        template=TEMPLATE,
        title=f"What each layer already predicts: {METRIC_NAMES[metric]} per layer",
        xaxis_title="residual stream after layer (input = embeddings)",
        yaxis_title=f"{METRIC_NAMES[metric]} ({unit})",
        legend_title_text="model, lens",
    )
    fig.update_xaxes(type="category")
    baseline = (
        " Dashed lines are the plain logit lens, the baseline with no translator." if logit_stats else ""
    ) + (
        " Shaded bands are each tuned-lens curve's 95 % interval over seeds, layer by layer." if bands else ""
    )
    if metric == "kl":
        caption = (
            "Each point says how far the prediction read from that layer is from the model's final "
            "prediction; "
            "lower means the layer already predicts what the model will say, and the final layer is 0 by "
            f"definition. Solid lines use the tuned lens (a small map trained per layer).{baseline} "
            "If tying leaves the early residual stream further from the final prediction, the tied line "
            "sits higher at the early layers."
        )
    else:
        caption = (
            "Each point is the loss the model would have if it stopped at that layer and predicted the next "
            "token through the lens; lower is better, and the final layer is the model's own loss. "
            f"Solid lines use the tuned lens.{baseline} A steep early drop means the early layers do much "
            "of the work."
        )
    return CaptionedFigure(fig, caption, f"lens_{metric}")


def contribution_figure(contributions: dict[str, np.ndarray]) -> CaptionedFigure:
    """Grouped bars per block: mean ||h_{l+1} - h_l|| / ||h_l|| for each model."""
    if not contributions:
        raise ValueError("give residual contributions for at least one model")
    fig = go.Figure()
    for index, (name, values) in enumerate(contributions.items()):
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 1:
            raise ValueError(f"contributions for {name!r} must be one number per block")
        fig.add_trace(
            go.Bar(
                x=[f"block {block}" for block in range(1, len(values) + 1)],
                y=values,
                name=name,
                marker_color=arm_colour(name, index),
                hovertemplate=f"{name}<br>%{{x}}<br>relative update %{{y:.3f}}<extra></extra>",
            )
        )
    fig.update_layout(
        template=TEMPLATE,
        barmode="group",
        title="How far each block moves the residual stream",
        xaxis_title="transformer block",
        yaxis_title="relative update ‖h_after − h_before‖ / ‖h_before‖",
        legend_title_text="model",
    )
    caption = (
        "Each bar is the average size of what a block adds to the residual stream, relative to the stream "
        "it receives (0.5 means it changes the vector by half its length). Compare the models block by "
        "block: a shorter bar means that block changes the hidden vector less. This is the size of the "
        "change to the representation, not to the prediction (the KL curves above measure the prediction), "
        "so the two need not tell the same story."
    )
    return CaptionedFigure(fig, caption, "lens_contributions")
