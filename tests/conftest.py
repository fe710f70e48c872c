"""Shared fixtures: tiny configurations that train in seconds on a CPU."""

from __future__ import annotations

import pytest
import torch

from tieviz.config import ExperimentConfig, preset
from tieviz.training.run_store import RunStore

torch.set_num_threads(1)  # tests are small; one thread avoids oversubscribing CI's two cores


@pytest.fixture
def tiny_config() -> ExperimentConfig:
    """The toy preset cut down to a few steps: enough to exercise every path, not to learn much."""
    return preset(
        "toy", steps=12, batch_size=8, d_model=16, n_heads=2, toy_tokens=8_000, device="cpu", seeds=1
    )


@pytest.fixture
def store(tmp_path) -> RunStore:
    return RunStore(tmp_path / "runs")


@pytest.fixture(scope="session")
def tiny_experiment(tmp_path_factory) -> tuple[ExperimentConfig, RunStore, dict]:
    """One tiny trained experiment of two seeds, shared by the tests that only read it."""
    from tieviz.experiments.runner import run_experiment

    config = preset(
        "toy", steps=12, batch_size=8, d_model=16, n_heads=2, toy_tokens=8_000, device="cpu", seeds=2
    )
    shared_store = RunStore(tmp_path_factory.mktemp("shared") / "runs")
    return config, shared_store, run_experiment(config, shared_store)
