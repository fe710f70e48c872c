from __future__ import annotations

import pytest

from tieviz.config import preset
from tieviz.jobs.limits import LimitError, Limits, check_queue, check_size, estimate_params


def test_estimate_params_counts_both_matrices_positions_and_blocks():
    config = preset("toy")  # V=128, d=32, L=2, T=32
    assert estimate_params(config) == 2 * 128 * 32 + 32 * 32 + 12 * 2 * 32 * 32


def test_estimate_params_is_close_to_the_real_untied_model():
    from tieviz.model import build_model, count_parameters

    config = preset("toy")
    real = count_parameters(build_model(config.arm("untied"), config.data.vocab_size, 0))
    assert abs(estimate_params(config) - real) / real < 0.1


def test_anonymous_caps_refuse_long_and_large_runs_but_not_trusted_visitors():
    limits = Limits(anon_max_steps=100, anon_max_params=10_000, trusted=frozenset({"admin"}))
    with pytest.raises(LimitError, match="101 training steps"):
        check_size(preset("toy", steps=101, d_model=8), "anonymous", limits)
    with pytest.raises(LimitError, match="parameters"):
        check_size(preset("toy", steps=10), "someone", limits)
    check_size(preset("toy", steps=100, d_model=8, n_heads=2), "anonymous", limits)
    check_size(preset("gpu"), "admin", limits)


def test_zero_turns_a_cap_off():
    check_size(preset("gpu"), "anonymous", Limits(anon_max_steps=0, anon_max_params=0))
    check_queue(50, "alice", Limits(max_queued_per_visitor=0))


def test_queue_limit_counts_active_jobs():
    limits = Limits(max_queued_per_visitor=2)
    check_queue(1, "alice", limits)
    with pytest.raises(LimitError, match="alice already has 2"):
        check_queue(2, "alice", limits)


def test_limits_from_env(monkeypatch):
    monkeypatch.setenv("TIEVIZ_MAX_QUEUED_PER_VISITOR", "5")
    monkeypatch.setenv("TIEVIZ_ANON_MAX_STEPS", "300")
    monkeypatch.setenv("TIEVIZ_ANON_MAX_PARAMS", "1_000_000")
    monkeypatch.setenv("TIEVIZ_TRUSTED_VISITORS", "admin, teacher")
    assert Limits.from_env() == Limits(5, 300, 1_000_000, frozenset({"admin", "teacher"}))
    monkeypatch.setenv("TIEVIZ_ANON_MAX_STEPS", "lots")
    with pytest.raises(ValueError, match="TIEVIZ_ANON_MAX_STEPS must be a whole number"):
        Limits.from_env()


def test_defaults_match_the_documented_ones(monkeypatch):
    for name in ("TIEVIZ_MAX_QUEUED_PER_VISITOR", "TIEVIZ_ANON_MAX_STEPS", "TIEVIZ_ANON_MAX_PARAMS"):
        monkeypatch.delenv(name, raising=False)
    assert Limits.from_env() == Limits(3, 0, 0, frozenset())  # size caps off unless a host sets them
