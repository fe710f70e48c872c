"""The shared experiment picker: which finished experiment every page shows, kept in the URL as ?run=KEY."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from tieviz.experiments.catalog import (
    ExperimentEntry,
    data_root,
    landing_entry,
    list_experiments,
    listing_stamp,
)
from tieviz.ui.app_shell import TRAIN_PAGE, picked_experiment

if TYPE_CHECKING:
    from tieviz.experiments.summary_record import Summary, SummaryHeader
    from tieviz.training.run_store import Run

PICKER_KEY = "run"  # widget key and URL parameter of the selected experiment
_OPEN_KEY = "picker_open"  # an experiment to select on the next run (set after the picker was drawn)


@dataclass(frozen=True)
class Experiment:
    """A loaded experiment: its summary (all seeds) and the first seed's runs (tied, untied, scaled)."""

    key: str
    path: Path
    summary: Summary
    runs: dict[str, Run]  # the first seed's runs: the matrices and curves the figures draw


@st.cache_data(show_spinner=False, max_entries=16)
def _experiments(runs_dir: str, stamp: tuple) -> list[ExperimentEntry]:
    return list_experiments(Path(runs_dir))


def experiments() -> list[ExperimentEntry]:
    """The finished experiments of this data folder, newest first (re-read when a file changes)."""
    runs_dir = data_root() / "runs"
    return _experiments(str(runs_dir), listing_stamp(runs_dir))


def recent_summaries(n: int = 20) -> list[SummaryHeader]:
    """The headers of the n newest experiments' summaries (read again only when a summary file changes)."""
    return [entry.header for entry in experiments()[:n]]


@st.cache_resource(show_spinner=False, max_entries=16)
def _load(path: str, mtime_ns: int) -> Experiment:
    from tieviz.experiments.runner import load_experiment

    summary, runs = load_experiment(Path(path))
    return Experiment(summary.experiment_key, Path(path), summary, runs)


def _chosen_key(entries: list[ExperimentEntry]) -> str | None:
    """The picker's value, else the URL's, else the landing experiment (the newest not from a sweep)."""
    keys = [e.key for e in entries]
    for candidate in (st.session_state.get(PICKER_KEY), st.query_params.get(PICKER_KEY)):
        if candidate in keys:
            return candidate
    landing = landing_entry(entries)
    return None if landing is None else landing.key


def experiment_picker() -> Experiment | None:
    """The sidebar's experiment picker (shared by every page); keeps the choice in the URL as ?run=KEY."""
    entries = experiments()
    by_key = {e.key: e for e in entries}
    with st.sidebar:
        st.markdown("### Experiment")
        if not entries:
            st.caption("No finished experiment yet.")
            st.page_link(TRAIN_PAGE, label="Train one", icon=":material/play_arrow:")
            return None
        if (wanted := _take_open_request()) in by_key:
            st.session_state[PICKER_KEY] = wanted
        st.session_state[PICKER_KEY] = _chosen_key(entries)
        key = st.selectbox(
            "Finished experiments, newest first",
            list(by_key),
            format_func=lambda k: by_key[k].label,
            key=PICKER_KEY,
            help="preset · where it came from (example, sweep point, trained here) · α of the scaled arm · "
            "steps · seeds · settings that differ from the preset · finished at",
        )
        st.caption(f"device: {by_key[key].device} · key `{key}`")
    if st.query_params.get(PICKER_KEY) != key:
        st.query_params[PICKER_KEY] = key
    return load_entry(by_key[key])


def open_next_run(key: str, runs: int = 2) -> None:
    """Selects experiment `key` in the picker on the next `runs` script runs (the widget is drawn already).

    Two: the run that switches pages, and the page it lands on. A page switch can bring the browser's
    old picker value back with it, so the request must outlive the first run; it ends after `runs` so
    the visitor's own choice wins from then on.
    """
    st.session_state[_OPEN_KEY] = (key, runs)


def _take_open_request() -> str | None:
    """The experiment an `open_next_run` asked for, counting down its runs."""
    request = st.session_state.pop(_OPEN_KEY, None)
    if not request:
        return None
    key, runs = request
    if runs > 1:
        st.session_state[_OPEN_KEY] = (key, runs - 1)
    return key


def load_entry(entry: ExperimentEntry) -> Experiment | None:
    """The experiment behind a picker entry, or None after showing in the sidebar why it cannot open."""
    try:
        return _load(str(entry.path), entry.path.stat().st_mtime_ns)
    except (OSError, ValueError, KeyError) as error:
        st.sidebar.error(f"This experiment cannot be opened: {error}")
        return None


def selected_experiment() -> Experiment | None:
    """The experiment the sidebar's picker chose and loaded for this run (the URL's, or the newest)."""
    return picked_experiment()
