import numpy as np
import pytest
import torch
from torch import nn
from transformers import GPT2LMHeadModel

import tieviz.analysis.lens_cache as lens_module
from tests.tiny_gpt2 import tiny_gpt2
from tieviz.analysis.lens import (
    LensStatistics,
    LogitLens,
    TunedLens,
    layer_names,
    lens_statistics,
    lenses_statistics,
    residual_contributions,
    train_tuned_lens,
)
from tieviz.analysis.lens_cache import cached_tuned_lens, load_lens, read_lens_meta, save_lens
from tieviz.analysis.model_parts import model_parts, residual_states

VOCAB, D_MODEL, N_LAYERS, SEQ = 50, 16, 2, 12


def tiny_model(tied: bool, seed: int = 0) -> GPT2LMHeadModel:
    model = tiny_gpt2(tied, VOCAB, d_model=D_MODEL, n_layers=N_LAYERS, seq=SEQ, seed=seed)
    with torch.no_grad():  # larger weights than the 0.02 init, so layers really move the prediction
        for p in model.parameters():
            if p.ndim == 2:
                p.mul_(10.0)
    return model.eval()


def token_batch(n: int = 16, seed: int = 1) -> torch.Tensor:
    return torch.randint(0, VOCAB, (n, SEQ), generator=torch.Generator().manual_seed(seed))


@pytest.fixture(params=[True, False], ids=["tied", "untied"])
def model(request):
    return tiny_model(request.param)


def test_model_parts_of_gpt2(model):
    parts = model_parts(model)
    assert parts.blocks == list(model.transformer.h)
    assert parts.final_norm is model.transformer.ln_f
    assert parts.unembed is model.lm_head
    assert parts.embed is model.transformer.wte
    tied = parts.unembed.weight is parts.embed.weight
    assert tied == model.config.tie_word_embeddings


def test_model_parts_rejects_unknown_architecture():
    with pytest.raises(ValueError, match="unsupported architecture"):
        model_parts(nn.Linear(3, 3))


