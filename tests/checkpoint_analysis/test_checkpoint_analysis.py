"""The bridge from a staged checkpoint to the analyses: tying, shapes, labels, final norm, lens, paper."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.checkpoints.tiny import FAMILY_SPECS, V, build_model, save_checkpoint, zip_dir
from tieviz import checkpoint_analysis as ca
from tieviz.analysis.alignment import bias_scores
from tieviz.analysis.bigrams import direct_path
from tieviz.checkpoints import CheckpointError, stage_upload
from tieviz.checkpoints.uploads import new_upload
from tieviz.training.corpus import pydocs_text, train_tokenizer

TEXT = "\n\n".join(pydocs_text().split("\n\n")[:400])


@pytest.fixture(scope="module")
def tokenizer():
    return train_tokenizer([d for d in TEXT.split("\n\n") if d.strip()], V)


@pytest.fixture(scope="module")
def saved(tmp_path_factory, tokenizer):
    """(family, tied) -> (checkpoint dir with tokenizer files, model)."""
    root = tmp_path_factory.mktemp("analysis-ckpts")
    built = {}
    for family, tied in (("gpt2", True), ("gpt2", False), ("llama", False), ("gemma", True)):
        model = build_model(family, tied)
        with torch.no_grad():  # norms start at weight 1, bias 0: move them so that reading them matters
            for name, param in model.named_parameters():
                if "norm" in name or "ln_f" in name:
                    param.add_(0.3 * torch.randn(param.shape, generator=torch.Generator().manual_seed(7)))
        folder = save_checkpoint(model, root / f"{family}-{tied}")
        tokenizer.save_pretrained(folder)
        built[family, tied] = (folder, model)
    return built


@pytest.fixture(scope="module")
def loaded(saved):
    return {key: ca.load_checkpoint(folder) for key, (folder, _) in saved.items()}


@pytest.fixture(scope="module")
def text(saved):
    return ca.tokenize_text(saved["gpt2", True][0], TEXT, V, "pydocs")


def test_tying_shapes_and_labels_from_a_directory_and_a_zip(saved, loaded, tokenizer, tmp_path):
    for (family, tied), ckpt in loaded.items():
        model = saved[family, tied][1]
        assert ckpt.summary.tied is tied and ckpt.arm == ("tied" if tied else "untied")
        assert ckpt.W_E.shape == ckpt.W_U.shape == (V, 16)
        np.testing.assert_array_equal(ckpt.W_E, model.get_input_embeddings().weight.detach().numpy())
        np.testing.assert_array_equal(ckpt.W_U, model.get_output_embeddings().weight.detach().numpy())
        assert (ckpt.W_E is ckpt.W_U) is tied
        assert ckpt.labels[2] == tokenizer.convert_ids_to_tokens(2)
    archive = zip_dir(saved["llama", False][0], tmp_path / "llama.zip")
    from_zip = ca.load_checkpoint(stage_upload(archive, tmp_path / "staged"))
    assert from_zip.summary == loaded["llama", False].summary
    np.testing.assert_array_equal(from_zip.W_U, loaded["llama", False].W_U)


@pytest.mark.parametrize("key", [("gpt2", True), ("llama", False), ("gemma", True)])
def test_final_norm_reproduces_the_models_direct_path(saved, loaded, key):
    """norm(W_E[i]) . W_U[j] is what the model's own final norm and head give for the embedding of i."""
    ckpt, model = loaded[key], saved[key][1]
    assert ckpt.final_norm is not None
    assert ckpt.final_norm.kind == ("layernorm" if key[0] == "gpt2" else "rmsnorm")
    tokens = np.arange(10)
    ours = direct_path(ckpt.W_E, ckpt.W_U, tokens, ckpt.final_norm)
    norm = model.transformer.ln_f if key[0] == "gpt2" else model.model.norm  # Gemma's scales by 1 + weight
    with torch.no_grad():
        rows = model.get_input_embeddings().weight[:10]
        theirs = (norm(rows) @ model.get_output_embeddings().weight[:10].T).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)


def test_text_is_read_with_the_checkpoints_own_tokenizer(text, tokenizer):
    expected = tokenizer(TEXT.split("\n\n")[0], add_special_tokens=False)["input_ids"]
    assert text.ids[: len(expected)].tolist() == expected
    assert text.counts.sum() == text.ids.size and text.counts.shape == (V,)
    assert set(text.special_ids) == set(tokenizer.all_special_ids)
    top = text.top_ids(V, 10)
    assert not set(top) & set(text.special_ids)
    counts = text.counts[top]
    assert (np.diff(counts) <= 0).all() and counts[-1] >= np.delete(
        text.counts, [*top, *text.special_ids]
    ).max()


