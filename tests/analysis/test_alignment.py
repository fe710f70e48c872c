import numpy as np
import pytest

from tieviz.analysis.alignment import (
    EmbeddingSimilarity,
    _knn_mask,
    bias_scores,
    column_basis,
    compare_embeddings,
    compare_prepared,
    least_squares_fit,
    linear_cka,
    mapped_cosines,
    mutual_knn_overlap,
    mutual_knn_per_token,
    prepare,
    unit_rows,
)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def rotation(d: int, seed: int = 1) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q * np.sign(np.diag(r))


def test_cka_of_rotated_scaled_copy_is_one(rng):
    x = rng.normal(size=(200, 16))
    assert linear_cka(x, 3.5 * x @ rotation(16)) == pytest.approx(1.0, abs=1e-10)


def test_cka_ignores_a_shift(rng):
    x = rng.normal(size=(100, 8))
    assert linear_cka(x, x + 7.0) == pytest.approx(1.0, abs=1e-10)


def test_cka_of_independent_matrices_is_small(rng):
    x, y = rng.normal(size=(2000, 8)), rng.normal(size=(2000, 8))
    assert linear_cka(x, y) < 0.05


def test_cka_is_symmetric_and_allows_different_widths(rng):
    x, y = rng.normal(size=(50, 6)), rng.normal(size=(50, 9))
    y[:, :6] += x
    assert linear_cka(x, y) == pytest.approx(linear_cka(y, x), abs=1e-12)
    assert 0.3 < linear_cka(x, y) < 1.0


def test_cka_rejects_constant_matrix_and_mismatched_rows(rng):
    with pytest.raises(ValueError):
        linear_cka(np.ones((10, 3)), rng.normal(size=(10, 3)))
    with pytest.raises(ValueError):
        linear_cka(rng.normal(size=(10, 3)), rng.normal(size=(11, 3)))


def test_mutual_knn_of_rotated_copy_is_one(rng):
    x = rng.normal(size=(120, 10))
    per_token = mutual_knn_per_token(x, 2.0 * x @ rotation(10), k=10)
    assert per_token.shape == (120,)
    np.testing.assert_allclose(per_token, 1.0)


def test_mutual_knn_of_unrelated_matrices_is_near_chance(rng):
    x, y = rng.normal(size=(300, 10)), rng.normal(size=(300, 10))
    # chance overlap is about k / (N - 1)
    assert mutual_knn_overlap(x, y, k=10) < 0.1


def test_mutual_knn_known_small_case():
    # Swapping tokens 1 and 2 changes every token's single nearest neighbour (by cosine).
    x = np.array([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [-1.0, 0.0]])
    y = x[[0, 2, 1, 3]]
    np.testing.assert_array_equal(mutual_knn_per_token(x, y, k=1), [0.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(mutual_knn_per_token(x, x, k=1), [1.0, 1.0, 1.0, 1.0])
    assert mutual_knn_overlap(x, y, k=3) == pytest.approx(1.0)  # k = N - 1: everything is a neighbour


def test_ties_at_the_kth_neighbour_go_to_the_smaller_token_index():
    # Token 0's neighbours 1, 2 and 3 are equally similar (same direction): with k = 2 it keeps 1 and 2.
    x = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [4.0, 0.0], [0.0, 1.0], [-1.0, 0.1]])
    y = x.copy()
    y[3] = [0.0, -1.0]  # token 3 moves away; if token 0 had kept 3 rather than 2 its overlap would drop
    assert mutual_knn_per_token(x, y, k=2)[0] == pytest.approx(1.0)
    assert _knn_mask(x, 2)[0].tolist() == [False, True, True, False, False, False]


def test_knn_mask_equals_a_stable_full_sort(rng):
    tied_rows = np.round(rng.normal(size=(200, 3))) + [0.0, 0.0, 0.5]  # many equal directions; none zero
    for x in (rng.normal(size=(200, 6)), tied_rows):
        unit = unit_rows(x)
        sims = unit @ unit.T
        np.fill_diagonal(sims, -np.inf)
        for k in (1, 7):
            order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
            expected = np.zeros(sims.shape, dtype=bool)
            np.put_along_axis(expected, order, True, axis=1)
            np.testing.assert_array_equal(_knn_mask(x, k), expected)


def test_mutual_knn_rejects_k_too_large(rng):
    x = rng.normal(size=(5, 3))
    with pytest.raises(ValueError, match="k = 5"):
        mutual_knn_per_token(x, x, k=5)


@pytest.mark.parametrize("method", ["linear", "orthogonal"])
def test_mapped_cosines_of_rotated_copy_are_one(rng, method):
    target = rng.normal(size=(100, 12))
    source = 0.3 * target @ rotation(12) + 5.0
    cos = mapped_cosines(source, target, method)
    assert cos.shape == (100,)
    np.testing.assert_allclose(cos, 1.0, atol=1e-8)


