"""The bias over training of a real model's step checkpoints, beside the paper's own OLMo-1B run."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from tieviz.analysis.curves import PAPER_SHARE_WINDOW, rolling_output_share
from tieviz.figures.base import ARM_COLOURS, TEMPLATE, CaptionedFigure
from tieviz.reference import ATTRIBUTION, GradientNorms

REFERENCE_COLOUR = "#444444"


def bias_series_figure(
    steps: list[int],
    out: list[float],
    inp: list[float],
    chance: list[float],
    reference: GradientNorms,
    model: str = "tied model",
) -> CaptionedFigure:
    """Left: the linear-map cosine of each tied step checkpoint to the untied output and input matrices,
    with the chance floor; right: the paper's tied OLMo-1B output share of the gradient over its steps."""
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(
            f"{model}: linear-map cosine over training",
            f"paper's OLMo-1B: output share of the gradient ({PAPER_SHARE_WINDOW}-step windows)",
        ),
        horizontal_spacing=0.1,
    )
    traces = (
        ("to the untied output matrix", out, ARM_COLOURS["untied"], "solid"),
        ("to the untied input matrix", inp, ARM_COLOURS["tied"], "solid"),
        ("chance floor (output rows shuffled)", chance, "#999999", "dot"),
    )
    for name, values, colour, dash in traces:
        fig.add_trace(
            go.Scatter(
                x=steps, y=values, mode="lines+markers", name=name, line={"color": colour, "dash": dash}
            ),
            row=1,
            col=1,
        )
    share = rolling_output_share(reference.input_path, reference.output_path)
    fig.add_trace(
        go.Scatter(
            x=reference.steps,
            y=share,
            mode="lines",
            name="paper: OLMo-1B output share",
            line={"color": REFERENCE_COLOUR, "width": 1.5},
        ),
        row=1,
        col=2,
    )
    log = len(steps) > 1 and min(steps) > 0 and max(steps) >= 10 * min(steps)
    fig.update_xaxes(title_text="training step" + (" (log scale)" if log else ""), row=1, col=1)
    if log:
        fig.update_xaxes(type="log", row=1, col=1)
    fig.update_xaxes(title_text="training step (log scale)", type="log", row=1, col=2)
    fig.update_yaxes(title_text="mean cosine", row=1, col=1)
    fig.update_yaxes(title_text="output share", range=[0, 1], tickformat=".0%", row=1, col=2)
    fig.update_layout(
        template=TEMPLATE,
        title="Bias over training: this model's checkpoints beside the paper's OLMo-1B",
        legend={"orientation": "h", "y": -0.2},
    )
    caption = (
        "Left: at each saved step, the tied matrix is mapped by least squares onto the untied model's output "
        "matrix W_U (blue) and input matrix W_E (red), and the mean cosine of mapped and actual rows is "
        "shown; the dotted line is the same score against W_U with its rows shuffled (no token matches). "
        "Blue above red is the paper's bias: the tied matrix is shaped like an output matrix. Right: why, "
        "in the paper's own 1B run: early in training most of the gradient reaching the shared matrix comes "
        f"through the output projection. {ATTRIBUTION}"
    )
    return CaptionedFigure(fig, caption, "bias_over_training_checkpoints")
