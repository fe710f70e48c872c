"""The bias measures, one record each: every table, menu, figure, verdict, export and sweep reads this.

Adding a measure is one `Measure` here, its glossary entry included. The four below are computed together by
`tieviz.analysis.alignment.compare_prepared` (they share its centring, basis and neighbour sets); a new
one gives its own `function` of two prepared matrices, and `scores` calls it beside them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tieviz.analysis.alignment import PreparedEmbedding

Score = Callable[["PreparedEmbedding", "PreparedEmbedding"], float]  # (target, source) -> mean score


@dataclass(frozen=True)
class Measure:
    """One similarity of two [N, d] matrices over the same tokens, blind to a change of basis."""

    key: str  # the name in summary.json (bias.tied.{key}, score.tied.{key}_out, floors, baseline)
    name: str  # in sentences: "linear-map cosine"
    label: str  # in tables and menus; the paper's own measures say so
    word: str  # its glossary entry, tieviz.glossary.TERMS[key]: the term as written ...
    meaning: str  # ... and its definition
    paper: bool  # one of the paper's own measures
    one_means: str  # what a score of 1 says, for axis titles
    function: Score | None = None  # None: computed by alignment.compare_prepared (an attribute of its result)


REGISTRY: tuple[Measure, ...] = (
    Measure(
        "lin_cos",
        "linear-map cosine",
        "linear-map cosine (paper)",
        "Linear-map cosine",
        "The paper's measure: map one matrix onto the other with the best least-squares linear map, then "
        "average the cosine between each mapped row and its target row.",
        paper=True,
        one_means="1 = same up to a linear map",
    ),
    Measure(
        "proc_cos",
        "Procrustes cosine",
        "Procrustes cosine (paper)",
        "Procrustes cosine",
        "As the linear-map cosine, but the map may only rotate (orthogonal Procrustes), so it cannot "
        "stretch one matrix into the other.",
        paper=True,
        one_means="1 = same up to a rotation",
    ),
    Measure(
        "cka",
        "CKA",
        "linear CKA",
        "CKA (centred kernel alignment)",
        "A similarity of two sets of token vectors that ignores rotation and scale: 1 means the same "
        "shape up to rotation and scale, 0 unrelated (linear CKA, Kornblith et al. 2019).",
        paper=False,
        one_means="1 = same up to rotation and scale",
    ),
    Measure(
        "mknn",
        "mutual 10-NN",
        "mutual 10-NN overlap",
        "Mutual 10-NN overlap",
        "For each token, the share of its 10 nearest neighbours (by cosine) in one matrix that are also "
        "among its 10 nearest in the other, averaged over tokens.",
        paper=False,
        one_means="1 = the same 10 nearest neighbours",
    ),
)
PAPER_MEASURE = "lin_cos"  # the paper's Table 1 headline: every bias verdict is decided on it

MEASURES = tuple(m.key for m in REGISTRY)  # in report order, the paper's measures first
BY_KEY = {m.key: m for m in REGISTRY}
MEASURE_NAMES = {m.key: m.name for m in REGISTRY}
MEASURE_LABELS = {m.key: m.label for m in REGISTRY}


def measure_record(key: str) -> Measure:
    """The registry's record of one measure; ValueError naming the known ones otherwise."""
    if key not in BY_KEY:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}, got {key!r}")
    return BY_KEY[key]


def scores(target: PreparedEmbedding, source: PreparedEmbedding) -> dict[str, float]:
    """Every registered measure of source mapped onto target (both prepared), by key."""
    from tieviz.analysis.alignment import compare_prepared

    similarity = compare_prepared(target, source)
    return {m.key: m.function(target, source) if m.function else getattr(similarity, m.key) for m in REGISTRY}
