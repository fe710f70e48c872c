"""The figure type every figure function returns, the house style, and helpers shared by the line charts."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

ARM_COLOURS = {"tied": "#d62728", "untied": "#1f77b4", "scaled": "#2ca02c"}
TEMPLATE = "plotly_white"
ARM_ORDER = ("tied", "untied", "scaled")
NO_DATA = "no data yet"
_FALLBACK_COLOURS = ("#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


@dataclass(frozen=True)
class CaptionedFigure:
    """A figure plus the one-paragraph "how to read this" caption the dashboard shows under it."""

    figure: go.Figure
    caption: str
    name: str  # file-name stem for downloads and `python -m tieviz figures`

    def __post_init__(self) -> None:
        if not self.figure.layout.title.text:
            raise ValueError(f"figure {self.name!r} has no title")
        if not self.caption.strip():
            raise ValueError(f"figure {self.name!r} has no caption")


def arm_colour(arm: str, index: int) -> str:
    """The arm's house colour; names outside the three arms (user runs, layers) cycle through others."""
    return ARM_COLOURS.get(arm, _FALLBACK_COLOURS[index % len(_FALLBACK_COLOURS)])


def ordered_arms(arms: dict) -> list[str]:
    """Known arms in their usual order, then any others as given."""
    return [a for a in ARM_ORDER if a in arms] + [a for a in arms if a not in ARM_ORDER]


def token_labels(labels: Sequence[object]) -> list[str]:
    """Token text as Plotly must receive it to show it literally: markup escaped, whitespace visible.

    Plotly renders "<a href=…>", "<b>" and "<span style=…>" in hover text, legends, ticks and titles as
    live markup, and token text comes from a user's tokenizer. Every figure takes its labels through here.
    """
    return [
        html.escape(str(label).replace("\n", "↵").replace("\t", "⇥"), quote=False) or "∅" for label in labels
    ]


def base_figure(title: str, x_title: str, y_title: str, **layout) -> go.Figure:
    """An empty figure in the house style with its title and axis titles."""
    fig = go.Figure()
    fig.update_layout(
        template=TEMPLATE,
        title=title,
        xaxis_title=x_title,
        yaxis_title=y_title,
        hovermode="closest",
        **layout,
    )
    return fig


def log_ticks(values: np.ndarray) -> dict:
    """Tick values 1-2-5 per decade with plain labels ("0.5", "20"), for a log axis spanning `values`.

    Plotly's own log ticks label the minor steps with bare digits, so 0.5 reads as "5".
    """
    positive = np.asarray(values, dtype=np.float64)
    positive = positive[np.isfinite(positive) & (positive > 0)]
    if positive.size == 0:
        return {}
    low, high = int(np.floor(np.log10(positive.min()))), int(np.ceil(np.log10(positive.max())))
    ticks = [m * 10.0**k for k in range(low, high + 1) for m in (1, 2, 5)]
    return {"tickvals": ticks, "ticktext": [f"{t:g}" for t in ticks]}


def mark_no_data(fig: go.Figure) -> None:
    """Writes "no data yet" across an empty chart, which the dashboard draws before the first records."""
    fig.add_annotation(
        text=NO_DATA, xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False, font={"size": 16}
    )
