"""The training loop, with the exact split of the embedding gradient into its input and output paths."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from transformers import GPT2LMHeadModel

from tieviz.config import ArmConfig
from tieviz.training.corpus import BatchSampler, Corpus, fixed_windows

ProgressFn = Callable[[int, int, dict], None]  # (step, total_steps, latest metrics)


class TrainingDiverged(ValueError):
    """The loss became NaN or infinite."""


class TrainingCancelled(RuntimeError):
    """The caller asked the loop to stop."""


class GradientSplit:
    """Splits the gradient on the embedding matrix into the input path and the output path.

    A tensor hook on the looked-up embeddings [B, T, d] sees the input-path gradient before it is
    scatter-added into the [V, d] matrix. Scatter-adding it ourselves gives the input part exactly;
    the output part is the total minus it. The same hook can return alpha * gradient, which scales
    only the input path (the paper's causal test). For an untied model the two paths are simply
    the gradients of W_E and W_U.
    """

    def __init__(self, model: GPT2LMHeadModel, alpha: float = 1.0) -> None:
        self.model = model
        self.alpha = alpha
        self.embedding = model.get_input_embeddings()
        self.tied = model.get_output_embeddings().weight is self.embedding.weight
        self._ids: torch.Tensor | None = None
        self._g_emb: torch.Tensor | None = None
        self._handle = self.embedding.register_forward_hook(self._on_forward)

    def _on_forward(self, module: torch.nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        if not output.requires_grad:
            return
        self._ids = inputs[0]
        output.register_hook(self._on_grad)

    def _on_grad(self, grad: torch.Tensor) -> torch.Tensor | None:
        self._g_emb = grad.detach()
        return grad * self.alpha if self.alpha != 1.0 else None

    def parts(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(input-path, output-path) gradients on the matrix, each [V, d], as applied (alpha included)."""
        if not self.tied:
            return self.embedding.weight.grad, self.model.get_output_embeddings().weight.grad
        if self._g_emb is None or self._ids is None:
            raise RuntimeError("no backward pass has gone through the embedding since the last forward")
        weight = self.embedding.weight
        flat = (self.alpha * self._g_emb).reshape(-1, weight.shape[1]).to(weight.grad.dtype)
        g_in = torch.zeros_like(weight.grad).index_add_(0, self._ids.reshape(-1), flat)
        return g_in, weight.grad - g_in

    def norms(self) -> torch.Tensor:
        """[3] (||g_in||, ||g_out||, ||g_act||), left on the device so logging forces no sync.

        g_in and g_out are the exact [V, d] parts (alpha included). g_act is the paper's input-path norm:
        the gradient at the looked-up activations [B, T, d] before the scatter-add, and before alpha.
        """
        g_in, g_out = self.parts()
        if self._g_emb is None:
            raise RuntimeError("no backward pass has gone through the embedding since the last forward")
        return torch.stack([g_in.norm(), g_out.norm(), self._g_emb.float().norm()])

    def remove(self) -> None:
        self._handle.remove()


def checkpoint_steps(total: int, n: int) -> list[int]:
    """About n log-spaced steps in [1, total], always including the last."""
    steps = np.unique(np.round(np.geomspace(1, total, max(n, 2))).astype(int))
    return sorted(set(steps.tolist()) | {total})


def lr_at(step: int, arm: ArmConfig) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak."""
    t = arm.train
    if step < t.warmup_steps:
        return t.lr * (step + 1) / t.warmup_steps
    progress = (step - t.warmup_steps) / max(1, t.steps - t.warmup_steps)
    return t.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))


@dataclass(frozen=True)
class TrainResult:
    final_train_loss: float
    final_val_loss: float
    tokens_per_second: float
    wall_seconds: float


def save_embedding_checkpoint(model: GPT2LMHeadModel, path: Path) -> None:
    """Only the two matrices the bias analyses follow through training, [V, d] each."""
    w_e = model.get_input_embeddings().weight.detach().float().cpu().contiguous()
    w_u = model.get_output_embeddings().weight.detach().float().cpu().contiguous()
    save_file({"W_E": w_e, "W_U": w_u.clone() if w_u.data_ptr() == w_e.data_ptr() else w_u}, str(path))


@torch.no_grad()
def evaluate(model: GPT2LMHeadModel, windows: torch.Tensor, device: str, batch_size: int) -> float:
    """Mean next-token cross-entropy over fixed windows [N, T + 1]."""
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(windows), batch_size):
        batch = windows[start : start + batch_size].to(device)
        with _autocast(device):
            logits = model(batch[:, :-1]).logits
        loss = F.cross_entropy(
            logits.float().reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1), reduction="sum"
        )
        total += loss.item()
        count += batch[:, 1:].numel()
    model.train()
    return total / count


def _autocast(device: str) -> torch.autocast:
    return torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device == "cuda")


def train_model(
    model: GPT2LMHeadModel,
    corpus: Corpus,
    arm: ArmConfig,
    out_dir: Path,
    log: Callable[[dict], None],
    progress: ProgressFn | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> TrainResult:
    """Trains in place, calls `log` with one metrics record per step, saves log-spaced embedding checkpoints.

    Raises TrainingDiverged on a non-finite loss and TrainingCancelled when should_stop() says so.
    """
    t, device = arm.train, arm.train.device
    model.to(device).train()
    split = GradientSplit(model, alpha=arm.alpha)
    # foreach: each update op runs once over all parameters instead of once per tensor. The updates are
    # bitwise those of the per-tensor loop (torch's CPU default); on a CPU a toy arm trains ~10 % faster.
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=t.lr, weight_decay=t.weight_decay, betas=(0.9, 0.95), foreach=True
    )
    sampler = BatchSampler(corpus.train_ids, arm.model.seq_len, t.batch_size, seed=arm.order_seed)
    val_windows = fixed_windows(corpus.val_ids, arm.model.seq_len, max_windows=8 * t.batch_size)
    from tieviz.experiments.resources import snapshot_count

    n_snapshots = snapshot_count(t.n_checkpoints, model.config.vocab_size, arm.model.d_model)
    save_at = set(checkpoint_steps(t.steps, n_snapshots))  # snapshots sized to the model
    (out_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    save_embedding_checkpoint(model, out_dir / "checkpoints" / "step-000000.safetensors")

    pending: list[torch.Tensor] = []  # [4] (loss, g_in, g_out, g_act) per step, synced at flush time
    window_start, window_tokens, measured_tokens, measured_seconds = time.perf_counter(), 0, 0, 0.0
    started = time.perf_counter()
    last: dict = {}
    flush_every = max(1, min(t.eval_every, 25))
    try:
        for step in range(1, t.steps + 1):
            lr = lr_at(step - 1, arm)
            for group in optimizer.param_groups:
                group["lr"] = lr
            batch = sampler.next().to(device, non_blocking=True)
            with _autocast(device):
                logits = model(batch[:, :-1]).logits
            loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            pending.append(torch.cat([loss.detach().float().reshape(1), split.norms().float()]))
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            window_tokens += batch[:, 1:].numel()

            flush = step % flush_every == 0 or step % t.eval_every == 0 or step == t.steps or step in save_at
            if not flush:
                continue
            values = torch.stack(pending).cpu().tolist()  # the one device sync per window
            elapsed = time.perf_counter() - window_start
            if step > flush_every or t.steps <= flush_every:  # the first window pays for warm-up
                measured_tokens, measured_seconds = (
                    measured_tokens + window_tokens,
                    measured_seconds + elapsed,
                )
            rate = window_tokens / max(elapsed, 1e-9)
            first = step - len(values) + 1
            for offset, (loss_value, g_in, g_out, g_act) in enumerate(values):
                if not math.isfinite(loss_value):
                    raise TrainingDiverged(_divergence(loss_value, first + offset, arm))
                last = {
                    "step": first + offset,
                    "train_loss": loss_value,
                    "lr": lr_at(first + offset - 1, arm),
                    "grad_in": g_in,
                    "grad_out": g_out,
                    "grad_ratio": g_out / g_in if g_in > 0 else float("inf"),
                    "grad_in_act": g_act,  # the paper's input norm: at the activations, before alpha
                    "tokens_per_second": rate,
                }
                if last["step"] % t.eval_every == 0 or last["step"] == t.steps:
                    last["val_loss"] = evaluate(model, val_windows, device, t.batch_size)
                log(last)
            pending.clear()
            if step in save_at:
                save_embedding_checkpoint(model, out_dir / "checkpoints" / f"step-{step:06d}.safetensors")
            if progress is not None:
                progress(step, t.steps, last)
            if should_stop is not None and should_stop():
                raise TrainingCancelled(f"cancelled at step {step}")
            window_start, window_tokens = time.perf_counter(), 0
    finally:
        split.remove()
    model.eval()
    return TrainResult(
        final_train_loss=last["train_loss"],
        final_val_loss=last["val_loss"],
        tokens_per_second=measured_tokens / max(measured_seconds, 1e-9),
        wall_seconds=time.perf_counter() - started,
    )


def _divergence(loss: float, step: int, arm: ArmConfig) -> str:
    """Why training stopped, blaming α when it scaled the input gradient (the tied arm, α = 1, came first)."""
    if arm.alpha != 1.0:
        return (
            f"the loss became {loss} at step {step} of the arm whose input gradient is scaled by "
            f"α = {arm.alpha:g}; try a smaller α (the learning rate {arm.train.lr:g} is not the cause "
            "unless the tied arm diverges too)"
        )
    return (
        f"the loss became {loss} at step {step} (learning rate {arm.train.lr:g}); try a lower learning rate"
    )
