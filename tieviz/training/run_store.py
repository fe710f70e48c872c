"""The run store: one directory per trained arm, keyed by the hash of its config, written atomically.

Layout of a run directory `<root>/<key>/`:
    config.json, model.safetensors, generation_config.json   the Hugging Face checkpoint
    tokenizer.json, tokenizer_config.json, ...               the word-level tokenizer (AutoTokenizer)
    run.json        config, seed, versions, device, timings, final losses; "complete": true
    metrics.jsonl   one record per step (train_loss, grad_in, grad_out, grad_ratio, tokens/s, val_loss)
    tokens.npy      the corpus token stream (train then validation; run.json says where it splits)
    counts.npy      [V] token frequencies in the training split
    truth.npy       [V, V] exact log transition matrix (toy corpus only)
    checkpoints/step-NNNNNN.safetensors   W_E and W_U [V, d] at log-spaced steps
    analysis/       caches of derived results (maps, lens translators)

A run is trained in `<root>/.staging/<key>-<random>/` and renamed into place only once complete, so a
crash never leaves a directory that reads as finished, and a per-key lock stops two requests for the
same key from training it twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from tieviz.system.atomic import atomic_path

DEFAULT_ROOT = "runs"
ENV_ROOT = "TIEVIZ_RUNS"


def runs_root(explicit: str | Path | None = None) -> Path:
    """--runs-dir, else $TIEVIZ_RUNS, else ./runs."""
    return Path(explicit or os.environ.get(ENV_ROOT) or DEFAULT_ROOT)


def write_json_atomic(path: Path, data: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True))


def read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                break  # a torn last line of a run still being written
    return records


@dataclass(frozen=True)
class Run:
    """A complete run directory and lazy access to what is in it."""

    path: Path

    @cached_property
    def info(self) -> dict[str, Any]:
        return json.loads((self.path / "run.json").read_text())

    @property
    def key(self) -> str:
        return self.path.name

    @property
    def tied(self) -> bool:
        return bool(self.info["config"]["tied"])

    def metrics(self) -> list[dict]:
        return read_jsonl(self.path / "metrics.jsonl")

    def tokens(self) -> np.ndarray:
        return np.load(self.path / "tokens.npy")

    def counts(self) -> np.ndarray:
        return np.load(self.path / "counts.npy")

    def truth_log_probs(self) -> np.ndarray | None:
        path = self.path / "truth.npy"
        return np.load(path) if path.exists() else None

    def labels(self) -> list[str]:
        vocab = json.loads((self.path / "tokenizer.json").read_text())["model"]["vocab"]
        labels = [""] * len(vocab)
        for word, index in vocab.items():
            labels[index] = word
        return labels

    def checkpoints(self) -> list[tuple[int, Path]]:
        found = sorted(self.path.glob("checkpoints/step-*.safetensors"))
        return [(int(p.stem.split("-")[1]), p) for p in found]

    def embeddings(self, step: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(W_E, W_U) as [V, d] float32 arrays at a saved step (default: the final one)."""
        from safetensors.numpy import load_file

        steps = dict(self.checkpoints())
        chosen = max(steps) if step is None else step
        if chosen not in steps:
            raise ValueError(
                f"run {self.key} has no checkpoint at step {chosen}; saved steps: {sorted(steps)}"
            )
        tensors = load_file(str(steps[chosen]))
        return tensors["W_E"], tensors["W_U"]

    def analysis_dir(self, name: str) -> Path:
        path = self.path / "analysis" / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def load_model(self):  # -> transformers.PreTrainedModel; imported lazily to keep this module light
        from transformers import AutoModelForCausalLM

        from tieviz.training.model import quiet_transformers

        quiet_transformers()
        return AutoModelForCausalLM.from_pretrained(self.path, local_files_only=True).eval()


class RunStore:
    """Completed runs under a root directory; staging, locking and the atomic commit of new ones."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = runs_root(root)

    def path(self, key: str) -> Path:
        return self.root / key

    def is_complete(self, key: str) -> bool:
        info = self.path(key) / "run.json"
        if not info.exists():
            return False
        try:
            return bool(json.loads(info.read_text()).get("complete"))
        except (json.JSONDecodeError, OSError):
            return False

    def get(self, key: str) -> Run | None:
        return Run(self.path(key)) if self.is_complete(key) else None

    def list_runs(self) -> list[Run]:
        if not self.root.exists():
            return []
        return [
            Run(p)
            for p in sorted(self.root.iterdir())
            if not p.name.startswith(".") and self.is_complete(p.name)
        ]

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """An exclusive, cross-process lock for one key (released even if the holder dies)."""
        locks = self.root / ".locks"
        locks.mkdir(parents=True, exist_ok=True)
        with open(locks / f"{key}.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def staging(self, key: str) -> Iterator[Path]:
        """A private directory to build a run in; removed unless committed."""
        path = self.root / ".staging" / f"{key}-{uuid.uuid4().hex[:8]}"
        path.mkdir(parents=True)
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def clear_stale_staging(self, key: str) -> None:
        """Removes staging directories of a key left by a killed process; call only while holding its lock."""
        for path in (self.root / ".staging").glob(f"{key}-*"):
            shutil.rmtree(path, ignore_errors=True)

    def commit(self, staging: Path, key: str, info: dict[str, Any]) -> Run:
        """Marks the staged run complete and renames it into place in one step."""
        write_json_atomic(staging / "run.json", {**info, "complete": True})
        target = self.path(key)
        if self.is_complete(key):
            return Run(target)  # someone else finished it first; theirs is as good as ours
        if target.exists():
            shutil.rmtree(target)  # an incomplete leftover from a crash
        os.rename(staging, target)
        return Run(target)
