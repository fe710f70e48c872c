"""One sentence per claim saying whether the evidence agrees with the paper, for pages that teach.

Experiment verdicts come from 95 % intervals over seeds (`tieviz.analysis.stats`), never from a fixed
margin: an interval wholly on the paper's side `agrees`, wholly on the other side `disagrees`, and one
that straddles the null is `no clear effect`. With one seed there is no interval: the status is
`one seed`, and the text says which way that seed went and that one seed cannot tell effect from luck.
The bias and the causal test are decided on the paper's own measure, the linear-map cosine; the
Procrustes cosine, CKA and mutual 10-NN support it, and the text says so when they disagree.

No verdict reads equivalence from a null: an interval that includes 0 says "not detected with N seeds",
never "removed" or "equal". The causal claim is the paired change; what is left after it (the residual)
is stated with its own interval, and called equivalent to 0 only when an equivalence test (TOST, with the
margin `stats.EQUIVALENCE_MARGIN` stated) shows it.

`bias_verdict` judges a single uploaded pair of checkpoints against its chance level (no seeds there).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from tieviz.analysis.measures import MEASURE_NAMES, PAPER_MEASURE
from tieviz.analysis.stats import EQUIVALENCE_MARGIN, SeedStat, equivalent_to_zero, nats_to_bits, seed_stat
from tieviz.analysis.stats import format_stat as _format_stat

format_stat = partial(_format_stat, mark_one_seed=False)  # a verdict says "one seed" once, in words

BIAS_MARGIN = 0.02  # one uploaded pair: a difference too small to call a direction from (no interval there)


AGREES, NO_CLEAR, DISAGREES, ONE_SEED = "agrees", "no clear effect", "disagrees", "one seed"
STATUSES = (AGREES, NO_CLEAR, DISAGREES, ONE_SEED)


@dataclass(frozen=True)
class Verdict:
    status: str  # one of STATUSES
    text: str

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"verdict status must be one of {STATUSES}, not {self.status!r}")

    @property
    def agrees(self) -> bool | None:
        """True: as in the paper; False: the opposite; None: no clear effect or one seed."""
        return {AGREES: True, DISAGREES: False}.get(self.status)


def bias_verdict(
    cka_out: float,
    cka_in: float,
    margin: float = BIAS_MARGIN,
    tieviz_run: bool = True,
    chance: float | None = None,
) -> Verdict:
    """Claim 1: is the tied matrix closer to the untied output matrix than to the input one?

    `tieviz_run` adds advice about training longer, which fits runs trained here, not uploaded models.
    `chance` is the CKA of unrelated rows (tokens shuffled): when neither score clears it, neither untied
    matrix matches the tied one and no direction is claimed.
    """
    bias = cka_out - cka_in
    scores = f"CKA {cka_out:.2f} to the untied output matrix against {cka_in:.2f} to the input"
    if chance is not None and max(cka_out, cka_in) <= chance + margin:
        return Verdict(
            NO_CLEAR,
            f"Neither untied matrix matches the tied one better than chance ({scores}; {chance:.2f} with "
            "the tokens shuffled), so these checkpoints say nothing about the bias.",
        )
    if bias > margin:
        return Verdict(
            AGREES, f"Here, as in the paper, the tied matrix looks more like an output matrix ({scores})."
        )
    advice = " Very short runs often show this; the default preset trains long enough for the effect."
    if bias < -margin:
        return Verdict(
            DISAGREES,
            f"Here the tied matrix looks more like the input matrix ({scores}): the opposite of the paper."
            + (advice if tieviz_run else ""),
        )
    return Verdict(
        NO_CLEAR,
        f"Here the two scores differ by less than {margin:g}, too little to call a direction from one pair "
        f"of checkpoints ({scores})." + (advice if tieviz_run else ""),
    )


ONE_SEED_CAVEAT = (
    " That is one seed: it cannot tell an effect from the luck of the draw. Train with 3 or more seeds "
    "for an interval."
)


def side_of(stat: SeedStat, null: float = 0.0) -> str:
    """ "above" or "below" the null when the 95 % interval excludes it, "straddles" if not, "one seed"."""
    if not stat.has_interval:
        return ONE_SEED
    if stat.ci_low > null:
        return "above"
    if stat.ci_high < null:
        return "below"
    return "straddles"


def _status(stat: SeedStat, null: float = 0.0, expect: str = "above") -> str:
    side = side_of(stat, null)
    if side == ONE_SEED:
        return ONE_SEED
    if side == "straddles":
        return NO_CLEAR
    return AGREES if side == expect else DISAGREES


def _over(stat: SeedStat) -> str:
    return f"over {stat.n} seeds, 95 % interval" if stat.has_interval else "one seed"


def _measure_sentence(stats: dict[str, SeedStat], prefix: str, headline: str, expect: str = "above") -> str:
    """How the supporting measures side with the headline's status, in words."""
    head = _status(stats[f"{prefix}.{PAPER_MEASURE}"], expect=expect)
    parts, differ = [], False
    for m, name in MEASURE_NAMES.items():
        key = f"{prefix}.{m}"
        if m == PAPER_MEASURE or key not in stats:
            continue
        status = _status(stats[key], expect=expect)
        differ |= status != head
        parts.append(f"{name} {format_stat(stats[key], signed=True)} ({status})")
    if not parts:
        return ""
    if differ:
        return f" The measures disagree: {headline} {head}, while " + "; ".join(parts) + "."
    what = "the change" if prefix.startswith("bias_change") else "the bias"
    return f" On the other measures {what} reads the same: " + "; ".join(parts) + "."


