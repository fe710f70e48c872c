"""One sentence per claim saying whether a run agrees with the paper, for pages that teach.

Each verdict is computed from the summary's numbers with a stated margin, so the dashboard never calls a
difference inside the noise an effect. `agrees` is True (as in the paper), False (the opposite) or None
(no clear effect either way); the page picks its colour from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

BIAS_MARGIN = 0.02  # CKA difference below which the tied matrix counts as equally close to both
CORRELATION_MARGIN = 0.02  # correlation difference below which both direct paths track the bigrams alike
RATIO_MARGIN = 0.1  # early ratio within 10% of 1 counts as "equal pull"
LENS_MARGIN = 0.1  # relative difference of early-layer KL below which tied and untied count as alike


@dataclass(frozen=True)
class Verdict:
    agrees: bool | None  # True: as in the paper; False: the opposite; None: no clear effect
    text: str


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
            None,
            f"Neither untied matrix matches the tied one better than chance ({scores}; {chance:.2f} with "
            "the tokens shuffled), so these checkpoints say nothing about the bias.",
        )
    if bias > margin:
        return Verdict(
            True, f"Here, as in the paper, the tied matrix looks more like an output matrix ({scores})."
        )
    advice = " Very short runs often show this; the default preset trains long enough for the effect."
    if bias < -margin:
        return Verdict(
            False,
            f"Here the tied matrix looks more like the input matrix ({scores}): the opposite of the paper."
            + (advice if tieviz_run else ""),
        )
    return Verdict(
        None,
        f"Here the tied matrix is about as close to the untied input matrix as to the output one ({scores})."
        + (advice if tieviz_run else ""),
    )


def scaling_verdict(
    tied_bias: float, scaled_bias: float, alpha: float, margin: float = BIAS_MARGIN
) -> Verdict:
    """Claim 4, the causal test: does giving the input path more pull (alpha > 1) shrink the bias?

    The biases are `cka_out - cka_in`. Alpha below 1 weakens the input path, so the argument predicts a
    larger bias; alpha = 1 is no test; with no output bias to begin with there is nothing to undo.
    """
    change = f"from {tied_bias:+.2f} to {scaled_bias:+.2f}"
    if alpha == 1:
        return Verdict(None, "With α = 1 the scaled model is the tied model again: there is no causal test.")
    if tied_bias <= margin:
        return Verdict(
            None,
            f"The tied model shows no output bias here ({tied_bias:+.2f}), so scaling its input gradient "
            f"has nothing to undo (the scaled model's bias is {scaled_bias:+.2f}).",
        )
    shrank, grew = scaled_bias < tied_bias - margin, scaled_bias > tied_bias + margin
    if alpha > 1 and shrank:
        return Verdict(
            True,
            f"Scaling the input-path gradient by α = {alpha:g} shrank the bias {change}: giving the input "
            "path more pull undoes the effect, as the paper's causal test predicts.",
        )
    if alpha < 1 and grew:
        return Verdict(
            True,
            f"Scaling the input-path gradient down to α = {alpha:g} grew the bias {change}: with less pull "
            "from the input path the output path shapes the matrix even more, as the argument predicts.",
        )
    if shrank or grew:
        return Verdict(
            False,
            f"Scaling the input-path gradient by α = {alpha:g} {'shrank' if shrank else 'grew'} the bias "
            f"{change}: the opposite of what the causal argument predicts.",
        )
    return Verdict(
        None,
        f"Scaling the input-path gradient by α = {alpha:g} barely changed the bias ({change}). At the "
        "paper's 1B scale the shift was small too; at tieviz's small scale it is usually large.",
    )


def symmetry_verdict(
    corr_tied: float, corr_untied: float, margin: float = CORRELATION_MARGIN, against: str = "bigrams"
) -> Verdict:
    """The symmetry argument: does the untied direct path track the real (asymmetric) `against` better?"""
    scores = f"correlation {corr_untied:.2f} untied against {corr_tied:.2f} tied"
    if corr_untied > corr_tied + margin:
        return Verdict(
            True,
            f"The untied direct path tracks the {against} better ({scores}): a symmetric W_E W_Eᵀ cannot "
            "say that b follows a without saying that a follows b.",
        )
    if corr_tied > corr_untied + margin:
        return Verdict(
            False,
            f"Here the tied direct path tracks the {against} better ({scores}), although tying makes its raw "
            "product symmetric; the other layers can carry word order, so the direct path need not.",
        )
    return Verdict(None, f"Both direct paths track the {against} about equally ({scores}).")


def ratio_verdict(early: float, late: float, margin: float = RATIO_MARGIN) -> Verdict:
    """Claim 2: did the output path pull harder on the shared matrix early on, and less later?"""
    if not (np.isfinite(early) and np.isfinite(late)):
        return Verdict(None, "This run logged no usable gradient ratio.")
    if early <= 1 + margin:
        agrees = None if early >= 1 - margin else False
        return Verdict(
            agrees,
            f"In this run the output path did not dominate early (ratio {early:.2f}×): "
            + ("both paths pulled about equally." if agrees is None else "the input path pulled harder.")
            + " The paper's effect needs the output path to lead in the first steps.",
        )
    lead = f"As in the paper, the output path pulled {early:.1f}× as hard as the input path early on"
    if late < 1 - margin:
        return Verdict(True, f"{lead}; by the end the input path pulled harder (ratio {late:.2f}×).")
    if late * (1 + margin) < early:
        return Verdict(True, f"{lead}, and its lead fell to {late:.2f}× by the end.")
    return Verdict(
        None,
        f"The output path led early ({early:.2f}×), as in the paper, but its lead did not shrink later "
        f"({late:.2f}×). In the paper, and in tieviz's presets, the lead falls as training goes on; "
        "a run this short may stop before it does.",
    )


def lens_verdict(
    tied_kl: Sequence[float], untied_kl: Sequence[float], margin: float = LENS_MARGIN, bits: bool = False
) -> Verdict:
    """Claim 3: are the tied model's early layers further from its final prediction than the untied ones?

    KL values come in nats; `bits` quotes them in bits, as the page's chart may show them. "Early" is the
    first half of the layers before the last (whose tuned-lens KL is near zero by design).
    """
    unit, per_nat = ("bits", 1 / np.log(2)) if bits else ("nats", 1.0)
    tied = np.asarray(tied_kl, dtype=np.float64) * per_nat
    untied = np.asarray(untied_kl, dtype=np.float64) * per_nat
    if tied.shape != untied.shape:
        return Verdict(
            None, "The two models have different numbers of layers, so their curves are not compared."
        )
    if tied.size < 2:
        return Verdict(None, "The lens needs at least one layer before the last to compare the models.")
    early = slice(0, max(1, (tied.size - 1) // 2))
    t, u = float(tied[early].mean()), float(untied[early].mean())
    scale = max(t, u, 1e-12)
    if abs(t - u) / scale <= margin:
        return Verdict(
            None, "The early layers of both models are about equally far from their final predictions."
        )
    if t > u:
        return Verdict(
            True,
            f"As in the paper, the tied model's early layers are further from its final prediction "
            f"(mean tuned-lens KL {t:.3g} against {u:.3g} {unit} untied): they move the prediction less.",
        )
    return Verdict(
        False,
        f"Here the untied model's early layers are further from its final prediction (mean tuned-lens KL "
        f"{u:.3g} against {t:.3g} {unit} tied): the opposite of the paper's reading.",
    )
