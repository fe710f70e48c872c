"""tieviz.experiments.examples: a fresh data folder queues the toy example, then the default one; nothing else
does."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tieviz.config import preset
from tieviz.experiments.examples import (
    EXAMPLES_VISITOR,
    example_jobs,
    examples_enabled,
    is_fresh,
    start_examples,
)
from tieviz.jobs import LimitError


@dataclass
class FakeJob:
    id: str
    visitors: tuple
    created_at: float


@dataclass
class FakeManager:
    """Records what is submitted, through the same public methods the real JobManager has."""

    root: Path
    existing: list = field(default_factory=list)
    refuse: str | None = None  # a preset the site's limits refuse
    submitted: list = field(default_factory=list)

    def jobs(self):
        return list(self.existing)

    def submit(self, config, visitor="anonymous"):
        if config.preset == self.refuse:
            raise LimitError("too many steps")
        self.submitted.append((config.preset, visitor))
        return FakeJob(str(len(self.submitted)), (visitor,), float(len(self.submitted)))


def test_a_fresh_folder_queues_toy_then_the_default(tmp_path):
    manager = FakeManager(tmp_path)
    jobs = start_examples(manager)
    assert manager.submitted == [("toy", EXAMPLES_VISITOR), ("demo", EXAMPLES_VISITOR)]
    assert len(jobs) == 2


def test_an_earlier_job_or_experiment_means_not_fresh(tmp_path):
    assert start_examples(FakeManager(tmp_path, existing=[FakeJob("a", ("someone",), 1.0)])) == []
    (tmp_path / "runs" / "experiments").mkdir(parents=True)
    assert is_fresh(tmp_path, [])
    summary = {"experiment_key": "k", "config": preset("toy").to_dict(), "arms": {}}
    (tmp_path / "runs" / "experiments" / "k.json").write_text(json.dumps(summary))
    assert not is_fresh(tmp_path, [])
    manager = FakeManager(tmp_path)
    assert start_examples(manager) == [] and manager.submitted == []


def test_a_refused_preset_is_skipped_and_the_other_still_trains(tmp_path):
    manager = FakeManager(tmp_path, refuse="demo")
    start_examples(manager)
    assert manager.submitted == [("toy", EXAMPLES_VISITOR)]


def test_example_jobs_are_told_apart_and_in_order():
    jobs = [
        FakeJob("b", (EXAMPLES_VISITOR,), 2.0),
        FakeJob("x", ("v1",), 0.5),
        FakeJob("a", (EXAMPLES_VISITOR,), 1.0),
    ]
    assert [j.id for j in example_jobs(jobs)] == ["a", "b"]


@pytest.mark.parametrize(("raw", "on"), [("", True), ("1", True), ("0", False)])
def test_the_switch(monkeypatch, raw, on):
    monkeypatch.setenv("TIEVIZ_EXAMPLES", raw)
    assert examples_enabled() is on
