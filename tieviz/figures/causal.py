"""The causal test's figure: the bias of the tied model next to the α-scaled model's, per measure."""

from __future__ import annotations

import plotly.graph_objects as go

from tieviz.analysis.causal import CausalShift
from tieviz.figures.base import ARM_COLOURS, TEMPLATE, CaptionedFigure

BAR_GAP = 0.2  # of each measure's slot left empty; the two bars share the rest
BAR_WIDTH = (1 - BAR_GAP) / 2  # one bar, in category units: where its value label is centred


def causal_bias_figure(shifts: list[CausalShift], alpha: float) -> CaptionedFigure:
    """Grouped bars: output − input for the tied and the α-scaled model, one group per measure."""
    if not shifts:
        raise ValueError("give at least one measure to compare")
    labels = [s.label.replace(" (", "<br>(") for s in shifts]  # two short lines: no slanted labels
    fig = go.Figure()
    arms = (
        ("tied", "tied", [s.tied_bias for s in shifts]),
        ("scaled", f"tied, input gradient × {alpha:g}", [s.scaled_bias for s in shifts]),
    )
    for index, (arm, name, stats) in enumerate(arms):
        values = [stat.mean for stat in stats]
        errors = [stat.half_width or 0.0 for stat in stats]
        fig.add_trace(
            go.Bar(
                x=labels,
                y=values,
                name=name,
                marker_color=ARM_COLOURS[arm],
                error_y={"type": "data", "array": errors, "visible": any(errors)},
                hovertemplate="%{x}: output − input = %{y:+.3f}<extra>%{fullData.name}</extra>",
            )
        )
        # Each value beyond the end of its whisker, not on the bar's end where the whisker runs through it.
        offset = (index - (len(arms) - 1) / 2) * BAR_WIDTH
        for position, (value, error) in enumerate(zip(values, errors, strict=True)):
            up = value >= 0
            fig.add_annotation(
                x=position + offset,
                y=value + error if up else value - error,
                text=f"{value:+.2f}",
                showarrow=False,
                yanchor="bottom" if up else "top",
                font={"color": ARM_COLOURS[arm]},
            )
    fig.add_hline(y=0, line={"color": "black", "width": 1})
    fig.update_layout(
        template=TEMPLATE,
        title_text=f"Does scaling the input gradient by α = {alpha:g} shrink the bias?",
        xaxis_title="similarity measure",
        xaxis_tickangle=0,
        yaxis_title="bias: output − input",
        barmode="group",
        bargap=BAR_GAP,
        bargroupgap=0,
        legend_title_text="model",
        height=420,
    )
    caption = (
        "Each pair of bars is one way to measure how much more the shared matrix resembles the untied "
        "output matrix than the untied input matrix (above 0: output-shaped). Red is the ordinary tied "
        "model, green the tied model whose input-path gradient was multiplied by α during training. "
        "If the output path's larger gradient causes the bias, green is lower than red. Bars are means "
        "over seeds; the whiskers are 95 % intervals (none with one seed)."
    )
    return CaptionedFigure(fig, caption, "causal_bias")
