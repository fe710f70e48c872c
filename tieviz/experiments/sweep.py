"""Sweeps: one experiment per value of one setting (α, width, depth or steps), and the bias along it.

A sweep is a base `ExperimentConfig`, an axis and its values. Each point is an ordinary experiment, so
every (point, arm, seed) is an ordinary cached run: an α sweep trains each seed's tied and untied models
once (their configs do not depend on α) and only the scaled arm per point, and a sweep that overlaps an
earlier one reuses its runs.

sweep.json (`sweep_record`) holds, per point, the bias of the swept model over seeds under these names:
    bias.{lin_cos,proc_cos,cka,mknn}          out − in score; α axis: the scaled arm at that α (at α = 1 it
                                              is the tied model); other axes: the tied arm
    score.{measure}_{out,in}                  the two scores behind each bias, same arm
    grad_ratio.tied_early (and, α axis, grad_ratio.scaled_early)
with the point's chance floors and same-recipe baseline (scores, per measure), and the trend verdict.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tieviz.analysis.measures import MEASURES
from tieviz.analysis.trends import trend_verdict
from tieviz.config import ExperimentConfig, config_hash
from tieviz.error_lines import error_line
from tieviz.experiments.summary_record import Summary
from tieviz.training.run_store import RunStore, write_json_atomic

SWEEP_VERSION = 1
AXES = {  # axis -> how the pages and captions name it
    "alpha": "α (input-gradient scale)",
    "d_model": "width (d_model)",
    "n_layers": "layers",
    "steps": "training steps",
}
LOG_AXES = ("alpha", "d_model", "steps")  # drawn on a log axis: their values are usually doubled

# (point index, phase, done, total, metrics): the experiment's progress, tagged with the point.
SweepProgress = Callable[[int, str, int, int, dict], None]


@dataclass(frozen=True)
class SweepConfig:
    """A base experiment and the values of one axis; values are checked, deduplicated and sorted."""

    base: ExperimentConfig
    axis: str
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", parse_values(self.axis, self.values))

    def point(self, value: float) -> ExperimentConfig:
        """The experiment at one value of the axis; a width keeps the head count dividing it."""
        base = self.base
        if self.axis == "alpha":
            return replace(base, alpha=float(value))
        if self.axis == "d_model":
            width = int(value)
            heads = max(h for h in range(1, base.model.n_heads + 1) if width % h == 0)
            return replace(base, model=replace(base.model, d_model=width, n_heads=heads))
        if self.axis == "n_layers":
            return replace(base, model=replace(base.model, n_layers=int(value)))
        return replace(base, train=replace(base.train, steps=int(value)))

    def points(self) -> list[ExperimentConfig]:
        return [self.point(v) for v in self.values]

    def key(self) -> str:
        """Hash of the base experiment (its key: resolve it first), the axis and the values."""
        return config_hash({"base": self.base.key(), "axis": self.axis, "values": list(self.values)})

    def to_dict(self) -> dict[str, Any]:
        return {"axis": self.axis, "values": list(self.values), "base": self.base.to_dict()}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> SweepConfig:
        return cls(ExperimentConfig.from_dict(raw["base"]), raw["axis"], tuple(raw["values"]))


def parse_values(axis: str, values) -> tuple[float, ...]:
    """The axis's values as numbers, sorted and without repeats; ValueError naming what is wrong.

    Accepts a sequence of numbers or a comma-separated string ("0.5,1,2").
    """
    if axis not in AXES:
        raise ValueError(f"unknown sweep axis {axis!r}; choose one of {', '.join(AXES)}")
    if isinstance(values, str):
        values = [v for v in (part.strip() for part in values.split(",")) if v]
    parsed = []
    for raw in values:
        try:
            number = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"{AXES[axis]} values must be numbers (got {raw!r})") from None
        if axis == "alpha":
            if not number > 0 or number == float("inf"):
                raise ValueError(f"α values must be positive and finite (got {raw!r})")
            parsed.append(number)
        else:
            if number != int(number) or number < 1:
                raise ValueError(f"{AXES[axis]} values must be whole numbers of at least 1 (got {raw!r})")
            parsed.append(int(number))
    if not parsed:
        raise ValueError(f"a sweep needs at least one value of {AXES[axis]}")
    return tuple(sorted(set(parsed)))


def sweeps_dir(store: RunStore) -> Path:
    return store.root / "sweeps"


def sweep_path(store: RunStore, key: str) -> Path:
    """Where the record of the (resolved) sweep with this key is stored."""
    return sweeps_dir(store) / f"{key}.json"


def swept_arm(axis: str) -> str:
    """The arm whose bias a sweep follows: the scaled arm along α, the tied arm along scale."""
    return "scaled" if axis == "alpha" else "tied"


def point_record(sweep: SweepConfig, value: float, summary: Summary) -> dict[str, Any]:
    """One point of sweep.json from its experiment's summary."""
    arm = swept_arm(sweep.axis)
    stats = {}
    for m in MEASURES:
        stats[f"bias.{m}"] = summary.stats[f"bias.{arm}.{m}"]
        for side in ("out", "in"):
            stats[f"score.{m}_{side}"] = summary.stats[f"score.{arm}.{m}_{side}"]
    ratios = ("tied_early", "scaled_early") if sweep.axis == "alpha" else ("tied_early",)
    for name in ratios:
        stats[f"grad_ratio.{name}"] = summary.stats[f"grad_ratio.{name}"]
    model = summary.config.model
    return {
        sweep.axis: value,
        "experiment_key": summary.experiment_key,
        "d_model": model.d_model,
        "n_heads": model.n_heads,
        "n_layers": model.n_layers,
        "steps": summary.config.train.steps,
        "seeds": summary.seeds,
        "stats": {name: stat.to_dict() for name, stat in stats.items()},
        "floors": {m: stat.to_dict() for m, stat in summary.floors.items()},
        "baseline": {m: stat.to_dict() for m, stat in summary.baseline.items()},
        "train_seconds": summary.train_seconds,
    }


