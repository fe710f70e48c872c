"""Sweeps from the dashboard: record a sweep, queue its points as jobs as the visitor's queue allows, and
read back where each point stands. The science is in `tieviz.sweep`; this only talks to the job layer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import streamlit as st

from tieviz.sweep import SweepConfig, list_sweeps, save_request
from tieviz.ui.training import manager
from tieviz.ui.url import visitor

SWEEP_KEY = "sweep"  # session state and URL: the key of the sweep the page shows
FAILED = ("failed", "cancelled", "interrupted")


@dataclass(frozen=True)
class PointState:
    value: float
    status: str  # "stored", a job status, or "waiting" (not yet queued: the visitor's queue is full)
    error: str | None = None


def start_sweep(sweep: SweepConfig) -> SweepConfig | None:
    """Records the sweep and queues its first points; shows why not (a bad setting) and returns None."""
    jobs = manager()
    try:
        resolved = replace(sweep, base=jobs.executor.resolve(sweep.base))
        save_request(resolved, jobs.runs)
        submit_points(resolved)
    except ValueError as error:
        st.error(f"Not started: {error}", icon=":material/error:")
        return None
    st.session_state[SWEEP_KEY] = resolved.key()
    return resolved


def submit_points(sweep: SweepConfig) -> list[PointState]:
    """Queues every point that is neither stored nor has a job yet, until the visitor's queue is full;
    returns each point's state. Called on every poll, so the rest follow as earlier points finish."""
    from tieviz.experiment import cached_summary
    from tieviz.jobs import LimitError

    jobs = manager()
    latest = {job.key: job for job in reversed(jobs.jobs())}  # newest first from jobs(): newest wins
    full, states = False, []
    for value, config in zip(sweep.values, sweep.points(), strict=True):
        job = latest.get(config.key())
        if job is None and cached_summary(config, jobs.runs) is not None:
            states.append(PointState(value, "stored"))
            continue
        if job is None and not full:
            try:
                job = jobs.submit(config, visitor())
            except LimitError:
                full = True
        if job is None:
            states.append(PointState(value, "waiting"))
        else:
            states.append(PointState(value, job.status, job.error))
    return states


def recorded_sweeps() -> list[SweepConfig]:
    """Every sweep recorded in this data folder, newest first."""
    return [sweep for _, sweep in list_sweeps(manager().runs)]
