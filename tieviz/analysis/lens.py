"""Logit lens and tuned lens (Belrose et al. 2023): what each layer's residual stream would predict.

The tuned lens learns one affine translator per layer, initialised to the identity, trained to
minimise KL(p_final || p_lens). docs/science.md (claim 3) reads its per-layer KL for tied vs untied models.
This module is the maths; `tieviz.analysis.lens_cache` keeps fitted translators on disk.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tieviz.analysis.model_parts import model_parts, residual_states
from tieviz.analysis.stats import nats_to_bits
from tieviz.config import LensConfig

FIT = LensConfig()  # the fit's defaults live in one place: tieviz.config.LensConfig
_CHUNK = 16  # sequences per forward pass when measuring; bounds memory at [16, T, V] logits


class Lens(nn.Module):
    """Shared interface: `lens(h, layer)` maps a residual state [..., d] at layer 0..L to logits [..., V].

    The model's final norm and unembedding are used, not copied, and kept out of the lens's
    parameters and state dict, so a saved lens holds only its translators.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        parts = model_parts(model)
        self._readout = (parts.final_norm, parts.unembed)  # a tuple is not registered as submodules
        self.n_layers = len(parts.blocks)

    def translate(self, h: torch.Tensor, layer: int) -> torch.Tensor:
        return h

    def forward(self, h: torch.Tensor, layer: int) -> torch.Tensor:
        if not 0 <= layer <= self.n_layers:
            raise ValueError(f"layer must be between 0 and {self.n_layers}, got {layer}")
        final_norm, unembed = self._readout
        return unembed(final_norm(self.translate(h, layer)))


class LogitLens(Lens):
    """Reads every layer with the model's own final norm and unembedding, no translator."""


class TunedLens(Lens):
    """One affine translator per layer 0..L-1 (identity at init); the final layer L is read as is.

    `fit_steps` and `converged` record how it was fitted (see `train_tuned_lens`).
    """

    fit_steps: int = 0
    converged: bool | None = None

    def __init__(self, model: nn.Module) -> None:
        super().__init__(model)
        d_model = int(model.config.hidden_size)
        self.translators = nn.ModuleList(nn.Linear(d_model, d_model) for _ in range(self.n_layers))
        with torch.no_grad():
            for translator in self.translators:
                translator.weight.copy_(torch.eye(d_model))
                translator.bias.zero_()
        reference = next(model.parameters())
        self.to(device=reference.device, dtype=reference.dtype)

    def translate(self, h: torch.Tensor, layer: int) -> torch.Tensor:
        return h if layer == self.n_layers else self.translators[layer](h)


def _kl_per_token(target_logits: torch.Tensor, lens_logits: torch.Tensor) -> torch.Tensor:
    """KL(p_target || p_lens) in nats for each position: [..., V] -> [...]."""
    log_p = F.log_softmax(target_logits.float(), dim=-1)
    log_q = F.log_softmax(lens_logits.float(), dim=-1)
    return (log_p.exp() * (log_p - log_q)).sum(-1)


def _check_ids(input_ids: torch.Tensor) -> None:
    if input_ids.ndim != 2 or input_ids.shape[0] == 0 or input_ids.shape[1] < 2:
        raise ValueError(
            f"input_ids must be [sequences, tokens] with at least 2 tokens, got {tuple(input_ids.shape)}"
        )


