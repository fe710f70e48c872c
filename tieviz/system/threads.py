"""Torch (and BLAS) threads per training or checkpoint job: one for small models, never more than free cores.

Torch starts one intra-op thread per core. On a busy host that oversubscribes the CPU: two toy trainings
side by side on two cores, each spinning two threads, took 27.9 times as long as one alone, where the two
cores should have made it about 1x. Small models gain nothing from a second thread anyway (their matrices
are too small to split), so they get one; a larger model gets the cores nobody else is using.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from tieviz.env import env_int

THREADS_ENV = "TIEVIZ_TORCH_THREADS"
SMALL_MODEL_PARAMS = 5_000_000  # below this a step is too small to split across threads


def host_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def free_cores(cores: int | None = None, load: float | None = None) -> int:
    """Cores not already kept busy by other processes: cores minus the one-minute load average, at least 1."""
    cores = host_cores() if cores is None else cores
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):
            load = 0.0
    return max(1, min(cores, cores - round(load)))


def choose_threads(params: int, most: int | None = None, free: int | None = None) -> int:
    """Intra-op threads for a model of `params` parameters: 1 when small, else the free cores, at most `most`.

    TIEVIZ_TORCH_THREADS, when set, wins (a host who measured their machine knows best).
    """
    forced = env_int(THREADS_ENV, 0)
    if forced:
        return forced
    if params < SMALL_MODEL_PARAMS:
        return 1
    threads = free_cores() if free is None else free
    return max(1, min(threads, most) if most else threads)


_first_setting: list[int] = []  # torch's thread count before this module first changed it


def _threads_for_params(params: int) -> int:
    """`choose_threads` under the ceiling of torch's setting before the first call: a job worker's share of
    the cores, or every core in a fresh process (a sweep trains several sizes in one process, so the first
    choice must not stick)."""
    import torch

    if not _first_setting:
        _first_setting.append(torch.get_num_threads())
    return choose_threads(params, most=_first_setting[0])


def use_threads_for(config) -> int:
    """Sets torch's intra-op threads for training `config` in this process; returns the number chosen."""
    import torch

    from tieviz.experiments.resources import estimate_params

    threads = _threads_for_params(estimate_params(config))
    torch.set_num_threads(threads)
    return threads


@contextlib.contextmanager
def threads_for_work(params: int) -> Iterator[int]:
    """Torch's threads and NumPy's BLAS threads for work on `params` parameters, chosen as for training, for
    the block (both restored after). Checkpoint work runs its products in NumPy as well as torch: a
    comparison beside a training on two cores must not spin two threads of each against it."""
    import torch
    from threadpoolctl import threadpool_limits

    threads = _threads_for_params(params)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads, user_api="blas"):
            yield threads
    finally:
        torch.set_num_threads(before)
