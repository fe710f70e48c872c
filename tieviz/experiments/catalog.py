"""The data folder and the finished experiments in it, as the dashboard's picker lists them.

File reads through `SummaryHeader`, no Streamlit: `tieviz.ui` caches these per server and draws the picker.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

from tieviz.config import PRESETS, ExperimentConfig
from tieviz.experiments.summary_record import SummaryHeader


def data_root() -> Path:
    """$TIEVIZ_DATA, else ./data, as an absolute path: runs, jobs and uploads live in <data>/….

    Absolute because upload folders are compared with resolved paths; a relative ./data (the README's
    default) made every upload unreadable.
    """
    return Path(os.environ.get("TIEVIZ_DATA") or "data").resolve()


SOURCES = {  # where an experiment came from, as the picker says it
    "example": "example",  # an example preset, unchanged (trained on a fresh install, or by anyone)
    "sweep": "sweep point",  # one point of a recorded sweep
    "yours": "trained here",  # anything else: a visitor's own settings
}
# Settings the picker's label names when they differ from the preset's: (part, field, how it reads).
LABELLED_SETTINGS = (
    ("data", "corpus", "corpus"),
    ("data", "vocab_size", "vocab"),
    ("model", "d_model", "width"),
    ("model", "n_layers", "layers"),
    ("model", "seq_len", "context"),
    ("train", "batch_size", "batch"),
    ("train", "lr", "lr"),
    ("top", "init", "init"),
    ("top", "data_order", "data order"),
    ("top", "top_n", "tokens"),
)


@dataclass(frozen=True)
class ExperimentEntry:
    """One finished experiment summary in the run store, as the picker lists it."""

    key: str
    path: Path
    header: SummaryHeader
    source: str  # a key of SOURCES
    finished: float  # file modification time, seconds since the epoch

    @property
    def device(self) -> str:
        return self.header.device

    @property
    def label(self) -> str:
        """'toy · example · α 5 · 200 steps · 5 seeds from 0 · 03 Dec 14:02': what tells entries apart."""
        config = self.header.config
        seeds = len(self.header.seeds)
        parts = [
            config.preset,
            SOURCES[self.source],
            f"α {config.alpha:g}",
            f"{config.train.steps:,} steps",
            f"{seeds} seed{'s' if seeds != 1 else ''} from {config.train.seed}" if seeds else "",
            *differences(config),
            time.strftime("%d %b %H:%M", time.localtime(self.finished)),
        ]
        return " · ".join(p for p in parts if p)


def differences(config: ExperimentConfig) -> list[str]:
    """The LABELLED_SETTINGS in which `config` differs from its preset, as 'width 64'."""
    if config.preset not in PRESETS:
        return []
    base = PRESETS[config.preset]
    out = []
    for part, name, words in LABELLED_SETTINGS:
        mine, theirs = (c if part == "top" else getattr(c, part) for c in (config, base))
        value = getattr(mine, name)
        if value != getattr(theirs, name):
            out.append(f"{words} {value:g}" if isinstance(value, float) else f"{words} {value}")
    return out


def source_of(config: ExperimentConfig, sweep_keys: set[str], key: str) -> str:
    """ "example" for an unchanged example preset, "sweep" for a sweep's point, else "yours"."""
    from tieviz.experiments.examples import EXAMPLES

    if config.preset in EXAMPLES and same_settings(config, PRESETS[config.preset]):
        return "example"
    return "sweep" if key in sweep_keys else "yours"


def same_settings(config: ExperimentConfig, preset: ExperimentConfig) -> bool:
    """Whether `config` is `preset` but for the device it resolved to (and a file's hash)."""
    unresolved = replace(config, train=replace(config.train, device=preset.train.device))
    return unresolved == preset


def list_experiments(runs_dir: Path) -> list[ExperimentEntry]:
    """Readable experiment summaries under <runs>/experiments, newest first; unreadable files are skipped."""
    folder = Path(runs_dir) / "experiments"
    sweep_keys = sweep_point_keys(Path(runs_dir))
    entries = []
    for path in folder.glob("*.json") if folder.is_dir() else []:
        try:
            header = SummaryHeader.read(path)
            source = source_of(header.config, sweep_keys, header.key)
            entries.append(ExperimentEntry(header.key, path, header, source, path.stat().st_mtime))
        except (OSError, ValueError):
            continue
    return sorted(entries, key=lambda e: (-e.finished, e.key))


def sweep_point_keys(runs_dir: Path) -> set[str]:
    """The experiment keys of every point of every sweep recorded under <runs>/sweeps."""
    if not (Path(runs_dir) / "sweeps").is_dir():
        return set()
    from tieviz.experiments.sweep import list_sweeps
    from tieviz.training.run_store import RunStore

    return {point.key() for _, sweep in list_sweeps(RunStore(runs_dir)) for point in sweep.points()}


def landing_entry(entries: list[ExperimentEntry]) -> ExperimentEntry | None:
    """The experiment a visitor sees first: the newest example or full experiment, else the newest of all.

    A sweep's points are single settings chosen to be compared along an axis (α = 10, say); opened on
    their own, without the sweep, they teach the wrong lesson to a class.
    """
    for entry in entries:
        if entry.source != "sweep":
            return entry
    return entries[0] if entries else None


def listing_stamp(runs_dir: Path) -> tuple[tuple[str, int], ...]:
    """(name, mtime in ns) of every summary under <runs>/experiments: changes whenever the listing may."""
    folder = Path(runs_dir) / "experiments"
    if not folder.is_dir():
        return ()
    return tuple(
        sorted((e.name, e.stat().st_mtime_ns) for e in os.scandir(folder) if e.name.endswith(".json"))
    )
