"""The example experiments a fresh install trains by itself: the toy preset, then the default one.

A visitor who arrives at an empty data folder should see the effect without a click: the first start
queues both examples through the ordinary job API (as visitor "examples"), so they land in the run store
like any experiment. Set TIEVIZ_EXAMPLES=0 to turn this off (the tests do); the Dockerfile trains them at
build time instead, with `python -m tieviz examples`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from tieviz.config import preset
from tieviz.env import env_int
from tieviz.experiments.catalog import list_experiments

if TYPE_CHECKING:
    from tieviz.jobs import Job, JobManager

EXAMPLES = ("toy", "demo")  # quick first, then the default experiment that shows the bias clearly
EXAMPLES_VISITOR = "examples"


def examples_enabled() -> bool:
    """TIEVIZ_EXAMPLES: 1 (default) trains the examples on a fresh install, 0 does not."""
    return env_int("TIEVIZ_EXAMPLES", 1) > 0


def is_fresh(root: Path, jobs: Iterable[object]) -> bool:
    """No finished experiment under root/runs and no job ever submitted: a first start."""
    return not list_experiments(Path(root) / "runs") and not list(jobs)


def start_examples(manager: JobManager) -> list[Job]:
    """Queues the examples, in order, when the manager's data folder is fresh; returns the jobs queued.

    A preset this site's limits refuse is skipped; the other still trains.
    """
    from tieviz.jobs import LimitError

    if not is_fresh(manager.root, manager.jobs()):
        return []
    queued = []
    for name in EXAMPLES:
        try:
            queued.append(manager.submit(preset(name), EXAMPLES_VISITOR))
        except (LimitError, ValueError):
            continue
    return queued


def example_jobs(jobs: Iterable[Job]) -> list[Job]:
    """The examples' jobs among `jobs`, in the order they were queued."""
    return sorted((j for j in jobs if EXAMPLES_VISITOR in j.visitors), key=lambda j: j.created_at)
