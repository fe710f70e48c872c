"""A tieviz run beside the paper's real-scale runs: the paper's gradient share and drift from the start."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from tieviz.analysis.curves import PAPER_SHARE_WINDOW, rolling_output_share, series, shares_at_fractions
from tieviz.figures.base import SHARE_AXIS, CaptionedFigure, arm_colour, base_figure, mark_no_data
from tieviz.reference import ATTRIBUTION, Drift, GradientNorms

REFERENCE_COLOUR = "#444444"


def paper_share_figure(
    metrics: dict[str, list[dict]], reference: GradientNorms, alpha: float | None = None
) -> CaptionedFigure:
    """The paper's output share, out / (in + out) over trailing 20-step windows, of the tied arms of a run
    (input norm at the looked-up activations, before alpha) beside the paper's tied OLMo-1B, against the
    fraction of training done, so a 200-step run and the paper's 10,000 steps meet at matched points."""
    fig = base_figure(
        "The paper's output share: this run beside OLMo-1B",
        "fraction of training (log scale)",
        f"output share over {PAPER_SHARE_WINDOW}-step windows",
        xaxis_type="log",
        yaxis=SHARE_AXIS,
        legend_title_text="model",
    )
    paper = shares_at_fractions(reference.input_path, reference.output_path)
    caption = (
        "The paper's definition: ‖output-path gradient‖ / (‖input-path gradient‖ + ‖output-path gradient‖), "
        f"each summed over the trailing {PAPER_SHARE_WINDOW} steps, with the input norm taken on the "
        "looked-up activations [batch, tokens, width] before they are scattered into the matrix (and, for "
        "the scaled arm, before α). The x axis is the fraction of each run's training, so points at the "
        "same x are equally far into training. The grey line is the paper's tied OLMo-1B "
        f"({len(reference.steps):,} steps): {paper['first_1pct']:.0%} over its first 1 %, "
        f"{paper['first_10pct']:.0%} over its first 10 %, {paper['overall']:.0%} over all steps (plain "
        f"sums). {ATTRIBUTION}"
    )
    drawn = False
    for index, arm in enumerate(a for a in ("tied", "scaled") if a in metrics):
        steps_act, g_act = series(metrics[arm], "grad_in_act")
        steps_out, g_out = series(metrics[arm], "grad_out")
        steps, i_act, i_out = np.intersect1d(steps_act, steps_out, return_indices=True)
        if steps.size == 0:
            continue
        drawn = True
        label = arm if arm == "tied" else f"scaled (α={alpha:g})" if alpha is not None else arm
        share = rolling_output_share(g_act[i_act], g_out[i_out])
        fig.add_trace(
            go.Scatter(
                x=steps / steps.max(),
                y=share,
                customdata=steps,
                hovertemplate="step %{customdata}<br>share %{y:.1%}<extra></extra>",
                mode="lines",
                name=f"this run: {label}",
                line={"color": arm_colour(arm, index)},
            )
        )
    share = rolling_output_share(reference.input_path, reference.output_path)
    fig.add_trace(
        go.Scatter(
            x=reference.steps / reference.steps.max(),
            y=share,
            customdata=reference.steps,
            hovertemplate="step %{customdata}<br>share %{y:.1%}<extra></extra>",
            mode="lines",
            name="paper: OLMo-1B (tied)",
            line={"color": REFERENCE_COLOUR, "width": 1.5},
        )
    )
    if not drawn:
        fig.add_annotation(
            text="this run logged no activation-gradient norms (trained by an older tieviz)",
            xref="paper",
            yref="paper",
            x=0.5,
            y=0.05,
            showarrow=False,
        )
    return CaptionedFigure(fig, caption, "paper_gradient_share")


def drift_figure(run_drift: dict[str, tuple[np.ndarray, np.ndarray]], public: list[Drift]) -> CaptionedFigure:
    """Mean per-token cosine of each untied matrix with its own start, against the fraction of training,
    for this run (thick) and the paper's public untied models (thin)."""
    fig = base_figure(
        "Drift from the start: untied input and output matrices",
        "fraction of the training shown",
        "mean cosine with the step-0 matrix",
        legend_title_text="model · matrix",
    )
    caption = (
        "Each line is one untied matrix against its own initial self, token by token, in the same basis "
        "(no alignment); 1 = unchanged. Solid: the output matrix W_U; dashed: the input matrix W_E. Thick "
        "lines are this run's untied reference; thin ones the paper's public untied models across their "
        "released checkpoints (x is each run's step over its last step shown, since their lengths differ "
        "by orders of magnitude). In the public models the output matrix leaves its start faster than the "
        f"input matrix; compare this run's two thick lines. {ATTRIBUTION}"
    )
    drawn = False
    for side, dash in (("output", "solid"), ("input", "dash")):
        if side in run_drift:
            steps, cosine = run_drift[side]
            if steps.size and steps.max() > 0:
                drawn = True
                fig.add_trace(
                    go.Scatter(
                        x=steps / steps.max(),
                        y=cosine,
                        mode="lines+markers",
                        name=f"this run · W_{'U' if side == 'output' else 'E'}",
                        line={"color": arm_colour("untied", 1), "dash": dash, "width": 3},
                    )
                )
        for index, drift in enumerate(public):
            values = drift.output_vs_init if side == "output" else drift.input_vs_init
            fig.add_trace(
                go.Scatter(
                    x=drift.steps / drift.steps.max(),
                    y=values,
                    mode="lines",
                    name=f"{drift.model.split('/')[-1]} · W_{'U' if side == 'output' else 'E'}",
                    line={"color": ["#777777", "#999999", "#bbbbbb"][index % 3], "dash": dash, "width": 1.5},
                )
            )
    if not drawn:
        mark_no_data(fig)
    return CaptionedFigure(fig, caption, "drift_from_start")