def sweep_record(sweep: SweepConfig, summaries: dict[float, Summary]) -> dict[str, Any]:
    """sweep.json from the summaries of the points finished so far (value -> summary)."""
    points = [point_record(sweep, v, summaries[v]) for v in sweep.values if v in summaries]
    verdict = trend_verdict(sweep.axis, points)
    return {
        "version": SWEEP_VERSION,
        "key": sweep.key(),
        **sweep.to_dict(),
        "arm": swept_arm(sweep.axis),
        "complete": len(points) == len(sweep.values),
        "points": points,
        "verdict": {"status": verdict.status, "text": verdict.text},
    }


def resolve_sweep(sweep: SweepConfig) -> SweepConfig:
    """The sweep with its base resolved ("auto" device, file hash), so its key names what really runs."""
    from tieviz.experiments.runner import resolve

    return replace(sweep, base=resolve(sweep.base))


def run_sweep(
    base: ExperimentConfig,
    axis: str,
    values,
    store: RunStore,
    progress: SweepProgress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """Runs (or fetches) the experiment of every point, writes <runs>/sweeps/<key>.json, returns it."""
    from tieviz.experiments.runner import run_experiment

    sweep = resolve_sweep(SweepConfig(base, axis, values))
    save_request(sweep, store)
    summaries = {}
    for index, (value, config) in enumerate(zip(sweep.values, sweep.points(), strict=True)):

        def point_progress(phase: str, done: int, total: int, metrics: dict, index: int = index) -> None:
            if progress is not None:
                progress(index, phase, done, total, metrics)

        summaries[value] = run_experiment(config, store, point_progress, should_stop)
    record = sweep_record(sweep, summaries)
    write_json_atomic(sweep_path(store, sweep.key()), record)
    return record


def save_request(sweep: SweepConfig, store: RunStore) -> Path:
    """Records a (resolved) sweep before its points finish, so it can be found again while it runs."""
    path = sweep_path(store, sweep.key())
    if not path.exists():
        write_json_atomic(path, sweep_record(sweep, {}))
    return path


def collect_sweep(sweep: SweepConfig, store: RunStore) -> dict[str, Any]:
    """The sweep's record from the points whose experiments are stored now; stored once complete."""
    from tieviz.experiments.runner import cached_summary

    summaries = {}
    for value, config in zip(sweep.values, sweep.points(), strict=True):
        if (summary := cached_summary(config, store)) is not None:
            summaries[value] = summary
    record = sweep_record(sweep, summaries)
    path = sweep_path(store, sweep.key())
    if record["complete"] and not _stored_complete(path):  # once: pages call this on every poll
        write_json_atomic(path, record)
    return record


def read_sweep(path: Path) -> dict[str, Any]:
    """A sweep.json record (`sweep_record`), refused in one sentence naming the file when it is not one."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path.name} in {path.parent.name} cannot be read ({error_line(error)})") from None
    if not isinstance(record, dict) or not isinstance(record.get("points"), list) or "axis" not in record:
        raise ValueError(f"{path.name} in {path.parent.name} is not a tieviz sweep (no axis and points)")
    return record


def _stored_complete(path: Path) -> bool:
    try:
        return bool(json.loads(path.read_text()).get("complete"))
    except (OSError, ValueError, AttributeError):
        return False


def list_sweeps(store: RunStore) -> list[tuple[Path, SweepConfig]]:
    """Recorded sweeps, newest first; unreadable files are skipped."""
    folder = sweeps_dir(store)
    found = []
    for path in sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True):
        try:
            found.append((path, SweepConfig.from_dict(json.loads(path.read_text()))))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return found


def sweep_rows(record: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat row per (point, stat) with mean, interval and per-seed values: the sweep's CSV."""
    rows = []
    axis = record["axis"]
    for point in record["points"]:
        for section, prefix in (("stats", ""), ("floors", "floor."), ("baseline", "baseline.")):
            for name, stat in point[section].items():
                label = prefix + name
                rows.append(
                    {
                        axis: point[axis],
                        "stat": label,
                        "mean": stat["mean"],
                        "ci_low": stat["ci_low"],
                        "ci_high": stat["ci_high"],
                        "per_seed": " ".join(f"{v:.6g}" for v in stat["per_seed"]),
                    }
                )
    return rows
