"""Presenter mode (?present=1, or the sidebar toggle): all text large, legends below, sidebar collapsed.

One switch for the whole app: app.py calls `page_config` and `presenter_toggle`, which scales every text
of the page (PRESENTER_CSS), and `show_figure` lays every figure out through
`tieviz.figures.base.for_screen(fig, presenting(), narrow_screen())`.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from tieviz.ui.url import parse_bool, url_state

PRESENT_KEY = "present"  # widget key and URL parameter
# The favicon, served by the dashboard itself: a Material icon name would be fetched from a font host, and
# an emoji is drawn with whatever emoji font the visitor has (none on a bare Linux).
PAGE_ICON = str(Path(__file__).with_name("icon.png"))


def presenting() -> bool:
    """Whether this session shows the dashboard for a projector."""
    url_state(PRESENT_KEY, False, parse_bool)
    return bool(st.session_state.get(PRESENT_KEY))


def page_config() -> None:
    """Title, local favicon, wide layout; the sidebar starts collapsed in presenter mode."""
    st.set_page_config(
        page_title="tieviz",
        page_icon=PAGE_ICON,
        layout="wide",
        initial_sidebar_state="collapsed" if presenting() else "auto",
    )
    st.html(NARROW_SCREEN_CSS)


# On a phone, titles sized for a laptop are clipped or collide: draw chart titles, panel titles, axis
# titles and legends smaller there (tick labels keep their size).
NARROW_SCREEN_CSS = """<style>
@media (max-width: 640px) {
  .js-plotly-plot .gtitle { font-size: 13px !important; }
  .js-plotly-plot .infolayer .annotation-text, .js-plotly-plot .infolayer .legendtext,
  .js-plotly-plot .infolayer text[class$="title"] { font-size: 11px !important; }
}
</style>"""


# Streamlit sizes its text in rem: a larger root font scales captions, definitions, markdown, metrics and
# widgets alike (captions are 0.875 rem: 19 px here, at least the 18 px charts use). Data frames draw on a
# canvas in pixels, so they are zoomed instead.
PRESENTER_CSS = """<style>
html { font-size: 22px; }
[data-testid="stDataFrame"], [data-testid="stTable"] { zoom: 1.3; }
</style>"""


def narrow_screen() -> bool:
    """Whether the visitor's browser says it is a phone ("Mobi" in its User-Agent, as every phone's is).

    The server never learns the window's width; charts drawn for a phone stack their panels and wrap
    their titles shorter (`tieviz.figures.base.for_screen`).
    """
    try:
        agent = st.context.headers.get("User-Agent") or ""
    except (AttributeError, RuntimeError):  # no browser session (AppTest, bare mode)
        return False
    return "Mobi" in agent


def presenter_toggle() -> None:
    """The sidebar's presenter-mode switch; keeps ?present=1 in the URL while it is on."""
    presenting()
    st.sidebar.toggle(
        "Presenter mode",
        key=PRESENT_KEY,
        help="For a projector: all text larger (charts at least 18 px), legends below the charts, thicker "
        "lines, sidebar collapsed. Link to it with ?present=1.",
    )
    if st.session_state.get(PRESENT_KEY):
        st.html(PRESENTER_CSS)
        if st.query_params.get(PRESENT_KEY) != "1":
            st.query_params[PRESENT_KEY] = "1"
    elif PRESENT_KEY in st.query_params:
        del st.query_params[PRESENT_KEY]
