from __future__ import annotations

import pytest

from tieviz.config import preset
from tieviz.experiments.resources import training_flops
from tieviz.jobs.limits import LimitError, Limits, check_queue, check_size, estimate_params, is_host_token


def test_estimate_params_counts_both_matrices_positions_and_blocks():
    config = preset("toy")  # V=128, d=32, L=2, T=32
    assert estimate_params(config) == 2 * 128 * 32 + 32 * 32 + 12 * 2 * 32 * 32


def test_estimate_params_is_close_to_the_real_untied_model():
    from tieviz.training.model import build_model, count_parameters

    config = preset("toy")
    real = count_parameters(build_model(config.arm("untied"), config.data.vocab_size, 0))
    assert abs(estimate_params(config) - real) / real < 0.1


def test_anonymous_caps_refuse_long_and_large_runs_but_not_trusted_visitors():
    limits = Limits(anon_max_steps=100, anon_max_params=10_000)
    with pytest.raises(LimitError, match="101 training steps"):
        check_size(preset("toy", steps=101, d_model=8), False, limits)
    with pytest.raises(LimitError, match="parameters"):
        check_size(preset("toy", steps=10), False, limits)
    check_size(preset("toy", steps=100, d_model=8, n_heads=2), False, limits)
    check_size(preset("gpu"), True, limits)


def test_the_flop_budget_catches_a_long_context_and_a_big_batch_the_other_caps_let_through():
    """The issue's job: within 2,000 steps and 20 M parameters, yet 14.5 s and 4.7 GB a step."""
    limits = Limits(anon_max_steps=2000, anon_max_params=20_000_000, anon_max_tflops=20)
    huge = preset("demo", steps=2000, batch_size=512, seq_len=2048)
    assert estimate_params(huge) < 20_000_000
    with pytest.raises(LimitError, match="TFLOPs .*512 × 2048 tokens"):
        check_size(huge, False, limits)
    check_size(preset("demo"), False, limits)  # the default experiment stays within the budget
    check_size(huge, True, limits)


def test_the_memory_cap_catches_one_huge_step_that_the_flop_budget_lets_through():
    """One step of batch 512 x context 1024: few FLOPs in all, but gigabytes of attention maps."""
    limits = Limits(anon_max_tflops=1000, anon_max_memory_mb=2048)
    one_step = preset("toy", steps=1, batch_size=512, seq_len=1024)
    with pytest.raises(LimitError, match="MiB of memory, above this site's limit of 2,048 MiB"):
        check_size(one_step, False, limits)
    check_size(preset("demo"), False, limits)
    check_size(one_step, True, limits)


def test_flops_grow_with_batch_and_context_not_only_with_parameters():
    base = preset("toy")
    assert training_flops(preset("toy", batch_size=32)) == pytest.approx(2 * training_flops(base))
    longer = preset("toy", seq_len=64)
    assert training_flops(longer) > 2 * training_flops(base)  # attention over a longer context costs more


def test_the_host_token_is_the_only_way_to_be_trusted(monkeypatch):
    monkeypatch.delenv("TIEVIZ_HOST_TOKEN", raising=False)
    assert not is_host_token("") and not is_host_token("anything")
    monkeypatch.setenv("TIEVIZ_HOST_TOKEN", "s3cret-s3cret-s3cret")
    assert is_host_token("s3cret-s3cret-s3cret")
    assert not any(is_host_token(t) for t in ("", "s3cret", "s3cret-s3cret-s3cret ", "S3CRET-S3CRET-S3CRET"))
    monkeypatch.setenv("TIEVIZ_HOST_TOKEN", "short")
    with pytest.raises(ValueError, match="at least 16 characters"):
        is_host_token("short")


def test_zero_turns_a_cap_off():
    check_size(preset("gpu"), False, Limits(anon_max_steps=0, anon_max_params=0))
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
    monkeypatch.setenv("TIEVIZ_ANON_MAX_TFLOPS", "20")
    monkeypatch.setenv("TIEVIZ_ANON_MAX_MINUTES", "45")
    monkeypatch.setenv("TIEVIZ_ANON_MAX_MEMORY_MB", "2048")
    assert Limits.from_env() == Limits(5, 300, 1_000_000, 20, 45, 2048)
    documented = {  # every setting the README names, each with its own value
        "TIEVIZ_MAX_QUEUED_PER_ADDRESS": ("max_queued_per_address", 7),
        "TIEVIZ_ANON_MAX_ACTIVE": ("anon_max_active", 8),
        "TIEVIZ_ANON_TFLOPS_PER_HOUR": ("anon_tflops_per_hour", 9),
        "TIEVIZ_ANON_MAX_DISK_MB": ("anon_max_disk_mb", 10),
        "TIEVIZ_RUNS_MAX_MB": ("runs_max_mb", 11),
        "TIEVIZ_JOBS_MAX_MB": ("jobs_max_mb", 12),
    }
    for name, (_, value) in documented.items():
        monkeypatch.setenv(name, str(value))
    limits = Limits.from_env()
    assert {getattr(limits, field) for field, _ in documented.values()} == {7, 8, 9, 10, 11, 12}
    assert all(getattr(limits, field) == value for field, value in documented.values())
    monkeypatch.setenv("TIEVIZ_ANON_MAX_STEPS", "lots")
    with pytest.raises(ValueError, match="TIEVIZ_ANON_MAX_STEPS must be a whole number"):
        Limits.from_env()


def test_defaults_match_the_documented_ones(monkeypatch):
    for name in (
        "MAX_QUEUED_PER_VISITOR",
        "ANON_MAX_STEPS",
        "ANON_MAX_PARAMS",
        "ANON_MAX_TFLOPS",
        "ANON_MAX_MINUTES",
        "ANON_MAX_MEMORY_MB",
    ):
        monkeypatch.delenv(f"TIEVIZ_{name}", raising=False)
    assert Limits.from_env() == Limits(3, 0, 0, 0, 0, 0)  # size caps off unless a host sets them
