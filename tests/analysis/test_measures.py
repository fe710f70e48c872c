"""The measure registry: one record per bias measure, and everything that names or computes one reads it."""

from __future__ import annotations

import numpy as np
import pytest

from tieviz.analysis import measures
from tieviz.analysis.alignment import bias_scores, compare_embeddings, prepare
from tieviz.analysis.measures import MEASURE_LABELS, MEASURE_NAMES, MEASURES, PAPER_MEASURE, REGISTRY
from tieviz.glossary import TERMS


def test_every_measure_has_a_glossary_entry_and_the_paper_measure_leads():
    assert MEASURES[0] == PAPER_MEASURE and measures.measure_record(PAPER_MEASURE).paper
    for m in REGISTRY:
        assert TERMS[m.key].word == m.word and TERMS[m.key].meaning == m.meaning  # read from the registry
        assert MEASURE_NAMES[m.key] == m.name and MEASURE_LABELS[m.key] == m.label
        assert ("(paper)" in m.label) == m.paper
    with pytest.raises(ValueError, match="measure must be one of"):
        measures.measure_record("procrustes")


def test_scores_of_the_four_built_in_measures_are_compare_embeddings():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 6)), rng.normal(size=(40, 6))
    expected = compare_embeddings(x, y)
    assert measures.scores(prepare(x), prepare(y)) == {m: getattr(expected, m) for m in MEASURES}


def test_a_fifth_measure_is_one_registry_entry_and_its_function(monkeypatch):
    """issue 19: the bias scores pick up a new measure from its registry entry alone."""
    fifth = measures.Measure(
        "norm_ratio",
        "norm ratio",
        "norm ratio",
        "Norm ratio",
        "The size of one matrix over the other's.",
        paper=False,
        one_means="1 = equal norms",
        function=lambda t, s: float(np.linalg.norm(s.centred) / np.linalg.norm(t.centred)),
    )
    monkeypatch.setattr(measures, "REGISTRY", (*REGISTRY, fifth))
    rng = np.random.default_rng(1)
    tied = rng.normal(size=(30, 4))
    scores = bias_scores(tied, 2 * tied, 3 * tied)
    assert scores["norm_ratio_in"] == pytest.approx(2.0) and scores["norm_ratio_out"] == pytest.approx(3.0)
    assert scores["lin_cos_out"] == pytest.approx(1.0)
    from tieviz import glossary

    assert glossary._with_measures(glossary._TERMS)["norm_ratio"].word == "Norm ratio"  # its glossary entry
