"""Figures for the symmetry argument: empirical bigrams next to the tied and untied direct paths."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from tieviz.analysis.bigrams import BigramComparison, asymmetry
from tieviz.figures.base import TEMPLATE, CaptionedFigure, token_labels

ROW_TITLE = "current token (row)"
COLUMN_TITLE = "next token (column)"

PANEL_NAMES = {
    "empirical": "Corpus bigrams",
    "truth": "True transitions",
    "tied": "Tied W_E W_Eᵀ",
    "tied_ln": "Tied, through final norm",
    "untied": "Untied W_E W_U",
    "untied_ln": "Untied, through final norm",
    "scaled": "Scaled-input tied W_E W_Eᵀ",
    "scaled_ln": "Scaled-input tied, through final norm",
}


def token_axis_labels(labels: Sequence[str]) -> list[str]:
    """Labels safe to show on a Plotly category axis: visible whitespace, escaped markup, no duplicates.

    Plotly merges equal category labels and reads "<...>" as markup, which would hide tokens like "<unk>".
    """
    shown: list[str] = []
    seen: dict[str, int] = {}
    for text in token_labels(labels):
        seen[text] = seen.get(text, 0) + 1
        shown.append(text if seen[text] == 1 else f"{text} ({seen[text]})")
    return shown


def standardise(a: np.ndarray) -> np.ndarray:
    """Z-score all entries of a matrix together, so matrices in different units share one colour scale."""
    a = np.asarray(a, dtype=np.float64)
    std = a.std()
    return (a - a.mean()) / std if std > 0 else a - a.mean()


def _panel_name(name: str) -> str:
    return PANEL_NAMES.get(name, name)


def _score(result: BigramComparison, name: str) -> float:
    return result.asymmetry.get(name, asymmetry(result.matrix(name)))


def token_heatmap_grid(titles: list[str], horizontal_spacing: float = 0.06) -> go.Figure:
    """Side-by-side token x token panels: rows = current token (top down), columns = next token.

    Titles should put their score on a second line ("<br>"): three one-line titles overlap at 1024 px.
    """
    fig = make_subplots(
        rows=1, cols=len(titles), subplot_titles=titles, horizontal_spacing=horizontal_spacing
    )
    fig.update_xaxes(type="category")
    fig.update_xaxes(title_text=COLUMN_TITLE, row=1, col=1)  # once, like the rows: repeated, they collide
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_yaxes(title_text=ROW_TITLE, row=1, col=1)  # once: on later panels it would overlap the labels
    for col in range(2, len(titles) + 1):  # same tokens in every row: labels once, so panels do not collide
        fig.update_yaxes(showticklabels=False, row=1, col=col)
    return fig


def _heatmap_grid(titles: list[str], n_tokens: int) -> go.Figure:
    fig = token_heatmap_grid(titles)
    side = min(900, max(380, 14 * n_tokens + 160))
    fig.update_layout(template=TEMPLATE, height=side + 80, width=None)
    fig.update_xaxes(tickangle=-60)
    return fig


def bigram_heatmaps(
    result: BigramComparison, which: Sequence[str] = ("empirical", "tied", "untied")
) -> CaptionedFigure:
    """Side-by-side z-scored heatmaps of the bigram log-probabilities and each direct path [K, K]."""
    if not which:
        raise ValueError("choose at least one matrix to show")
    labels = token_axis_labels(result.labels)
    titles = [f"{_panel_name(name)}<br>asymmetry {_score(result, name):.2f}" for name in which]
    fig = _heatmap_grid(titles, len(labels))
    for col, name in enumerate(which, start=1):
        raw = result.matrix(name)
        fig.add_trace(
            go.Heatmap(
                z=standardise(raw),
                x=labels,
                y=labels,
                customdata=raw,
                coloraxis="coloraxis",
                name=_panel_name(name),
                hovertemplate=(
                    "%{y} → %{x}: %{customdata:.3f}<br>z-score %{z:.2f}<extra>%{fullData.name}</extra>"
                ),
            ),
            row=1,
            col=col,
        )
    fig.update_layout(
        title_text="What can the direct path say about which token comes next?",
        coloraxis={"colorscale": "Viridis", "colorbar": {"title": {"text": "z-score"}}},
    )
    caption = (
        "Each square is one ordered pair: row = the current token, column = the token that follows it. "
        "Every matrix is z-scored (its mean subtracted, divided by its spread) so that log-probabilities "
        "and raw products share one colour scale. The tied panel is a mirror image across its diagonal, "
        "the corpus is not: tying cannot say 'B follows A' without also saying 'A follows B'."
    )
    return CaptionedFigure(fig, caption, "bigram_heatmaps")


def asymmetry_heatmaps(
    result: BigramComparison, which: Sequence[str] = ("empirical", "tied", "untied")
) -> CaptionedFigure:
    """A - A^T for each chosen matrix, divided by the spread of A, on one diverging scale centred at 0."""
    if not which:
        raise ValueError("choose at least one matrix to show")
    labels = token_axis_labels(result.labels)
    titles = [f"{_panel_name(name)}<br>asymmetry {_score(result, name):.2f}" for name in which]
    fig = _heatmap_grid(titles, len(labels))
    for col, name in enumerate(which, start=1):
        raw = result.matrix(name)
        std = raw.std()
        diff = (raw - raw.T) / (std if std > 0 else 1.0)
        fig.add_trace(
            go.Heatmap(
                z=diff,
                x=labels,
                y=labels,
                coloraxis="coloraxis",
                name=_panel_name(name),
                hovertemplate="(%{y} → %{x}) minus (%{x} → %{y}): %{z:.2f}<extra>%{fullData.name}</extra>",
            ),
            row=1,
            col=col,
        )
    fig.update_layout(
        title_text="How much does each pair's order matter?  A − Aᵀ",
        coloraxis={
            "colorscale": "RdBu",
            "cmid": 0,
            "colorbar": {"title": {"text": "A − Aᵀ (in spreads of A)"}},
        },
    )
    caption = (
        "Each square is the score for 'row then column' minus the score for 'column then row', in units of "
        "the matrix's own spread; white means the order does not matter. A tied direct path is white "
        "everywhere. The asymmetry in each title is ||A − Aᵀ|| / ||A||: 0 for a symmetric matrix."
    )
    return CaptionedFigure(fig, caption, "bigram_asymmetry")
