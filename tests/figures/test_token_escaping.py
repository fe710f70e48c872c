"""Token text from a user's tokenizer is shown literally in every figure, never as live Plotly markup."""

from __future__ import annotations

import numpy as np
import pytest

from tieviz.analysis.bigrams import compare_bigrams
from tieviz.figures.bigrams import asymmetry_heatmaps, bigram_heatmaps
from tieviz.figures.checkpoints import cosine_histogram_figure, norm_frequency_figure
from tieviz.figures.maps import embedding_map_figure
from tieviz.figures.teaching import teaching_products_figure

HOSTILE = ["<a href='https://example.com'>link</a>", "<b>bold</b>", "<span style='color:red'>red</span>", "x"]
LIVE = ("<a href", "<b>bold", "<span style", "</a>", "</span>")


def _strings(value) -> list[str]:
    """Every string anywhere in a figure's JSON (data and layout)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple | np.ndarray):
        return [s for v in list(value) for s in _strings(v)]
    return []


def _figures():
    rng = np.random.default_rng(0)
    n = len(HOSTILE)
    layouts = {"tied": rng.normal(size=(n, 2)), "untied_out": rng.normal(size=(n, 2))}
    yield embedding_map_figure(layouts, HOSTILE, np.arange(n) + 1.0, highlight=HOSTILE[0], method="pca")
    yield norm_frequency_figure(HOSTILE, np.arange(n) + 1, {"W_E": np.ones(n), "W_U": np.ones(n)}, tied=False)
    per_token = {"lin_cos_out": rng.uniform(size=n), "lin_cos_in": rng.uniform(size=n)}
    yield cosine_histogram_figure(per_token, HOSTILE, "lin")
    W = rng.normal(size=(n, 3))
    comparison = compare_bigrams(rng.integers(0, n, 400), n, HOSTILE, {"untied": (W, W[::-1])}, k=n)
    yield bigram_heatmaps(comparison, ("empirical", "untied"))
    yield asymmetry_heatmaps(comparison, ("empirical", "untied"))
    yield teaching_products_figure(HOSTILE, W, None)


@pytest.mark.parametrize("captioned", list(_figures()), ids=lambda c: c.name)
def test_no_token_text_becomes_markup(captioned):
    shown = _strings(captioned.figure.to_plotly_json())
    live = [s for s in shown if any(tag in s for tag in LIVE)]
    assert not live, live
    assert any("&lt;b&gt;bold&lt;/b&gt;" in s for s in shown)  # the token is there, escaped