def test_linear_map_recovers_any_invertible_transform_but_rotation_does_not(rng):
    target = rng.normal(size=(200, 8))
    transform = rng.normal(size=(8, 8)) + np.diag(np.linspace(0.1, 10.0, 8))
    source = target @ transform
    assert mapped_cosines(source, target, "linear").mean() == pytest.approx(1.0, abs=1e-8)
    assert mapped_cosines(source, target, "orthogonal").mean() < 0.95


@pytest.mark.parametrize("method", ["linear", "orthogonal"])
def test_mapped_cosines_handle_different_widths(rng, method):
    target = rng.normal(size=(80, 6))
    wider = np.hstack([target @ rotation(6), np.zeros((80, 4))])  # same information, 10 columns
    np.testing.assert_allclose(mapped_cosines(wider, target, method), 1.0, atol=1e-8)
    np.testing.assert_allclose(mapped_cosines(target, wider, method), 1.0, atol=1e-8)


def test_mapped_cosines_reject_unknown_method(rng):
    x = rng.normal(size=(10, 3))
    with pytest.raises(ValueError, match="method"):
        mapped_cosines(x, x, "affine")


def test_compare_embeddings_fills_every_field(rng):
    target = rng.normal(size=(60, 5))
    sim = compare_embeddings(target, target @ rotation(5), k=5)
    assert isinstance(sim, EmbeddingSimilarity)
    for value in (sim.lin_cos, sim.proc_cos, sim.cka, sim.mknn):
        assert value == pytest.approx(1.0, abs=1e-8)
    assert sim.lin_cos == pytest.approx(sim.lin_cos_per_token.mean())
    assert sim.mknn_per_token.shape == (60,)


def test_bias_scores_favour_the_matrix_the_tied_one_resembles(rng):
    n, d = 300, 16
    untied_out = rng.normal(size=(n, d))
    untied_in = rng.normal(size=(n, d))
    tied = untied_out @ rotation(d) + 0.1 * rng.normal(size=(n, d))
    scores = bias_scores(tied, untied_in, untied_out, k=10)
    assert list(scores) == [
        "lin_cos_out",
        "lin_cos_in",
        "proc_cos_out",
        "proc_cos_in",
        "cka_out",
        "cka_in",
        "mknn_out",
        "mknn_in",
    ]
    for measure in ("lin_cos", "proc_cos", "cka", "mknn"):
        assert scores[f"{measure}_out"] > scores[f"{measure}_in"] + 0.3, measure


def test_least_squares_fit_equals_lstsq_also_for_a_rank_deficient_source(rng):
    target = rng.normal(size=(300, 20))
    full = rng.normal(size=(300, 16))
    deficient = np.hstack([full, full[:, :4] * 2.0])  # 20 columns, rank 16
    for source in (full, deficient, rng.normal(size=(10, 16))):  # the last: fewer tokens than columns
        t = target[: source.shape[0]]
        mapping, *_ = np.linalg.lstsq(source, t, rcond=None)
        np.testing.assert_allclose(least_squares_fit(source, t), source @ mapping, atol=1e-10)


def test_prepared_comparison_equals_each_measure_computed_alone(rng):
    target, source = rng.normal(size=(150, 12)) + 3.0, rng.normal(size=(150, 9))
    sim = compare_prepared(prepare(target, k=7), prepare(source, k=7))
    np.testing.assert_allclose(sim.lin_cos_per_token, mapped_cosines(source, target, "linear"), atol=1e-12)
    np.testing.assert_allclose(
        sim.proc_cos_per_token, mapped_cosines(source, target, "orthogonal"), atol=1e-12
    )
    np.testing.assert_array_equal(sim.mknn_per_token, mutual_knn_per_token(target, source, k=7))
    assert sim.cka == pytest.approx(linear_cka(target, source), abs=1e-12)
    with pytest.raises(ValueError, match="same tokens"):
        compare_prepared(prepare(target, k=7), prepare(source[:100], k=7))
    with pytest.raises(ValueError, match="k = 150"):
        prepare(target, k=150)


def test_bias_scores_take_prepared_matrices_and_give_the_same_scores(rng):
    tied, untied_in, untied_out = (rng.normal(size=(80, 6)) for _ in range(3))
    plain = bias_scores(tied, untied_in, untied_out)
    assert bias_scores(tied, prepare(untied_in), prepare(untied_out)) == plain


def test_column_basis_drops_the_directions_a_rank_deficient_matrix_lacks(rng):
    # Four columns mixed from others: their Gram eigenvalues are rounding noise, some of them positive.
    for _ in range(5):
        full = rng.normal(size=(300, 16))
        x = np.hstack([full, full[:, :4] @ rng.normal(size=(4, 4))])
        basis = column_basis(x - x.mean(axis=0))
        assert basis.shape == (300, 16)
        np.testing.assert_allclose(basis.T @ basis, np.eye(16), atol=1e-10)


