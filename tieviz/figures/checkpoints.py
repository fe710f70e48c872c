"""Figures for uploaded checkpoints: row norms against frequency, and the paper's per-token cosines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from tieviz.figures.base import ARM_COLOURS, TEMPLATE, CaptionedFigure, token_labels

MATRIX_NAMES = {"W_E": "input W_E", "W_U": "output W_U"}
_MATRIX_COLOURS = {"W_E": "#ff7f0e", "W_U": "#1f77b4"}
_SIDES = {
    "out": ("tied W_E vs untied output W_U", ARM_COLOURS["untied"]),
    "in": ("tied W_E vs untied input W_E", "#ff7f0e"),
}
_METHODS = {"lin": "after a linear map", "proc": "after a rotation"}


def norm_frequency_figure(
    labels: Sequence[str], counts: np.ndarray | None, norms: Mapping[str, np.ndarray], tied: bool
) -> CaptionedFigure:
    """Row norm of each token [N] in each matrix against its count in the text [N] (log axis).

    Without counts (no tokenizer) the x axis is the token id instead.
    """
    n = len(labels)
    if not norms:
        raise ValueError("give the row norms of at least one matrix")
    for name, values in norms.items():
        if np.shape(values) != (n,):
            raise ValueError(f"norms of {name!r} have shape {np.shape(values)}, expected ({n},)")
    if counts is not None and np.shape(counts) != (n,):
        raise ValueError(f"got {np.shape(counts)} counts for {n} labels")
    by_count = counts is not None
    x = np.asarray(counts, dtype=np.float64) if by_count else np.arange(n, dtype=np.float64)
    fig = go.Figure()
    for name, values in norms.items():
        title = "shared W_E = W_U" if tied and name == "W_E" else MATRIX_NAMES.get(name, name)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=np.asarray(values, dtype=np.float64),
                mode="markers",
                name=title,
                text=token_labels(labels),
                marker={"size": 5, "opacity": 0.7, "color": _MATRIX_COLOURS.get(name)},
                hovertemplate="<b>%{text}</b><br>"
                + ("count %{x:,}" if by_count else "position %{x}")
                + "<br>row norm %{y:.3f}<extra>"
                + title
                + "</extra>",
            )
        )
    fig.update_layout(
        template=TEMPLATE,
        title="Row norm of each token against how often it occurs",
        xaxis_title="occurrences in the text (log scale)" if by_count else "token (in id order)",
        yaxis_title="row norm ‖row‖",
        legend_title_text="matrix",
    )
    if by_count:
        fig.update_xaxes(type="log")
    caption = (
        "Each dot is a token: how long its row is in each matrix, against how often it occurs in the text. "
        "Training pushes the rows of frequent tokens more often, so a trend with frequency is a trace of "
        "training; in an untied model the input and output matrices can follow frequency differently."
    )
    if not by_count:
        caption = (
            "Each dot is a token's row length in each matrix. This checkpoint has no tokenizer, so token "
            "frequencies are unknown and tokens are shown in id order."
        )
    return CaptionedFigure(fig, caption, "checkpoint_norms")


def cosine_histogram_figure(
    per_token: Mapping[str, np.ndarray],
    labels: Sequence[str],
    method: Literal["lin", "proc"] = "lin",
    scores: Mapping[str, float] | None = None,
) -> CaptionedFigure:
    """Histograms of the per-token cosines (tied vs untied output, tied vs untied input), with a token strip.

    `per_token` holds "<method>_cos_out" and "<method>_cos_in" arrays [N] (from `paper_comparison`).
    """
    if method not in _METHODS:
        raise ValueError(f"method must be 'lin' or 'proc', got {method!r}")
    n = len(labels)
    for side in _SIDES:
        if np.shape(per_token.get(f"{method}_cos_{side}")) != (n,):
            raise ValueError(f"per_token needs {method}_cos_{side} with one value per label ({n})")
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.75, 0.25], vertical_spacing=0.04)
    rng = np.random.default_rng(0)
    for row_offset, (side, (title, colour)) in enumerate(_SIDES.items()):
        values = np.asarray(per_token[f"{method}_cos_{side}"], dtype=np.float64)
        mean = (scores or {}).get(f"{method}_cos_{side}", float(values.mean()))
        name = f"{title} (mean {mean:.3f})"
        fig.add_trace(
            go.Histogram(
                x=values,
                name=name,
                legendgroup=side,
                marker_color=colour,
                opacity=0.6,
                xbins={"start": -1.0, "end": 1.0, "size": 0.02},
                hovertemplate="cosine %{x}<br>%{y} tokens<extra>" + title + "</extra>",
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=values,
                y=row_offset + rng.uniform(-0.3, 0.3, n),
                mode="markers",
                name=name,
                legendgroup=side,
                showlegend=False,
                text=token_labels(labels),
                marker={"size": 4, "color": colour, "opacity": 0.6},
                hovertemplate="<b>%{text}</b><br>cosine %{x:.3f}<extra>" + title + "</extra>",
            ),
            row=2,
            col=1,
        )
    fig.update_layout(
        template=TEMPLATE,
        barmode="overlay",
        title=f"Per-token cosine with the tied matrix, {_METHODS[method]}",
        legend={"orientation": "h", "y": -0.2},
        height=520,
    )
    fig.update_yaxes(title_text="tokens", row=1, col=1)
    fig.update_yaxes(tickvals=[0, 1], ticktext=["vs output", "vs input"], range=[-0.6, 1.6], row=2, col=1)
    fig.update_xaxes(title_text="cosine between the mapped untied row and the tied row", row=2, col=1)
    caption = (
        "Each untied matrix is mapped onto the tied one over the same tokens, then each token's mapped row "
        "is compared with its tied row (1 = same direction). If tying made the shared matrix an output "
        "matrix, the output histogram sits further right than the input one. Hover the strip to find tokens."
    )
    return CaptionedFigure(fig, caption, f"paper_cosines_{method}")


def series_bias_figure(points: Sequence, public: Sequence) -> CaptionedFigure:
    """Left: a checkpoint series' bias (linear-map cosine, output − input) over training, with the chance
    floor's distance; right: the paper's public untied models drifting from their start (`tieviz.reference`).

    `points` are `SeriesRow`s (label, step, bias, out, in_, chance); `public` are `reference.Drift`s.
    """
    from tieviz.reference import ATTRIBUTION

    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("This series: output − input (linear-map cosine)", "The paper's untied models"),
        horizontal_spacing=0.12,
    )
    stepped = all(p.step is not None for p in points)
    x = [p.step if stepped else i for i, p in enumerate(points)]
    labels = token_labels([p.label for p in points])
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[p.bias for p in points],
            mode="lines+markers",
            name="tied vs the untied model: output − input",
            line={"color": ARM_COLOURS["tied"], "width": 3},
            customdata=np.stack([np.asarray(labels, dtype=object), [p.out for p in points]], axis=1),
            hovertemplate="%{customdata[0]}<br>output − input %{y:+.3f}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[max(p.out, p.in_) - p.chance for p in points],
            mode="lines",
            name="best score above the chance floor",
            line={"color": "#999999", "dash": "dot"},
        ),
        row=1,
        col=1,
    )
    fig.add_hline(y=0, line={"color": "#444444", "width": 1}, row=1, col=1)
    for index, drift in enumerate(public):
        for side, values, dash in (
            ("W_U", drift.output_vs_init, "solid"),
            ("W_E", drift.input_vs_init, "dash"),
        ):
            fig.add_trace(
                go.Scatter(
                    x=drift.steps,
                    y=values,
                    mode="lines",
                    name=f"{drift.model.split('/')[-1]} · {side} vs its start",
                    line={"color": ["#555555", "#888888", "#bbbbbb"][index % 3], "dash": dash},
                ),
                row=1,
                col=2,
            )
    fig.update_xaxes(
        title_text="training step" if stepped else "checkpoint (in the order given)", row=1, col=1
    )
    fig.update_xaxes(title_text="training step", row=1, col=2)
    fig.update_yaxes(title_text="output − input", row=1, col=1)
    fig.update_yaxes(title_text="mean cosine with step 0", row=1, col=2)
    fig.update_layout(template=TEMPLATE, height=420, title={"text": "The unembedding bias over training"})
    caption = (
        "Left: each tied checkpoint against the one untied model, on the paper's measure (the mean cosine "
        "after a least-squares map): above 0 the tied matrix is shaped more like the untied output matrix. "
        "The dotted line is how far the better of the two scores stands above its chance floor (tokens "
        "shuffled); near 0 the checkpoint says nothing. Right, for context: in the paper's untied models the "
        "output matrix W_U leaves its start faster than the input matrix W_E (same basis, no alignment). "
        f"{ATTRIBUTION}"
    )
    return CaptionedFigure(fig, caption, "checkpoint_series_bias")
