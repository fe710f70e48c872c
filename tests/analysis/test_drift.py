"""Drift from the start: a matrix against its own step-0 self, token by token, in the same basis."""

import numpy as np
import pytest

from tieviz.analysis.drift import drift_from_start, mean_row_cosine


def test_an_unchanged_matrix_has_not_drifted_and_a_negated_one_is_minus_one():
    start = np.random.default_rng(0).normal(size=(50, 8))
    steps, cosine = drift_from_start({0: start, 10: start * 3.0, 20: -start})
    assert steps.tolist() == [0, 10, 20]
    np.testing.assert_allclose(cosine, [1.0, 1.0, -1.0])


def test_independent_random_matrices_are_about_orthogonal_row_by_row():
    rng = np.random.default_rng(1)
    assert abs(mean_row_cosine(rng.normal(size=(2000, 64)), rng.normal(size=(2000, 64)))) < 0.01


def test_drift_needs_the_start_and_matching_shapes():
    with pytest.raises(ValueError, match="step-0"):
        drift_from_start({5: np.ones((3, 2))})
    with pytest.raises(ValueError, match="one shape"):
        mean_row_cosine(np.ones((3, 2)), np.ones((3, 4)))
