"""`tieviz.compare`: Table 1 of a checkpoint pair, on known answers, from folders, zips and hub caches."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

import tieviz
from tests.checkpoint_analysis.conftest import D, V, rotation
from tests.checkpoints.tiny import zip_dir
from tieviz.checkpoints import CheckpointError


def test_a_rotated_output_matrix_scores_one_and_the_verdict_agrees(output_shaped_pair):
    tied, untied, _ = output_shaped_pair
    result = tieviz.compare(untied, tied)  # either order: tying is read from the checkpoints
    assert (result.tied_name, result.untied_name) == ("tied", "untied")
    for measure in ("lin_cos", "proc_cos", "cka"):
        assert result.rows[measure].out == pytest.approx(1.0, abs=1e-6)
        assert result.rows[measure].chance < 0.5
    assert result.rows["mknn"].out == pytest.approx(1.0)
    assert result.verdict.status == "agrees"
    assert result.n_tokens == result.n_matched == V and result.alignment == "id"
    assert result.shuffles == 3 and len(result.rows["lin_cos"].chance_values) == 3
    assert not any("tokenizers differ" in note for note in result.notes)
    assert result.per_token["lin_cos_out"].shape == (V,)
    assert len(result.labels) == V and result.labels[2] != "tok2"  # decoded by the tokenizer


def test_an_unrelated_pair_is_no_clear_effect(make_checkpoint):
    rng = np.random.default_rng(5)
    tied = make_checkpoint("tied-random", True, W_E=rng.normal(size=(V, D)))
    untied = make_checkpoint("untied-random", False, W_E=rng.normal(size=(V, D)), W_U=rng.normal(size=(V, D)))
    result = tieviz.compare(tied, untied, shuffles=5)
    assert result.verdict.status == "no clear effect"
    assert abs(result.rows["lin_cos"].out - result.rows["lin_cos"].chance) < 0.05


def test_json_holds_table_one_and_says_the_shuffle_count(output_shaped_pair):
    tied, untied, _ = output_shaped_pair
    data = json.loads(tieviz.compare(tied, untied, shuffles=2).to_json())
    assert list(data["measures"]) == ["lin_cos", "proc_cos", "cka", "mknn"]
    assert set(data["measures"]["lin_cos"]) == {"label", "out", "in", "bias", "chance", "chance_values"}
    assert data["shuffles"] == 2 and data["verdict"]["measure"] == "lin_cos"
    assert data["n_tokens"] == V and "per_token" not in data


def test_zips_and_hub_cache_snapshots_give_the_same_table(output_shaped_pair, tmp_path):
    tied, untied, _ = output_shaped_pair
    archive = zip_dir(tied, tmp_path / "tied.zip")
    hub = tmp_path / "models--someone--untied"
    blobs, snapshot = hub / "blobs", hub / "snapshots" / "abc123"
    blobs.mkdir(parents=True)
    snapshot.mkdir(parents=True)
    for file in untied.iterdir():
        shutil.copy(file, blobs / file.name)
        (snapshot / file.name).symlink_to(blobs / file.name)
    (hub / "refs").mkdir()
    (hub / "refs" / "main").write_text("abc123")
    plain = tieviz.compare(tied, untied, shuffles=1)
    for pair in ((archive, hub), (archive, snapshot)):
        other = tieviz.compare(*pair, shuffles=1)
        assert other.scores == pytest.approx(plain.scores, abs=1e-12)
        assert other.tied_name == "tied.zip"


def test_different_tokenizers_are_matched_by_token_string(make_checkpoint, tokenizers):
    """The untied model numbers the same words differently; rows are paired by word, not by id."""
    first, second = (t.get_vocab() for t in tokenizers)
    shared = sorted(set(first) & set(second))
    assert 0 < len(shared) < V
    rng = np.random.default_rng(2)
    tied_E = rng.normal(size=(V, D))
    untied_U = rng.normal(size=(V, D))
    for word in shared:  # the untied output row of each shared word: the tied row, rotated
        untied_U[second[word]] = tied_E[first[word]] @ rotation(D)
    tied = make_checkpoint("tied-words", True, W_E=tied_E, tokenizer=0)
    untied = make_checkpoint("untied-words", False, W_E=rng.normal(size=(V, D)), W_U=untied_U, tokenizer=1)
    result = tieviz.compare(tied, untied, shuffles=1)
    assert result.alignment == "string" and result.n_matched == result.n_tokens == len(shared)
    assert result.rows["proc_cos"].out == pytest.approx(1.0, abs=1e-6)
    assert any(f"{len(shared):,} shared" in note for note in result.notes)


def test_a_token_count_and_the_few_tokens_note(output_shaped_pair):
    tied, untied, _ = output_shaped_pair
    result = tieviz.compare(tied, untied, tokens=50, shuffles=1)
    assert result.n_tokens == 50 and result.n_matched == V
    assert result.token_ids_tied.tolist() == list(range(50))
    assert any("floor is high" in note for note in result.notes)  # 50 tokens < 4 × width 16
    assert not any("floor is high" in n for n in tieviz.compare(tied, untied, shuffles=1).notes)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tokens": 10}, "more than k"),
        ({"tokens": "some"}, "number or 'all'"),
        ({"shuffles": 0}, "1 shuffle"),
    ],
)
def test_bad_arguments_are_one_sentence(output_shaped_pair, kwargs, message):
    tied, untied, _ = output_shaped_pair
    with pytest.raises(ValueError, match=message):
        tieviz.compare(tied, untied, **kwargs)


def test_two_tied_checkpoints_are_refused(output_shaped_pair):
    tied, _, _ = output_shaped_pair
    with pytest.raises(CheckpointError, match="Both checkpoints are tied"):
        tieviz.compare(tied, tied)


def test_compare_matrices_on_arrays():
    rng = np.random.default_rng(3)
    tied = rng.normal(size=(200, 8))
    result = tieviz.compare_matrices(tied, rng.normal(size=(200, 8)), tied @ rotation(8), shuffles=2)
    assert result.rows["lin_cos"].out == pytest.approx(1.0, abs=1e-9)
    assert result.rows["lin_cos"].bias > 0.5 and result.verdict.status == "agrees"
    assert result.labels[3] == "tok3"


def test_importing_tieviz_imports_no_torch():
    code = (
        "import sys, tieviz; assert 'torch' not in sys.modules and 'numpy' not in sys.modules; tieviz.compare"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_verdict_claims_no_bias_when_neither_score_beats_chance_whatever_the_bias():
    """Issue 17: an independent pair's +0.013 must not read as agreement; CKA never decides."""
    from tieviz.checkpoint_analysis.pair_record import Intervals, MeasureRow, pair_verdict

    row = MeasureRow("lin_cos", "linear-map cosine", out=0.213, inp=0.200, chance=0.205, chance_values=(0.2,))
    at_chance = Intervals(bias=(0.010, 0.016), out_over_chance=(-0.002, 0.018), in_over_chance=(-0.01, 0.0))
    assert pair_verdict(row, at_chance).status == "no clear effect"
    above = Intervals(bias=(0.010, 0.016), out_over_chance=(0.004, 0.012), in_over_chance=(-0.01, 0.0))
    assert pair_verdict(row, above).status == "agrees"
    across = Intervals(bias=(-0.01, 0.02), out_over_chance=(0.004, 0.012), in_over_chance=(0.001, 0.01))
    assert pair_verdict(row, across).status == "no clear effect"
    below = Intervals(bias=(-0.03, -0.01), out_over_chance=(0.004, 0.012), in_over_chance=(0.02, 0.04))
    assert pair_verdict(row, below).status == "disagrees"