def other_architecture(name: str) -> nn.Module:
    import transformers as tf

    small = {"vocab_size": VOCAB, "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2}
    if name == "llama":
        return tf.LlamaForCausalLM(tf.LlamaConfig(intermediate_size=32, **small))
    if name == "neox":
        return tf.GPTNeoXForCausalLM(tf.GPTNeoXConfig(intermediate_size=32, **small))
    # OPT-350m style: no final norm, embeddings narrower than the stream, projected in and out
    config = tf.OPTConfig(
        ffn_dim=32, word_embed_proj_dim=8, do_layer_norm_before=False, max_position_embeddings=16, **small
    )
    return tf.OPTForCausalLM(config)


@pytest.mark.parametrize("name", ["llama", "neox", "opt"])
def test_other_architectures_read_out_to_their_logits(name):
    torch.manual_seed(0)
    model = other_architecture(name).eval()
    parts = model_parts(model)
    ids = token_batch(2)
    states = residual_states(model, ids)
    assert len(states) == 3 and states[0].shape[-1] == 16
    with torch.no_grad():
        torch.testing.assert_close(parts.unembed(parts.final_norm(states[-1])), model(ids).logits)
    assert lens_statistics(model, TunedLens(model), ids).kl[-1] < 1e-5


def test_residual_states_reproduce_the_model_logits(model):
    ids = token_batch(4)
    states = residual_states(model, ids)
    assert len(states) == N_LAYERS + 1
    assert all(s.shape == (4, SEQ, D_MODEL) for s in states)
    parts = model_parts(model)
    with torch.no_grad():
        torch.testing.assert_close(parts.unembed(parts.final_norm(states[-1])), model(ids).logits)
        # h_0 is the embedding output: token plus position embeddings
        expected_h0 = model.transformer.wte(ids) + model.transformer.wpe(torch.arange(SEQ))
    torch.testing.assert_close(states[0], expected_h0)
    assert not torch.allclose(states[-1], model(ids, output_hidden_states=True).hidden_states[-1])


def test_residual_states_restore_training_mode(model):
    model.train()
    residual_states(model, token_batch(2))
    assert model.training


@pytest.mark.parametrize("lens_type", [LogitLens, TunedLens])
def test_final_layer_lens_is_the_model(model, lens_type):
    ids = token_batch(4)
    lens = lens_type(model)
    with torch.no_grad():
        torch.testing.assert_close(lens(residual_states(model, ids)[-1], N_LAYERS), model(ids).logits)
    stats = lens_statistics(model, lens, ids)
    assert abs(stats.kl[-1]) < 1e-5
    assert stats.kl[0] > 0.01  # the embedding alone predicts something else


def test_untrained_tuned_lens_equals_logit_lens(model):
    ids = token_batch(4)
    tuned, logit = TunedLens(model), LogitLens(model)
    with torch.no_grad():
        for layer, h in enumerate(residual_states(model, ids)):
            assert torch.equal(tuned(h, layer), logit(h, layer))


def test_lens_rejects_a_layer_out_of_range(model):
    with pytest.raises(ValueError, match="layer must be between"):
        LogitLens(model)(torch.zeros(1, D_MODEL), N_LAYERS + 1)


def test_tuned_lens_has_only_translator_parameters(model):
    lens = TunedLens(model)
    assert sum(p.numel() for p in lens.parameters()) == N_LAYERS * (D_MODEL * D_MODEL + D_MODEL)
    assert all(name.startswith("translators.") for name in lens.state_dict())


def test_training_beats_the_logit_lens_on_its_data(model):
    ids = token_batch(16)
    before = [p.detach().clone() for p in model.parameters()]
    flags = [p.requires_grad for p in model.parameters()]
    tuned = train_tuned_lens(model, ids, steps=60, lr=1e-2, batch_size=8)
    tuned_stats = lens_statistics(model, tuned, ids)
    logit_stats = lens_statistics(model, LogitLens(model), ids)
    assert np.all(tuned_stats.kl <= logit_stats.kl + 1e-4)
    assert tuned_stats.kl[:-1].sum() < 0.7 * logit_stats.kl[:-1].sum()
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))  # model frozen
    assert [p.requires_grad for p in model.parameters()] == flags
    assert all(p.grad is None for p in model.parameters())


