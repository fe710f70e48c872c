import numpy as np
import pytest

from tieviz.analysis.curves import EARLY_FRACTION, early_window_end, ema, series, window_mean


def test_ema_with_zero_smoothing_is_identity():
    values = np.array([3.0, -1.0, 7.5, 0.0, 2.0])
    np.testing.assert_array_equal(ema(values, 0.0), values)


@pytest.mark.parametrize("smoothing", [0.3, 0.6, 0.99])
def test_ema_of_a_constant_is_the_constant_thanks_to_debiasing(smoothing):
    np.testing.assert_allclose(ema(np.full(20, 4.2), smoothing), 4.2)


def test_ema_lags_a_step_function_and_converges():
    values = np.r_[np.zeros(10), np.ones(40)]
    smoothed = ema(values, 0.6)
    np.testing.assert_allclose(smoothed[:10], 0.0)
    assert 0.0 < smoothed[10] < 1.0
    assert smoothed[10] == pytest.approx(0.4 / (1 - 0.6**11))  # (1 - 0.6) of the way, debiased
    assert np.all(np.diff(smoothed[10:]) > 0)
    assert smoothed[-1] == pytest.approx(1.0, abs=1e-6)


def test_ema_matches_tensorboard_recurrence():
    values = np.array([1.0, 5.0, 2.0])
    s = 0.5
    last, expected = 0.0, []
    for k, v in enumerate(values, start=1):
        last = s * last + (1 - s) * v
        expected.append(last / (1 - s**k))
    np.testing.assert_allclose(ema(values, s), expected)


def test_ema_of_nothing_is_empty_and_bad_smoothing_is_rejected():
    assert ema(np.array([]), 0.5).shape == (0,)
    with pytest.raises(ValueError, match="smoothing"):
        ema(np.ones(3), 1.0)
    with pytest.raises(ValueError, match="smoothing"):
        ema(np.ones(3), -0.1)


def test_series_skips_missing_keys_and_non_finite_values():
    records = [
        {"step": 1, "train_loss": 5.0, "grad_ratio": float("inf")},
        {"step": 2, "train_loss": 4.0, "grad_ratio": 3.0, "val_loss": 4.5},
        {"step": 3, "train_loss": float("nan"), "grad_ratio": 2.0},
        {"step": 4, "train_loss": 3.0, "grad_ratio": 1.0, "val_loss": 3.9},
    ]
    steps, values = series(records, "val_loss")
    np.testing.assert_array_equal(steps, [2, 4])
    np.testing.assert_array_equal(values, [4.5, 3.9])
    steps, values = series(records, "grad_ratio")
    np.testing.assert_array_equal(steps, [2, 3, 4])
    steps, values = series(records, "train_loss")
    np.testing.assert_array_equal(steps, [1, 2, 4])
    assert steps.dtype.kind == "i" and values.dtype == np.float64


def test_series_of_empty_records_is_empty_and_sorted_by_step():
    steps, values = series([], "train_loss")
    assert len(steps) == len(values) == 0
    steps, values = series([{"step": 2, "x": 2.0}, {"step": 1, "x": 1.0}], "x")
    np.testing.assert_array_equal(steps, [1, 2])
    np.testing.assert_array_equal(values, [1.0, 2.0])


def test_early_window_is_five_percent_of_steps_at_least_one():
    assert EARLY_FRACTION == 0.05
    assert early_window_end(800) == 40
    assert early_window_end(100) == 5
    assert early_window_end(10) == 1
    assert early_window_end(1) == 1
    assert early_window_end(0) == 0
    with pytest.raises(ValueError):
        early_window_end(-1)


@pytest.mark.parametrize("n", [1, 7, 20, 33, 100, 800])
def test_early_window_covers_the_same_steps_as_the_summary_early_mean(n):
    values = np.arange(1, n + 1, dtype=float)  # value = step number
    end = early_window_end(n)
    assert window_mean(values, 0.0, EARLY_FRACTION) == pytest.approx(np.mean(values[:end]))


def test_the_papers_output_share_of_its_own_olmo_run():
    """Known answer: the reference README gives 0.904 over steps 1-100, 0.738 over 1-1000, 0.651 overall."""
    from tieviz.analysis.curves import output_share
    from tieviz.reference import olmo1b_gradient_norms

    norms = olmo1b_gradient_norms()
    assert output_share(norms.input_path[:100], norms.output_path[:100]) == pytest.approx(0.904, abs=5e-4)
    assert output_share(norms.input_path[:1000], norms.output_path[:1000]) == pytest.approx(0.738, abs=5e-4)
    assert output_share(norms.input_path, norms.output_path) == pytest.approx(0.651, abs=5e-4)


def test_rolling_output_share_uses_the_trailing_window():
    from tieviz.analysis.curves import rolling_output_share

    g_in, g_out = [1.0] * 4 + [3.0] * 4, [1.0] * 8
    share = rolling_output_share(g_in, g_out, window=2)
    assert share[0] == 0.5 and share[3] == 0.5 and share[5] == 0.25 and share[-1] == 0.25
    assert share[4] == pytest.approx(2 / 6)  # one step of each inside the window


def test_paper_share_summary_needs_the_activation_norm():
    from tieviz.analysis.curves import paper_share_summary

    assert paper_share_summary([{"step": 1, "grad_out": 1.0, "grad_in": 1.0}]) is None
    records = [{"step": s, "grad_out": 3.0, "grad_in_act": 1.0} for s in range(1, 151)]
    assert paper_share_summary(records) == dict.fromkeys(
        ("first_1pct", "first_5pct", "first_10pct", "overall"), 0.75
    )


def test_shares_are_taken_over_matched_fractions_of_training():
    """200 steps: the first 1 % is 2 steps, 5 % is 10, 10 % is 20 (the paper's 100, 500, 1,000 of 10,000)."""
    from tieviz.analysis.curves import shares_at_fractions
    from tieviz.reference import olmo1b_output_shares

    g_out = [1.0] * 200
    g_in = [0.0] * 2 + [1.0] * 8 + [3.0] * 190  # the output path alone for 2 steps, then half, then a quarter
    shares = shares_at_fractions(g_in, g_out)
    assert shares["first_1pct"] == 1.0
    assert shares["first_5pct"] == pytest.approx(10 / 18)
    assert shares["first_10pct"] == pytest.approx(20 / (20 + 8 + 30))
    paper = olmo1b_output_shares()  # the paper's 1B run at the same fractions: 0.90 over its first 100 steps
    assert paper["first_1pct"] == pytest.approx(0.903, abs=5e-4)
    assert paper["first_10pct"] == pytest.approx(0.738, abs=5e-4)
