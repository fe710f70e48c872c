"""What the pages print from a `Summary`: each number with its interval, floor and baseline, as text.

Pages show; they do not compute. Every table row and headline metric that carries an interval is built
here, so the Overview, the maps page and the causal-test view say the same thing the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from tieviz.analysis.alignment import MEASURE_LABELS, MEASURES
from tieviz.analysis.stats import SeedStat, format_stat
from tieviz.analysis.verdicts import MEASURE_NAMES, PAPER_MEASURE
from tieviz.summary import Summary

# Tables list alignment.MEASURES in order, the paper's measures first: the linear-map cosine is its Table 1
# headline, Procrustes its alpha read-out.
assert set(MEASURES) == set(MEASURE_LABELS) == set(MEASURE_NAMES)


@dataclass(frozen=True)
class Headline:
    """One metric tile: label, value text and a tooltip."""

    label: str
    value: str
    help: str


def seeds_note(summary: Summary) -> str:
    """How much evidence stands behind the numbers, in one or two sentences."""
    shared = (
        " The untied reference started from the tied model's own weights (shared initialisation), which "
        "inflates the tied matrix's similarity to the untied input matrix."
        if summary.config.init == "shared"
        else ""
    )
    if summary.n_seeds == 1:
        return (
            "One seed: every number below is a single run, with no interval. One seed cannot tell an effect "
            "from the luck of the draw; train with 3 or more seeds (Train page) for intervals." + shared
        )
    return (
        f"{summary.n_seeds} seeds ({', '.join(map(str, summary.seeds))}): each number is the mean over seeds "
        "± the half-width of its 95 % t interval. Verdicts are read from those intervals." + shared
    )


def _stat_text(stat: SeedStat | None, signed: bool = False, unit: str = "") -> str:
    """A number with its interval; with one seed just the number (the page's note says "one seed")."""
    return "n/a" if stat is None else format_stat(stat, unit=unit, signed=signed, mark_one_seed=False)


def bias_rows(
    stats: dict[str, SeedStat],
    floors: dict[str, SeedStat],
    baseline: dict[str, SeedStat],
    alpha: float,
    arms: tuple[str, ...] = ("tied", "scaled"),
) -> list[dict[str, str]]:
    """One row per (arm, measure): scores to the untied output and input matrices, the bias, the chance
    floor (rows shuffled) and the same-recipe baseline (two seeds' untied output matrices)."""
    rows = []
    for arm in arms:
        for m in MEASURES:
            floor, base = floors.get(m), baseline.get(m)
            rows.append(
                {
                    "model": arm if arm == "tied" else f"scaled (α = {alpha:g})",
                    "measure": MEASURE_LABELS[m],
                    "vs untied output": _stat_text(stats.get(f"score.{arm}.{m}_out")),
                    "vs untied input": _stat_text(stats.get(f"score.{arm}.{m}_in")),
                    "bias (output − input)": _stat_text(stats.get(f"bias.{arm}.{m}"), signed=True),
                    "chance floor": "n/a" if floor is None else f"{floor.mean:.3f}",
                    "same-recipe baseline": "needs 2 seeds" if base is None else f"{base.mean:.3f}",
                }
            )
    return rows


def bias_table(summary: Summary, arms: tuple[str, ...] = ("tied", "scaled")) -> list[dict[str, str]]:
    """`bias_rows` of a summary, over the tokens it compared."""
    return bias_rows(summary.stats, summary.floors, summary.baseline, summary.alpha, arms)


def bias_table_caption(summary: Summary) -> str:
    return (
        f"Compared over {summary.token_scope()}. The chance floor is the tied matrix against the untied "
        "matrices with their rows shuffled (tokens no longer match): what an unrelated matrix of the same "
        "shape scores. The same-recipe baseline is two seeds' untied output matrices against each other: "
        "how alike two independently trained output matrices are, so a tied-to-output score near it is a "
        f"strong match. {seeds_note(summary)}"
    )


def headlines(summary: Summary) -> list[Headline]:
    """The Overview's tiles: the paper's measure first, then the gradient ratio and the causal test."""
    m = PAPER_MEASURE
    floor = summary.floors.get(m)
    floor_text = f" Chance floor (rows shuffled): {floor.mean:.2f}." if floor is not None else ""
    return [
        Headline(
            "Linear-map cosine to untied output",
            _stat_text(summary.stat(f"score.tied.{m}_out")),
            "The paper's measure: map the untied output matrix W_U onto the tied matrix by least squares "
            f"and take the mean cosine per token; 1 = same up to a linear map.{floor_text}",
        ),
        Headline(
            "… to untied input",
            _stat_text(summary.stat(f"score.tied.{m}_in")),
            f"The same for the untied input matrix W_E.{floor_text}",
        ),
        Headline(
            "Bias (out − in)",
            _stat_text(summary.stat(f"bias.tied.{m}"), signed=True),
            "Positive: the shared matrix is shaped more like an output matrix (linear-map cosine)",
        ),
        Headline(
            "Early gradient ratio",
            _stat_text(summary.stat("grad_ratio.tied_early"), unit="×"),
            "‖output-path gradient‖ / ‖input-path gradient‖ on the shared matrix over the first 5% of "
            "steps (tieviz's exact split)",
        ),
        Headline(
            f"Bias with α = {summary.alpha:g}",
            _stat_text(summary.stat(f"bias.scaled.{m}"), signed=True),
            "The same bias for the tied model whose input-path gradient was scaled up (the causal test)",
        ),
    ]


def lens_note(summary: Summary) -> str:
    """How the lens was fitted and scored, in one sentence."""
    lens = summary.lens
    if lens.held_out:
        return (
            f"Translators were fitted on {lens.fit_windows} windows of training text and scored on "
            f"{lens.score_windows} held-out validation windows neither the model nor the lens saw."
        )
    return "These lens statistics were scored on the text the translators were fitted on (in-sample)."
