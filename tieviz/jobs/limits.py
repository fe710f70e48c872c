"""Limits for a shared deployment: how many jobs one visitor may queue, and how big anonymous runs may be.

Visitors named in `trusted` (for example an admin) skip the size caps but not the queue limit. A cap of 0
turns that cap off: the size caps are off by default, for the local dashboard, and a hosted deployment turns
them on (the Dockerfile sets TIEVIZ_ANON_MAX_STEPS=2000 and TIEVIZ_ANON_MAX_PARAMS=20000000).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tieviz.config import ExperimentConfig
from tieviz.env import env_int, env_text
from tieviz.estimate import estimate_params

__all__ = ["LimitError", "Limits", "check_queue", "check_size", "estimate_params"]


class LimitError(ValueError):
    """A request refused by a configured limit; the message says which and how to stay within it."""


@dataclass(frozen=True)
class Limits:
    max_queued_per_visitor: int = 3  # queued plus running jobs one visitor may have at once; 0 = no limit
    anon_max_steps: int = 0  # training steps per arm for visitors not in `trusted`; 0 = no cap
    anon_max_params: int = 0  # estimated parameters of the largest arm; 0 = no cap
    trusted: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_env(cls) -> Limits:
        """From TIEVIZ_MAX_QUEUED_PER_VISITOR, _ANON_MAX_STEPS, _ANON_MAX_PARAMS and _TRUSTED_VISITORS."""
        trusted = env_text("TIEVIZ_TRUSTED_VISITORS")
        return cls(
            max_queued_per_visitor=env_int("TIEVIZ_MAX_QUEUED_PER_VISITOR", cls.max_queued_per_visitor),
            anon_max_steps=env_int("TIEVIZ_ANON_MAX_STEPS", cls.anon_max_steps),
            anon_max_params=env_int("TIEVIZ_ANON_MAX_PARAMS", cls.anon_max_params),
            trusted=frozenset(name.strip() for name in trusted.split(",") if name.strip()),
        )


def check_size(config: ExperimentConfig, visitor: str, limits: Limits) -> None:
    """Refuses runs beyond the anonymous caps; trusted visitors pass."""
    if visitor in limits.trusted:
        return
    steps = config.train.steps
    if limits.anon_max_steps and steps > limits.anon_max_steps:
        raise LimitError(
            f"{steps} training steps is above this site's limit of {limits.anon_max_steps}; "
            "choose fewer steps or run tieviz on your own machine"
        )
    params = estimate_params(config)
    if limits.anon_max_params and params > limits.anon_max_params:
        raise LimitError(
            f"this model has about {params:,} parameters, above this site's limit of "
            f"{limits.anon_max_params:,}; choose a smaller d_model, fewer layers or a smaller vocabulary"
        )


def check_queue(active: int, visitor: str, limits: Limits) -> None:
    """Refuses a new job when the visitor already has `active` queued or running jobs at the limit."""
    if limits.max_queued_per_visitor and active >= limits.max_queued_per_visitor:
        raise LimitError(
            f"{visitor} already has {active} experiments queued or running (the limit is "
            f"{limits.max_queued_per_visitor}); wait for one to finish or cancel one"
        )
