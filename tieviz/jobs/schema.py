"""The shape of a job's state.json, checked as a whole: every field, and the config of its kind.

A state that passed a check of its top-level fields still took the Train page down for every visitor:
`config: {"seeds": 1}` is a dict, and the page read `config["train"]`. So a state is valid only when every
field a reader uses has its type, and an experiment's config is one `ExperimentConfig.from_dict` accepts
with every value of the type its dataclass declares. Anything else is set aside by the store.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from typing import Any

from tieviz.config import DataConfig, ExperimentConfig, ModelConfig, TrainConfig

ACTIVE: tuple[str, ...] = ("queued", "running")
FINAL: tuple[str, ...] = ("done", "failed", "cancelled", "interrupted")
STATUSES = (*ACTIVE, *FINAL)
KINDS = ("experiment", "checkpoint")
NUMBER = (int, float)
_NONE = type(None)
NUMERIC_METRICS = ("train_loss", "val_loss", "grad_ratio", "step", "seed")  # the Train page formats these
# field: (accepted types, required); a bool is never accepted for a number
FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "id": ((str,), True),
    "key": ((str,), True),
    "config": ((dict,), True),
    "status": ((str,), True),
    "visitors": ((list,), True),
    "created_at": (NUMBER, True),
    "cancelled_by": ((list,), False),
    "phase": ((str, _NONE), False),
    "step": ((int,), False),
    "total": ((int,), False),
    "latest": ((dict,), False),
    "error": ((str, _NONE), False),
    "started_at": ((*NUMBER, _NONE), False),
    "finished_at": ((*NUMBER, _NONE), False),
    "summary_path": ((str, _NONE), False),
    "seed_index": ((int,), False),
    "kind": ((str,), False),
    "trusted": ((bool,), False),
    "source": ((str,), False),
    "tflops": (NUMBER, False),
    "cancel_reason": ((str, _NONE), False),
    "worker_pid": ((int, _NONE), False),
    "gpu": ((int, _NONE), False),
}
_SECTIONS = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}


def _is(value: Any, accepted: tuple[type, ...]) -> bool:
    if isinstance(value, bool) and bool not in accepted:
        return False
    return isinstance(value, accepted)


def _hint_accepts(value: Any, hint: Any) -> bool:
    """Whether `value` (from JSON) fits a dataclass field's type hint: int, float, str, bool, X | None."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return any(_hint_accepts(value, part) for part in typing.get_args(hint))
    if hint is _NONE or hint is None:
        return value is None
    if hint is float:
        return _is(value, NUMBER)
    if hint in (int, str, bool):
        return _is(value, (hint,))
    return True  # a hint this schema does not know (none today): from_dict decides


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """The dataclass's field types (resolving them is slow, and every listing checks every state)."""
    return typing.get_type_hints(cls)


def _section_problem(raw: Any, cls: type) -> str | None:
    if not isinstance(raw, dict):
        return f"{cls.__name__} is not an object"
    hints = _hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    if unknown := set(raw) - names:
        return f"{cls.__name__} has unknown fields {sorted(unknown)}"
    for name, value in raw.items():
        if not _hint_accepts(value, hints[name]):
            return f"{cls.__name__}.{name} is {value!r}"
    return None


def experiment_config_problem(raw: dict) -> str | None:
    """Why `raw` is not an experiment config this version wrote, or None."""
    hints = _hints(ExperimentConfig)
    for name, cls in _SECTIONS.items():
        if (problem := _section_problem(raw.get(name), cls)) is not None:
            return problem
    for name in ("preset", "alpha", "top_n", "bigram_k", "seeds", "init"):
        if name in raw and not _hint_accepts(raw[name], hints[name]):
            return f"config.{name} is {raw[name]!r}"
    try:
        ExperimentConfig.from_dict(raw)
    except (KeyError, TypeError, ValueError) as error:
        return f"config does not load ({type(error).__name__}: {error})"
    return None


def state_problem(state: Any, job_id: str) -> str | None:
    """Why `state` is not a job state this version wrote (corrupt, foreign, hand-edited), or None."""
    if not isinstance(state, dict):
        return "not an object"
    if state.get("id") != job_id:
        return f"its id is not {job_id!r}"
    for name, (accepted, required) in FIELDS.items():
        if name not in state:
            if required:
                return f"{name} is missing"
            continue
        if not _is(state[name], accepted):
            return f"{name} is {state[name]!r}"
    if state["status"] not in STATUSES:
        return f"status is {state['status']!r}"
    if not state["visitors"] or not all(isinstance(v, str) for v in state["visitors"]):
        return "visitors is not a list of ids"
    if not all(isinstance(v, str) for v in state.get("cancelled_by", [])):
        return "cancelled_by is not a list of ids"
    if (kind := state.get("kind", "experiment")) not in KINDS:
        return f"kind is {kind!r}"
    latest = state.get("latest") or {}
    if any(not _is(value, (*NUMBER, str, _NONE)) for value in latest.values()):
        return "latest holds a value that is neither a number nor a word"
    if any(not _is(latest.get(name), (*NUMBER, _NONE)) for name in NUMERIC_METRICS):
        return "latest holds a metric that is not a number"
    if kind == "experiment":
        return experiment_config_problem(state["config"])
    if not isinstance(state["config"].get("task"), str):
        return "a checkpoint job's config has no task"
    return None
