"""The `managers` fixture: job managers that are shut down after each test."""

from __future__ import annotations

import pytest

from tieviz.jobs import JobManager


@pytest.fixture
def managers(monkeypatch):
    """Creates managers and shuts every one down after the test, so no worker outlives it."""
    monkeypatch.setenv("TIEVIZ_TORCH_THREADS", "1")  # workers share CI's two cores with the test
    made: list[JobManager] = []

    def make(*args, **kwargs) -> JobManager:
        made.append(JobManager(*args, **kwargs))
        return made[-1]

    yield make
    for manager in made:
        manager.shutdown()
