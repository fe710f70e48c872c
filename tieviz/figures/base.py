"""The figure type every figure function returns, the house style, and helpers shared by the line charts."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

# the baseline is the second untied model of each seed (the same-recipe baseline): untied's blue, lighter
ARM_COLOURS = {"tied": "#d62728", "untied": "#1f77b4", "scaled": "#2ca02c", "baseline": "#9ecae1"}
TEMPLATE = "plotly_white"
ARM_ORDER = ("tied", "untied", "scaled", "baseline")
NO_DATA = "no data yet"
_FALLBACK_COLOURS = ("#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


@dataclass(frozen=True)
class CaptionedFigure:
    """A figure plus the one-paragraph "how to read this" caption the dashboard shows under it."""

    figure: go.Figure
    caption: str
    name: str  # what the figure shows, in snake_case: the stem of every file made from it

    def file_name(self, extension: str) -> str:
        """The one naming rule for exported files: tieviz_<name>.<ext> (downloads, the chart's own PNG
        button, `python -m tieviz figures`)."""
        return f"tieviz_{self.name}.{extension}"

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)*", self.name):
            raise ValueError(f"figure name {self.name!r} must be snake_case letters and digits")
        if not self.figure.layout.title.text:
            raise ValueError(f"figure {self.name!r} has no title")
        if not self.caption.strip():
            raise ValueError(f"figure {self.name!r} has no caption")


def arm_colour(arm: str, index: int) -> str:
    """The arm's house colour; names outside the four arms (user runs, layers) cycle through others."""
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


# A share's axis, 0 to 100 %: no "0%" label, which would sit in the corner on the step axis's first label.
SHARE_AXIS = {"range": [0, 1], "tickformat": ".0%", "tickvals": [0.25, 0.5, 0.75, 1.0]}

PRESENT_FONT = 18  # px: readable from the back of a room
SCREEN_FONT = 13
TITLE_CHARS = 48  # wrap a figure title longer than this (narrow screens clip one long line)
NARROW_TITLE_CHARS = 30  # ... on a phone, or in half a page's width
PANEL_HEIGHT = 340  # px of each panel once side-by-side panels are stacked on a phone