def test_without_a_tokenizer_the_first_ids_stand_in(tmp_path):
    folder = save_checkpoint(build_model("gpt2", tied=True), tmp_path / "bare")
    text = ca.tokenize_text(folder, TEXT, V, "pydocs")
    assert text.ids is None and "no tokenizer" in text.note
    assert text.top_ids(V, 5).tolist() == [0, 1, 2, 3, 4]
    ckpt = ca.load_checkpoint(folder)
    assert ckpt.labels[:2] == ["tok0", "tok1"]
    with pytest.raises(ValueError, match="tokenizer"):
        ca.checkpoint_bigrams(ckpt, text)


def test_bigrams_use_the_checkpoint_labels_and_tying(loaded, text):
    tied = ca.checkpoint_bigrams(loaded["gpt2", True], text, k=12)
    untied = ca.checkpoint_bigrams(loaded["llama", False], text, k=12)
    assert set(tied.direct_paths) == {"tied", "tied_ln"} and set(untied.direct_paths) == {
        "untied",
        "untied_ln",
    }
    assert tied.asymmetry["tied"] == pytest.approx(0.0, abs=1e-12)  # W_E W_E^T is symmetric
    assert untied.asymmetry["untied"] > 0.5
    assert tied.labels == [loaded["gpt2", True].labels[i] for i in tied.tokens]
    assert tied.tokens.tolist() == text.top_ids(V, 12).tolist()


def test_norms_follow_their_rows(loaded, text):
    ids = text.top_ids(V, 20)
    tied = ca.norm_stats(loaded["gpt2", True], text, ids)
    untied = ca.norm_stats(loaded["gpt2", False], text, ids)
    assert list(tied.norms) == ["W_E"] and list(untied.norms) == ["W_E", "W_U"]
    np.testing.assert_allclose(untied.norms["W_U"], np.linalg.norm(loaded["gpt2", False].W_U[ids], axis=1))
    assert tied.counts.tolist() == text.counts[ids].tolist()
    assert -1 <= tied.spearman["W_E"] <= 1


def test_spearman_known_answers():
    x = np.array([1.0, 2, 3, 4])
    assert ca.spearman(x, x**3) == pytest.approx(1.0)
    assert ca.spearman(x, -x) == pytest.approx(-1.0)
    assert np.isnan(ca.spearman(x, np.ones(4)))


def test_embedding_set_holds_W_U_only_when_untied(loaded, text):
    ids = text.top_ids(V, 15)
    assert list(ca.checkpoint_embeddings(loaded["gpt2", True], text, ids).matrices) == ["W_E"]
    untied = ca.checkpoint_embeddings(loaded["llama", False], text, ids)
    assert {k: m.shape for k, m in untied.matrices.items()} == {"W_E": (15, 16), "W_U": (15, 16)}


def test_paper_measure_finds_a_rotated_output_matrix(saved, loaded, tmp_path):
    """An untied model whose W_U is a rotated copy of the tied W_E scores 1 against its output matrix."""
    tied_W_E = saved["gpt2", True][1].get_input_embeddings().weight.detach()
    rotation, _ = torch.linalg.qr(torch.randn(16, 16, generator=torch.Generator().manual_seed(1)))
    model = build_model("gpt2", tied=False, seed=3)
    with torch.no_grad():
        model.get_output_embeddings().weight.copy_(tied_W_E @ rotation)
    untied = ca.load_checkpoint(save_checkpoint(model, tmp_path / "rotated"))
    ids = np.arange(2, V)
    result = ca.paper_comparison(untied, loaded["gpt2", True], ids)  # order does not matter
    assert result.scores["proc_cos_out"] == pytest.approx(1.0, abs=1e-5)
    assert result.scores["cka_out"] == pytest.approx(1.0, abs=1e-5)
    assert result.scores["proc_cos_in"] < 0.9
    assert result.per_token["lin_cos_out"].shape == (ids.size,)
    assert result.per_token["lin_cos_in"].mean() == pytest.approx(result.scores["lin_cos_in"])
    assert result.chance["proc_cos"] < 0.9 and result.chance["cka"] < 0.9  # shuffled rows: no match
    assert any("tokenizers differ" in note for note in result.notes)  # the rotated copy has no tokenizer


def test_paper_scores_are_those_of_bias_scores(loaded):
    tied, untied = loaded["gpt2", True], loaded["llama", False]
    ids = np.arange(2, V)
    result = ca.paper_comparison(tied, untied, ids)
    expected = bias_scores(tied.W_E[ids], untied.W_E[ids], untied.W_U[ids])
    assert list(result.scores) == list(expected)
    for key, value in expected.items():
        assert result.scores[key] == pytest.approx(value, abs=1e-12)
    assert set(result.chance) == {"lin_cos", "proc_cos", "cka", "mknn"}
    assert any("even unrelated matrices" in note for note in result.notes)  # 62 tokens for width 16


