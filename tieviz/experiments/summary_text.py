"""What the pages print from a `Summary`: each number with its interval, floor and baseline, as text.

Pages show; they do not compute. Every table row and headline metric that carries an interval is built
here, so the Overview, the maps page and the causal-test view say the same thing the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from tieviz.analysis.measures import MEASURE_LABELS, MEASURES, PAPER_MEASURE
from tieviz.analysis.stats import SeedStat, format_stat
from tieviz.experiments.summary_record import Summary


@dataclass(frozen=True)
class Headline:
    """One metric tile: label, value text and a tooltip."""

    label: str
    value: str
    help: str


def reference_note(config) -> str:
    """What the untied reference shares with the tied model, when it shares anything ("" when nothing)."""
    shared = [
        what
        for what, setting in (("initial weights", config.init), ("batch order", config.data_order))
        if setting == "shared"
    ]
    if not shared:
        return ""
    return (
        f" The untied reference shares the tied model's {' and '.join(shared)} (setting: shared), unlike the "
        "paper's independently trained models; a shared start inflates the similarity to the untied input "
        "matrix, a shared batch order the similarity to both."
    )


def seeds_note(summary: Summary) -> str:
    """How much evidence stands behind the numbers, in one or two sentences."""
    shared = reference_note(summary.config)
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
    floor (rows shuffled; ± its 95 % interval over seeds) and the same-recipe baseline (per seed, the untied
    output matrix mapped onto a second untied model's), each with its interval."""
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
                    "chance floor": _stat_text(floor),
                    "same-recipe baseline": _stat_text(base),
                }
            )
    return rows


def bias_table(summary: Summary, arms: tuple[str, ...] = ("tied", "scaled")) -> list[dict[str, str]]:
    """`bias_rows` of a summary, over the tokens it compared."""
    return bias_rows(summary.stats, summary.floors, summary.baseline, summary.alpha, arms)


def bias_table_caption(summary: Summary) -> str:
    shuffles = f"; {summary.floors_shuffles} shuffles in all" if summary.floors_shuffles else ""
    return (
        f"Compared over {summary.token_scope()}. The chance floor is the tied matrix against the untied "
        f"matrices with their rows shuffled (tokens no longer match{shuffles}): what an unrelated matrix of "
        "the same shape scores. The same-recipe baseline maps each seed's untied output matrix onto the "
        "output matrix of a second untied model trained with its own weights and batch order, exactly as "
        "it is mapped onto the tied matrix: how alike two independently trained output matrices are. "
        f"{seeds_note(summary)}"
    )


