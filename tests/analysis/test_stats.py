"""Means and 95 % t intervals over seeds, and printing numbers with the digits their interval supports."""

import math

import numpy as np
import pytest

from tieviz.analysis.stats import SeedStat, decimals_for, format_stat, seed_stat, t_quantile


def test_t_quantiles_match_the_tables():
    assert t_quantile(1) == pytest.approx(12.706, abs=1e-3)
    assert t_quantile(4) == pytest.approx(2.776, abs=1e-3)
    assert t_quantile(10_000) == pytest.approx(1.960, abs=1e-3)


def test_interval_is_the_t_interval_of_the_mean():
    values = [1.0, 2.0, 3.0, 4.0, 5.0]  # mean 3, sd sqrt(2.5), n 5
    stat = seed_stat(values)
    half = 2.7764451 * math.sqrt(2.5) / math.sqrt(5)
    assert stat.mean == 3.0 and stat.per_seed == tuple(values)
    assert stat.ci_low == pytest.approx(3 - half) and stat.ci_high == pytest.approx(3 + half)
    assert stat.ci_low <= stat.mean <= stat.ci_high


def test_interval_covers_the_true_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(2000):
        stat = seed_stat(rng.normal(1.0, 2.0, size=4))
        hits += stat.ci_low <= 1.0 <= stat.ci_high
    assert 0.93 < hits / 2000 < 0.97


def test_one_seed_has_no_interval_and_says_so():
    stat = seed_stat([0.33])
    assert stat.ci_low is None and stat.ci_high is None and not stat.has_interval
    assert format_stat(stat) == "0.33 (one seed)"


def test_identical_seeds_give_a_zero_width_interval():
    stat = seed_stat([0.5, 0.5, 0.5])
    assert stat.ci_low == stat.ci_high == 0.5


def test_non_finite_seeds_are_kept_but_not_averaged():
    stat = seed_stat([1.0, float("inf"), 3.0])
    assert stat.mean == 2.0 and math.isinf(stat.per_seed[1])


def test_digits_follow_the_interval():
    assert decimals_for(2.31) == 1 and decimals_for(0.016) == 3 and decimals_for(23.0) == 0
    assert format_stat(SeedStat(7.89, 5.59, 10.19, (7.89,) * 3), "×") == "7.9 ± 2.3×"
    assert format_stat(SeedStat(0.329, 0.313, 0.345, (0.329,) * 5), signed=True) == "+0.329 ± 0.016"
    assert format_stat(SeedStat(-0.0873, -0.0938, -0.0808, (0.0,) * 5), signed=True) == "−0.0873 ± 0.0065"


def test_round_trip_through_a_dict():
    stat = seed_stat([0.1, 0.2, 0.4])
    assert SeedStat.from_dict(stat.to_dict()) == stat


def test_no_seeds_is_an_error():
    with pytest.raises(ValueError, match="at least one seed"):
        seed_stat([])


def test_nats_to_bits_on_a_known_answer_for_numbers_arrays_and_seed_stats():
    import math

    import numpy as np

    from tieviz.analysis.stats import nats_to_bits

    assert nats_to_bits(math.log(2)) == pytest.approx(1.0)  # ln 2 nats is one bit
    np.testing.assert_allclose(nats_to_bits(np.array([0.0, math.log(4)])), [0.0, 2.0])
    stat = nats_to_bits(seed_stat([math.log(2), math.log(8)]))
    assert stat.mean == pytest.approx(2.0) and stat.per_seed == pytest.approx((1.0, 3.0))
    assert stat.ci_low < 2.0 < stat.ci_high


def test_the_per_seed_baseline_interval_covers_its_expectation_and_adjacent_pairs_do_not():
    """The same-recipe baseline's design: per seed, one untied output matrix mapped onto a second one
    trained with nothing shared, so the per-seed values are independent draws and the t interval over
    them is valid. The old design (seed s against seed s + 1) reused every inner seed twice: when seeds
    differ in quality, neighbouring values move together and the t interval covers far less than 95 %.
    Simulated: each model's output matrix is a common structure plus noise of a size drawn per seed."""
    from tieviz.analysis.alignment import prepare
    from tieviz.analysis.measures import scores

    rng = np.random.default_rng(0)
    common = rng.normal(size=(40, 6))

    def model() -> np.ndarray:
        return common + rng.normal(scale=rng.uniform(0.3, 1.5), size=common.shape)

    def score(target: np.ndarray, source: np.ndarray) -> float:  # as summarize.same_recipe_baseline
        return scores(prepare(target), prepare(source))["lin_cos"]

    expected = float(np.mean([score(model(), model()) for _ in range(1500)]))
    trials, per_seed, adjacent = 300, 0, 0
    for _ in range(trials):
        stat = seed_stat([score(model(), model()) for _ in range(5)])
        per_seed += stat.ci_low <= expected <= stat.ci_high
        models = [model() for _ in range(5)]
        old = seed_stat([score(models[i], models[i + 1]) for i in range(4)])
        adjacent += old.ci_low <= expected <= old.ci_high
    assert 0.89 < per_seed / trials < 0.99  # about 95 % (300 trials: ± 0.025)
    assert adjacent / trials < per_seed / trials - 0.04  # the reused seeds' interval covers less


def test_equivalence_needs_the_90_percent_interval_inside_the_margin():
    from tieviz.analysis.stats import equivalent_to_zero

    assert equivalent_to_zero(seed_stat([0.002, -0.003, 0.001, 0.0, -0.001]), margin=0.02)
    assert not equivalent_to_zero(seed_stat([0.05, -0.04, 0.03, -0.05, 0.01]), margin=0.02)  # includes 0
    assert not equivalent_to_zero(seed_stat([0.017, 0.019, 0.021]), margin=0.02)  # sharp, but at the edge
    assert not equivalent_to_zero(seed_stat([0.0]), margin=0.02)  # one seed tests nothing
    rng = np.random.default_rng(1)  # at a true mean on the margin, TOST says "equivalent" about 5 % of runs
    rate = np.mean([equivalent_to_zero(seed_stat(rng.normal(0.02, 0.01, 5)), 0.02) for _ in range(2000)])
    assert rate < 0.07
