"""Limits for a shared deployment: jobs per visitor, and how big and how long anonymous runs may be.

A visitor who gave the host's secret token (TIEVIZ_HOST_TOKEN, compared in constant time) is trusted: they
skip the size caps, the FLOP budget and the time limit, but not the queue limit. A visitor id is never
proof of anything: it is a random name for one browser session. A cap of 0 turns that cap off: the caps are
off by default, for the local dashboard, and a hosted deployment turns them on (see the Dockerfile).
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass, fields

from tieviz.config import ARM_NAMES, ExperimentConfig
from tieviz.env import env_int, env_text
from tieviz.experiments.resources import estimate_params, run_store_bytes, training_bytes, training_flops

__all__ = [
    "LimitError",
    "Limits",
    "check_admission",
    "check_queue",
    "check_size",
    "estimate_params",
    "is_host_token",
]
ACTIVE = ("queued", "running")

HOST_TOKEN_ENV = "TIEVIZ_HOST_TOKEN"
MIN_TOKEN_CHARS = 16  # a shorter secret could be guessed by trying
log = logging.getLogger(__name__)


class LimitError(ValueError):
    """A request refused by a configured limit; the message says which and how to stay within it."""


@dataclass(frozen=True)
class Limits:
    max_queued_per_visitor: int = 3  # queued plus running jobs one visitor may have at once; 0 = no limit
    anon_max_steps: int = 0  # training steps per arm for untrusted visitors; 0 = no cap
    anon_max_params: int = 0  # estimated parameters of the largest arm; 0 = no cap
    anon_max_tflops: int = 0  # 10^12 FLOPs to train the three arms (`training_flops`); 0 = none
    anon_max_minutes: int = 0  # wall-clock minutes a job nobody trusted asked for may run; 0 = no limit
    anon_max_memory_mb: int = 0  # memory one training step may need (`training_bytes`), in MiB; 0 = none
    max_queued_per_address: int = 0  # queued plus running jobs of untrusted visitors from one address
    anon_max_active: int = 0  # queued plus running jobs of all untrusted visitors together; 0 = no limit
    anon_tflops_per_hour: int = 0  # 10^12 FLOPs untrusted visitors together may ask for in an hour
    anon_max_disk_mb: int = 0  # disk one untrusted experiment's runs may take (`run_store_bytes`), MiB
    runs_max_mb: int = 0  # the run store's size; past it the oldest untrusted experiments go (`disk`)
    jobs_max_mb: int = 0  # the job store's size; past it the oldest finished untrusted jobs go

    @classmethod
    def from_env(cls) -> Limits:
        """Each field from TIEVIZ_<FIELD IN CAPITALS>, e.g. TIEVIZ_ANON_MAX_STEPS (see the README)."""
        if env_text("TIEVIZ_TRUSTED_VISITORS"):
            log.warning("TIEVIZ_TRUSTED_VISITORS is ignored: anyone could type an id; set %s", HOST_TOKEN_ENV)
        return cls(**{f.name: env_int(f"TIEVIZ_{f.name.upper()}", f.default) for f in fields(cls)})


def host_token() -> str:
    """The host's secret from TIEVIZ_HOST_TOKEN ('' = nobody is trusted); too short a secret is refused."""
    token = env_text(HOST_TOKEN_ENV)
    if token and len(token) < MIN_TOKEN_CHARS:
        raise ValueError(f"{HOST_TOKEN_ENV} must be at least {MIN_TOKEN_CHARS} characters long.")
    return token


def is_host_token(given: str) -> bool:
    """Whether `given` is the host's token, compared in constant time; always False when none is set."""
    expected = host_token()
    return bool(expected) and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def check_size(config: ExperimentConfig, trusted: bool, limits: Limits) -> None:
    """Refuses runs beyond the anonymous caps; trusted visitors pass."""
    if trusted:
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
    tflops = training_flops(config) / 1e12
    if limits.anon_max_tflops and tflops > limits.anon_max_tflops:
        raise LimitError(
            f"training this experiment takes about {tflops:,.0f} TFLOPs (4 models × {steps:,} steps of "
            f"{config.train.batch_size} × {config.model.seq_len} tokens), above this site's budget of "
            f"{limits.anon_max_tflops:,}; choose fewer steps, a smaller batch or context, or a smaller model"
        )
    need_mb = training_bytes(config) / 2**20
    if limits.anon_max_memory_mb and need_mb > limits.anon_max_memory_mb:
        raise LimitError(
            f"one training step would need about {need_mb:,.0f} MiB of memory, above this site's limit of "
            f"{limits.anon_max_memory_mb:,} MiB; choose a smaller batch, context, width or vocabulary"
        )
    disk_mb = run_store_bytes(config) / 2**20
    if limits.anon_max_disk_mb and disk_mb > limits.anon_max_disk_mb:
        raise LimitError(
            f"its {len(ARM_NAMES) * config.seeds} trained models would keep about {disk_mb:,.0f} MiB on "
            f"disk, above this site's limit of {limits.anon_max_disk_mb:,} MiB; choose fewer seeds, a "
            "smaller width or vocabulary"
        )


def check_queue(active: int, visitor: str, limits: Limits) -> None:
    """Refuses a new job when the visitor already has `active` queued or running jobs at the limit."""
    if limits.max_queued_per_visitor and active >= limits.max_queued_per_visitor:
        raise LimitError(
            f"{visitor} already has {active} experiments queued or running (the limit is "
            f"{limits.max_queued_per_visitor}); wait for one to finish or cancel one"
        )


def check_admission(
    states: list[dict], source: str, trusted: bool, tflops: float, limits: Limits, now: float
) -> None:
    """Refuses a new untrusted job over the caps a stranger cannot multiply with fresh sessions.

    A visitor id is one browser session, and a reload makes a new one; so besides the per-visitor limit
    (`check_queue`) this counts per `source` (the address the request came from), across all untrusted
    visitors (queued plus running), and the FLOPs untrusted visitors asked for in the last hour. Every
    job kind counts. Trusted visitors (the host's token) pass.
    """
    if trusted:
        return
    untrusted = [s for s in states if not s.get("trusted")]
    active = [s for s in untrusted if s["status"] in ACTIVE and "cancel_requested_at" not in s]
    if limits.max_queued_per_address:
        mine = sum(1 for s in active if s.get("source") == source)
        if mine >= limits.max_queued_per_address:
            raise LimitError(
                f"your address already has {mine} jobs queued or running (the limit is "
                f"{limits.max_queued_per_address}, whichever tab or session asked); wait for one to finish"
            )
    if limits.anon_max_active and len(active) >= limits.anon_max_active:
        raise LimitError(
            f"this site is busy: {len(active)} jobs from visitors are queued or running, its limit; "
            "try again in a few minutes"
        )
    if limits.anon_tflops_per_hour:
        recent = [s for s in untrusted if now - s["created_at"] < 3600 and _counts_as_work(s)]
        used = sum(float(s.get("tflops") or 0.0) for s in recent)
        if used + tflops > limits.anon_tflops_per_hour:
            oldest = min((s["created_at"] for s in recent), default=now)
            wait = max(1, round((oldest + 3600 - now) / 60))
            raise LimitError(
                f"visitors have asked this site for {used:,.0f} TFLOPs of training in the last hour, and "
                f"this one needs {tflops:,.1f} more, over its hourly budget of "
                f"{limits.anon_tflops_per_hour:,}; try again in about {wait} minutes"
            )


def _counts_as_work(state: dict) -> bool:
    """A job cancelled before it started cost nothing; every other one counts against the hourly budget."""
    return not (state["status"] == "cancelled" and not state.get("started_at"))
