"""The comparison's cost estimate and the default token count (tieviz/checkpoint_analysis/cost.py)."""

from __future__ import annotations

import pytest

from tieviz.checkpoint_analysis.cost import Budget, choose_tokens, compare_cost, floor_is_high


def test_cost_grows_with_tokens_and_width():
    small, more_tokens, wider = (
        compare_cost(1000, 64, 64),
        compare_cost(2000, 64, 64),
        compare_cost(1000, 128, 128),
    )
    assert more_tokens.peak_bytes > small.peak_bytes and more_tokens.flops > 3 * small.flops  # k-NN is N²
    assert wider.peak_bytes > small.peak_bytes and wider.flops > small.flops
    assert compare_cost(1000, 64, 64, cores=2).seconds == pytest.approx(small.seconds / 2)


def test_the_whole_vocabulary_of_gpt2_small_needs_no_n_by_n_array():
    cost = compare_cost(50_257, 768, 768)
    assert cost.peak_bytes < 3 * 2**30  # blocked: far below the 20 GB of an N x N float64 matrix
    assert cost.peak_bytes > 4 * 50_257 * 768 * 3  # but at least the three float32 matrices


def test_all_tokens_when_no_budget_is_set():
    choice = choose_tokens(50_304, 2048, 2048, Budget())
    assert choice.all_tokens and choice.tokens == 50_304 and choice.reason is None


def test_the_largest_count_that_fits_and_the_limit_that_chose_it():
    budget = Budget(memory_bytes=2048 * 2**20)
    choice = choose_tokens(50_304, 2048, 2048, budget)
    assert not choice.all_tokens and "MiB of memory" in choice.reason
    assert budget.over(compare_cost(choice.tokens, 2048, 2048, vocab=50_304)) is None
    assert budget.over(compare_cost(choice.tokens + 1, 2048, 2048, vocab=50_304)) is not None  # the largest
    timed = choose_tokens(50_304, 2048, 2048, Budget(seconds=60))
    assert "minutes" in timed.reason and timed.cost.seconds <= 60


def test_nothing_fits_still_gives_the_least_that_can_run():
    choice = choose_tokens(1000, 64, 64, Budget(memory_bytes=1), k=10)
    assert choice.tokens == 12 and choice.reason


def test_the_floor_is_high_below_four_tokens_per_dimension():
    assert floor_is_high(63, 16) and not floor_is_high(64, 16)


def test_the_whole_matrices_read_from_the_checkpoints_count():
    read = compare_cost(1000, 2048, 2048, vocab=50_304).peak_bytes - compare_cost(1000, 2048, 2048).peak_bytes
    assert read == 4 * 50_304 * 3 * 2048  # tied W_E and untied W_E, W_U, float32