def test_training_is_deterministic_and_reports_progress():
    model, ids = tiny_model(True), token_batch(8)
    seen = []
    first = train_tuned_lens(
        model, ids, steps=5, batch_size=4, seed=3, progress=lambda s, n: seen.append((s, n))
    )
    second = train_tuned_lens(model, ids, steps=5, batch_size=4, seed=3)
    assert seen == [(s, 5) for s in range(1, 6)]
    for a, b in zip(first.state_dict().values(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_statistics_shapes_names_and_units(model):
    stats = lens_statistics(model, LogitLens(model), token_batch(4))
    assert stats.layer_names == ["input", "1", "final"]
    assert stats.kl.shape == stats.cross_entropy.shape == (N_LAYERS + 1,)
    np.testing.assert_allclose(stats.kl_bits, stats.kl / np.log(2))
    assert np.all(stats.cross_entropy > 0)


def test_final_cross_entropy_is_the_model_loss(model):
    ids = token_batch(4)
    stats = lens_statistics(model, LogitLens(model), ids)
    with torch.no_grad():
        loss = model(ids, labels=ids).loss.item()
    assert stats.cross_entropy[-1] == pytest.approx(loss, rel=1e-5)


def test_statistics_constructor_checks_shapes():
    with pytest.raises(ValueError, match="kl must be an array"):
        LensStatistics(np.zeros(2), np.zeros(3), layer_names(2))
    assert layer_names(3) == ["input", "1", "2", "final"]


def test_residual_contributions_are_positive_per_block(model):
    contributions = residual_contributions(model, token_batch(4))
    assert contributions.shape == (N_LAYERS,)
    assert np.all(contributions > 0)


def test_residual_contribution_of_an_identity_block_is_zero():
    model = tiny_model(True)
    block = model.transformer.h[1]
    with torch.no_grad():
        block.attn.c_proj.weight.zero_()
        block.attn.c_proj.bias.zero_()
        block.mlp.c_proj.weight.zero_()
        block.mlp.c_proj.bias.zero_()
    contributions = residual_contributions(model, token_batch(4))
    assert contributions[1] == pytest.approx(0.0, abs=1e-7) and contributions[0] > 0


def test_save_and_load_give_identical_logits(model, tmp_path):
    ids = token_batch(8)
    lens = train_tuned_lens(model, ids, steps=5, batch_size=4)
    path = tmp_path / "lens.safetensors"
    save_lens(lens, path, {"steps": 5})
    loaded = load_lens(model, path)
    assert read_lens_meta(path) == {"steps": 5}
    with torch.no_grad():
        for layer, h in enumerate(residual_states(model, ids)):
            assert torch.equal(loaded(h, layer), lens(h, layer))
    assert not list(tmp_path.glob("*.tmp"))


def test_load_rejects_a_damaged_file(model, tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match="not a readable"):
        load_lens(model, path)


def test_cache_hit_does_not_retrain(model, tmp_path, monkeypatch):
    ids = token_batch(8)
    calls = []
    real_train = lens_module.train_tuned_lens

    def counting_train(*args, **kwargs):
        calls.append(1)
        return real_train(*args, **kwargs)

    monkeypatch.setattr(lens_module, "train_tuned_lens", counting_train)
    first = cached_tuned_lens(model, ids, tmp_path, steps=5, lr=1e-2, seed=0, batch_size=4)
    second = cached_tuned_lens(model, ids, tmp_path, steps=5, lr=1e-2, seed=0, batch_size=4)
    assert len(calls) == 1
    for a, b in zip(first.state_dict().values(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    cached_tuned_lens(model, ids, tmp_path, steps=6, lr=1e-2, seed=0, batch_size=4)
    assert len(calls) == 2  # new settings, new lens


def test_cache_key_follows_the_weights_and_survives_corruption(tmp_path, monkeypatch):
    ids = token_batch(8)
    calls = []
    real_train = lens_module.train_tuned_lens
    monkeypatch.setattr(
        lens_module, "train_tuned_lens", lambda *a, **k: calls.append(1) or real_train(*a, **k)
    )
    cached_tuned_lens(tiny_model(True), ids, tmp_path, steps=2, batch_size=4)
    cached_tuned_lens(tiny_model(False), ids, tmp_path, steps=2, batch_size=4)
    assert len(calls) == 2
    files = sorted(tmp_path.glob("*.safetensors"))
    assert len(files) == 2
    for path in files:
        path.write_bytes(b"\x00garbage")
    lens = cached_tuned_lens(tiny_model(True), ids, tmp_path, steps=2, batch_size=4)
    assert len(calls) == 3 and isinstance(lens, TunedLens)
    rewritten = [path for path in files if path.stat().st_size > 100]
    assert len(rewritten) == 1
    load_lens(tiny_model(True), rewritten[0])


def test_several_lenses_in_one_pass_match_one_lens_at_a_time(model):
    """Each lens keeps its own sums: scoring a trained and a plain lens together changes neither."""
    ids = token_batch(n=20)
    tuned = train_tuned_lens(model, ids, steps=30, lr=1e-2)
    together = lenses_statistics(model, {"tuned": tuned, "logit": LogitLens(model)}, ids)
    for name, lens in (("tuned", tuned), ("logit", LogitLens(model))):
        alone = lens_statistics(model, lens, ids)
        np.testing.assert_array_equal(together[name].kl, alone.kl)
        np.testing.assert_array_equal(together[name].cross_entropy, alone.cross_entropy)
    assert not np.array_equal(together["tuned"].kl, together["logit"].kl)
