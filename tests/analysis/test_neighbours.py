"""The blocked whole-vocabulary neighbour search against a brute-force [N, N] sort, ties included."""

import numpy as np
import pytest

from tieviz.analysis.matrices import unit_rows
from tieviz.analysis.neighbours import mask, nearest, overlap


def brute_force(x: np.ndarray, k: int) -> np.ndarray:
    """The first k of a stable sort of every row of the full similarity matrix (self excluded)."""
    unit = unit_rows(np.asarray(x, dtype=np.float64))
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    return np.argsort(-sims, axis=1, kind="stable")[:, :k]


def tied_rows(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """Rows of four ±1 entries times 1, 2 or 4: unit rows hold ±0.5, so every similarity is an exact
    multiple of 0.25 in any precision and any summation order, and ties abound."""
    x = np.zeros((n, d))
    for row in x:
        columns = rng.choice(d, 4, replace=False)
        row[columns] = rng.choice([-1.0, 1.0], 4) * rng.choice([1.0, 2.0, 4.0])
    return x


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("block", [7, 64, 2048])
def test_blocked_search_equals_brute_force_with_ties(dtype, block):
    rng = np.random.default_rng(block)
    for n, d, k in ((40, 6, 1), (300, 8, 10), (257, 5, 7)):
        x = tied_rows(rng, n, d)
        assert (np.diff(np.sort(brute_force(x, n - 1), axis=1)) >= 0).all()
        np.testing.assert_array_equal(nearest(x, k, dtype=dtype, block=block), brute_force(x, k))


def test_blocked_search_equals_brute_force_on_continuous_rows():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(500, 12)) + 0.3
    for block in (33, 128, 2048):
        np.testing.assert_array_equal(nearest(x, 10, block=block), brute_force(x, 10))


def test_float32_similarities_find_the_same_neighbours_as_float64():
    x = np.random.default_rng(2).normal(size=(2000, 32))
    np.testing.assert_array_equal(nearest(x, 10, dtype=np.float32), nearest(x, 10, dtype=np.float64))


def test_overlap_and_mask_known_answers():
    a = np.array([[1, 2], [0, 2], [0, 1]])
    b = np.array([[2, 1], [2, 0], [1, 2]])
    np.testing.assert_array_equal(overlap(a, b), [1.0, 1.0, 0.5])
    assert mask(a).tolist() == [[False, True, True], [True, False, True], [True, True, False]]


def test_too_few_tokens_for_k_is_refused():
    with pytest.raises(ValueError, match="k = 5"):
        nearest(np.ones((5, 2)), 5)