def bias_claim(stats: dict[str, SeedStat], floors: dict[str, SeedStat] | None = None) -> Verdict:
    """Claim 1 over seeds: is the tied matrix closer to the untied output matrix than to the input one?

    Decided on the linear-map cosine's bias (out − in): its interval above 0 agrees. A tied-to-output
    score no higher than the chance floor claims nothing, whatever the bias.
    """
    bias = stats[f"bias.tied.{PAPER_MEASURE}"]
    out, inp = stats[f"score.tied.{PAPER_MEASURE}_out"], stats[f"score.tied.{PAPER_MEASURE}_in"]
    floor = (floors or {}).get(PAPER_MEASURE)
    scores = (
        f"linear-map cosine {format_stat(out)} to the untied output matrix against {format_stat(inp)} to "
        f"the input (bias {format_stat(bias, signed=True)}, {_over(bias)}"
        + (f"; {floor.mean:.2f} with the tokens shuffled" if floor is not None else "")
        + ")"
    )
    support = _measure_sentence(stats, "bias.tied", "the linear-map cosine")
    if floor is not None and max(out.mean, inp.mean) <= floor.mean:
        return Verdict(
            NO_CLEAR,
            f"Neither untied matrix matches the tied one better than chance ({scores}), so this run says "
            "nothing about the bias.",
        )
    status = _status(bias)
    if status == ONE_SEED:
        direction = "an output" if bias.mean > 0 else "an input"
        return Verdict(
            ONE_SEED,
            f"In this seed the tied matrix looks more like {direction} matrix ({scores}).{ONE_SEED_CAVEAT}",
        )
    texts = {
        AGREES: f"As in the paper, the tied matrix is more like the untied output matrix ({scores}).",
        DISAGREES: f"Here the tied matrix is more like the untied input matrix ({scores}): the opposite "
        "of the paper.",
        NO_CLEAR: f"The interval of the bias includes 0: no bias that these {bias.n} seeds can detect "
        f"({scores}).",
    }
    return Verdict(status, texts[status] + support + _baseline_sentence(stats))


def _baseline_sentence(stats: dict[str, SeedStat]) -> str:
    """The tied-to-output score against the same-recipe baseline, paired by seed, when there is one."""
    gap = stats.get(f"baseline_gap.{PAPER_MEASURE}")
    base = stats.get(f"baseline.{PAPER_MEASURE}")
    if gap is None or base is None:
        return ""
    words = {
        "above": "above it",
        "below": "below it",
        "straddles": f"within what {gap.n} seeds can tell from it (the interval includes 0)",
        ONE_SEED: "beside it (one seed)",
    }[side_of(gap)]
    return (
        f" Against the same-recipe baseline (the untied output matrix mapped onto a second untied model's: "
        f"{format_stat(base)}) the tied-to-output score is {words}: difference "
        f"{format_stat(gap, signed=True)}, paired by seed."
    )


