"""The examples on a fresh install: queued once per server, announced on the Overview until they land."""

from __future__ import annotations

import streamlit as st

from tieviz.experiments.catalog import data_root
from tieviz.experiments.resources import duration
from tieviz.ui.training import manager, preset_duration, recent_jobs

EXAMPLES_WORDS = {"toy": "the quick toy example", "demo": "the default example"}


@st.cache_resource(show_spinner=False)
def _started(root: str) -> int:
    """Queues the examples when this data folder is fresh (once per server and folder); how many."""
    from tieviz.experiments.examples import start_examples

    return len(start_examples(manager()))


def start_examples_once() -> None:
    """On the first visit to a fresh install, trains the examples in the background (TIEVIZ_EXAMPLES)."""
    from tieviz.experiments.examples import examples_enabled

    if examples_enabled():
        _started(str(data_root()))


def _active_examples() -> list:
    from tieviz.experiments.examples import example_jobs
    from tieviz.jobs.store import ACTIVE

    return [j for j in example_jobs(recent_jobs()) if j.status in ACTIVE]


def _progress() -> None:
    active = _active_examples()
    watched = st.session_state.get("examples_watching", set())
    st.session_state["examples_watching"] = {j.id for j in active}
    if watched - {j.id for j in active}:
        st.rerun(scope="app")  # an example finished: the picker lists it and the page shows it
    for job in active:
        name = job.config.get("preset", "")
        if job.status == "queued":
            st.caption(f"{EXAMPLES_WORDS.get(name, name).capitalize()} is queued and trains next.")
            continue
        elapsed = ""
        if job.started_at:
            import time

            elapsed = f" · running for {duration(time.time() - job.started_at)[6:]}"
        text = f"Training {EXAMPLES_WORDS.get(name, name)}: {job.phase or 'starting'}{elapsed}"
        st.progress(job.progress_fraction, text=text)


def examples_notice() -> bool:
    """While the examples train: what is coming, with live progress; reruns the page as each one lands.

    Returns whether any example is still queued or training.
    """
    active = _active_examples()
    if not active:
        return False
    if len(active) == len(EXAMPLES_WORDS):
        text = (
            "This is a fresh install, so tieviz is training two example experiments for you: a quick toy "
            f"one ({preset_duration('toy')}), then the default one ({preset_duration('demo')}). Each "
            "appears here by itself when it is ready; no need to click."
        )
    else:
        text = (
            "The default example experiment is still training; when it is ready it opens here by itself "
            "and joins the picker in the sidebar."
        )
    st.info(text, icon=":material/hourglass_top:")
    st.fragment(_progress, run_every=2)()
    return True
