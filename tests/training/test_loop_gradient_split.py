"""The split of the shared matrix's gradient into input and output paths, checked against an untied twin."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from transformers import GPT2LMHeadModel

from tests.tiny_gpt2 import tiny_gpt2
from tieviz.training.loop import GradientSplit

VOCAB, D = 40, 16


def tiny_tied_or_untied(tied: bool) -> GPT2LMHeadModel:
    return tiny_gpt2(tied, VOCAB, d_model=D, seq=12)


def backward(model: GPT2LMHeadModel, ids: torch.Tensor) -> None:
    model.zero_grad(set_to_none=True)
    logits = model(ids[:, :-1]).logits
    F.cross_entropy(logits.reshape(-1, VOCAB), ids[:, 1:].reshape(-1)).backward()


@pytest.fixture
def ids() -> torch.Tensor:
    return torch.randint(0, VOCAB, (3, 12), generator=torch.Generator().manual_seed(1))


def untied_twin(tied: GPT2LMHeadModel) -> GPT2LMHeadModel:
    """The same function with W_U a separate copy of W_E: its two gradients are the two paths."""
    twin = GPT2LMHeadModel(copy.deepcopy(tied.config))
    twin.config.tie_word_embeddings = False
    twin = GPT2LMHeadModel(twin.config)
    twin.load_state_dict(tied.state_dict())
    twin.lm_head.weight = torch.nn.Parameter(tied.transformer.wte.weight.detach().clone())
    assert twin.lm_head.weight is not twin.transformer.wte.weight
    return twin


def test_tied_split_matches_the_untied_twin(ids):
    model = tiny_tied_or_untied(tied=True)
    twin = untied_twin(model)
    split = GradientSplit(model)
    backward(model, ids)
    backward(twin, ids)
    g_in, g_out = split.parts()
    torch.testing.assert_close(g_in, twin.transformer.wte.weight.grad, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(g_out, twin.lm_head.weight.grad, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(g_in + g_out, model.transformer.wte.weight.grad)
    # Only looked-up rows receive input-path gradient.
    unused = torch.ones(VOCAB, dtype=torch.bool)
    unused[ids[:, :-1].flatten()] = False
    assert unused.any() and g_in[unused].abs().max() == 0


def test_alpha_scales_only_the_input_path(ids):
    plain, scaled = tiny_tied_or_untied(tied=True), tiny_tied_or_untied(tied=True)
    split_plain, split_scaled = GradientSplit(plain, alpha=1.0), GradientSplit(scaled, alpha=3.0)
    backward(plain, ids)
    backward(scaled, ids)
    in_1, out_1 = split_plain.parts()
    in_3, out_3 = split_scaled.parts()
    torch.testing.assert_close(in_3, 3.0 * in_1, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(out_3, out_1, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(scaled.transformer.wte.weight.grad, out_1 + 3.0 * in_1, rtol=1e-5, atol=1e-7)
    # Every other parameter's gradient is untouched by alpha.
    for (name, p), (_, q) in zip(plain.named_parameters(), scaled.named_parameters(), strict=False):
        if "wte" not in name:
            torch.testing.assert_close(p.grad, q.grad, msg=name)


def test_untied_split_is_the_two_matrix_gradients(ids):
    model = tiny_tied_or_untied(tied=False)
    split = GradientSplit(model)
    backward(model, ids)
    g_in, g_out = split.parts()
    assert g_in is model.transformer.wte.weight.grad
    assert g_out is model.lm_head.weight.grad
    norms = split.norms()
    assert norms[0] == g_in.norm() and norms[1] == g_out.norm()


def test_removed_hook_no_longer_scales(ids):
    model = tiny_tied_or_untied(tied=True)
    reference = tiny_tied_or_untied(tied=True)
    GradientSplit(model, alpha=4.0).remove()
    backward(model, ids)
    backward(reference, ids)
    torch.testing.assert_close(model.transformer.wte.weight.grad, reference.transformer.wte.weight.grad)


def test_split_holds_under_bf16_autocast(ids):
    """The trainer runs CUDA in bf16 autocast; CPU autocast exercises the same mixed-precision graph here.

    Under autocast the split must still match an untied twin's two gradients, with
    the matrices in float32 and the matmuls in bf16, and alpha must touch only the input part.
    """
    model, scaled = tiny_tied_or_untied(tied=True), tiny_tied_or_untied(tied=True)
    twin = untied_twin(model)
    split, split_scaled = GradientSplit(model), GradientSplit(scaled, alpha=2.0)
    for m in (model, scaled, twin):
        m.zero_grad(set_to_none=True)
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
            logits = m(ids[:, :-1]).logits
        assert logits.dtype == torch.bfloat16  # autocast really ran the output projection in bf16
        F.cross_entropy(logits.float().reshape(-1, VOCAB), ids[:, 1:].reshape(-1)).backward()
    g_in, g_out = split.parts()
    assert g_in.dtype == g_out.dtype == torch.float32
    scale = model.transformer.wte.weight.grad.abs().max()
    torch.testing.assert_close(g_in, twin.transformer.wte.weight.grad, rtol=1e-3, atol=1e-4 * scale)
    torch.testing.assert_close(g_out, twin.lm_head.weight.grad, rtol=1e-3, atol=1e-4 * scale)
    s_in, s_out = split_scaled.parts()
    torch.testing.assert_close(s_in, 2.0 * g_in, rtol=1e-2, atol=1e-6)
    torch.testing.assert_close(s_out, g_out, rtol=1e-2, atol=1e-6)


def test_the_papers_input_norm_is_taken_at_the_activations_before_alpha(ids):
    """norms()[2] is ||dL/d(looked-up embeddings)|| [B, T, d], before the scatter-add and before alpha."""
    plain, scaled = tiny_tied_or_untied(tied=True), tiny_tied_or_untied(tied=True)
    scaled.load_state_dict(plain.state_dict())
    plain_split, scaled_split = GradientSplit(plain), GradientSplit(scaled, alpha=4.0)
    captured = {}

    def keep_gradient(module, inputs, output) -> None:
        output.register_hook(lambda g: captured.setdefault("g", g.clone()))

    handle = plain.transformer.wte.register_forward_hook(keep_gradient)
    backward(plain, ids)
    backward(scaled, ids)
    handle.remove()
    expected = captured["g"].norm()
    torch.testing.assert_close(plain_split.norms()[2], expected)
    torch.testing.assert_close(scaled_split.norms()[2], expected)  # alpha scales the update, not this norm
    # Scattering first adds the rows of repeated tokens: the exact [V, d] input part is a different number.
    assert not torch.isclose(plain_split.norms()[0], expected)