def wrap_title(text: str, width: int = TITLE_CHARS) -> str:
    """Breaks a long title at spaces ("<br>") into lines of at most about `width` characters, as even as
    the spaces allow; short or already broken titles stay."""
    if len(text) <= width or "<br>" in text or " " not in text:
        return text
    lines = -(-len(text) // width)
    spaces = [i for i, char in enumerate(text) if char == " "]
    cuts = sorted({min(spaces, key=lambda i: abs(i - k * len(text) / lines)) for k in range(1, lines)})
    pieces, start = [], 0
    for cut in cuts:
        pieces.append(text[start:cut])
        start = cut + 1
    return "<br>".join([*pieces, text[start:]])


def stack_panels(fig: go.Figure) -> go.Figure:
    """Side-by-side panels (one row of make_subplots) redrawn one above the other, for a phone's width.

    Each panel gets the full width and PANEL_HEIGHT pixels, its title moves above it, and a panel's own
    colour bar moves beside it. A figure of one panel, or of panels already stacked, is returned as is.
    """
    x_axes = sorted((k for k in fig.layout if re.fullmatch(r"xaxis\d*", k)), key=lambda k: int(k[5:] or 1))
    domains = [tuple(fig.layout[k].domain or (0, 1)) for k in x_axes]
    if len(x_axes) < 2 or len({tuple(fig.layout["y" + k[1:]].domain or (0, 1)) for k in x_axes}) != 1:
        return fig
    n, gap = len(x_axes), 0.35 / len(x_axes)
    height = (1 - gap * (n - 1)) / n
    slots = [(max(0.0, 1 - i * (height + gap) - height), 1 - i * (height + gap)) for i in range(n)]
    for key, (bottom, top) in zip(x_axes, slots, strict=True):
        fig.layout[key].domain = (0, 1)
        fig.layout["y" + key[1:]].domain = (bottom, top)
    for note in fig.layout.annotations:
        if note.xref == "paper" and note.yref == "paper" and note.y == 1 and note.x is not None:
            panel = next((i for i, (lo, hi) in enumerate(domains) if lo <= note.x <= hi), None)
            if panel is not None:
                note.update(x=0.5, y=slots[panel][1], yanchor="bottom")
    for trace in fig.data:
        colorbar = getattr(trace, "colorbar", None)
        if colorbar is not None and colorbar.x is not None and getattr(trace, "xaxis", None):
            panel = x_axes.index("xaxis" + trace.xaxis[1:])
            bottom, top = slots[panel]
            colorbar.update(x=1.02, xanchor="left", y=(bottom + top) / 2, yanchor="middle", len=top - bottom)
    fig.update_layout(height=n * PANEL_HEIGHT + 160)
    return fig


def for_screen(fig: go.Figure, present: bool = False, narrow: bool = False) -> go.Figure:
    """A copy of `fig` laid out for the dashboard: legend below the plot, long titles wrapped, and in
    presenter mode every text at least 18 px and thicker lines.

    `narrow`: the chart has a phone's width (or half a page's): titles wrap shorter, and side-by-side
    panels are stacked (`stack_panels`) instead of squeezed until their titles collide.

    The dashboard applies this to every figure it shows (tieviz.ui.show_figure), so single figures keep
    no per-screen settings of their own.
    """
    fig = go.Figure(fig)
    size = PRESENT_FONT if present else SCREEN_FONT
    width = NARROW_TITLE_CHARS if narrow else TITLE_CHARS
    if narrow:
        stack_panels(fig)
        for note in fig.layout.annotations:  # panel titles
            if note.yref == "paper" and note.text and note.yanchor == "bottom":
                note.text = wrap_title(note.text, width)
    title = wrap_title(fig.layout.title.text or "", width)
    title_height = 1.3 * size * 1.3 * (title.count("<br>") + 1)
    subplot_lines = [
        (a.text or "").count("<br>") + 1 for a in fig.layout.annotations if a.yref == "paper" and a.y == 1
    ]  # make_subplots puts its panel titles at paper y = 1
    subplot_height = size * 1.3 * max(subplot_lines, default=0)
    fig.update_layout(
        # Plotly centres the title in the top margin; the margin leaves room below it for panel titles.
        title={
            "text": title,
            "font": {"size": round(size * 1.3)},
            "x": 0,
            "xanchor": "left",
            "xref": "paper",
        },
        font={"size": size},
        legend={
            "orientation": "h",
            "yanchor": "top",
            "y": -0.25 if present else -0.18,
            "xanchor": "left",
            "x": 0,
            "font": {"size": size},
            "title": {"side": "top left", "font": {"size": size}},
        },
        margin={"t": int(title_height + 2 * subplot_height + 24), "l": 10, "r": 10},
    )
    fig.update_xaxes(tickfont={"size": size}, title_font={"size": size}, automargin=True)
    fig.update_yaxes(tickfont={"size": size}, title_font={"size": size}, automargin=True)
    fig.update_annotations(font_size=size)
    fig.update_coloraxes(colorbar_tickfont_size=size, colorbar_title_font_size=size)
    fig.update_traces(colorbar_tickfont_size=size, selector={"type": "heatmap"})
    fig.update_traces(textfont_size=size if present else None, selector={"type": "heatmap"})
    if present:
        for trace in fig.data:
            line = getattr(trace, "line", None)
            if line is not None and trace.type == "scatter" and "lines" in (trace.mode or "lines"):
                trace.line.width = max(3.0, 1.6 * (line.width or 2.0))
        fig.update_layout(height=int((fig.layout.height or 450) * 1.25))  # 450: Plotly's default
    return fig
