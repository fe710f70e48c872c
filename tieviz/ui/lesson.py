"""The lesson: the dashboard's pages in the order of the argument, the tools apart, and the "Next" link.

The order lives here and nowhere else: app.py builds its navigation from `LESSON` and `TOOLS`, and every
lesson page ends with a link to the step after it (`next_link`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import streamlit as st

from tieviz.ui.picker import PICKER_KEY


@dataclass(frozen=True)
class Step:
    """One page of the dashboard: its script, menu title, and what its "Next" link promises."""

    path: str
    title: str  # no icon: a page's Material icon becomes the favicon, fetched from a font host
    teaser: str  # the words after "Next:" on the page before this one
    analyses: bool = True  # shows the picked experiment (False: works without one, as a new visitor's)


LESSON = (
    Step("pages/overview.py", "Overview", "the finding in one page"),
    Step("pages/why_tie.py", "Why tie?", "why tie at all? The parameters it saves", analyses=False),
    Step("pages/bigrams.py", "Bigram symmetry", "the symmetry of W_E W_Eᵀ; real bigrams"),
    Step("pages/gradients.py", "Gradients", "which gradient shapes the shared matrix"),
    Step("pages/maps.py", "Embedding maps", "the bias: maps and scores"),
    Step("pages/causal.py", "Causal test", "the causal test: scale the input gradient"),
    Step("pages/lens.py", "Tuned lens", "the lens: what each layer adds"),
    Step("pages/checkpoints.py", "Checkpoints", "your own checkpoint", analyses=False),
)
# Pages that are tools rather than steps of the argument (the lesson's last step, a checkpoint, is one).
TOOLS = (
    Step("pages/train.py", "Train", "train your own experiment", analyses=False),
    Step("pages/sweeps.py", "Sweeps", "the bias against α and against scale", analyses=False),
    LESSON[-1],
    Step("pages/glossary.py", "Glossary", "the words, defined", analyses=False),
)

_shown = threading.local()


def navigation_sections() -> dict[str, list]:
    """The `st.navigation` sections: the lesson in order (Overview first and default), then the tools."""
    lesson = [st.Page(s.path, title=s.title, default=i == 0) for i, s in enumerate(LESSON[:-1])]
    tools = [st.Page(s.path, title=s.title) for s in TOOLS]
    return {"Lesson": lesson, "Tools": tools}


def next_step(path: str) -> Step | None:
    """The lesson step after the page at `path`, or None at the end of the lesson or outside it."""
    paths = [s.path for s in LESSON]
    if path not in paths or paths.index(path) == len(paths) - 1:
        return None
    return LESSON[paths.index(path) + 1]


def begin_page(title: str) -> None:
    """Notes which page (by menu title) this script run shows, so `next_link` knows where to go next."""
    paths = {s.title: s.path for s in (*LESSON, *TOOLS)}
    _shown.path, _shown.done = paths.get(title), False


def next_link() -> None:
    """The "Next: …" link to the following lesson step, once per run (keeps the picked experiment)."""
    path = getattr(_shown, "path", None)
    step = next_step(path) if path else None
    if step is None or getattr(_shown, "done", False):
        return
    _shown.done = True
    picked = st.session_state.get(PICKER_KEY)
    st.divider()
    st.page_link(
        step.path,
        label=f"Next: {step.teaser}",
        icon=":material/arrow_forward:",
        query_params={PICKER_KEY: picked} if picked else None,
    )
