"""Checkpoints a host lists on its own disk (TIEVIZ_MODELS), so big models need no upload.

TIEVIZ_MODELS holds folders separated by the platform's path separator (":" on Linux). Each is either a
checkpoint folder (it holds config.json) or a folder of checkpoint folders (one level down, e.g. a
model's step checkpoints). Visitors pick from these by name; a visitor never types a server path.
The host's files are read in place and never changed; analyses cache under <data>/host_models/.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from tieviz.checkpoint_analysis import series
from tieviz.checkpoints.errors import CheckpointError
from tieviz.env import env_text

MODELS_ENV = "TIEVIZ_MODELS"
CACHE = "host_models"


@dataclass(frozen=True)
class HostModel:
    """A checkpoint folder the host listed: shown by `name`, read from `checkpoint`."""

    name: str  # what the page shows: the folder's name, under its listed parent's when one level down
    checkpoint: Path
    data: Path  # the data folder, for caches

    @property
    def id(self) -> str:
        """A stable id for session state and cache keys: never the path itself."""
        return "host-" + hashlib.sha256(str(self.checkpoint).encode("utf-8")).hexdigest()[:12]

    def cache_dir(self, name: str) -> Path:
        """<data>/host_models/<id>/analysis/<name>, created on demand."""
        path = Path(self.data) / CACHE / self.id / "analysis" / name
        path.mkdir(parents=True, exist_ok=True)
        return path


def _is_checkpoint(folder: Path) -> bool:
    return folder.is_dir() and (folder / "config.json").is_file()


def host_models(data: Path) -> list[HostModel]:
    """The checkpoints TIEVIZ_MODELS lists, in the order listed (subfolders by name); [] when unset.

    A listed path that does not exist or holds no checkpoint is skipped: the page shows what is there.
    """
    found: list[HostModel] = []
    for raw in env_text(MODELS_ENV).split(os.pathsep):
        if not raw.strip():
            continue
        folder = Path(raw.strip()).expanduser().resolve()
        if _is_checkpoint(folder):
            found.append(HostModel(folder.name, folder, Path(data)))
        elif folder.is_dir():
            for sub in sorted(folder.iterdir(), key=lambda p: (step_of(p.name) or 0, p.name)):
                if _is_checkpoint(sub):
                    found.append(HostModel(f"{folder.name}/{sub.name}", sub.resolve(), Path(data)))
    return found


def find_host_model(data: Path, model_id: str) -> HostModel | None:
    """The listed checkpoint with this id, or None (the host's list changed, or the id is not one)."""
    return next((m for m in host_models(data) if m.id == model_id), None)


def step_of(name: str) -> int | None:
    """The training step a checkpoint's name states, by the CLI's rule (`series.step_of`: "step1000",
    "checkpoint-500", else the last number); None when it states none: the page then keeps the order chosen.
    """
    try:
        return series.step_of(Path(name))
    except CheckpointError:
        return None
