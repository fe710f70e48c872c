"""Figures for uploaded checkpoints: norms against frequency, per-token cosine histograms."""

from __future__ import annotations

import numpy as np
import pytest

from tieviz.figures.checkpoints import cosine_histogram_figure, norm_frequency_figure

LABELS = ["the", "of", "<unk>", "York"]


def test_norm_figure_has_one_trace_per_matrix_with_token_hover():
    norms = {"W_E": np.array([1.0, 2, 3, 4]), "W_U": np.array([4.0, 3, 2, 1])}
    captioned = norm_frequency_figure(LABELS, np.array([100, 50, 10, 1]), norms, tied=False)
    fig = captioned.figure
    assert [t.name for t in fig.data] == ["input W_E", "output W_U"]
    assert list(fig.data[1].y) == [4.0, 3, 2, 1] and list(fig.data[0].text) == [
        "the",
        "of",
        "&lt;unk&gt;",
        "York",
    ]
    assert fig.layout.xaxis.type == "log"
    assert "%{text}" in fig.data[0].hovertemplate


def test_norm_figure_without_counts_uses_token_order():
    captioned = norm_frequency_figure(LABELS, None, {"W_E": np.ones(4)}, tied=True)
    assert captioned.figure.data[0].name == "shared W_E = W_U"
    assert list(captioned.figure.data[0].x) == [0, 1, 2, 3]
    assert "no tokenizer" in captioned.caption


def test_norm_figure_refuses_mismatched_lengths():
    with pytest.raises(ValueError, match="expected"):
        norm_frequency_figure(LABELS, None, {"W_E": np.ones(3)}, tied=True)


def test_histogram_shows_both_sides_and_their_means():
    per_token = {"lin_cos_out": np.array([0.9, 0.8, 0.7, 0.6]), "lin_cos_in": np.array([0.1, 0.2, 0.3, 0.4])}
    fig = cosine_histogram_figure(per_token, LABELS, "lin").figure
    histograms = [t for t in fig.data if t.type == "histogram"]
    strips = [t for t in fig.data if t.type == "scatter"]
    assert len(histograms) == 2 and len(strips) == 2
    assert "mean 0.750" in histograms[0].name and "mean 0.250" in histograms[1].name
    assert list(strips[0].text) == ["the", "of", "&lt;unk&gt;", "York"] and list(strips[1].x) == [
        0.1,
        0.2,
        0.3,
        0.4,
    ]
    with pytest.raises(ValueError, match="proc_cos_out"):
        cosine_histogram_figure(per_token, LABELS, "proc")
