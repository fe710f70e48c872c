"""The app shell: pages run inside app.py (page config, shared sidebar), and torch loads in the background."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import streamlit as st

TRAIN_PAGE = "pages/train.py"
APP_SCRIPT = Path(__file__).resolve().parents[2] / "app.py"

_app = threading.local()


@contextlib.contextmanager
def inside_app(experiment: Any = None) -> Iterator[None]:
    """Marks this script run as started by app.py (see `require_app`); app.py wraps `page.run()` in it.

    `experiment` is what the sidebar's picker loaded in this run, which pages read back through
    `picked_experiment` instead of loading it a second time.
    """
    _app.active, _app.experiment = True, experiment
    try:
        yield
    finally:
        _app.active, _app.experiment = False, None


def picked_experiment() -> Any:
    """The experiment (`tieviz.ui.picker.Experiment`) app.py's picker loaded for this run, or None."""
    return getattr(_app, "experiment", None)


def require_app() -> None:
    """Runs app.py around this page when Streamlit started the page on its own, then stops.

    Until some visitor's run has called st.navigation, a fresh server still treats a `pages/` folder
    the old way: a first visit to /maps would run pages/maps.py alone, without the page config and the
    shared sidebar. Every page calls this first.
    """
    if getattr(_app, "active", False):
        return
    import runpy

    runpy.run_path(str(APP_SCRIPT), run_name="__main__")
    st.stop()


@st.cache_resource(show_spinner=False)
def warm_imports() -> None:
    """Imports torch and the analysis and figure modules in the background once per server.

    Not transformers: its lazy top-level module is not safe to import from two threads at once (a page's
    `from transformers import X` racing this thread failed with ImportError), so it is imported only by
    the few pages that load whole models, in their own script run.
    """

    def load() -> None:
        import torch  # noqa: F401

        import tieviz.experiments.run_analysis  # noqa: F401
        import tieviz.figures.curves  # noqa: F401

    threading.Thread(target=load, name="tieviz-warm-imports", daemon=True).start()
