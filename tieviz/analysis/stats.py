"""Numbers over seeds: a mean with its 95 % interval, and the precision that interval supports.

A number from one seed is an anecdote (docs/science.md, "How much a number may claim"). Every headline
number of a multi-seed experiment is a `SeedStat`: the per-seed values, their mean and a two-sided 95 %
Student-t interval for that mean (t with n - 1 degrees of freedom over the per-seed values; no bootstrap,
which is unreliable for the 3 to 5 seeds tieviz trains). With one seed there is no interval and the bounds
are None.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CONFIDENCE = 0.95


def t_quantile(dof: int, confidence: float = CONFIDENCE) -> float:
    """The two-sided Student-t critical value, e.g. 12.71 for 1 degree of freedom, 2.78 for 4."""
    from scipy.stats import t

    if dof < 1:
        raise ValueError(f"a t interval needs at least 1 degree of freedom, got {dof}")
    return float(t.ppf(0.5 + confidence / 2, dof))


@dataclass(frozen=True)
class SeedStat:
    """One number over seeds: mean, 95 % t interval (None with one seed) and the per-seed values."""

    mean: float
    ci_low: float | None
    ci_high: float | None
    per_seed: tuple[float, ...]

    @property
    def n(self) -> int:
        return len(self.per_seed)

    @property
    def has_interval(self) -> bool:
        return self.ci_low is not None and self.ci_high is not None

    @property
    def half_width(self) -> float | None:
        return None if not self.has_interval else (self.ci_high - self.ci_low) / 2

    def to_dict(self) -> dict:
        return {
            "mean": self.mean,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "per_seed": list(self.per_seed),
        }

    @classmethod
    def from_dict(cls, raw: dict) -> SeedStat:
        return cls(raw["mean"], raw.get("ci_low"), raw.get("ci_high"), tuple(raw["per_seed"]))


def seed_stat(values: Sequence[float]) -> SeedStat:
    """Mean and 95 % t interval of per-seed values; non-finite values count in per_seed, not in the mean."""
    per_seed = tuple(float(v) for v in values)
    if not per_seed:
        raise ValueError("a statistic over seeds needs at least one seed")
    finite = np.array([v for v in per_seed if math.isfinite(v)], dtype=np.float64)
    if finite.size == 0:
        return SeedStat(float("nan"), None, None, per_seed)
    mean = float(finite.mean())
    if finite.size < 2:
        return SeedStat(mean, None, None, per_seed)
    half = t_quantile(finite.size - 1) * float(finite.std(ddof=1)) / math.sqrt(finite.size)
    return SeedStat(mean, mean - half, mean + half, per_seed)


def decimals_for(half_width: float | None, default: int = 2) -> int:
    """Decimal places that show an interval's half-width to two significant figures (0.016 -> 3, 2.3 -> 1)."""
    if half_width is None or not math.isfinite(half_width) or half_width <= 0:
        return default
    return max(0, 1 - math.floor(math.log10(half_width)))


def format_stat(
    stat: SeedStat,
    unit: str = "",
    signed: bool = False,
    default_decimals: int = 2,
    mark_one_seed: bool = True,
) -> str:
    """ "7.9 ± 2.3×" with as many digits as the interval supports; "0.33 (one seed)" without an interval.

    Negative numbers take a true minus sign (−), as the pages' labels do. `mark_one_seed=False` leaves
    out "(one seed)" where the surrounding text already says so once.
    """
    sign = "+" if signed else ""
    if not math.isfinite(stat.mean):
        return "n/a"
    if not stat.has_interval:
        suffix = " (one seed)" if stat.n == 1 and mark_one_seed else ""
        return f"{stat.mean:{sign}.{default_decimals}f}{unit}{suffix}".replace("-", "−")
    places = decimals_for(stat.half_width, default_decimals)
    return f"{stat.mean:{sign}.{places}f} ± {stat.half_width:.{places}f}{unit}".replace("-", "−")


def nats_to_bits(value):
    """Information in nats as bits (1 nat = 1/ln 2 = 1.443 bits): a number, an array or a SeedStat.

    The one conversion: the lens statistics, its figure and its verdict all read their bits from here.
    """
    scale = 1 / math.log(2)
    if isinstance(value, SeedStat):
        return SeedStat(
            value.mean * scale,
            None if value.ci_low is None else value.ci_low * scale,
            None if value.ci_high is None else value.ci_high * scale,
            tuple(v * scale for v in value.per_seed),
        )
    return value * scale


# The margin an equivalence test needs, stated wherever a result is called equivalent to 0: a linear-map
# bias within ±0.02 is smaller than a tenth of the demo's tied bias and a fifth of the toy's.
EQUIVALENCE_MARGIN = 0.02


def equivalent_to_zero(stat: SeedStat, margin: float = EQUIVALENCE_MARGIN, alpha: float = 0.05) -> bool:
    """Two one-sided t tests (TOST) at level `alpha`: is the mean within ±margin of 0?

    True when the 1 − 2·alpha (90 %) t interval lies inside (−margin, margin). Failing to reject 0 is not
    evidence of 0; this is the test that can show "no larger than the margin". False with one seed.
    """
    finite = np.array([v for v in stat.per_seed if math.isfinite(v)], dtype=np.float64)
    if finite.size < 2:
        return False
    half = t_quantile(finite.size - 1, 1 - 2 * alpha) * float(finite.std(ddof=1)) / math.sqrt(finite.size)
    return -margin < float(finite.mean()) - half and float(finite.mean()) + half < margin
