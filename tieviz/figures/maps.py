"""Side-by-side 2-D maps of embedding matrices (from tieviz.analysis.maps), coloured by token frequency."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from tieviz.figures.base import ARM_COLOURS, TEMPLATE, CaptionedFigure, token_labels

_AXIS_NAMES = {"umap": "UMAP", "pca": "PC"}
_METHOD_NAMES = {"umap": "UMAP", "pca": "PCA"}
_HOVER = "<b>%{customdata[0]}</b><br>count %{customdata[1]:,}"


PANEL_TITLES = {
    "tied": "tied W_E (= W_U)",
    "untied_in": "untied input W_E",
    "untied_out": "untied output W_U",
    "scaled": "tied, input gradient x alpha",
}


def _find_token(labels: Sequence[str], token: str) -> int | None:
    """Index of `token` in labels; an exact match first, then one ignoring a leading space or 'Ġ'."""
    for i, label in enumerate(labels):
        if label == token:
            return i
    wanted = token.strip().lstrip("Ġ")
    if not wanted:
        return None
    for i, label in enumerate(labels):
        if str(label).strip().lstrip("Ġ") == wanted:
            return i
    return None


def _highlight_colour(name: str) -> str:
    """The arm colour for panels named after an arm ("tied", "untied_in", ...), black otherwise."""
    arm = name.split("_")[0]
    return ARM_COLOURS.get(arm, "#000000")


def embedding_map_figure(
    layouts: Mapping[str, np.ndarray],
    labels: Sequence[str],
    counts: np.ndarray | None,
    titles: Mapping[str, str] | None = None,
    highlight: str | None = None,
    method: Literal["umap", "pca"] = "umap",
) -> CaptionedFigure:
    """One panel per layout [N, 2] (same N tokens in every panel), points coloured by log10 token count [N].

    counts None (a checkpoint without a tokenizer: no text could be read) draws every point in one colour
    and says there is no frequency information, rather than colouring by a count that means nothing.

    The layouts should already be aligned onto one another (`embedding_maps` does this), so that a token
    sits in a comparable place in every panel. `highlight` marks that token in every panel; a token
    not among the labels is silently ignored, because it comes from a search box.
    """
    if not layouts:
        raise ValueError("no layouts to draw")
    if method not in _AXIS_NAMES:
        raise ValueError(f"unknown map method {method!r}; choose 'umap' or 'pca'")
    n = len(labels)
    by_count = counts is not None
    counts = np.asarray(counts if by_count else np.zeros(n), dtype=np.float64)
    if counts.shape != (n,):
        raise ValueError(f"got {counts.shape[0] if counts.ndim else 0} token counts for {n} labels")
    if (counts < 0).any() or not np.isfinite(counts).all():
        raise ValueError("token counts must be finite and non-negative")
    for name, layout in layouts.items():
        if np.shape(layout) != (n, 2):
            raise ValueError(
                f"layout {name!r} has shape {np.shape(layout)}, expected ({n}, 2) for {n} labels"
            )

    titles = {**PANEL_TITLES, **(titles or {})}
    names = list(layouts)
    fig = make_subplots(
        rows=1,
        cols=len(names),
        subplot_titles=[titles.get(name, name) for name in names],
        horizontal_spacing=0.04,
    )
    log_counts = np.log10(counts + 1.0)
    shown = token_labels(labels)
    customdata = np.stack([np.asarray(shown, dtype=object), counts.astype(np.int64)], axis=1)
    found = _find_token(labels, highlight) if highlight else None
    hover = _HOVER if by_count else _HOVER.split("<br>")[0]
    axis = _AXIS_NAMES[method]

    for col, name in enumerate(names, start=1):
        xy = np.asarray(layouts[name], dtype=np.float64)
        fig.add_trace(
            go.Scatter(
                x=xy[:, 0],
                y=xy[:, 1],
                mode="markers",
                name=titles.get(name, name),
                legendgroup=name,
                showlegend=False,
                customdata=customdata,
                marker={"size": 5, "opacity": 0.8}
                | ({"color": log_counts, "coloraxis": "coloraxis"} if by_count else {"color": "#4c72b0"}),
                hovertemplate=hover + "<extra>" + titles.get(name, name) + "</extra>",
            ),
            row=1,
            col=col,
        )
        if found is not None:
            fig.add_trace(
                go.Scatter(
                    x=[xy[found, 0]],
                    y=[xy[found, 1]],
                    mode="markers+text",
                    name=f"{shown[found]} ({titles.get(name, name)})",
                    legendgroup=name,
                    showlegend=False,
                    text=[shown[found]],
                    textposition="top center",
                    customdata=[customdata[found]],
                    marker={
                        "size": 16,
                        "color": "rgba(0,0,0,0)",
                        "line": {"width": 3, "color": _highlight_colour(name)},
                    },
                    hovertemplate=hover + "<extra>searched</extra>",
                ),
                row=1,
                col=col,
            )
        x_ref = "x" if col == 1 else f"x{col}"
        fig.update_xaxes(title_text=f"{axis} 1", showticklabels=False, zeroline=False, row=1, col=col)
        fig.update_yaxes(
            title_text=f"{axis} 2" if col == 1 else None,
            showticklabels=False,
            zeroline=False,
            scaleanchor=x_ref,
            scaleratio=1,
            row=1,
            col=col,
        )

    fig.update_layout(
        template=TEMPLATE,
        title={"text": f"Token embeddings in 2-D ({_METHOD_NAMES[method]}), panels aligned to the first"},
        **(
            {"coloraxis": {"colorscale": "Viridis", "colorbar": {"title": {"text": "log10 count"}}}}
            if by_count
            else {}
        ),
        height=450,
        width=max(500, 380 * len(names) + 120),
        margin={"t": 80},
    )
    caption = (
        "Each dot is a token, placed so that tokens whose embedding rows point in similar directions sit "
        "close together; "
        + (
            "colour is how often the token occurs (log scale). "
            if by_count
            else "there is no frequency information (no tokenizer read a text): every dot has one colour. "
        )
        + "The panels are rotated and "
        "scaled onto the first, so compare where the same token lands and which groups stay together; "
        "the 2-D distances are approximate, so trust the nearest-neighbour table (computed in the "
        "full space) for exact neighbours."
    )
    return CaptionedFigure(fig, caption, f"embedding_map_{method}")
