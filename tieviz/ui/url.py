"""Page state in the URL, so a shared link opens the same view: seeding widgets, writing them back, parsers.

View state only: who the visitor is never goes in the URL (see `tieviz.ui.identity`).

The parsers turn a ?key=value text into what a widget takes, raising ValueError for anything else so
that `url_state` falls back to the default.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st


def url_state(key: str, default: Any, parse: Callable[[str], Any] = str) -> None:
    """Seeds widget state `key` from ?key=... once per session (bad values fall back to `default`)."""
    if key in st.session_state:
        return
    raw = st.query_params.get(key)
    try:
        st.session_state[key] = parse(raw) if raw is not None else default
    except (TypeError, ValueError):
        st.session_state[key] = default


def keep_in_url(*keys: str) -> None:
    """Writes the current values of these widget keys to the URL, so a shared link opens the same view."""
    for key in keys:
        value = st.session_state.get(key)
        text = "" if value is None else (str(value).lower() if isinstance(value, bool) else str(value))
        if st.query_params.get(key) != text:
            st.query_params[key] = text


def parse_bool(raw: str) -> bool:
    """'1', 'true', 'yes', 'on' -> True; '0', 'false', 'no', 'off' -> False (any case)."""
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"not a yes/no value: {raw!r}")


def choice(options: tuple[str, ...]) -> Callable[[str], str]:
    """A URL parser that accepts only one of `options`."""

    def parse(raw: str) -> str:
        if raw not in options:
            raise ValueError(f"{raw!r} is not one of {options}")
        return raw

    return parse


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """A URL parser for a whole number in [low, high]; anything else falls back to the default."""

    def parse(raw: str) -> int:
        value = int(raw)
        if not low <= value <= high:
            raise ValueError(f"{value} is outside [{low}, {high}]")
        return value

    return parse


def bounded_float(low: float, high: float) -> Callable[[str], float]:
    """A URL parser for a number in [low, high]; anything else falls back to the default."""

    def parse(raw: str) -> float:
        value = float(raw)
        if not low <= value <= high:
            raise ValueError(f"{value} is outside [{low}, {high}]")
        return value

    return parse