def scaling_claim(stats: dict[str, SeedStat], alpha: float) -> Verdict:
    """Claim 4 over seeds: does scaling the input-path gradient by alpha > 1 shrink the bias?

    Decided on `bias_change.lin_cos` (scaled bias − tied bias, paired by seed): below 0 for alpha > 1
    agrees, above 0 disagrees; alpha < 1 predicts the opposite sign; alpha = 1 is no test.
    """
    if alpha == 1:
        return Verdict(
            NO_CLEAR, "With α = 1 the scaled model is the tied model again: there is no causal test."
        )
    tied, scaled = stats[f"bias.tied.{PAPER_MEASURE}"], stats[f"bias.scaled.{PAPER_MEASURE}"]
    change = stats[f"bias_change.{PAPER_MEASURE}"]
    moved = (
        f"the linear-map bias went from {format_stat(tied, signed=True)} to "
        f"{format_stat(scaled, signed=True)} "
        f"(change {format_stat(change, signed=True)}, {_over(change)})"
    )
    if side_of(tied) not in ("above", ONE_SEED) or tied.mean <= 0:
        return Verdict(
            NO_CLEAR,
            f"The tied model shows no clear output bias here, so scaling its input gradient by α = {alpha:g} "
            f"has nothing to undo ({moved}).",
        )
    expect = "below" if alpha > 1 else "above"
    status = _status(change, expect=expect)
    support = _measure_sentence(stats, "bias_change", "the linear-map cosine", expect=expect)
    if status == ONE_SEED:
        way = "shrank" if change.mean < 0 else "grew"
        return Verdict(ONE_SEED, f"With α = {alpha:g} the bias {way} in this seed: {moved}.{ONE_SEED_CAVEAT}")
    if status == AGREES and alpha > 1:
        text = (
            f"As the paper's causal test predicts, giving the input path α = {alpha:g} times its pull "
            f"shrinks the bias{_reduction(tied, change)}: {moved}. {_residual(stats, scaled)}"
        )
    elif status == AGREES:
        text = f"As the argument predicts, weakening the input path (α = {alpha:g}) grew the bias: {moved}."
    elif status == DISAGREES:
        text = f"Scaling the input path by α = {alpha:g} moved the bias the wrong way: {moved}."
    else:
        text = (
            f"Scaling the input path by α = {alpha:g} gave no clear change: {moved}. At the paper's 1B scale "
            "the shift was small too."
        )
    return Verdict(status, text + support)


def _reduction(tied: SeedStat, change: SeedStat) -> str:
    """ " by 85 ± 12 %": the change as a share of the tied bias, per seed, when every tied bias is > 0."""
    if not tied.per_seed or min(tied.per_seed) <= 0 or len(tied.per_seed) != len(change.per_seed):
        return ""
    share = seed_stat([-100 * c / t for c, t in zip(change.per_seed, tied.per_seed, strict=True)])
    return f" by {format_stat(share, ' %', default_decimals=0)}"


def _residual(stats: dict[str, SeedStat], scaled: SeedStat) -> str:
    """What is left of the bias after scaling, on the paper's measure and every other, never "removed"."""
    head = f"The bias left at α ({format_stat(scaled, signed=True)} on the linear-map cosine)"
    side = side_of(scaled)
    if side == "above":
        text = f"{head} is still above 0."
    elif side == "below":
        text = f"{head} is below 0: the bias reversed."
    elif equivalent_to_zero(scaled):
        text = (
            f"{head} is within ±{EQUIVALENCE_MARGIN:g} of 0 by an equivalence test (two one-sided t tests "
            "at 5 %)."
        )
    else:
        text = (
            f"{head} is a residual that {scaled.n} seeds cannot detect: its interval includes 0, which is "
            f"not evidence of 0 (an equivalence test at ±{EQUIVALENCE_MARGIN:g} does not show it either)."
        )
    others = {
        m: stats[f"bias.scaled.{m}"]
        for m in MEASURE_NAMES
        if m != PAPER_MEASURE and f"bias.scaled.{m}" in stats
    }
    above = [
        f"{MEASURE_NAMES[m]} {format_stat(stat, signed=True)}"
        for m, stat in others.items()
        if side_of(stat) == "above"
    ]
    if above:
        text += " Still above 0 on " + "; ".join(above) + "."
    return text


