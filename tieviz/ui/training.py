"""Starting training from the dashboard: the shared job queue, the device "auto" means here, submitting.

Torch and the job manager are imported inside the functions, so opening the app stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from tieviz.config import ExperimentConfig
from tieviz.experiments.catalog import data_root
from tieviz.ui.identity import address, trusted, visitor
from tieviz.ui.text import plain

if TYPE_CHECKING:
    from tieviz.jobs import JobManager


@st.cache_resource(show_spinner="Starting the training queue…")
def _manager(root: str) -> JobManager:
    from tieviz.jobs import JobManager, Limits, default_manager

    manager = default_manager()
    if manager.root.resolve() == Path(root).resolve():
        return manager
    return JobManager(Path(root), limits=Limits.from_env())  # the data folder moved since start (tests)


def manager() -> JobManager:
    """The job manager of this data folder, shared by every session of this server."""
    return _manager(str(data_root()))


@st.cache_resource(show_spinner=False, ttl=1.0, max_entries=4)
def _recent_jobs(root: str) -> tuple:
    return tuple(manager().jobs())


def recent_jobs() -> tuple:
    """Every experiment job, read at most once a second for all sessions together.

    Opening the Overview looked at every job (is an example still training?) in every new session: with
    35 sessions opening at once and a few hundred jobs, that was thousands of state files read and
    checked in a second, on the same CPU that answers the health check.
    """
    return _recent_jobs(str(data_root()))


@st.cache_resource(show_spinner="Looking for a GPU…")
def device() -> str:
    """The device "auto" trains on here: cuda, mps or cpu (imports torch, so called lazily)."""
    from tieviz.system.device import resolve_device

    return resolve_device("auto")


def start_training(config: ExperimentConfig) -> bool:
    """Submits the experiment for this visitor; shows why not (a limit, a bad setting) and returns False."""
    from tieviz.jobs import LimitError

    try:
        job = manager().submit(config, visitor(), trusted=trusted(), address=address())
    except LimitError as error:
        st.error(f"Not started: {plain(error)}.", icon=":material/block:")
        return False
    except ValueError as error:
        st.error(f"Not started: {plain(error)}", icon=":material/error:")
        return False
    st.session_state["last_job"] = job.id
    _recent_jobs.clear()  # the shared listing is up to a second old: without this the Train page would
    # decide, on this very run, that nothing is active and never poll the job it just started
    return True


def time_estimate(config: ExperimentConfig, target: str, summaries: list):
    """The Train page's estimate (`tieviz.experiments.time_estimate.Estimate`): runs this data folder already
    holds for these settings on `target` are not trained again, so they are left out of the time."""
    from dataclasses import replace

    from tieviz.experiments.runner import experiment_path, stored_run_count
    from tieviz.experiments.time_estimate import estimate
    from tieviz.training.run_store import RunStore

    if config.data.corpus == "file":  # a file's run keys need its hash: not worth reading it on every rerun
        return estimate(config, target, summaries)
    resolved = replace(config, train=replace(config.train, device=target))
    store = RunStore(data_root() / "runs")
    return estimate(
        config,
        target,
        summaries,
        runs_stored=stored_run_count(resolved, store),
        summary_stored=experiment_path(store, resolved.key()).exists(),
    )


def preset_duration(name: str) -> str:
    """How long the preset `name` takes here, in words ("about 40 s"), from the timing model as the Train
    page's estimate: never a fixed "under a minute" that a slow host or a GPU makes untrue."""
    from tieviz.config import preset
    from tieviz.experiments.resources import duration
    from tieviz.ui.picker import recent_summaries

    return duration(time_estimate(preset(name), device(), recent_summaries()).seconds)


def over_limits(config: ExperimentConfig) -> str | None:
    """Why this site would refuse a valid experiment for this session (caps, budget), before a click."""
    from tieviz.jobs.limits import check_size

    try:
        check_size(config, trusted(), manager().limits)
    except ValueError as error:
        return str(error)
    return None
