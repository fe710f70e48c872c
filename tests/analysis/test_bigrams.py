import numpy as np
import pytest

from tieviz.analysis.bigrams import (
    BigramComparison,
    LayerNormParams,
    asymmetry,
    bigram_log_probs,
    compare_bigrams,
    direct_path,
    matrix_correlation,
    most_frequent,
)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def sample_stream(log_probs: np.ndarray, length: int, seed: int = 0) -> np.ndarray:
    """Draw a token stream from a [V, V] transition matrix given as log-probabilities."""
    rng = np.random.default_rng(seed)
    cumulative = np.cumsum(np.exp(log_probs), axis=1)
    stream = np.empty(length, dtype=np.int64)
    stream[0] = 0
    draws = rng.random(length)
    for t in range(1, length):
        stream[t] = min(np.searchsorted(cumulative[stream[t - 1]], draws[t]), len(log_probs) - 1)
    return stream


def asymmetric_transitions(vocab: int, seed: int = 0) -> np.ndarray:
    """Log transition matrix where token i mostly moves to i + 1: strongly asymmetric."""
    rng = np.random.default_rng(seed)
    weights = rng.random((vocab, vocab)) + 8.0 * np.roll(np.eye(vocab), 1, axis=1)
    return np.log(weights / weights.sum(axis=1, keepdims=True))


def top_tokens(stream: np.ndarray, k: int, exclude=()) -> np.ndarray:
    """The k most frequent ids of a token stream, as the bigram page picks its tokens."""
    return most_frequent(np.bincount(stream), k, exclude)


def test_most_frequent_orders_by_count_then_id():
    stream = np.array([5, 3, 3, 7, 7, 1, 1, 9, 9, 9, 0])
    np.testing.assert_array_equal(top_tokens(stream, 4), [9, 1, 3, 7])
    np.testing.assert_array_equal(top_tokens(stream, 3, exclude=[9, 3]), [1, 7, 0])


def test_most_frequent_never_returns_an_unseen_token():
    np.testing.assert_array_equal(most_frequent(np.bincount([1, 2, 3, 1]), 4), [1, 2, 3])


def test_bigram_log_probs_of_alternating_stream():
    stream = np.tile([0, 1], 500)
    a = bigram_log_probs(stream, np.array([0, 1]), vocab_size=5, smoothing=0.01)
    assert a[0, 1] == pytest.approx(0.0, abs=1e-3)  # b always follows a
    assert a[1, 0] == pytest.approx(0.0, abs=1e-3)
    assert a[0, 0] < -8 and a[1, 1] < -8


def test_bigram_log_probs_are_a_conditional_slice(rng):
    stream = rng.integers(0, 12, size=3000)
    tokens = top_tokens(stream, 12)
    a = bigram_log_probs(stream, tokens, vocab_size=12)
    assert (a <= 0).all()
    np.testing.assert_allclose(np.exp(a).sum(axis=1), 1.0)  # all of the vocabulary shown: rows sum to 1
    partial = bigram_log_probs(stream, tokens[:5], vocab_size=12)
    assert (np.exp(partial).sum(axis=1) < 1).all()
    np.testing.assert_allclose(partial, a[:5, :5])


def test_bigram_log_probs_known_counts():
    stream = np.array([0, 1, 0, 2, 0, 1])  # pairs: 0-1, 1-0, 0-2, 2-0, 0-1
    a = bigram_log_probs(stream, np.array([0, 1, 2]), vocab_size=3, smoothing=1.0)
    # P(1 | 0) = (2 + 1) / (3 + 3)
    assert a[0, 1] == pytest.approx(np.log(0.5))
    assert a[0, 0] == pytest.approx(np.log(1 / 6))


def test_tied_raw_direct_path_is_symmetric(rng):
    W = rng.normal(size=(30, 8))
    a = direct_path(W, W, np.arange(0, 30, 2))
    assert a.shape == (15, 15)
    assert asymmetry(a) < 1e-6


def test_untied_direct_path_is_asymmetric(rng):
    W_E, W_U = rng.normal(size=(30, 8)), rng.normal(size=(30, 8))
    assert asymmetry(direct_path(W_E, W_U, np.arange(20))) > 0.5


def test_final_norm_breaks_symmetry_row_by_row(rng):
    W = rng.normal(size=(20, 6)) * rng.uniform(0.1, 5.0, size=(20, 1))
    tokens = np.arange(20)
    for kind in ("layernorm", "rmsnorm"):
        norm = LayerNormParams(weight=rng.uniform(0.5, 2.0, size=6), bias=None, eps=1e-5, kind=kind)
        a = direct_path(W, W, tokens, norm)
        assert asymmetry(a) > 0.01
        # row i only depends on token i's own normalised row
        np.testing.assert_allclose(a[3], norm.apply(W[3:4])[0] @ W.T)


