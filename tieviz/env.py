"""Reading tieviz's settings from environment variables, with one rule for every number.

A setting that is unset or blank takes its default. A bad value is a `ValueError` that names the
variable, so a host who mistypes one learns which at start-up instead of getting a silent default.
"""

from __future__ import annotations

import os


def env_text(name: str, default: str = "") -> str:
    """The variable's value without surrounding blanks, or `default` when unset or blank."""
    return os.environ.get(name, "").strip() or default


def _number(name: str, what: str) -> float | None:
    """The variable as a float (underscores allowed), None when unset or blank."""
    raw = env_text(name)
    if not raw:
        return None
    try:
        return float(raw.replace("_", ""))
    except ValueError:
        raise ValueError(f"{name} must be {what}, not {raw!r}.") from None


def env_int(name: str, default: int, minimum: int = 0) -> int:
    """A whole number of at least `minimum`; underscores allowed (`200_000_000`) and `2e8` accepted."""
    value = _number(name, "a whole number")
    if value is None:
        return default
    if not value.is_integer():
        raise ValueError(f"{name} must be a whole number, not {env_text(name)!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be {minimum} or more, not {env_text(name)!r}.")
    return int(value)


def env_positive(name: str, default: float) -> float:
    """A number greater than zero (hours, megabytes)."""
    value = _number(name, "a number")
    if value is None:
        return default
    if not value > 0 or value == float("inf"):
        raise ValueError(f"{name} must be a positive number, not {env_text(name)!r}.")
    return value
