"""The embedding-map figure: one trace group per panel, token hover, highlight in every panel."""

from __future__ import annotations

import numpy as np
import pytest

from tieviz.figures.base import CaptionedFigure
from tieviz.figures.maps import embedding_map_figure

LABELS = ["the", " York", "New", "Ġcat", "dog", "a"]
COUNTS = np.array([1000, 12, 30, 7, 5, 800])


def _layouts() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {name: rng.normal(size=(len(LABELS), 2)) for name in ("tied", "untied_in", "untied_out")}


def _panel_traces(fig, group: str) -> list:
    return [t for t in fig.figure.data if t.legendgroup == group]


def test_one_trace_group_per_panel_with_token_hover() -> None:
    layouts = _layouts()
    fig = embedding_map_figure(layouts, LABELS, COUNTS, titles={"tied": "Tied E"})
    assert isinstance(fig, CaptionedFigure)
    assert len(fig.figure.data) == 3
    for axis_suffix, name in zip(["", "2", "3"], layouts, strict=True):
        (trace,) = _panel_traces(fig, name)
        assert trace.xaxis == f"x{axis_suffix}"
        np.testing.assert_array_equal(trace.x, layouts[name][:, 0])
        assert [row[0] for row in trace.customdata] == LABELS
        assert "%{customdata[0]}" in trace.hovertemplate and "count" in trace.hovertemplate
    titles = [a.text for a in fig.figure.layout.annotations]
    assert titles == ["Tied E", "untied input W_E", "untied output W_U"]  # given, else the default names


def test_colour_is_log_count_on_one_shared_colour_bar() -> None:
    fig = embedding_map_figure(_layouts(), LABELS, COUNTS)
    for trace in fig.figure.data:
        assert trace.marker.coloraxis == "coloraxis"
        np.testing.assert_allclose(trace.marker.color, np.log10(COUNTS + 1.0))
    assert fig.figure.layout.coloraxis.colorbar.title.text


def test_highlight_adds_a_labelled_marker_in_each_panel() -> None:
    layouts = _layouts()
    fig = embedding_map_figure(layouts, LABELS, COUNTS, highlight="York")  # matches " York"
    assert len(fig.figure.data) == 6
    for name in layouts:
        _, mark = _panel_traces(fig, name)
        assert list(mark.text) == [" York"]
        assert mark.x[0] == layouts[name][1, 0] and mark.y[0] == layouts[name][1, 1]
        assert mark.marker.size > 10


def test_unknown_highlight_is_ignored() -> None:
    fig = embedding_map_figure(_layouts(), LABELS, COUNTS, highlight="zebra")
    assert len(fig.figure.data) == 3


def test_title_caption_equal_aspect_and_axis_names() -> None:
    fig = embedding_map_figure(_layouts(), LABELS, COUNTS, method="pca")
    layout = fig.figure.layout
    assert "PCA" in layout.title.text
    assert fig.caption.strip()
    assert layout.xaxis.title.text == "PC 1" and layout.yaxis.title.text == "PC 2"
    assert layout.yaxis2.scaleanchor == "x2" and layout.xaxis.showticklabels is False
    umap_fig = embedding_map_figure(_layouts(), LABELS, COUNTS)
    assert umap_fig.figure.layout.xaxis3.title.text == "UMAP 1"


def test_mismatched_shapes_raise() -> None:
    with pytest.raises(ValueError, match="expected"):
        embedding_map_figure({"tied": np.zeros((5, 2))}, LABELS, COUNTS)
    with pytest.raises(ValueError, match="token counts"):
        embedding_map_figure(_layouts(), LABELS, COUNTS[:4])
    with pytest.raises(ValueError, match="no layouts"):
        embedding_map_figure({}, LABELS, COUNTS)


def test_without_counts_the_map_has_one_colour_and_says_there_is_no_frequency_information():
    fig = embedding_map_figure(_layouts(), LABELS, None)
    assert "no frequency information" in fig.caption
    assert "coloraxis" not in fig.figure.layout or fig.figure.layout.coloraxis.colorbar.title.text is None
    for trace in fig.figure.data:
        assert not isinstance(trace.marker.color, tuple | list) and "count" not in trace.hovertemplate