def test_layernorm_matches_torch_definition(rng):
    import torch

    x = rng.normal(size=(4, 6))
    weight, bias = rng.normal(size=6), rng.normal(size=6)
    expected = torch.nn.functional.layer_norm(
        torch.tensor(x), (6,), torch.tensor(weight), torch.tensor(bias), eps=1e-5
    )
    got = LayerNormParams(weight=weight, bias=bias, eps=1e-5).apply(x)
    np.testing.assert_allclose(got, expected.numpy(), atol=1e-10)


def test_asymmetry_known_values():
    assert asymmetry(np.zeros((3, 3))) == 0.0
    assert asymmetry(np.array([[0.0, 1.0], [-1.0, 0.0]])) == pytest.approx(2.0)
    assert asymmetry(np.array([[1.0, 2.0], [2.0, 5.0]])) == 0.0
    with pytest.raises(ValueError):
        asymmetry(np.ones((2, 3)))


def test_matrix_correlation(rng):
    a = rng.normal(size=(6, 6))
    assert matrix_correlation(a, 3 * a + 1) == pytest.approx(1.0)
    assert matrix_correlation(a, -a) == pytest.approx(-1.0)
    b = a.copy()
    np.fill_diagonal(b, 100.0)
    assert matrix_correlation(a, b) < 0.9
    assert matrix_correlation(a, b, off_diagonal_only=True) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        matrix_correlation(a, np.ones((6, 6)))


def test_low_rank_untied_path_beats_symmetric_tied_path_on_asymmetric_language():
    vocab, rank = 20, 8
    truth = asymmetric_transitions(vocab)
    stream = sample_stream(truth, 20_000)
    u, s, vt = np.linalg.svd(truth)
    W_E = u[:, :rank] * np.sqrt(s[:rank])
    W_U = vt[:rank].T * np.sqrt(s[:rank])  # W_E @ W_U.T is the best rank-8 fit of the true log-probs
    result = compare_bigrams(
        stream,
        vocab,
        [f"w{i}" for i in range(vocab)],
        {"tied": (W_E, W_E), "untied": (W_E, W_U)},
        k=15,
        truth_log_probs=truth,
    )
    assert isinstance(result, BigramComparison)
    assert result.correlation["untied"] > 0.7
    assert result.correlation["untied"] > result.correlation["tied"] + 0.5
    assert result.asymmetry["tied"] < 1e-6
    assert result.asymmetry["empirical"] > 0.05
    assert result.asymmetry["truth"] > 0.05
    assert result.truth_correlation["empirical"] > 0.9
    assert result.truth.shape == (15, 15)
    assert result.labels == [f"w{t}" for t in result.tokens]


def test_compare_bigrams_keys_norms_and_small_vocab(rng):
    vocab = 10
    stream = rng.integers(0, 6, size=500)  # only 6 distinct tokens occur
    W_E, W_U = rng.normal(size=(vocab, 4)), rng.normal(size=(vocab, 4))
    norm = LayerNormParams(weight=np.ones(4))
    result = compare_bigrams(
        stream,
        vocab,
        [str(i) for i in range(vocab)],
        {"tied": (W_E, W_E), "untied": (W_E, W_U)},
        k=40,
        exclude=[0],
        final_norms={"tied": norm, "untied": norm},
    )
    assert len(result.tokens) == 5 and 0 not in result.tokens
    assert set(result.direct_paths) == {"tied", "tied_ln", "untied", "untied_ln"}
    assert set(result.asymmetry) == {"empirical", "tied", "tied_ln", "untied", "untied_ln"}
    assert set(result.correlation) == set(result.direct_paths)
    assert result.truth is None and result.truth_correlation == {}
    assert result.asymmetry["tied_ln"] > result.asymmetry["tied"]
    np.testing.assert_array_equal(result.matrix("tied"), result.direct_paths["tied"])
    with pytest.raises(ValueError):
        result.matrix("truth")


def test_compare_bigrams_rejects_missing_labels(rng):
    W = rng.normal(size=(10, 4))
    with pytest.raises(ValueError, match="label"):
        compare_bigrams(np.arange(10), 10, ["a"] * 5, {"tied": (W, W)})


def test_most_frequent_orders_by_count_then_id_and_skips_zero_and_excluded():
    from tieviz.analysis.bigrams import most_frequent

    counts = np.array([5, 0, 7, 7, 1, 3])
    np.testing.assert_array_equal(most_frequent(counts, 3), [2, 3, 0])
    np.testing.assert_array_equal(most_frequent(counts, 3, exclude=[2]), [3, 0, 5])
    np.testing.assert_array_equal(most_frequent(counts, 10), [2, 3, 0, 5, 4])  # never the zero count