def test_paper_measure_refuses_mismatched_pairs(loaded, tmp_path):
    with pytest.raises(CheckpointError, match="Both checkpoints are untied"):
        ca.paper_comparison(loaded["gpt2", False], loaded["llama", False], np.arange(20))
    import transformers

    config = transformers.GPT2Config(vocab_size=80, n_embd=16, n_layer=1, n_head=2, tie_word_embeddings=False)
    other = ca.load_checkpoint(save_checkpoint(transformers.GPT2LMHeadModel(config), tmp_path / "v80"))
    with pytest.raises(CheckpointError, match="different vocabularies"):
        ca.paper_comparison(loaded["gpt2", True], other, np.arange(20))


def test_tuned_lens_on_the_full_model_is_cached_in_the_upload(saved, text, tmp_path, monkeypatch):
    folder = saved["gpt2", True][0]
    result = ca.checkpoint_lens(folder, text, tmp_path / "lens", steps=3)
    assert result.tuned.kl.shape == result.logit.kl.shape == (3,)  # input, block 1, final
    assert result.tuned.kl[-1] == pytest.approx(0.0, abs=1e-6)
    assert result.contributions.shape == (2,)
    assert len(list((tmp_path / "lens").glob("tuned_lens-*.safetensors"))) == 1
    monkeypatch.setenv(ca.LENS_MAX_PARAMS_ENV, "1000")
    with pytest.raises(CheckpointError, match="more than the 1,000"):
        ca.checkpoint_lens(folder, text, tmp_path / "lens", steps=3)


@pytest.mark.parametrize("family", sorted(FAMILY_SPECS))
def test_every_family_from_a_zipped_upload(family, tmp_path):
    """Staged from a zip as the page does: tying, shapes, and a final norm of the embedding width."""
    tied = family in ("gpt2", "opt", "gemma")  # their default; the others untied
    folder = save_checkpoint(build_model(family, tied), tmp_path / family)
    archive = zip_dir(folder, tmp_path / f"{family}.zip")
    upload = new_upload(tmp_path / "data", "visitor123", [(archive.name, archive.read_bytes())], archive.name)
    ckpt = ca.load_checkpoint(upload.checkpoint)
    assert ckpt.summary.tied is tied and (ckpt.W_E is ckpt.W_U) is tied
    assert ckpt.W_E.shape == (V, 16)
    assert ckpt.final_norm is not None and ckpt.final_norm.weight.shape == (16,), ckpt.final_norm_note


def _moved_norms(model: torch.nn.Module) -> torch.nn.Module:
    """Norm weights moved away from 1 and 0, so a missing or wrong final norm changes the logits."""
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "norm" in name or "ln_f" in name:
                param.add_(0.5 * torch.randn(param.shape, generator=torch.Generator().manual_seed(11)))
    return model


@pytest.mark.parametrize("family", sorted(FAMILY_SPECS))
def test_the_lens_reads_out_every_family_as_the_model_does(family, tmp_path):
    """Last layer: both lenses give the model's logits; the final norm read from tensors is its own."""
    from tieviz.analysis.bigrams import direct_path
    from tieviz.analysis.lens import LogitLens, TunedLens
    from tieviz.analysis.model_parts import model_parts, residual_states
    from tieviz.checkpoints import load_full_model

    folder = save_checkpoint(_moved_norms(build_model(family, tied=False)), tmp_path / family)
    model = load_full_model(folder).float()
    ids = torch.randint(0, V, (2, 12), generator=torch.Generator().manual_seed(0))
    last = residual_states(model, ids)[-1]
    with torch.no_grad():
        logits = model(ids).logits
        for lens in (LogitLens(model), TunedLens(model)):
            torch.testing.assert_close(lens(last, lens.n_layers), logits, rtol=1e-4, atol=1e-4)
    ckpt = ca.load_checkpoint(folder)
    assert ckpt.final_norm is not None, ckpt.final_norm_note
    rows = torch.from_numpy(ckpt.W_E[:6].copy())
    parts_norm = model_parts(model).final_norm
    with torch.no_grad():
        theirs = (parts_norm(rows) @ torch.from_numpy(ckpt.W_U[:6].copy()).T).numpy()
    np.testing.assert_allclose(
        direct_path(ckpt.W_E, ckpt.W_U, np.arange(6), ckpt.final_norm), theirs, atol=1e-4
    )


def test_lens_translators_are_keyed_by_the_weights_not_the_folder_name(text, tmp_path):
    """Two different checkpoints in folders of the same name must not share cached translators."""
    cache = tmp_path / "lens"
    first = save_checkpoint(build_model("gpt2", tied=True, seed=1), tmp_path / "a" / "checkpoint")
    second = save_checkpoint(build_model("gpt2", tied=True, seed=2), tmp_path / "b" / "checkpoint")
    ca.checkpoint_lens(first, text, cache, steps=2)
    ca.checkpoint_lens(second, text, cache, steps=2)
    assert len(list(cache.glob("tuned_lens-*.safetensors"))) == 2
    ca.checkpoint_lens(first, text, cache, steps=2)  # the same weights again: a cache hit
    assert len(list(cache.glob("tuned_lens-*.safetensors"))) == 2
