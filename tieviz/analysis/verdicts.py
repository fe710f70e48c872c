"""One sentence per claim saying whether the evidence agrees with the paper, for pages that teach.

Experiment verdicts come from 95 % intervals over seeds (`tieviz.analysis.stats`), never from a fixed
margin: an interval wholly on the paper's side `agrees`, wholly on the other side `disagrees`, and one
that straddles the null is `no clear effect`. With one seed there is no interval: the status is
`one seed`, and the text says which way that seed went and that one seed cannot tell effect from luck.
The bias and the causal test are decided on the paper's own measure, the linear-map cosine; the
Procrustes cosine, CKA and mutual 10-NN support it, and the text says so when they disagree.

`bias_verdict` judges a single uploaded pair of checkpoints against its chance level (no seeds there).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from tieviz.analysis.stats import SeedStat, nats_to_bits
from tieviz.analysis.stats import format_stat as _format_stat

format_stat = partial(_format_stat, mark_one_seed=False)  # a verdict says "one seed" once, in words

BIAS_MARGIN = 0.02  # one uploaded pair: CKA difference below which the tied matrix is equally close to both


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
        f"Here the tied matrix is about as close to the untied input matrix as to the output one ({scores})."
        + (advice if tieviz_run else ""),
    )


MEASURE_NAMES = {
    "lin_cos": "linear-map cosine",
    "proc_cos": "Procrustes cosine",
    "cka": "CKA",
    "mknn": "mutual 10-NN",
}
PAPER_MEASURE = "lin_cos"  # the paper's Table 1 measure: every bias verdict is decided on it
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
    return " The other measures agree: " + "; ".join(parts) + "."


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
        NO_CLEAR: f"The interval of the bias includes 0, so these seeds show no clear bias ({scores}).",
    }
    return Verdict(status, texts[status] + support)


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
        after = {"straddles": "removes the bias", "below": "reverses the bias"}.get(
            side_of(scaled), "shrinks the bias without removing it"
        )
        text = (
            f"As the paper's causal test predicts, giving the input path α = {alpha:g} times its pull "
            f"{after}: {moved}."
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
        NO_CLEAR: f"Across seeds neither direct path clearly tracks the {against} better ({numbers}).",
        ONE_SEED: f"In this seed the {'untied' if gap.mean > 0 else 'tied'} direct path tracks the {against} "
        f"better ({numbers}).{ONE_SEED_CAVEAT}",
    }
    return Verdict(status, texts[status])


def lens_claim(gap: SeedStat, bits: bool = False) -> Verdict:
    """Claim 3 over seeds: is the tied model's early-layer held-out tuned-lens KL above the untied one's?"""
    unit, shown = (" bits", nats_to_bits(gap)) if bits else (" nats", gap)
    numbers = (
        f"early-layer KL tied − untied {format_stat(shown, unit, signed=True)} ({_over(gap)}, held-out text)"
    )
    status = _status(gap)
    texts = {
        AGREES: f"As in the paper, the tied model's early layers are further from its final prediction "
        f"({numbers}): by then they have moved the prediction less of the way.",
        DISAGREES: f"Here the untied model's early layers are further from its final prediction ({numbers}): "
        "the opposite of the paper's reading.",
        NO_CLEAR: f"Across seeds the early layers of both models are about equally far from their final "
        f"predictions ({numbers}).",
        ONE_SEED: f"In this seed the {'tied' if gap.mean > 0 else 'untied'} model's early layers are further "
        f"from its final prediction ({numbers}).{ONE_SEED_CAVEAT}",
    }
    return Verdict(status, texts[status])


def experiment_verdicts(summary) -> dict[str, Verdict]:
    """Every claim's verdict for a `tieviz.summary.Summary` (summary.json's `verdicts`); a claim whose
    numbers the summary lacks is left out."""
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
