"""tieviz.figures.base.for_screen: the one place that lays figures out for a screen or a projector."""

from __future__ import annotations

from itertools import pairwise

import plotly.graph_objects as go
import pytest

from tieviz.analysis.teaching import default_breaking_map, default_toy_embeddings, standard_savings_table
from tieviz.figures.base import PRESENT_FONT, CaptionedFigure, base_figure, for_screen, wrap_title
from tieviz.figures.teaching import savings_figure, teaching_products_figure


def line_chart() -> go.Figure:
    fig = base_figure("A short title", "step", "ratio")
    fig.add_trace(go.Scatter(x=[1, 2, 3], y=[3, 2, 1], mode="lines", name="tied", line={"width": 2}))
    return fig


def test_presenter_mode_enlarges_every_text_and_thickens_lines():
    original = line_chart()
    shown = for_screen(original, present=True)
    layout = shown.layout
    assert layout.font.size >= PRESENT_FONT
    assert layout.xaxis.tickfont.size >= 18 and layout.yaxis.tickfont.size >= 18
    assert layout.legend.font.size >= 18 and layout.title.font.size > 18
    assert shown.data[0].line.width > 2
    assert original.data[0].line.width == 2  # the figure itself is left alone


def test_screen_mode_keeps_text_small_and_the_legend_below():
    shown = for_screen(line_chart(), present=False)
    assert shown.layout.xaxis.tickfont.size < 18
    assert shown.data[0].line.width == 2
    assert shown.layout.legend.orientation == "h" and shown.layout.legend.y < 0


def test_subplot_titles_follow_the_font_size():
    labels, W_E = default_toy_embeddings()
    fig = teaching_products_figure(labels, W_E, default_breaking_map(3)).figure
    shown = for_screen(fig, present=True)
    assert all(a.font.size >= 18 for a in shown.layout.annotations)
    # Two-line panel titles and the figure title fit in the top margin: room for 1 + 2 lines of text.
    assert shown.layout.margin.t >= 3 * 18


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Short", "Short"),
        ("How the bias develops: CKA of the shared matrix to the untied matrices", None),
        ("Already<br>broken into two lines that are both rather long", None),
    ],
)
def test_long_titles_wrap_once_near_the_middle(title, expected):
    wrapped = wrap_title(title, width=40)
    if expected is not None:
        assert wrapped == expected
        return
    assert wrapped.count("<br>") == 1
    first, second = wrapped.split("<br>")
    if "<br>" not in title:
        assert f"{first} {second}" == title
        assert abs(len(first) - len(second)) < 15


def test_savings_bars_share_a_fixed_axis():
    wide = savings_figure(standard_savings_table(50_000, 4096)).figure
    narrow = savings_figure(standard_savings_table(50_000, 128)).figure
    assert tuple(wide.layout.yaxis.range) == tuple(narrow.layout.yaxis.range) == (0, 100)
    assert narrow.data[0].y[0] == pytest.approx(wide.data[0].y[0] / 32)
    huge = savings_figure(standard_savings_table(2_000_000, 65_536)).figure  # more than a whole 1B model
    assert huge.layout.yaxis.range[1] > max(huge.data[0].y)


def test_one_naming_rule_for_exported_files():
    labels, W_E = default_toy_embeddings()
    captioned = teaching_products_figure(labels, W_E, None)
    assert captioned.file_name("html") == "tieviz_direct_path_toy.html"
    assert captioned.file_name("csv") == "tieviz_direct_path_toy.csv"
    for bad in ("teaching-products", "How the bias develops", ""):
        with pytest.raises(ValueError, match="snake_case"):
            CaptionedFigure(captioned.figure, captioned.caption, bad)


def test_the_shipped_config_turns_the_file_watcher_off():
    import tomllib
    from pathlib import Path

    config = tomllib.loads((Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml").read_text())
    assert config["server"]["fileWatcherType"] == "none"


def test_on_a_phone_side_by_side_panels_are_stacked_with_their_titles_above_them():
    import numpy as np

    from tieviz.figures.maps import embedding_map_figure

    rng = np.random.default_rng(0)
    layouts = {name: rng.normal(size=(6, 2)) for name in ("tied", "untied_in", "untied_out")}
    fig = embedding_map_figure(layouts, list("abcdef"), np.arange(6) + 1).figure
    wide = for_screen(fig)
    assert {tuple(wide.layout[k].domain) for k in ("yaxis", "yaxis2", "yaxis3")} == {(0.0, 1.0)}
    shown = for_screen(fig, narrow=True)
    rows = [tuple(shown.layout[k].domain) for k in ("yaxis", "yaxis2", "yaxis3")]
    assert all(tuple(shown.layout[k].domain) == (0, 1) for k in ("xaxis", "xaxis2", "xaxis3"))
    assert rows[0][1] == 1 and all(up[0] > low[1] for up, low in pairwise(rows))  # no overlap
    titles = [a for a in shown.layout.annotations if a.yanchor == "bottom"]
    assert [a.y for a in titles] == [top for _, top in rows]  # each title sits on its own panel
    assert shown.layout.height >= 3 * 300
    assert tuple(fig.layout.yaxis2.domain) == (0.0, 1.0)  # the figure itself is left alone


def test_titles_wrap_shorter_on_a_phone():
    title = "How the bias develops: CKA of the shared matrix to the untied matrices"
    shown = for_screen(base_figure(title, "x", "y"), narrow=True)
    lines = shown.layout.title.text.split("<br>")
    assert len(lines) == 3 and max(map(len, lines)) <= 30
    assert " ".join(lines) == title
