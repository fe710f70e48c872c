"""The figure type every figure function returns, and the house style."""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go

ARM_COLOURS = {"tied": "#d62728", "untied": "#1f77b4", "scaled": "#2ca02c"}
TEMPLATE = "plotly_white"


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
