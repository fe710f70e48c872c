"""Opening a finished experiment on the Overview from the Train page, without a stale timer tick blanking it.

The Train page's live panel is a fragment with a one-second timer (`run_every`). A tick the browser sends
before it has seen a page switch is still accepted by the server while the fragment is registered, and runs
after the new page with the Train page's script hash; the browser takes that for another page and clears
everything (seen in the two-visitor browser test: a blank Overview, only its "Next" link left). So the
switch never follows the live panel directly:

1. `open_results_soon(key)` (from the panel) is followed by a full run, which draws the panel without its
   timer; the browser drops every timer when it handles a full run, so the panel's last ticks reach the
   server before anything below.
2. That run arms this module's own opener fragment (`results_opener`, drawn by app.py on every page); its
   first tick (or any full run the browser asks for after that, such as a click or AppTest's next run)
   asks for a full run, which selects the experiment and switches to the Overview. While an open waits,
   the Train page asks for no full run of its own, so every run after the arming one came from the browser.
3. The opener is registered on every page without a timer afterwards, so a late tick of its own is run
   here: with no request waiting it can only be such a tick, and it switches to the Overview again,
   which redraws what the browser cleared.
"""

from __future__ import annotations

import threading

import streamlit as st

from tieviz.ui.picker import open_next_run

RESULTS_PAGE = "pages/overview.py"
OPEN_DELAY_S = 1.0  # the opener's tick: how soon after a finish its results open
_PENDING = "open_pending"  # experiment to open once the live panel's timer has stopped
_SWITCH = "open_switch"  # set by the opener's tick; the next full run switches pages
_OPENED = "open_opened"  # the last experiment opened this way (a late tick switches back to it)
_ARMED = "open_armed"  # a full run has armed the opener: the browser has been told to stop the panel

_drawing = threading.local()  # set while a full run draws the opener: its body acts only on its own ticks


def open_results_soon(key: str) -> None:
    """Asks for experiment `key` to open on the Overview; the caller then reruns the whole app."""
    st.session_state[_PENDING] = key


def opening() -> bool:
    """True while an open is waiting: the live panel must not tick (see the module docstring)."""
    return bool(st.session_state.get(_PENDING) or st.session_state.get(_SWITCH))


def results_opener() -> None:
    """app.py calls this on every page, after the sidebar picker: switches pages or arms the opener."""
    if st.session_state.pop(_SWITCH, False):
        st.switch_page(RESULTS_PAGE)  # from a full run: a switch inside a fragment leaves the old URL
    pending = st.session_state.get(_PENDING)
    if pending and st.session_state.get(_ARMED):
        _open(pending)
    st.session_state[_ARMED] = bool(pending)
    _drawing.active = True
    try:
        with st.sidebar:  # one container on every page, so the opener keeps one fragment id
            st.fragment(_opener, run_every=OPEN_DELAY_S if pending else None)()
    finally:
        _drawing.active = False


def _open(key: str) -> None:
    """Selects `key` and reruns the whole app, which switches to the Overview."""
    st.session_state.pop(_PENDING, None)
    st.session_state.pop(_ARMED, None)
    open_next_run(key)
    st.session_state[_OPENED] = key
    st.session_state[_SWITCH] = True
    st.rerun()


def _opener() -> None:
    if getattr(_drawing, "active", False):  # a full run draws it; only its ticks open anything
        return
    if key := st.session_state.get(_PENDING):  # the opener's own tick
        _open(key)
    elif key := st.session_state.get(_OPENED):  # a tick sent before the browser saw the switch, run after it
        open_next_run(key)
        st.switch_page(RESULTS_PAGE)
