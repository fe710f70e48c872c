"""Training curves: series extraction from step records, smoothing, and the early-window boundary."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

EARLY_FRACTION = 0.05  # "early" = the first 5% of steps
LATE_FRACTION = 0.20  # "late" = the last 20%


def ema(values: np.ndarray, smoothing: float) -> np.ndarray:
    """Debiased exponential moving average [n] -> [n], as TensorBoard's smoothing slider.

    Debiasing divides by 1 - smoothing**k, so the first points are not dragged towards zero.
    `smoothing` is in [0, 1); 0 returns the values unchanged.
    """
    if not 0.0 <= smoothing < 1.0:
        raise ValueError(f"smoothing must be in [0, 1), got {smoothing}")
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"values must be one-dimensional, got shape {values.shape}")
    out = np.empty_like(values)
    last = 0.0
    for k, value in enumerate(values, start=1):
        last = smoothing * last + (1.0 - smoothing) * value
        out[k - 1] = last / (1.0 - smoothing**k)
    return out


def series(records: list[dict], key: str) -> tuple[np.ndarray, np.ndarray]:
    """(steps [n] int, values [n] float) of the records that carry a finite `key`, in step order.

    Records without the key (val_loss is only logged on some steps) and non-finite values (a ratio of
    inf when the input-path gradient is zero) are skipped rather than drawn.
    """
    pairs = []
    for record in records:
        value = record.get(key)
        step = record.get("step")
        if value is None or step is None:
            continue
        try:
            value = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(value):
            pairs.append((int(step), value))
    pairs.sort(key=lambda pair: pair[0])
    steps = np.array([p[0] for p in pairs], dtype=np.int64)
    values = np.array([p[1] for p in pairs], dtype=np.float64)
    return steps, values


def early_window_end(total_steps: int) -> int:
    """The last step of the "early" window: the first EARLY_FRACTION of steps, at least one step.

    Shares `window_mean`'s rounding (`_window_end`), so the shaded window and the reported early mean cover
    the same steps (steps are numbered from 1).
    """
    if total_steps < 0:
        raise ValueError(f"total_steps must be non-negative, got {total_steps}")
    if total_steps == 0:
        return 0
    return _window_end(total_steps, EARLY_FRACTION)


def _window_end(n: int, end_fraction: float, start: int = 0) -> int:
    """End (exclusive) of a window over n items: the fraction rounded up, and at least one item."""
    return max(math.ceil(end_fraction * n), start + 1)


def window_mean(values: Sequence[float], start_fraction: float, end_fraction: float) -> float:
    """Mean of the values in [start, end) as fractions of the sequence; at least one value."""
    n = len(values)
    if n == 0:
        raise ValueError("no values to average")
    start = min(int(np.floor(start_fraction * n)), n - 1)
    end = _window_end(n, end_fraction, start)
    return float(np.mean(values[start:end]))


PAPER_SHARE_WINDOW = 20  # steps in the paper's rolling output share (its chart's smoothing)
# The spans the output share is reported over, as fractions of training, so a 200-step run and the paper's
# 10,000-step one are compared at the same point: the paper's "first 100 steps" is its first 1 %, its
# "first 1,000" its first 10 %.
SHARE_FRACTIONS = {"first_1pct": 0.01, "first_5pct": 0.05, "first_10pct": 0.10, "overall": 1.0}
SHARE_WORDS = {
    "first_1pct": "first 1 % of steps",
    "first_5pct": "first 5 %",
    "first_10pct": "first 10 %",
    "overall": "all steps",
}


def output_share(grad_in: Sequence[float], grad_out: Sequence[float]) -> float:
    """The paper's output share over a span of steps: sum(out) / (sum(in) + sum(out)) of per-step norms.

    With the paper's definition, `grad_in` is the norm of the gradient at the looked-up activations
    [B, T, d] before the scatter-add (tieviz logs it as `grad_in_act`), `grad_out` the output path's.
    """
    g_in = np.asarray(grad_in, dtype=np.float64)
    g_out = np.asarray(grad_out, dtype=np.float64)
    if g_in.shape != g_out.shape or g_in.size == 0:
        raise ValueError(f"need equally many input and output norms, got {g_in.size} and {g_out.size}")
    total = g_in.sum() + g_out.sum()
    return float(g_out.sum() / total) if total > 0 else float("nan")


def rolling_output_share(
    grad_in: Sequence[float], grad_out: Sequence[float], window: int = PAPER_SHARE_WINDOW
) -> np.ndarray:
    """[n] the output share of the trailing `window` steps at each step (fewer at the start)."""
    g_in = np.cumsum(np.concatenate([[0.0], np.asarray(grad_in, dtype=np.float64)]))
    g_out = np.cumsum(np.concatenate([[0.0], np.asarray(grad_out, dtype=np.float64)]))
    if g_in.shape != g_out.shape:
        raise ValueError("need equally many input and output norms")
    end = np.arange(1, len(g_in))
    start = np.maximum(end - window, 0)
    sum_in, sum_out = g_in[end] - g_in[start], g_out[end] - g_out[start]
    total = sum_in + sum_out
    return np.divide(sum_out, total, out=np.full(total.shape, np.nan), where=total > 0)


def share_span_end(n_steps: int, key: str) -> int:
    """The last step of one of SHARE_FRACTIONS' spans of a run of n_steps: the fraction rounded up, >= 1."""
    return _window_end(n_steps, SHARE_FRACTIONS[key])


def shares_at_fractions(grad_in: Sequence[float], grad_out: Sequence[float]) -> dict[str, float]:
    """`output_share` (a plain sum, no rolling window) over each of SHARE_FRACTIONS' first spans of steps;
    each span is at least one step."""
    n = len(grad_in)
    return {
        key: output_share(grad_in[: share_span_end(n, key)], grad_out[: share_span_end(n, key)])
        for key in SHARE_FRACTIONS
    }


def paper_share_summary(records: list[dict]) -> dict[str, float] | None:
    """`shares_at_fractions` of a run by the paper's definition; None if it logged no `grad_in_act`."""
    if not records or any("grad_in_act" not in r for r in records):
        return None
    return shares_at_fractions([r["grad_in_act"] for r in records], [r["grad_out"] for r in records])
