"""Finding the system's Chrome or Chromium: kaleido draws PNG exports with it, the browser tests drive it."""

from __future__ import annotations

import os
import shutil

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def chromium_path() -> str | None:
    """An executable Chromium: $BROWSER_PATH if it exists, else the usual names on PATH, else None."""
    candidates = [os.environ.get("BROWSER_PATH", "")]
    candidates += [shutil.which(name) or "" for name in BROWSER_NAMES]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)