def reference_scores(target: np.ndarray, source: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The paper's cosines and CKA written the plain way: lstsq, a padded SVD, full Gram matrices."""
    t, s = target - target.mean(axis=0), source - source.mean(axis=0)
    mapping, *_ = np.linalg.lstsq(s, t, rcond=None)
    width = max(s.shape[1], t.shape[1])
    sp, tp = np.pad(s, ((0, 0), (0, width - s.shape[1]))), np.pad(t, ((0, 0), (0, width - t.shape[1])))
    u, _, vt = np.linalg.svd(sp.T @ tp)

    def cos(a, b):
        return np.einsum("nd,nd->n", a, b) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))

    cka = np.linalg.norm(t.T @ s) ** 2 / (np.linalg.norm(t.T @ t) * np.linalg.norm(s.T @ s))
    return cos(s @ mapping, t), cos(sp @ (u @ vt), tp), float(cka)


@pytest.mark.parametrize("shape", [(400, 24, 16), (30, 64, 48), (60, 60, 20)])
def test_prepared_scores_equal_the_plain_computation_also_with_fewer_tokens_than_width(rng, shape):
    n, dt, ds = shape
    target = rng.normal(size=(n, dt)) @ rng.normal(size=(dt, dt)) + 2.0
    source = np.hstack([target[:, :ds], rng.normal(size=(n, 3))]) * np.logspace(
        0, -2, ds + 3
    ) + 0.1 * rng.normal(size=(n, ds + 3))
    lin, proc, cka = reference_scores(target, source)
    sim = compare_prepared(prepare(target, k=5), prepare(source, k=5))
    np.testing.assert_allclose(sim.lin_cos_per_token, lin, atol=1e-9)
    np.testing.assert_allclose(sim.proc_cos_per_token, proc, atol=1e-9)
    assert sim.cka == pytest.approx(cka, abs=1e-12)


def test_the_tokens_gram_path_equals_the_width_gram_path(rng):
    """N < d goes through the [N, N] Gram matrix; forcing either path gives the same scores."""
    for n, d in ((50, 80), (120, 40)):
        target, source = rng.normal(size=(n, d)), rng.normal(size=(n, d)) + rng.normal(size=(n, 1))
        source[:, :5] += 3 * target[:, :5]
        by = {
            via: compare_prepared(prepare(target, 5, gram=via), prepare(source, 5, gram=via))
            for via in ("width", "tokens")
        }
        np.testing.assert_allclose(by["width"].lin_cos_per_token, by["tokens"].lin_cos_per_token, atol=1e-9)
        np.testing.assert_allclose(by["width"].proc_cos_per_token, by["tokens"].proc_cos_per_token, atol=1e-9)
        assert by["width"].cka == pytest.approx(by["tokens"].cka, abs=1e-12)
        assert prepare(target, None, gram="tokens").width <= n


def test_whole_vocabulary_rotated_copy_scores_one_in_float32(rng):
    """Above FLOAT64_MAX_ROWS the neighbours use float32 similarities; a rotated, scaled float32 copy
    still scores 1 on all four measures (the neighbours are cosine ones, so no shift here)."""
    x = rng.normal(size=(9000, 12)).astype(np.float32)
    y = (2.5 * x.astype(np.float64) @ rotation(12)).astype(np.float32)
    sim = compare_prepared(prepare(x, 10), prepare(y, 10))
    for value in (sim.lin_cos, sim.proc_cos, sim.cka):
        assert value == pytest.approx(1.0, abs=1e-6)
    assert sim.mknn > 0.99  # float32 rounding of the copy may swap a neighbour at a near-tie


def test_a_shuffled_copy_shares_the_preparation_and_equals_one_prepared_afresh(rng):
    from tieviz.analysis.alignment import shuffled

    tied, untied = rng.normal(size=(300, 10)), rng.normal(size=(300, 8))
    untied[:, :4] += tied[:, :4]
    order = rng.permutation(300)
    fresh = compare_prepared(prepare(tied), prepare(untied[order]))
    shared = compare_prepared(prepare(tied), shuffled(prepare(untied), order))
    np.testing.assert_allclose(shared.lin_cos_per_token, fresh.lin_cos_per_token, atol=1e-12)
    np.testing.assert_allclose(shared.proc_cos_per_token, fresh.proc_cos_per_token, atol=1e-12)
    np.testing.assert_array_equal(shared.mknn_per_token, fresh.mknn_per_token)
    assert shared.cka == pytest.approx(fresh.cka, abs=1e-12)


def test_pair_scores_report_progress_to_the_end_and_use_seeded_shuffles(rng):
    from tieviz.analysis.alignment import pair_scores

    tied, untied_in, untied_out = (rng.normal(size=(200, 8)) for _ in range(3))
    seen = []
    scores = pair_scores(
        tied, untied_in, untied_out, shuffles=2, seed=3, progress=lambda s, f: seen.append(f)
    )
    assert len(scores.chance) == 2 and seen[-1] == pytest.approx(1.0)
    assert all(b >= a - 1e-12 for a, b in zip(seen, seen[1:], strict=False))
    first = np.random.default_rng(3).permutation(200)
    assert scores.chance[0].lin_cos == pytest.approx(compare_embeddings(tied, untied_out[first]).lin_cos)
    assert scores.out.cka == pytest.approx(linear_cka(tied, untied_out))
