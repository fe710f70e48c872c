"""Caps a stranger cannot multiply: per address, across all visitors, FLOPs per hour, and fair share."""

from __future__ import annotations

import secrets
import time

import pytest

from tests.jobs.helpers import tiny
from tieviz.jobs import LimitError, Limits
from tieviz.jobs.store import queue_order

ADDRESS = "203.0.113.7"


def fresh() -> str:
    """A new browser session's visitor id (a reload makes one)."""
    return secrets.token_hex(8)


def test_200_fresh_sessions_of_one_address_queue_at_most_the_cap(tmp_path, managers):
    """Issue 18, case 5: six sessions of one person queued 6 jobs under a limit of 1; 200 fresh ids 200."""
    manager = managers(
        tmp_path, concurrency=0, limits=Limits(max_queued_per_visitor=1, max_queued_per_address=3)
    )
    refusals = []
    for seed in range(200):
        try:
            manager.submit(tiny(seed), fresh(), address=ADDRESS)
        except LimitError as error:
            refusals.append(str(error))
    assert len(manager.jobs()) == 3 and len(refusals) == 197
    assert all("your address already has 3 jobs queued or running" in r for r in refusals)
    assert manager.submit(tiny(999), fresh(), address="198.51.100.1").status == "queued"  # others still can


def test_a_global_cap_holds_whatever_the_addresses(tmp_path, managers):
    manager = managers(tmp_path, concurrency=0, limits=Limits(anon_max_active=5))
    for seed in range(5):
        manager.submit(tiny(seed), fresh(), address=f"192.0.2.{seed}")
    with pytest.raises(LimitError, match="this site is busy: 5 jobs"):
        manager.submit(tiny(99), fresh(), address="192.0.2.200")
    host = manager.submit(tiny(100), fresh(), trusted=True, address="192.0.2.201")  # the host's token
    assert host.status == "queued"


def test_the_hourly_flop_budget_counts_every_visitor(tmp_path, managers):
    from tieviz.experiments.resources import training_flops

    one = training_flops(tiny(0, steps=50_000)) / 1e12  # queued only: nothing trains
    assert one > 1
    budget = int(one * 3.5)
    manager = managers(tmp_path, concurrency=0, limits=Limits(anon_tflops_per_hour=budget))
    accepted = 0
    with pytest.raises(LimitError, match="hourly budget"):
        for seed in range(50):
            manager.submit(tiny(seed, steps=50_000), fresh(), address=f"192.0.2.{seed}")
            accepted += 1
    assert accepted == int(budget // one)


def _state(job_id: str, source: str, status: str = "queued", created: float = 0.0) -> dict:
    return {"id": job_id, "status": status, "source": source, "visitors": [source], "created_at": created}


def test_fair_share_lets_a_newcomer_run_before_a_long_queue():
    states = [_state(f"a{i}", "A", created=i) for i in range(5)] + [_state("b0", "B", created=10)]
    assert [s["id"] for s in queue_order(states)] == ["a0", "b0", "a1", "a2", "a3", "a4"]
    running = [_state("ar", "A", status="running", created=-1), *states]
    assert [s["id"] for s in queue_order(running)][0] == "b0"  # A already has one running


def test_the_dispatcher_claims_in_fair_share_order(tmp_path, managers):
    manager = managers(tmp_path, concurrency=0)
    first = [manager.submit(tiny(seed), fresh(), address="A") for seed in range(3)]
    time.sleep(0.01)
    newcomer = manager.submit(tiny(50), fresh(), address="B")
    assert manager.get(newcomer.id).position == 2 and manager.get(first[2].id).position == 4


@pytest.mark.parametrize(("trust", "expected"), [("0", "198.51.100.9"), ("1", "203.0.113.5")])
def test_a_forwarded_header_counts_only_behind_a_proxy_the_host_trusts(monkeypatch, trust, expected):
    from types import SimpleNamespace

    from tieviz.ui import identity

    context = SimpleNamespace(ip_address="198.51.100.9", headers={"X-Forwarded-For": "1.2.3.4, 203.0.113.5"})
    monkeypatch.setattr(identity, "st", SimpleNamespace(context=context))
    monkeypatch.setenv("TIEVIZ_TRUST_PROXY", trust)
    assert identity.address() == expected  # the client's own "1.2.3.4" is never believed


def test_checkpoint_work_counts_against_the_same_caps(tmp_path, managers):
    """Every job kind: uploads' analyses from fresh sessions of one address are capped like training."""
    limits = Limits(max_queued_per_address=2, anon_max_active=3)
    manager = managers(tmp_path, concurrency=0, limits=limits)
    task = {"task": "text", "checkpoint": "/nowhere", "vocab_size": 64, "source": "pydocs"}
    queued = 0
    for index in range(20):
        try:
            manager.submit_checkpoint({**task, "vocab_size": 64 + index}, fresh(), address=ADDRESS)
            queued += 1
        except LimitError as error:
            assert "your address already has 2 jobs" in str(error)
    assert queued == 2
    manager.submit(tiny(1), fresh(), address="198.51.100.2")  # an experiment from elsewhere: 3 in all
    with pytest.raises(LimitError, match="this site is busy"):
        manager.submit_checkpoint({**task, "vocab_size": 999}, fresh(), address="198.51.100.3")
