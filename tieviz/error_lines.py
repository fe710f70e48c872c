"""Exceptions as the one line a user sees: the CLI's error line, a failed job's reason, a failed export."""

from __future__ import annotations


def error_line(error: BaseException) -> str:
    """The first non-blank line of the exception's message, or its type's name when it has none."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def failure_reason(error: BaseException) -> str:
    """A user error's (ValueError's) own message; otherwise the type first, so a crash reads as one."""
    line = error_line(error)
    if isinstance(error, ValueError) or not str(error).strip():
        return line
    return f"{type(error).__name__}: {line}"
