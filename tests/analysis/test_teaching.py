import numpy as np
import pytest

from tieviz.analysis.bigrams import asymmetry
from tieviz.analysis.teaching import (
    TyingSavings,
    default_breaking_map,
    default_toy_embeddings,
    direct_path_tied,
    direct_path_with_map,
    standard_savings_table,
    tying_savings,
)


def test_toy_embeddings_shape():
    labels, W_E = default_toy_embeddings()
    assert labels[:2] == ["new", "york"]
    assert W_E.shape == (len(labels), 3)


@pytest.mark.parametrize("seed", range(5))
def test_tied_product_is_symmetric_for_any_matrix(seed):
    W = np.random.default_rng(seed).normal(size=(7, 4))
    product = direct_path_tied(W)
    np.testing.assert_array_equal(product, product.T)


def test_non_symmetric_map_breaks_symmetry():
    _labels, W_E = default_toy_embeddings()
    M = default_breaking_map(W_E.shape[1])
    assert not np.allclose(M, M.T)
    assert asymmetry(direct_path_with_map(W_E, M)) > 0.1


def test_symmetric_map_keeps_symmetry():
    W = np.random.default_rng(0).normal(size=(6, 3))
    S = np.random.default_rng(1).normal(size=(3, 3))
    assert asymmetry(direct_path_with_map(W, S + S.T)) < 1e-12
    np.testing.assert_allclose(direct_path_with_map(W, np.eye(3)), direct_path_tied(W))


def test_map_shape_and_dimension_errors():
    with pytest.raises(ValueError, match=r"\[3, 3\]"):
        direct_path_with_map(np.ones((4, 3)), np.eye(2))
    with pytest.raises(ValueError):
        default_breaking_map(1)
    with pytest.raises(ValueError):
        direct_path_tied(np.array([[1.0, np.nan]]))


def test_savings_arithmetic():
    row = tying_savings(50_000, 4096, 1e9)
    assert isinstance(row, TyingSavings)
    assert row.saved_params == 204_800_000
    assert row.share == pytest.approx(0.2048)
    assert row.label == "1B"


def test_standard_table():
    rows = standard_savings_table()
    assert [r.label for r in rows] == ["1B", "7B", "70B"]
    assert [r.share for r in rows] == pytest.approx([0.2048, 0.2048 / 7, 0.2048 / 70])
    assert tying_savings(32_000, 768, 124e6).label == "124M"
    with pytest.raises(ValueError):
        tying_savings(0, 10, 1e9)