def headlines(summary: Summary) -> list[Headline]:
    """The Overview's tiles: the paper's measure first, then the gradient ratio and the causal test."""
    m = PAPER_MEASURE
    floor = summary.floors.get(m)
    floor_text = f" Chance floor (rows shuffled): {_stat_text(floor)}." if floor is not None else ""
    return [
        Headline(
            "Linear-map cosine to untied output",
            _stat_text(summary.stat(f"score.tied.{m}_out")),
            "The paper's measure: map the untied output matrix W_U onto the tied matrix by least squares "
            "and take the mean cosine per token; 1 = same up to a linear map."
            + floor_text
            + _baseline_text(summary),
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


def _baseline_text(summary: Summary) -> str:
    base = summary.baseline.get(PAPER_MEASURE)
    return "" if base is None else f" Same-recipe baseline: {_stat_text(base)}."


def lens_note(summary: Summary) -> str:
    """How the lens was fitted and scored, in one sentence."""
    lens = summary.lens
    fit = _fit_words(lens)
    if lens.held_out:
        return (
            f"Translators were fitted on {lens.fit_windows} windows of training text{fit} and scored "
            f"on {lens.score_windows} held-out validation windows neither the model nor the lens saw."
        )
    return f"These lens statistics were scored on the text the translators were fitted on (in-sample){fit}."


def _fit_words(lens) -> str:
    """How long the translators were fitted and whether every fit converged, in words (a LensRecord)."""
    steps = [n for per_model in lens.fit_steps.values() for n in per_model]
    if not steps:
        return ""
    span = f"{min(steps)}" if min(steps) == max(steps) else f"{min(steps)} to {max(steps)}"
    if lens.converged:
        return (
            f", until their loss on a held-out quarter of it stopped falling ({span} Adam steps; every fit "
            "converged)"
        )
    return f" for {span} Adam steps; not every fit converged before the step cap, so the gap may move"


def _against(stat: SeedStat, value: float) -> str:
    """Where a value over seeds sits against a single reference number, read from its interval."""
    if not stat.has_interval:
        return "beside (one seed)"
    if stat.ci_high < value:
        return "below"
    if stat.ci_low > value:
        return "above"
    return f"not distinguishable over {stat.n} seeds from"


def share_rows(summary: Summary, paper: dict[str, float], paper_steps: int) -> list[dict[str, str]]:
    """The paper's output share at matched fractions of training: this run's arms beside OLMo-1B's."""
    from tieviz.analysis.curves import SHARE_FRACTIONS, SHARE_WORDS, share_span_end

    rows = []
    for key in SHARE_FRACTIONS:
        rows.append(
            {
                "span of training": SHARE_WORDS[key],
                "this run's steps": f"1–{share_span_end(summary.steps, key)} of {summary.steps}",
                "tied": _stat_text(summary.stat(f"grad_share.tied.{key}")),
                f"α = {summary.alpha:g} (norms before α)": _stat_text(
                    summary.stat(f"grad_share.scaled.{key}")
                ),
                "paper's OLMo-1B": f"{paper[key]:.2f}",
                "paper's steps": f"1–{share_span_end(paper_steps, key):,} of {paper_steps:,}",
            }
        )
    return rows


def share_sentences(summary: Summary, paper: dict[str, float]) -> str:
    """What the output-share table says, each comparison read from this run's interval."""
    first, overall = summary.stat("grad_share.tied.first_1pct"), summary.stat("grad_share.tied.overall")
    scaled = summary.stat("grad_share.scaled.overall")
    if first is None or overall is None:
        return ""
    text = (
        f"Over its first 1 % of steps the tied model's output share by the paper's definition is "
        f"{_stat_text(first)}, {_against(first, paper['first_1pct'])} the paper's {paper['first_1pct']:.2f} "
        f'over the same fraction of its training (its "first 100 steps"); over all steps it is '
        f"{_stat_text(overall)}, {_against(overall, paper['overall'])} the paper's {paper['overall']:.2f}."
    )
    if scaled is not None:
        relation = _against(scaled, overall.mean)
        text += (
            f" The α-scaled model's share over all steps is {_stat_text(scaled)}, {relation} the tied "
            f"model's {overall.mean:.2f}: the paper's input norm is taken before α, so this share does not "
            "see the scaling; the exact split above, which includes α, does."
        )
    return text


def early_window_sentence(summary: Summary) -> str:
    """The tied model's exact-split ratio early and late, and where its linear-map bias peaked and ended."""
    from tieviz.analysis.curves import EARLY_FRACTION, LATE_FRACTION

    early, late = summary.stat("grad_ratio.tied_early"), summary.stat("grad_ratio.tied_late")
    text = ""
    if early is not None and late is not None:
        text = (
            f"Over the first {EARLY_FRACTION:.0%} of steps the tied model's ‖output‖/‖input‖ averages "
            f"{_stat_text(early, unit='×')}, against {_stat_text(late, unit='×')} over the last "
            f"{LATE_FRACTION:.0%}."
        )
    over = summary.bias_over_training
    steps = over.steps
    out, inp = over.series("tied", f"{PAPER_MEASURE}_out"), over.series("tied", f"{PAPER_MEASURE}_in")
    if steps and len(out) == len(inp) == len(steps):
        bias = [o - i for o, i in zip(out, inp, strict=True)]
        peak = max(range(len(bias)), key=bias.__getitem__)
        where = (
            f"grew to its largest at the end, {bias[-1]:+.3f}"
            if peak == len(bias) - 1
            else f"peaked at {bias[peak]:+.3f} at step {steps[peak]} and ended at {bias[-1]:+.3f}"
        )
        text += f" The tied model's linear-map bias (mean over seeds, at saved steps) {where}."
    return text.strip().replace("+-", "−").replace("-0.", "−0.")
