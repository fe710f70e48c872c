"""The bias over training of a real model: Table 1 for each of its step checkpoints against one untied model.

`compare_series(["step1000", "step2000", ...], against="untied")` (or one folder holding the step
checkpoints) compares every tied checkpoint with the same untied reference, whose two matrices are
prepared once for the whole series.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tieviz.analysis.alignment import prepare
from tieviz.analysis.measures import MEASURES
from tieviz.checkpoint_analysis.compare import (
    DEFAULT_K,
    DEFAULT_SHUFFLES,
    Progress,
    Tokens,
    _check_tokens,
    blas_threads,
    compare_aligned,
)
from tieviz.checkpoint_analysis.pair_record import PairComparison, json_safe
from tieviz.checkpoint_analysis.pairing import aligned_pair, open_checkpoint, resolve_checkpoint_dir
from tieviz.checkpoints.errors import CheckpointError

_STEP = re.compile(r"(?:step|checkpoint|ckpt|iter|global_step)[-_]?(\d+)", re.IGNORECASE)
_NUMBER = re.compile(r"(\d+)")


def step_of(path: Path) -> int:
    """The training step a checkpoint folder's name gives: "step1000", "checkpoint-500", "stage1-step20000"
    or, failing those, the last number in the name."""
    name = Path(path).name
    if match := _STEP.findall(name):
        return int(match[-1])
    if numbers := _NUMBER.findall(name):
        return int(numbers[-1])
    raise CheckpointError(f"The folder name '{name}' holds no step number (e.g. step1000, checkpoint-500).")


def _is_checkpoint(path: Path) -> bool:
    return (path / "config.json").is_file() or (path / "snapshots").is_dir() or path.suffix == ".zip"


def step_checkpoints(paths: Sequence[str | Path]) -> list[tuple[int, Path]]:
    """(step, path) sorted by step: the paths given, or the checkpoints inside one folder of them."""
    given = [Path(p) for p in paths]
    if len(given) == 1 and given[0].is_dir() and not _is_checkpoint(resolve_checkpoint_dir(given[0])):
        given = sorted(p for p in given[0].iterdir() if _is_checkpoint(p))
        if not given:
            raise CheckpointError(f"The folder {Path(paths[0]).name} holds no checkpoint folders or zips.")
    for path in given:
        if not path.exists():
            raise CheckpointError(f"'{path}' does not exist.")
    pairs = sorted((step_of(p), p) for p in given)
    steps = [s for s, _ in pairs]
    if len(set(steps)) != len(steps):
        repeated = sorted({s for s in steps if steps.count(s) > 1})
        raise CheckpointError(f"Several checkpoints give the same step ({repeated[0]}); pass one of each.")
    return pairs


@dataclass(frozen=True)
class SeriesPoint:
    step: int
    name: str
    comparison: PairComparison


@dataclass(frozen=True)
class BiasSeries:
    """Table 1 at each training step of the tied model against one untied reference."""

    against: str
    points: tuple[SeriesPoint, ...]

    @property
    def steps(self) -> list[int]:
        return [p.step for p in self.points]

    def values(self, measure: str, what: str) -> list[float]:
        """One number per step: what is "out", "in", "bias" or "chance"."""
        attribute = {"out": "out", "in": "inp", "bias": "bias", "chance": "chance"}[what]
        return [getattr(p.comparison.rows[measure], attribute) for p in self.points]

    def to_dict(self) -> dict[str, Any]:
        return json_safe(
            {
                "against": self.against,
                "points": [{"step": p.step, "name": p.name} | p.comparison.to_dict() for p in self.points],
            }
        )

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_csv(self) -> str:
        """One row per step: every measure's out, in, bias and chance floor, then the verdict."""
        out = io.StringIO()
        writer = csv.writer(out)
        columns = [f"{m}_{what}" for m in MEASURES for what in ("out", "in", "bias", "chance")]
        writer.writerow(["step", "checkpoint", "n_tokens", *columns, "verdict"])
        for p in self.points:
            numbers = [
                getattr(p.comparison.rows[m], a) for m in MEASURES for a in ("out", "inp", "bias", "chance")
            ]
            writer.writerow(
                [
                    p.step,
                    p.name,
                    p.comparison.n_tokens,
                    *(f"{v:.6f}" for v in numbers),
                    p.comparison.verdict.status,
                ]
            )
        return out.getvalue()


def compare_series(
    tied: Sequence[str | Path] | str | Path,
    against: str | Path,
    *,
    tokens: Tokens = "all",
    k: int = DEFAULT_K,
    shuffles: int = DEFAULT_SHUFFLES,
    seed: int = 0,
    progress: Progress | None = None,
) -> BiasSeries:
    """Table 1 of each tied step checkpoint (paths, or one folder of them) against the untied `against`.

    Steps come from the folder names (step1000, checkpoint-500, …) and order the series. The untied
    matrices are prepared once when every checkpoint shares the same tokens with it.
    """
    _check_tokens(tokens, k)
    if isinstance(shuffles, bool) or not isinstance(shuffles, int) or shuffles < 1:
        raise ValueError(f"the chance floor needs at least 1 shuffle, got {shuffles!r}")
    found = step_checkpoints([tied] if isinstance(tied, str | Path) else list(tied))
    if len(found) < 1:
        raise CheckpointError("The series needs at least one tied checkpoint.")
    points = []
    units = len(found) + 1  # the untied reference's preparation counts as one checkpoint
    with ExitStack() as stack:
        untied = open_checkpoint(against, stack)
        if untied.summary.tied:
            raise CheckpointError(
                f"The reference {Path(against).name} is tied; the series needs an untied one."
            )
        cache: dict[bytes, tuple] = {}
        for index, (step, path) in enumerate(found):
            with ExitStack() as inner:
                ckpt = open_checkpoint(path, inner)
                pair = aligned_pair(ckpt, untied, tokens=tokens, k=k)
                key = pair.untied_ids.tobytes()
                if key not in cache:
                    cache.clear()  # one untied preparation kept at a time

                    def prep_tick(fraction: float, which: int) -> None:
                        if progress:
                            progress("preparing the untied reference", (which + fraction) / 2 / units)

                    with blas_threads():
                        cache[key] = (
                            prepare(pair.untied_in, k, tick=lambda f: prep_tick(f, 0)),
                            prepare(pair.untied_out, k, tick=lambda f: prep_tick(f, 1)),
                        )
                untied_in, untied_out = cache[key]

                def tick(stage: str, fraction: float, index: int = index, step: int = step) -> None:
                    if progress:
                        progress(f"step {step}: {stage}", (1 + index + fraction) / units)

                comparison = compare_aligned(
                    pair,
                    untied_in,
                    untied_out,
                    k=k,
                    shuffles=shuffles,
                    seed=seed,
                    progress=tick,
                    names=(Path(path).name, Path(against).name),
                )
            points.append(SeriesPoint(step, Path(path).name, comparison))
    return BiasSeries(Path(against).name, tuple(points))
