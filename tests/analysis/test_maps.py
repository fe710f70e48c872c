"""Known answers for the embedding maps: alignment, rotation invariance, neighbours, and the disk cache."""

from __future__ import annotations

import numpy as np
import pytest

from tieviz.analysis import maps


def _clustered(n: int = 150, d: int = 16, clusters: int = 5, seed: int = 0) -> np.ndarray:
    """n rows in `clusters` well-separated directions, with a little noise."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, d)) * 3.0
    return centres[np.arange(n) % clusters] + rng.normal(size=(n, d)) * 0.5


def _random_orthogonal(d: int, seed: int = 1) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q * np.sign(np.diag(r))


def _disparity(a: np.ndarray, b: np.ndarray) -> float:
    """Residual of b aligned onto a, relative to a's spread: 0 means the same picture."""
    a_c = a - a.mean(axis=0)
    return float(np.linalg.norm(maps.align_layout(a, b) - a) / np.linalg.norm(a_c))


def test_align_layout_undoes_rotation_reflection_scale_and_shift() -> None:
    ref = np.random.default_rng(0).normal(size=(50, 2))
    theta = 0.7
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    reflect = np.diag([1.0, -1.0])
    moved = 3.5 * ref @ rot @ reflect + np.array([10.0, -4.0])
    np.testing.assert_allclose(maps.align_layout(ref, moved), ref, atol=1e-10)


def test_align_layout_does_not_invent_a_match() -> None:
    rng = np.random.default_rng(0)
    ref, other = rng.normal(size=(50, 2)), rng.normal(size=(50, 2))
    assert _disparity(ref, other) > 0.5


def test_pca_maps_of_a_rotated_matrix_are_identical() -> None:
    x = _clustered()
    out = maps.embedding_maps({"a": x, "b": x @ _random_orthogonal(x.shape[1])}, method="pca")
    assert list(out) == ["a", "b"]
    assert out["a"].shape == (150, 2)
    np.testing.assert_allclose(out["b"], out["a"], atol=1e-9)


@pytest.mark.parametrize("shape", [(40, 6), (6, 40)])  # tall and wide: both Gram-matrix branches
def test_pca_matches_svd_of_normalised_centred_rows(shape: tuple[int, int]) -> None:
    x = np.random.default_rng(0).normal(size=shape)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    u, s, _ = np.linalg.svd(unit - unit.mean(axis=0), full_matrices=False)
    expected = u[:, :2] * s[:2]
    got = maps.layout_2d(x, "pca")
    np.testing.assert_allclose(np.abs(got), np.abs(expected), atol=1e-9)
    assert np.all(np.abs(got).max(axis=0) == got.max(axis=0))  # sign rule: largest score positive


def test_pca_ignores_row_length() -> None:
    x = _clustered()
    lengths = np.random.default_rng(3).uniform(0.1, 10.0, size=(x.shape[0], 1))
    np.testing.assert_allclose(maps.layout_2d(x * lengths, "pca"), maps.layout_2d(x, "pca"), atol=1e-9)


def test_embedding_maps_aligns_every_panel_onto_the_first() -> None:
    x = _clustered()
    out = maps.embedding_maps({"ref": x, "other": _clustered(seed=7)}, method="pca")
    raw = maps.layout_2d(_clustered(seed=7), "pca")
    np.testing.assert_allclose(out["other"], maps.align_layout(out["ref"], raw), atol=1e-12)


# Slow (~20 s the first time: numba compiles UMAP). The only UMAP test in this file.
@pytest.mark.slow
def test_umap_is_rotation_invariant_and_keeps_neighbourhoods() -> None:
    from sklearn.manifold import trustworthiness

    x = _clustered()
    out = maps.embedding_maps({"a": x, "b": x @ _random_orthogonal(x.shape[1])}, method="umap", seed=0)
    assert out["a"].shape == (150, 2) and np.isfinite(out["a"]).all()
    assert _disparity(out["a"], out["b"]) < 1e-6  # exact: UMAP sees only rounded cosine distances
    assert trustworthiness(x, out["a"], n_neighbors=10, metric="cosine") >= 0.9


