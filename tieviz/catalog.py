"""The data folder and the finished experiments in it, as the dashboard's picker lists them.

Plain file reads, no Streamlit: `tieviz.ui` caches these per server and draws the picker.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path


def data_root() -> Path:
    """$TIEVIZ_DATA, else ./data, as an absolute path: runs, jobs and uploads live in <data>/….

    Absolute because upload folders are compared with resolved paths; a relative ./data (the README's
    default) made every upload unreadable.
    """
    return Path(os.environ.get("TIEVIZ_DATA") or "data").resolve()


@dataclass(frozen=True)
class ExperimentEntry:
    """One finished experiment summary in the run store, as the picker lists it."""

    key: str
    path: Path
    preset: str
    corpus: str
    steps: int
    device: str
    finished: float  # file modification time, seconds since the epoch

    @property
    def label(self) -> str:
        when = time.strftime("%d %b %H:%M", time.localtime(self.finished))
        return f"{self.preset} · {self.corpus} · {self.steps} steps · {when} · {self.device}"


def list_experiments(runs_dir: Path) -> list[ExperimentEntry]:
    """Readable experiment summaries under <runs>/experiments, newest first; unreadable files are skipped."""
    folder = Path(runs_dir) / "experiments"
    entries = []
    for path in folder.glob("*.json") if folder.is_dir() else []:
        try:
            summary = json.loads(path.read_text())
            config = summary["config"]
            entries.append(
                ExperimentEntry(
                    key=summary["experiment_key"],
                    path=path,
                    preset=summary.get("preset", "custom"),
                    corpus=config["data"]["corpus"],
                    steps=int(config["train"]["steps"]),
                    device=summary.get("device", "?"),
                    finished=path.stat().st_mtime,
                )
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return sorted(entries, key=lambda e: (-e.finished, e.key))


def listing_stamp(runs_dir: Path) -> tuple[tuple[str, int], ...]:
    """(name, mtime in ns) of every summary under <runs>/experiments: changes whenever the listing may."""
    folder = Path(runs_dir) / "experiments"
    if not folder.is_dir():
        return ()
    return tuple(
        sorted((e.name, e.stat().st_mtime_ns) for e in os.scandir(folder) if e.name.endswith(".json"))
    )
