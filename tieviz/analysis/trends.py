"""The verdict of a sweep: how the paper's bias moves along one axis, decided from 95 % intervals.

Along α (the causal test, docs/science.md, claim 4) the paper predicts that more input-gradient pull
shrinks the bias: the verdict compares the largest α with the smallest through the change of the
linear-map bias, paired by seed (every α point of a seed shares its tied and untied runs, so the pairing
removes their luck), and `agrees` when that change's interval lies below 0. Along a scale axis (width,
depth, steps) the paper makes no prediction about the trend; its claim is that the bias exists, so the
verdict `agrees` when the bias interval is above 0 at every point, and the text says how the bias changed
from the smallest to the largest value (paired by seed the same way).
"""

from __future__ import annotations

from collections.abc import Sequence

from tieviz.analysis.measures import PAPER_MEASURE
from tieviz.analysis.stats import EQUIVALENCE_MARGIN, SeedStat, equivalent_to_zero, format_stat, seed_stat
from tieviz.analysis.verdicts import AGREES, DISAGREES, NO_CLEAR, ONE_SEED, Verdict, side_of

AXIS_WORDS = {"alpha": "α", "d_model": "width", "n_layers": "layers", "steps": "steps"}


def paired_change(first: SeedStat, last: SeedStat, first_seeds, last_seeds) -> SeedStat | None:
    """last − first per seed over the seeds both have, as a SeedStat; None when they share none."""
    a = dict(zip(first_seeds, first.per_seed, strict=True))
    b = dict(zip(last_seeds, last.per_seed, strict=True))
    common = [s for s in a if s in b]
    return seed_stat([b[s] - a[s] for s in common]) if common else None


def _bias(point: dict, measure: str) -> SeedStat:
    return SeedStat.from_dict(point["stats"][f"bias.{measure}"])


def _overlap_words(first: SeedStat, last: SeedStat) -> str:
    if not (first.has_interval and last.has_interval):
        return ""
    apart = last.ci_high < first.ci_low or last.ci_low > first.ci_high
    return "; the two intervals do not overlap" if apart else "; the two intervals overlap"


def trend_verdict(axis: str, points: Sequence[dict], measure: str = PAPER_MEASURE) -> Verdict:
    """The sweep's verdict from its finished points (sorted by the axis value, as sweep.json keeps them)."""
    word = AXIS_WORDS.get(axis, axis)
    if len(points) < 2:
        return Verdict(NO_CLEAR, f"A trend needs at least two finished points; {len(points)} so far.")
    first, last = points[0], points[-1]
    b0, b1 = _bias(first, measure), _bias(last, measure)
    change = paired_change(b0, b1, first["seeds"], last["seeds"])
    if change is None:
        return Verdict(NO_CLEAR, "The smallest and largest points share no seed, so they cannot be paired.")
    x0, x1 = f"{word} = {first[axis]:g}", f"{word} = {last[axis]:g}"
    over = f"over {change.n} seeds, 95 % interval" if change.has_interval else "one seed"
    moved = (
        f"the linear-map bias went from {format_stat(b0, signed=True)} at {x0} to "
        f"{format_stat(b1, signed=True)} at {x1} (change {format_stat(change, signed=True)}, paired by "
        f"seed, {over}{_overlap_words(b0, b1)})"
    )
    if axis == "alpha":
        return _alpha_verdict(change, b1, moved)
    return _scale_verdict([_bias(p, measure) for p in points], change, moved, word)


def _alpha_verdict(change: SeedStat, last: SeedStat, moved: str) -> Verdict:
    side = side_of(change)
    if side == ONE_SEED:
        way = "shrank" if change.mean < 0 else "grew"
        return Verdict(
            ONE_SEED, f"In this one seed the bias {way} as α grew: {moved}. Train 3 or more seeds."
        )
    if side == "below":
        return Verdict(
            AGREES,
            f"As the paper's causal test predicts, more pull on the input path shrinks the bias: {moved}. "
            + _left_at_largest(last),
        )
    if side == "above":
        return Verdict(DISAGREES, f"More pull on the input path grew the bias, against the paper: {moved}.")
    return Verdict(NO_CLEAR, f"The intervals do not show the bias changing with α: {moved}.")


def _left_at_largest(last: SeedStat) -> str:
    """The bias left at the largest α, with its interval; an interval with 0 in it is not evidence of 0."""
    side = side_of(last)
    if side == "above":
        return "At the largest α the bias is still above 0."
    if side == "below":
        return "At the largest α the bias is below 0: it reversed."
    if equivalent_to_zero(last):
        return f"At the largest α the bias is within ±{EQUIVALENCE_MARGIN:g} of 0 (equivalence test, TOST)."
    return (
        f"At the largest α no bias is left that {last.n} seeds can detect; its interval includes 0, which is "
        "not evidence of 0."
    )


def _scale_verdict(biases: list[SeedStat], change: SeedStat, moved: str, word: str) -> Verdict:
    sides = [side_of(b) for b in biases]
    trend = {"above": "grew", "below": "shrank"}.get(side_of(change), "showed no clear change")
    if ONE_SEED in sides:
        return Verdict(ONE_SEED, f"One seed per point: {moved}. Train 3 or more seeds for intervals.")
    if all(s == "above" for s in sides):
        status, head = AGREES, f"As in the paper, the tied matrix is output-shaped at every {word}"
    elif all(s == "below" for s in sides):
        status, head = DISAGREES, f"At every {word} the tied matrix is input-shaped, against the paper"
    else:
        status, head = NO_CLEAR, f"The bias is not clearly above 0 at every {word}"
    return Verdict(status, f"{head}; from the smallest to the largest the bias {trend}: {moved}.")
