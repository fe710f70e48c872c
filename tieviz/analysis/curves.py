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
