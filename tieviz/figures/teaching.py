"""Figures for the classroom devices: the symmetric product of a toy matrix, and the savings of tying."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from tieviz.analysis.bigrams import asymmetry
from tieviz.analysis.teaching import TyingSavings, direct_path_tied, direct_path_with_map
from tieviz.figures.base import ARM_COLOURS, TEMPLATE, CaptionedFigure
from tieviz.figures.bigrams import token_axis_labels, token_heatmap_grid


def teaching_products_figure(labels: Sequence[str], W_E: np.ndarray, M: np.ndarray | None) -> CaptionedFigure:
    """Heatmaps of W_E W_E^T and, when M is given, W_E M W_E^T [V, V], with their asymmetry in the titles."""
    W_E = np.asarray(W_E, dtype=np.float64)
    if len(labels) != len(W_E):
        raise ValueError(f"need one label per embedding row: got {len(labels)} labels for {len(W_E)} rows")
    products = {"W_E W_Eᵀ (tied)": direct_path_tied(W_E)}
    if M is not None:
        products["W_E M W_Eᵀ (with a map M)"] = direct_path_with_map(W_E, M)
    shown = token_axis_labels(labels)
    titles = [f"{name}<br>asymmetry {asymmetry(p):.2f}" for name, p in products.items()]
    fig = token_heatmap_grid(titles, horizontal_spacing=0.12)
    for col, (name, product) in enumerate(products.items(), start=1):
        fig.add_trace(
            go.Heatmap(
                z=product,
                x=shown,
                y=shown,
                coloraxis="coloraxis",
                texttemplate="%{z:.2f}",
                name=name,
                hovertemplate="%{y} → %{x}: %{z:.3f}<extra>%{fullData.name}</extra>",
            ),
            row=1,
            col=col,
        )
    fig.update_layout(
        template=TEMPLATE,
        title_text="The direct path of a toy embedding matrix",
        coloraxis={"colorscale": "RdBu", "cmid": 0, "colorbar": {"title": {"text": "logit"}}},
        height=420,
    )
    caption = (
        "Each cell is the logit the direct path gives to the column token after the row token. "
        "The tied product is always a mirror image across its diagonal, whatever numbers the matrix holds. "
        "A non-symmetric map M between embedding and unembedding breaks that mirror."
        if M is not None
        else "Each cell is the logit the direct path gives to the column token after the row token. "
        "Edit the matrix: the tied product stays a mirror image across its diagonal whatever you type."
    )
    return CaptionedFigure(fig, caption, "direct_path_toy")


def savings_figure(rows: list[TyingSavings]) -> CaptionedFigure:
    """Bar chart of the share of each model's parameters that tying saves (one bar per row)."""
    if not rows:
        raise ValueError("give at least one model size to compare")
    fig = go.Figure(
        go.Bar(
            x=[r.label for r in rows],
            y=[100 * r.share for r in rows],
            customdata=[[r.saved_params, r.vocab_size, r.d_model] for r in rows],
            text=[f"{100 * r.share:.1f}%" for r in rows],
            textposition="outside",
            marker_color=ARM_COLOURS["tied"],
            hovertemplate=(
                "%{x} model: tying saves %{customdata[0]:,} parameters "
                "(V = %{customdata[1]:,} × d = %{customdata[2]:,}), %{y:.2f}% of the model<extra></extra>"
            ),
        )
    )
    same_shape = len({(r.vocab_size, r.d_model) for r in rows}) == 1
    subtitle = f" (V = {rows[0].vocab_size:,}, d = {rows[0].d_model:,})" if same_shape else ""
    fig.update_layout(
        template=TEMPLATE,
        title_text=f"Parameters saved by tying{subtitle}",
        xaxis_title="model size (parameters)",
        yaxis_title="share of the model saved (%)",
        # A fixed 0-100 % axis: shares scale together with V x d, so an autoscaled axis would draw the
        # same three bars whatever width or vocabulary is entered.
        yaxis_range=[0, max(100.0, 115 * max(r.share for r in rows))],
        height=380,
    )
    caption = (
        "Tying removes one vocabulary × width matrix. Each bar is that matrix as a share of the whole model: "
        "large for small models, small for big ones, which is why tying matters most at small scale."
    )
    return CaptionedFigure(fig, caption, "tying_savings")
