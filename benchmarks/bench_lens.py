"""How long training the tuned lens takes for the demo's tied and untied models, and how much it helps.

Run: .venv/bin/python benchmarks/bench_lens.py [--steps N] [--batch-size B] [--lr LR]
Target (from the issue, on a 2-core CPU): both lenses trained in under a minute, default settings,
on 64 held-out sequences. Models are the demo shape (d_model 128, 2 layers, 4 heads, vocabulary
2,000, 64 tokens) with random init, briefly trained on Zipf-distributed tokens so that the early
layers' logit lens is visibly wrong. Wall time depends on what else the machine runs; CPU time
(both threads) is printed beside it.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from tieviz.analysis.lens import LogitLens, lens_statistics, train_tuned_lens  # noqa: E402
from tieviz.config import PRESETS  # noqa: E402
from tieviz.training.model import build_model  # noqa: E402

VOCAB, N_SEQUENCES, TARGET_S = 2000, 64, 60.0
DEFAULTS = {name: p.default for name, p in inspect.signature(train_tuned_lens).parameters.items()}


def zipf_tokens(n: int, seq_len: int, generator: torch.Generator) -> torch.Tensor:
    """[n, seq_len] token ids with Zipf frequencies, roughly like words in text."""
    weights = 1.0 / torch.arange(1, VOCAB + 1, dtype=torch.float32)
    return torch.multinomial(weights, n * seq_len, replacement=True, generator=generator).view(n, seq_len)


def demo_model(tied: bool, warmup_steps: int = 20) -> torch.nn.Module:
    """The demo shape, with a few Adam steps so that its layers do something."""
    experiment = PRESETS["demo"]
    model = build_model(experiment.arm("tied" if tied else "untied"), VOCAB, eos_id=0)
    generator = torch.Generator().manual_seed(1)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(warmup_steps):
        ids = zipf_tokens(16, experiment.model.seq_len, generator)
        loss = model(input_ids=ids, labels=ids).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return model.eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=DEFAULTS["steps"])
    parser.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"])
    parser.add_argument("--lr", type=float, default=DEFAULTS["lr"])
    args = parser.parse_args()
    torch.set_num_threads(2)
    seq_len = PRESETS["demo"].model.seq_len
    held_out = zipf_tokens(N_SEQUENCES, seq_len, torch.Generator().manual_seed(2))
    print(
        f"tuned lens: steps {args.steps}, batch {args.batch_size}, lr {args.lr}, "
        f"{N_SEQUENCES} x {seq_len} tokens"
    )
    total = 0.0
    for tied in (True, False):
        name = "tied" if tied else "untied"
        model = demo_model(tied)
        wall, cpu = time.perf_counter(), time.process_time()
        lens = train_tuned_lens(model, held_out, steps=args.steps, lr=args.lr, batch_size=args.batch_size)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        total += wall
        tuned = lens_statistics(model, lens, held_out).kl_bits
        logit = lens_statistics(model, LogitLens(model), held_out).kl_bits
        per_layer = ", ".join(f"{a:.3f}->{b:.3f}" for a, b in zip(logit[:-1], tuned[:-1], strict=True))
        print(
            f"  {name:6s}  train {wall:6.2f} s wall ({cpu:6.2f} s CPU)   "
            f"KL bits logit->tuned per layer: {per_layer}"
        )
        print(
            f"          mean KL over layers: logit lens {logit.mean():.4f} bits, "
            f"tuned lens {tuned.mean():.4f} bits"
        )
    verdict = "PASS" if total < TARGET_S else "FAIL"
    print(f"both models: {total:.2f} s (target < {TARGET_S:.0f} s): {verdict}")


if __name__ == "__main__":
    main()