def train_tuned_lens(
    model: nn.Module,
    input_ids: torch.Tensor,
    steps: int = FIT.max_steps,
    lr: float = FIT.lr,
    batch_size: int = FIT.batch_size,
    seed: int = FIT.seed,
    progress: Callable[[int, int], None] | None = None,
    stop_ids: torch.Tensor | None = None,
    check_every: int = FIT.check_every,
    patience: int = FIT.patience,
    min_delta: float = FIT.min_delta,
) -> TunedLens:
    """Fit translators on `input_ids` [N, T] with Adam, minimising the sum over layers of KL.

    With `stop_ids` [M, T] (windows the fit never trains on) the fit stops early: every `check_every`
    steps the loss on `stop_ids` is measured, and after `patience` checks without an improvement of
    `min_delta` nats the best translators so far are kept and the fit is converged. `steps` caps it; a fit
    that reaches the cap is not converged. The result's `fit_steps` and `converged` say which happened
    (`converged` is None without `stop_ids`: nothing was checked).
    The model is frozen; its final distribution (unembed(final_norm(h_L)), detached) is the target.
    Residual states are computed once, so each step costs only the translators and the readout.
    """
    _check_ids(input_ids)
    if steps < 0 or batch_size < 1 or lr <= 0 or check_every < 1 or patience < 1:
        raise ValueError("steps must be >= 0, batch_size, check_every and patience >= 1, and lr > 0")
    lens = TunedLens(model)
    states = torch.stack(_all_states(model, input_ids))  # [L+1, N, T, d]
    held = None if stop_ids is None else torch.stack(_all_states(model, stop_ids))  # [L+1, M, T, d]
    frozen = [(p, p.requires_grad) for p in model.parameters()]
    for p, _ in frozen:
        p.requires_grad_(False)
    optimiser = torch.optim.Adam(lens.parameters(), lr=lr)
    order = _batches(input_ids.shape[0], batch_size, seed)
    best, best_state, best_step, waited, step = math.inf, None, 0, 0, 0
    try:
        for step in range(1, steps + 1):
            loss = _training_loss(lens, states[:, next(order)])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            if progress is not None:
                progress(step, steps)
            if held is None or step % check_every:
                continue
            with torch.no_grad():
                held_loss = _held_out_loss(lens, held)
            if held_loss < best - min_delta:
                best, best_step, waited = held_loss, step, 0
                best_state = {k: v.detach().clone() for k, v in lens.state_dict().items()}
            elif (waited := waited + 1) >= patience:
                break
    finally:
        for p, flag in frozen:
            p.requires_grad_(flag)
    if held is None:
        lens.fit_steps, lens.converged = steps, None
    else:
        if best_state is not None:
            lens.load_state_dict(best_state)
        lens.fit_steps, lens.converged = best_step, waited >= patience
    return lens


def _held_out_loss(lens: TunedLens, held: torch.Tensor) -> float:
    """`_training_loss` over every held-out window [L+1, M, T, d], in chunks, as one number."""
    total = sum(
        _training_loss(lens, held[:, i : i + _CHUNK]).item() * held[:, i : i + _CHUNK].shape[1]
        for i in range(0, held.shape[1], _CHUNK)
    )
    return total / held.shape[1]


def _training_loss(lens: TunedLens, batch: torch.Tensor) -> torch.Tensor:
    """Sum over layers 0..L-1 of the mean KL(p_final || p_lens), up to the constant entropy of p_final.

    batch: [L+1, b, T, d]. All layers go through the readout in one call; soft-target cross-entropy
    has the same gradient as the KL and is one fused operation.
    """
    final_norm, unembed = lens._readout
    with torch.no_grad():
        target = F.softmax(unembed(final_norm(batch[-1])).float(), dim=-1)  # [b, T, V]
    translated = torch.stack([lens.translate(batch[layer], layer) for layer in range(lens.n_layers)])
    logits = unembed(final_norm(translated)).float()  # [L, b, T, V]
    targets = target.expand(lens.n_layers, *target.shape)
    return F.cross_entropy(logits.flatten(0, 2), targets.flatten(0, 2)) * lens.n_layers


def _batches(n: int, batch_size: int, seed: int) -> Iterator[torch.Tensor]:
    """Endless shuffled epochs of index batches, deterministic in `seed`."""
    generator = torch.Generator().manual_seed(seed)
    size = min(batch_size, n)
    while True:
        permutation = torch.randperm(n, generator=generator)
        for start in range(0, n - size + 1, size):
            yield permutation[start : start + size]


