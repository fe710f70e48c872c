import numpy as np
import pytest

from tieviz.analysis.bigrams import compare_bigrams
from tieviz.analysis.teaching import default_breaking_map, default_toy_embeddings, standard_savings_table
from tieviz.figures.base import CaptionedFigure
from tieviz.figures.bigrams import (
    asymmetry_heatmaps,
    bigram_heatmaps,
    standardise,
    token_axis_labels,
)
from tieviz.figures.teaching import savings_figure, teaching_products_figure


@pytest.fixture(scope="module")
def result():
    rng = np.random.default_rng(0)
    vocab = 12
    stream = rng.integers(0, vocab, size=2000)
    W_E, W_U = rng.normal(size=(vocab, 4)), rng.normal(size=(vocab, 4))
    labels = [f"tok{i}" for i in range(vocab)]
    return compare_bigrams(stream, vocab, labels, {"tied": (W_E, W_E), "untied": (W_E, W_U)}, k=8)


def heatmaps(fig):
    return [t for t in fig.data if t.type == "heatmap"]


def assert_titled(cf: CaptionedFigure, n_axes: int):
    layout = cf.figure.layout
    assert layout.title.text
    assert cf.caption.strip()
    assert layout.yaxis.title.text  # the row title once, on the first panel: later it would hide labels
    for i in range(1, n_axes + 1):
        suffix = "" if i == 1 else str(i)
        # Axis titles once, on the first panel: repeated on narrow panels they collide.
        assert (layout[f"xaxis{suffix}"].title.text is None) == (i > 1)
        assert (layout[f"yaxis{suffix}"].title.text is None) == (i > 1)


def test_bigram_heatmaps_show_standardised_matrices(result):
    cf = bigram_heatmaps(result)
    assert cf.name == "bigram_heatmaps"
    assert_titled(cf, 3)
    assert "z-score" in cf.caption
    assert "current" in cf.figure.layout.yaxis.title.text and "next" in cf.figure.layout.xaxis.title.text
    traces = heatmaps(cf.figure)
    assert len(traces) == 3
    expected = [result.empirical, result.direct_paths["tied"], result.direct_paths["untied"]]
    for trace, matrix in zip(traces, expected, strict=True):
        z = np.array(trace.z)
        np.testing.assert_allclose(z, standardise(matrix))
        assert z.mean() == pytest.approx(0.0, abs=1e-12) and z.std() == pytest.approx(1.0)
        np.testing.assert_allclose(np.array(trace.customdata), matrix)
        assert list(trace.x) == result.labels and list(trace.y) == result.labels
        assert "%{y} → %{x}" in trace.hovertemplate
        assert trace.coloraxis == "coloraxis"  # one shared colour scale


def test_bigram_heatmaps_titles_carry_asymmetry(result):
    cf = bigram_heatmaps(result, which=("tied", "untied"))
    titles = [a.text for a in cf.figure.layout.annotations]
    assert titles[0].endswith("<br>asymmetry 0.00")
    assert f"{result.asymmetry['untied']:.2f}" in titles[1]
    with pytest.raises(ValueError):
        bigram_heatmaps(result, which=("nonexistent",))


def test_asymmetry_heatmaps_are_antisymmetric_and_centred(result):
    cf = asymmetry_heatmaps(result)
    assert cf.name == "bigram_asymmetry"
    assert_titled(cf, 3)
    assert cf.figure.layout.coloraxis.cmid == 0
    traces = heatmaps(cf.figure)
    tied = np.array(traces[1].z)
    np.testing.assert_allclose(tied, 0.0, atol=1e-9)
    untied_raw = result.direct_paths["untied"]
    np.testing.assert_allclose(np.array(traces[2].z), (untied_raw - untied_raw.T) / untied_raw.std())
    titles = [a.text for a in cf.figure.layout.annotations]
    assert f"asymmetry {result.asymmetry['empirical']:.2f}" in titles[0]
    assert "%{y}" in traces[0].hovertemplate and "%{x}" in traces[0].hovertemplate


def test_token_axis_labels_escape_and_deduplicate():
    assert token_axis_labels(["the", "<unk>", "the", "\n", ""]) == ["the", "&lt;unk&gt;", "the (2)", "↵", "∅"]


def test_teaching_products_figure():
    labels, W_E = default_toy_embeddings()
    M = default_breaking_map(3)
    cf = teaching_products_figure(labels, W_E, M)
    assert_titled(cf, 2)
    tied, mapped = heatmaps(cf.figure)
    np.testing.assert_allclose(np.array(tied.z), W_E @ W_E.T)
    np.testing.assert_allclose(np.array(mapped.z), W_E @ M @ W_E.T)
    assert list(tied.x) == labels and list(tied.y) == labels
    assert "%{y} → %{x}" in tied.hovertemplate
    titles = [a.text for a in cf.figure.layout.annotations]
    assert titles[0].endswith("asymmetry 0.00") and not titles[1].endswith("asymmetry 0.00")
    assert len(heatmaps(teaching_products_figure(labels, W_E, None).figure)) == 1
    with pytest.raises(ValueError, match="one label per"):
        teaching_products_figure(labels[:3], W_E, None)


def test_savings_figure():
    rows = standard_savings_table()
    cf = savings_figure(rows)
    assert cf.name == "tying_savings"
    assert_titled(cf, 1)
    (bar,) = cf.figure.data
    assert list(bar.x) == ["1B", "7B", "70B"]
    np.testing.assert_allclose(bar.y, [20.48, 20.48 / 7, 20.48 / 70])
    assert "V = 50,000" in cf.figure.layout.title.text
    with pytest.raises(ValueError):
        savings_figure([])
