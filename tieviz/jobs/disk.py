"""Disk under control: caps on the run store and the job store, the oldest untrusted work going first.

One arm within a hosted site's other caps was ~650 MiB, a 20-seed anonymous job ~39 GB, and nothing was
ever removed. The dispatcher calls `enforce_disk_caps` after each job ends. Only what untrusted visitors
asked for is ever removed: an experiment some trusted visitor (the host's token), the examples or an
active job also wants is kept, and so is every run no job names (the host's own, from the CLI).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from tieviz.experiments.examples import EXAMPLES_VISITOR
from tieviz.jobs.schema import ACTIVE
from tieviz.jobs.store import JobStore
from tieviz.system.disk_usage import folder_bytes

log = logging.getLogger(__name__)


def _untrusted(state: dict) -> bool:
    return not state.get("trusted") and EXAMPLES_VISITOR not in state["visitors"]


def _age(state: dict) -> float:
    """When a job ended (when it was made, if it never did): the oldest go first."""
    finished = state.get("finished_at")
    return state["created_at"] if finished is None else finished


def _run_keys(state: dict) -> list[str]:
    """The run keys of an experiment job's resolved config (every arm and seed)."""
    from tieviz.config import ExperimentConfig
    from tieviz.experiments.runner import arm_seeds

    config = ExperimentConfig.from_dict(state["config"])
    return [config.arm(name, seed).key() for name, seed in arm_seeds(config)]


def enforce_disk_caps(root: Path, jobs: JobStore, runs_max_bytes: int, jobs_max_bytes: int) -> list[str]:
    """Removes the oldest untrusted experiments past the run store's cap, then the oldest finished untrusted
    jobs past the job store's; returns the ids of the jobs removed. A cap of 0 is off."""
    from tieviz.experiments.runner import experiment_path
    from tieviz.training.run_store import RunStore

    removed: list[str] = []
    states = jobs.all()
    experiments = [s for s in states if s.get("kind", "experiment") == "experiment"]
    runs = RunStore(Path(root) / "runs")
    if runs_max_bytes and runs.root.is_dir() and (total := folder_bytes(runs.root)) > runs_max_bytes:
        keep: set[str] = set()
        for state in experiments:
            if not _untrusted(state) or state["status"] in ACTIVE:
                keep.update(_run_keys(state))
        candidates = sorted(
            (s for s in experiments if _untrusted(s) and s["status"] not in ACTIVE),
            key=_age,
        )
        for state in candidates:
            if total <= runs_max_bytes:
                break
            for key in _run_keys(state):
                if key not in keep and runs.path(key).is_dir():
                    total -= folder_bytes(runs.path(key))
                    shutil.rmtree(runs.path(key), ignore_errors=True)
            summary = experiment_path(runs, state["key"])
            if summary.exists() and not any(s["key"] == state["key"] and not _untrusted(s) for s in states):
                summary.unlink(missing_ok=True)
            shutil.rmtree(jobs.dir(state["id"]), ignore_errors=True)  # its results are gone with it
            removed.append(state["id"])
            log.warning("tieviz: removed the runs of job %s to keep the run store under its cap", state["id"])
    if jobs_max_bytes and (total := folder_bytes(jobs.root)) > jobs_max_bytes:
        finished = sorted(
            (s for s in jobs.all() if _untrusted(s) and s["status"] not in ACTIVE),
            key=_age,
        )
        for state in finished:
            if total <= jobs_max_bytes:
                break
            total -= folder_bytes(jobs.dir(state["id"]))
            shutil.rmtree(jobs.dir(state["id"]), ignore_errors=True)
            removed.append(state["id"])
    return removed