def _all_states(model: nn.Module, input_ids: torch.Tensor) -> list[torch.Tensor]:
    """residual_states over `input_ids` in chunks, concatenated: L+1 tensors [N, T, d]."""
    chunks = [residual_states(model, input_ids[i : i + _CHUNK]) for i in range(0, input_ids.shape[0], _CHUNK)]
    return [torch.cat(per_layer) for per_layer in zip(*chunks, strict=True)]


def layer_names(n_layers: int) -> list[str]:
    """Names of the L+1 residual positions: "input", "1" .. "L-1", "final"."""
    return ["input", *(str(layer) for layer in range(1, n_layers)), "final"]


def early_layers(n_positions: int) -> slice:
    """The "early" residual positions of L+1: the first half of those before the last, at least one.

    The last position is the final prediction itself (tuned-lens KL near zero by design), so it never
    counts; with 2 layers (3 positions) the early part is the embedding output alone.
    """
    if n_positions < 2:
        raise ValueError(f"the lens needs at least one position before the last, got {n_positions} in all")
    return slice(0, max(1, (n_positions - 1) // 2))


@dataclass(frozen=True)
class LensStatistics:
    """Per-layer lens quality, arrays of length L+1: index 0 is the embedding output, L the final layer."""

    kl: np.ndarray  # nats, mean over tokens of KL(p_final || p_lens)
    cross_entropy: np.ndarray  # nats, lens prediction vs the actual next token
    layer_names: list[str]

    def __post_init__(self) -> None:
        n = len(self.layer_names)
        for name in ("kl", "cross_entropy"):
            value = getattr(self, name)
            if not isinstance(value, np.ndarray) or value.shape != (n,):
                raise ValueError(f"{name} must be an array of shape ({n},) matching layer_names")

    @property
    def kl_bits(self) -> np.ndarray:
        return nats_to_bits(self.kl)


def lens_statistics(model: nn.Module, lens: Lens, input_ids: torch.Tensor) -> LensStatistics:
    """Per-layer KL to the model's final distribution and next-token cross-entropy over `input_ids` [N, T]."""
    return lenses_statistics(model, {"lens": lens}, input_ids)["lens"]


@torch.no_grad()
def lenses_statistics(
    model: nn.Module, lenses: Mapping[str, Lens], input_ids: torch.Tensor
) -> dict[str, LensStatistics]:
    """`lens_statistics` of several lenses (tuned and logit, say) from one forward pass per chunk."""
    _check_ids(input_ids)
    n_layers = len(model_parts(model).blocks)
    kl_sum = {name: np.zeros(n_layers + 1) for name in lenses}
    ce_sum = {name: np.zeros(n_layers + 1) for name in lenses}
    n_kl = n_ce = 0
    logit_lens = LogitLens(model)
    for start in range(0, input_ids.shape[0], _CHUNK):
        ids = input_ids[start : start + _CHUNK]
        states = residual_states(model, ids)
        target = logit_lens(states[-1], n_layers)
        next_ids = ids[:, 1:].to(target.device).reshape(-1)
        for name, lens in lenses.items():
            for layer, h in enumerate(states):
                logits = lens(h, layer)
                kl_sum[name][layer] += _kl_per_token(target, logits).sum().item()
                ce_sum[name][layer] += F.cross_entropy(
                    logits[:, :-1].float().flatten(0, 1), next_ids, reduction="sum"
                ).item()
        n_kl += ids.numel()
        n_ce += next_ids.numel()
    return {
        name: LensStatistics(kl_sum[name] / n_kl, ce_sum[name] / n_ce, layer_names(n_layers))
        for name in lenses
    }


@torch.no_grad()
def residual_contributions(model: nn.Module, input_ids: torch.Tensor) -> np.ndarray:
    """[L] mean over tokens of ||h_{l+1} - h_l|| / ||h_l||: how far each block moves the stream."""
    _check_ids(input_ids)
    states = _all_states(model, input_ids)
    ratios = [
        ((after - before).float().norm(dim=-1) / before.float().norm(dim=-1).clamp_min(1e-12)).mean().item()
        for before, after in zip(states[:-1], states[1:], strict=True)
    ]
    return np.array(ratios)
