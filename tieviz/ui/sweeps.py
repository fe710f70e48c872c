"""Sweeps from the dashboard: record a sweep, queue its points as jobs as the visitor's queue allows, and
read back where each point stands. The science is in `tieviz.experiments.sweep`; this only talks to the job
layer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import streamlit as st

from tieviz.experiments.sweep import SweepConfig, list_sweeps, save_request
from tieviz.ui.identity import address, trusted, visitor
from tieviz.ui.text import plain
from tieviz.ui.training import manager

SWEEP_KEY = "sweep"  # session state and URL: the key of the sweep the page shows
MINE = "sweeps_mine"  # session state: keys of the sweeps whose points this session queues
FAILED = ("failed", "cancelled", "interrupted")


@dataclass(frozen=True)
class PointState:
    value: float
    # "stored", a job status, "waiting" (this session will queue it when its queue has room) or "missing"
    # (nobody is queuing it: a sweep another session or the CLI started and did not finish)
    status: str
    error: str | None = None


def start_sweep(sweep: SweepConfig) -> SweepConfig | None:
    """Records the sweep and queues its first points; shows why not (a limit, a bad setting), returns None."""
    from tieviz.jobs.limits import check_size

    jobs = manager()
    try:
        resolved = replace(sweep, base=jobs.executor.resolve(sweep.base))
        for config in resolved.points():
            check_size(config, trusted(), jobs.limits)  # a size cap refuses the sweep now, not a point later
        save_request(resolved, jobs.runs)
        st.session_state.setdefault(MINE, set()).add(resolved.key())
        point_states(resolved)
    except ValueError as error:
        st.error(f"Not started: {plain(error)}", icon=":material/error:")
        return None
    st.session_state[SWEEP_KEY] = resolved.key()
    return resolved


def resume_sweep(sweep: SweepConfig) -> None:
    """Makes this session queue the sweep's missing points (a sweep someone else started, or interrupted)."""
    st.session_state.setdefault(MINE, set()).add(sweep.key())


def point_states(sweep: SweepConfig) -> list[PointState]:
    """Each point's state. For a sweep this session started, also queues every point that is neither stored
    nor has a job, until the visitor's queue is full: called on every poll, so the rest follow as earlier
    points finish. Other sweeps are only looked at: their unqueued points are "missing"."""
    from tieviz.experiments.runner import cached_summary
    from tieviz.jobs import LimitError

    jobs = manager()
    latest = {job.key: job for job in reversed(jobs.jobs())}  # newest first from jobs(): newest wins
    full = sweep.key() not in st.session_state.get(MINE, set())
    states = []
    for value, config in zip(sweep.values, sweep.points(), strict=True):
        job = latest.get(config.key())
        if job is None and cached_summary(config, jobs.runs) is not None:
            states.append(PointState(value, "stored"))
            continue
        if job is None and not full:
            try:
                job = jobs.submit(config, visitor(), trusted=trusted(), address=address())
            except LimitError:
                full = True
        if job is None:
            states.append(
                PointState(
                    value, "waiting" if sweep.key() in st.session_state.get(MINE, set()) else "missing"
                )
            )
        else:
            states.append(PointState(value, job.status, job.error))
    return states


def recorded_sweeps() -> list[SweepConfig]:
    """Every sweep recorded in this data folder, newest first."""
    return [sweep for _, sweep in list_sweeps(manager().runs)]