def test_nearest_neighbours_of_a_constructed_matrix() -> None:
    angles = np.deg2rad([0.0, 10.0, 30.0, 90.0, 180.0])
    x = np.stack([np.cos(angles), np.sin(angles)], axis=1) * np.array([[1.0], [5.0], [0.2], [2.0], [1.0]])
    idx, sims = maps.nearest_neighbours(x, 0, k=3)
    np.testing.assert_array_equal(idx, [1, 2, 3])
    np.testing.assert_allclose(sims, np.cos(np.deg2rad([10.0, 30.0, 90.0])), atol=1e-12)
    idx, _ = maps.nearest_neighbours(x, 4, k=10)  # k clamped to N - 1, self excluded
    assert sorted(idx.tolist()) == [0, 1, 2, 3] and idx[0] == 3


def test_neighbour_table_uses_each_matrix_and_labels() -> None:
    a = np.eye(4) + 0.1
    b = a[:, ::-1].copy()
    b[3] = b[0] + 0.01  # in b, token d sits right next to token a
    table = maps.neighbour_table({"A": a, "B": b}, ["a", "b", "c", "d"], index=0, k=2)
    assert list(table) == ["A", "B"]
    assert table["B"][0][0] == "d" and table["B"][0][1] > 0.99
    assert table["A"][0][1] < 0.5
    assert all(isinstance(s, float) for _, s in table["A"])


def test_cache_hit_returns_identical_arrays_without_recomputing(tmp_path, monkeypatch) -> None:
    calls = []
    real = maps.embedding_maps

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(maps, "embedding_maps", counting)
    mats = {"tied": _clustered(), "untied_in": _clustered(seed=5)}
    first = maps.cached_embedding_maps(tmp_path, mats, method="pca")
    second = maps.cached_embedding_maps(tmp_path, mats, method="pca")
    assert len(calls) == 1
    assert list(second) == ["tied", "untied_in"]
    for name in mats:
        np.testing.assert_array_equal(first[name], second[name])
    changed = {"tied": mats["tied"], "untied_in": mats["untied_in"] * 1.0001}
    maps.cached_embedding_maps(tmp_path, changed, method="pca")
    maps.cached_embedding_maps(tmp_path, mats, method="pca", seed=1)
    assert len(calls) == 3
    assert not list(tmp_path.glob("*.tmp"))


def test_corrupt_cache_file_is_recomputed(tmp_path) -> None:
    mats = {"tied": _clustered()}
    first = maps.cached_embedding_maps(tmp_path, mats, method="pca")
    (path,) = tmp_path.glob("*.npz")
    path.write_bytes(b"not a zip file")
    again = maps.cached_embedding_maps(tmp_path, mats, method="pca")
    np.testing.assert_array_equal(again["tied"], first["tied"])
    assert path.stat().st_size > 100  # rewritten


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        (np.ones((3, 5)), "at least 4 tokens"),
        (np.array([[1.0, np.nan], [0, 1], [1, 1], [2, 1]]), "NaN or infinite"),
        (np.ones(5), "2-D"),
    ],
)
def test_layout_rejects_bad_input(matrix: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        maps.layout_2d(matrix, "pca")


def test_other_bad_input_errors() -> None:
    x = _clustered(n=10)
    with pytest.raises(ValueError, match="unknown map method"):
        maps.layout_2d(x, "tsne")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="same tokens"):
        maps.embedding_maps({"a": x, "b": x[:8]}, method="pca")
    with pytest.raises(ValueError, match="no embedding matrices"):
        maps.embedding_maps({}, method="pca")
    with pytest.raises(ValueError, match="same shape"):
        maps.align_layout(np.zeros((5, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="out of range"):
        maps.nearest_neighbours(x, 10)
    with pytest.raises(ValueError, match="labels"):
        maps.neighbour_table({"a": x}, ["t"] * 9, 0)


def test_import_is_cheap() -> None:
    import subprocess
    import sys

    code = "import sys, tieviz.analysis.maps; print('umap' in sys.modules, 'sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
