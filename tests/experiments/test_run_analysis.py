"""The array-level helpers shared by trained runs and uploaded checkpoints."""

from __future__ import annotations

import numpy as np
import pytest

from tieviz.experiments.run_analysis import EmbeddingSet, frequent_token_ids


def test_frequent_token_ids_skips_excluded_and_falls_back_to_the_first_ids():
    counts = np.array([9, 1, 7, 0, 5])
    assert frequent_token_ids(counts, 2, exclude=[0]).tolist() == [2, 4]
    assert frequent_token_ids(None, 3, exclude=[1], vocab_size=5).tolist() == [0, 2, 3]
    with pytest.raises(ValueError, match="No ordinary token"):
        frequent_token_ids(np.array([3, 0]), 2, exclude=[0])


def test_embedding_set_of_rows_takes_the_same_rows_everywhere():
    full = np.arange(12.0).reshape(6, 2)
    rows = EmbeddingSet.of_rows(np.array([4, 1]), [f"t{i}" for i in range(6)], np.arange(6) * 10, {"W": full})
    assert rows.labels == ["t4", "t1"] and rows.counts.tolist() == [40, 10]
    assert rows.matrices["W"].tolist() == [[8.0, 9.0], [2.0, 3.0]]
    assert EmbeddingSet.of_rows([0], ["a"] * 6, None, {"W": full}).counts.tolist() == [0]
