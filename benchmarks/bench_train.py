"""Trainer throughput: tieviz's loop (with the gradient split logged every step) against a plain loop.

Both train the same GPT-2 shape on the same batches; rounds alternate between the two so that load from
other processes hits both alike. Prints tokens/s of each and their ratio; the target is a ratio of at
least 0.90 (logging costs under 10%).

    .venv/bin/python benchmarks/bench_train.py [--preset demo] [--steps 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from tieviz.config import preset  # noqa: E402
from tieviz.experiments.runner import resolve  # noqa: E402
from tieviz.training.corpus import BatchSampler, build_corpus  # noqa: E402
from tieviz.training.loop import train_model  # noqa: E402
from tieviz.training.model import build_model  # noqa: E402


def plain_loop(arm, corpus, device: str) -> float:
    """The baseline: GPT2LMHeadModel + AdamW, loss.item() each step, nothing else. Returns tokens/s."""
    model = build_model(arm, corpus.vocab_size, corpus.tokenizer.eos_token_id).to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=arm.train.lr, betas=(0.9, 0.95))
    sampler = BatchSampler(corpus.train_ids, arm.model.seq_len, arm.train.batch_size, seed=arm.train.seed)
    warmup = 5
    for step in range(arm.train.steps + warmup):
        if step == warmup:
            if device == "cuda":
                torch.cuda.synchronize()
            started = time.perf_counter()
        batch = sampler.next().to(device)
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device == "cuda"):
            logits = model(batch[:, :-1]).logits
        loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        loss.item()
    if device == "cuda":
        torch.cuda.synchronize()
    return arm.train.steps * batch[:, 1:].numel() / (time.perf_counter() - started)


def tieviz_loop(arm, corpus) -> float:
    """tokens/s over the middle windows: the first pays for warm-up, the last for the final evaluation."""
    model = build_model(arm, corpus.vocab_size, corpus.tokenizer.eos_token_id)
    records: list[dict] = []
    with tempfile.TemporaryDirectory() as out:
        train_model(model, corpus, arm, Path(out), log=records.append)
    window = 25
    middle = [r for r in records if window < r["step"] <= arm.train.steps - window]
    if not middle:
        raise SystemExit(f"--steps must exceed {2 * window} to leave a middle window")
    return sum(r["tokens_per_second"] for r in middle) / len(middle)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="demo")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    config = resolve(
        preset(args.preset, steps=args.steps, device=args.device, eval_every=10**9, n_checkpoints=2)
    )
    arm = config.arm("tied")
    device = arm.train.device
    corpus = build_corpus(config.data, config.model.seq_len)
    print(
        f"preset {args.preset}: d={config.model.d_model} L={config.model.n_layers} V={corpus.vocab_size} "
        f"batch {config.train.batch_size}x{config.model.seq_len}, {args.steps} steps, device {device}, "
        f"threads {torch.get_num_threads()}"
    )
    plain, ours = [], []
    for round_index in range(args.rounds):
        plain.append(plain_loop(arm, corpus, device))
        ours.append(tieviz_loop(arm, corpus))
        print(f"round {round_index + 1}: plain {plain[-1]:,.0f} tok/s   tieviz {ours[-1]:,.0f} tok/s")
    ratio = statistics.median(o / p for o, p in zip(ours, plain, strict=True))
    print(f"median plain  {statistics.median(plain):,.0f} tokens/s")
    print(f"median tieviz {statistics.median(ours):,.0f} tokens/s")
    print(
        f"ratio tieviz/plain (median of rounds) {ratio:.3f}  [{'PASS' if ratio >= 0.90 else 'FAIL'}: >= 0.90]"
    )


if __name__ == "__main__":
    main()