def ratio_claim(stats: dict[str, SeedStat]) -> Verdict:
    """Claim 2 over seeds: did the output path pull harder early (ratio above 1), and less later?"""
    early, late, drop = (stats[f"grad_ratio.tied_{k}"] for k in ("early", "late", "drop"))
    numbers = (
        f"‖output‖/‖input‖ {format_stat(early, '×')} early, {format_stat(late, '×')} late ({_over(early)})"
    )
    lead, fall = side_of(early, 1.0), side_of(drop)
    if lead == ONE_SEED:
        way = "led" if early.mean > 1 else "did not lead"
        return Verdict(ONE_SEED, f"In this seed the output path {way} early: {numbers}.{ONE_SEED_CAVEAT}")
    if lead == "below":
        return Verdict(
            DISAGREES,
            f"The input path pulled harder early: {numbers}. The paper's effect needs the output path "
            "to lead.",
        )
    if lead == "straddles":
        return Verdict(NO_CLEAR, f"The early lead of the output path is not clear across seeds: {numbers}.")
    if fall == "above":
        ahead = " and by the end the input path pulled harder" if side_of(late, 1.0) == "below" else ""
        return Verdict(
            AGREES,
            f"As in the paper, the output path pulled harder early and its lead fell{ahead}: {numbers}.",
        )
    return Verdict(
        NO_CLEAR,
        f"The output path led early, as in the paper, but its lead did not clearly fall: {numbers}. A run "
        "this short may stop before it does.",
    )


def symmetry_claim(gap: SeedStat, against: str = "bigrams") -> Verdict:
    """The symmetry argument over seeds: untied − tied correlation of the direct path with `against`."""
    numbers = f"correlation gap untied − tied {format_stat(gap, signed=True)} ({_over(gap)})"
    status = _status(gap)
    texts = {
        AGREES: f"The untied direct path tracks the {against} better ({numbers}): a symmetric W_E W_Eᵀ "
        "cannot say that b follows a without saying that a follows b.",
        DISAGREES: f"Here the tied direct path tracks the {against} better ({numbers}); the other layers can "
        "carry word order, so the direct path need not.",
        NO_CLEAR: f"Neither direct path tracks the {against} better by a margin {gap.n} seeds can detect "
        f"({numbers}).",
        ONE_SEED: f"In this seed the {'untied' if gap.mean > 0 else 'tied'} direct path tracks the {against} "
        f"better ({numbers}).{ONE_SEED_CAVEAT}",
    }
    return Verdict(status, texts[status])


def lens_claim(gap: SeedStat, bits: bool = False) -> Verdict:
    """Claim 3 over seeds: is the tied model's early-layer held-out tuned-lens KL above the untied one's?

    "Early" is `lens.early_layers`: with 2 layers that is the embedding output alone, where no layer has
    acted yet, so the text speaks of the early residual stream, not of what early layers did."""
    unit, shown = (" bits", nats_to_bits(gap)) if bits else (" nats", gap)
    numbers = (
        f"early-layer KL tied − untied {format_stat(shown, unit, signed=True)} ({_over(gap)}, held-out text)"
    )
    status = _status(gap)
    texts = {
        AGREES: f"As in the paper, the tied model's early residual stream is further from its final "
        f"prediction ({numbers}): the rest of the network has more of the way to go.",
        DISAGREES: f"Here the untied model's early residual stream is further from its final prediction "
        f"({numbers}): the opposite of the paper's reading.",
        NO_CLEAR: f"No difference between the two models' early residual streams that {gap.n} seeds can "
        f"detect ({numbers}); the interval includes 0, which does not show them equal.",
        ONE_SEED: f"In this seed the {'tied' if gap.mean > 0 else 'untied'} model's early residual stream is "
        f"further from its final prediction ({numbers}).{ONE_SEED_CAVEAT}",
    }
    return Verdict(status, texts[status])


def experiment_verdicts(summary) -> dict[str, Verdict]:
    """Every claim's verdict for a `tieviz.experiments.summary_record.Summary` (summary.json's `verdicts`); a
    claim whose numbers the summary lacks is left out."""
    stats = summary.stats
    truth = "bigram.truth_corr_gap" in stats
    claims = {
        "bias": lambda: bias_claim(stats, summary.floors),
        "scaling": lambda: scaling_claim(stats, summary.alpha),
        "ratio": lambda: ratio_claim(stats),
        "lens": lambda: lens_claim(stats["lens.early_kl_gap"]),
        "symmetry": lambda: symmetry_claim(
            stats["bigram.truth_corr_gap" if truth else "bigram.corr_gap"],
            "true transitions" if truth else "bigrams",
        ),
    }
    out = {}
    for claim, verdict in claims.items():
        try:
            out[claim] = verdict()
        except KeyError:
            continue
    return out
