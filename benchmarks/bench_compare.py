"""`compare --tokens all` on real-shaped checkpoint pairs beside a plain NumPy computation of the scores.

Builds (once, in --dir) a tied and an untied checkpoint as safetensors for each shape: GPT-2 small
(V=50,257, d=768) and OLMo-1B (V=50,304, d=2048), low rank plus noise, the untied output matrix sharing
the tied matrix's structure more than the untied input matrix does. Then, each in a fresh process timed
by /usr/bin/time (wall time, peak RSS):

- `python -m tieviz compare TIED UNTIED --tokens all --json --quiet` (the default 3 shuffles);
- a plain NumPy reference of the same four scores and the same 3 shuffles: float64 centred copies,
  `np.linalg.lstsq` for the least-squares maps, an SVD for each Procrustes rotation, full Gram matrices
  for CKA, and a k-NN over row blocks against all columns (float32, `argpartition`; the shuffled copies
  renumber the output matrix's neighbours rather than search again).

It prints both, the ratios, and whether the linear-map cosines agree to 1e-5. Targets (issue 17):
GPT-2 small ≤ 120 s and ≤ 3 GB; OLMo-1B ≤ 4 GB and ≤ 1.5 × the reference's time.

    .venv/bin/python benchmarks/bench_compare.py [--dir DIR] [--shapes gpt2,olmo] [--no-reference]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHAPES = {
    "gpt2": dict(
        vocab=50257,
        width=768,
        limits=(120.0, 3.0, None),
        config=dict(model_type="gpt2", architectures=["GPT2LMHeadModel"], n_embd=768, n_layer=12, n_head=12),
        embed="transformer.wte.weight",
    ),
    "olmo": dict(
        vocab=50304,
        width=2048,
        limits=(None, 4.0, 1.5),
        config=dict(
            model_type="olmo",
            architectures=["OlmoForCausalLM"],
            hidden_size=2048,
            num_hidden_layers=16,
            num_attention_heads=16,
        ),
        embed="model.embed_tokens.weight",
    ),
}
RANK = 64


def build(folder: Path, shape: str) -> tuple[Path, Path]:
    """A tied and an untied checkpoint of `shape` in `folder` (kept between runs)."""
    from safetensors.numpy import save_file

    spec = SHAPES[shape]
    vocab, width = spec["vocab"], spec["width"]
    tied, untied = folder / f"{shape}-tied", folder / f"{shape}-untied"
    if (tied / "model.safetensors").is_file() and (untied / "model.safetensors").is_file():
        return tied, untied
    rng = np.random.default_rng(0)
    latent = rng.standard_normal((vocab, RANK), dtype=np.float32)
    frequency = (1.0 / np.arange(1, vocab + 1) ** 0.15).astype(np.float32)[:, None]  # row norms vary

    def matrix(mix: float) -> np.ndarray:
        """Low rank (shared latent, mixed with a private one by `mix`) plus noise, [V, d] float32."""
        private = rng.standard_normal((vocab, RANK), dtype=np.float32)
        factors = rng.standard_normal((RANK, width), dtype=np.float32) / np.sqrt(RANK)
        low = (mix * latent + (1 - mix) * private) @ factors
        return (frequency * low + 0.4 * rng.standard_normal((vocab, width), dtype=np.float32)).astype(
            np.float32
        )

    for path, tensors, tie in (
        (tied, {spec["embed"]: matrix(1.0)}, True),
        (untied, {spec["embed"]: matrix(0.4), "lm_head.weight": matrix(0.8)}, False),
    ):
        path.mkdir(parents=True, exist_ok=True)
        save_file(tensors, path / "model.safetensors")
        config = spec["config"] | {"vocab_size": vocab, "tie_word_embeddings": tie}
        (path / "config.json").write_text(json.dumps(config))
    return tied, untied


REFERENCE = r"""
import json, sys, time
import numpy as np
from safetensors import safe_open

tied_dir, untied_dir, embed, shuffles = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def read(folder, key):
    with safe_open(folder + "/model.safetensors", framework="np") as f:
        return f.get_tensor(key)
start = time.perf_counter()
T, E, U = read(tied_dir, embed), read(untied_dir, embed), read(untied_dir, "lm_head.weight")
K = 10

def knn(x):
    unit = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    out = np.empty((x.shape[0], K), dtype=np.int64)
    for s in range(0, x.shape[0], 1024):
        sims = unit[s:s + 1024] @ unit.T
        sims[np.arange(sims.shape[0]), np.arange(s, s + sims.shape[0])] = -np.inf
        out[s:s + 1024] = np.argpartition(-sims, K, axis=1)[:, :K]
    return out

def mknn(a, b):
    return float(np.mean([len(set(p) & set(q)) / K for p, q in zip(a.tolist(), b.tolist())]))

def cos(a, b):
    return np.einsum("nd,nd->n", a, b) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))

def scores(t, s):
    mapping, *_ = np.linalg.lstsq(s, t, rcond=None)
    lin = float(cos(s @ mapping, t).mean())
    u, _, vt = np.linalg.svd(s.T @ t)
    proc = float(cos(s @ (u @ vt), t).mean())
    cka = float(np.linalg.norm(t.T @ s) ** 2 / (np.linalg.norm(t.T @ t) * np.linalg.norm(s.T @ s)))
    return lin, proc, cka

nT, nE, nU = knn(T), knn(E), knn(U)
t, e, u = (m.astype(np.float64) - m.astype(np.float64).mean(axis=0) for m in (T, E, U))
out = dict(zip(("lin_cos", "proc_cos", "cka"), scores(t, u)), mknn=mknn(nT, nU))
inp = dict(zip(("lin_cos", "proc_cos", "cka"), scores(t, e)), mknn=mknn(nT, nE))
rng = np.random.default_rng(0)
chance = []
for _ in range(shuffles):
    order = rng.permutation(t.shape[0])
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    values = dict(zip(("lin_cos", "proc_cos", "cka"), scores(t, u[order])), mknn=mknn(nT, inverse[nU[order]]))
    chance.append(values)
print(json.dumps({"out": out, "in": inp, "chance": chance, "seconds": time.perf_counter() - start}))
"""


def timed(command: list[str]) -> tuple[str, float, float, float]:
    """(stdout, wall seconds, peak RSS in GB, CPU seconds) of a command run under /usr/bin/time.

    CPU seconds (user + system) say more than wall time on a machine others are loading."""
    done = subprocess.run(
        ["/usr/bin/time", "-f", "TIME %e %M %U %S", *command], capture_output=True, text=True, cwd=REPO
    )
    if done.returncode != 0:
        raise SystemExit(f"{command[:4]} failed:\n{done.stderr[-2000:]}")
    line = [row for row in done.stderr.splitlines() if row.startswith("TIME ")][-1]
    _, seconds, kbytes, user, system = line.split()
    return done.stdout, float(seconds), float(kbytes) / 2**20, float(user) + float(system)


def run(folder: Path, shape: str, shuffles: int, reference: bool = True) -> bool:
    tied, untied = build(folder, shape)
    spec = SHAPES[shape]
    ours_out, ours_s, ours_gb, ours_cpu = timed(
        [
            sys.executable,
            "-m",
            "tieviz",
            "compare",
            str(tied),
            str(untied),
            "--tokens",
            "all",
            "--json",
            "--quiet",
            "--shuffles",
            str(shuffles),
        ]
    )
    load = os.getloadavg()[0]  # after tieviz's run: how busy the CPU was, so a reader can judge the times
    print(f"\n{shape}: V={spec['vocab']:,} d={spec['width']}, all tokens, {shuffles} shuffles")
    print(f"  load average over the last minute of tieviz's run: {load:.2f} on {os.cpu_count()} cores")
    seconds, gigabytes, ratio = spec["limits"]
    if not reference:  # tieviz alone: its time and memory, no ratio
        lin = json.loads(ours_out)["measures"]["lin_cos"]
        print(
            f"  tieviz: {ours_s:.1f} s wall, {ours_cpu:.1f} s CPU, {ours_gb:.2f} GB peak; linear-map cosine"
        )
        print(f"  out {lin['out']:.4f}, in {lin['in']:.4f}, chance {lin['chance']:.4f} (no reference run)")
        return (seconds is None or ours_s <= seconds) and (gigabytes is None or ours_gb <= gigabytes)
    ref_out, ref_s, ref_gb, ref_cpu = timed(
        [sys.executable, "-c", REFERENCE, str(tied), str(untied), spec["embed"], str(shuffles)]
    )
    print(f"  load average over the last minute of the reference's run: {os.getloadavg()[0]:.2f}")
    ours, ref = json.loads(ours_out), json.loads(ref_out)
    print(f"{'':>14} {'wall s':>8} {'CPU s':>8} {'peak GB':>8}")
    print(f"{'tieviz':>14} {ours_s:>8.1f} {ours_cpu:>8.1f} {ours_gb:>8.2f}")
    print(f"{'plain NumPy':>14} {ref_s:>8.1f} {ref_cpu:>8.1f} {ref_gb:>8.2f}")
    print(f"{'ratio':>14} {ours_s / ref_s:>8.2f} {ours_cpu / ref_cpu:>8.2f} {ours_gb / ref_gb:>8.2f}")
    worst = 0.0
    for measure in ("lin_cos", "proc_cos", "cka", "mknn"):
        row = ours["measures"][measure]
        chance_ref = float(np.mean([c[measure] for c in ref["chance"]]))
        print(
            f"  {measure:>9}: out {row['out']:.6f} / {ref['out'][measure]:.6f}   in {row['in']:.6f} / "
            f"{ref['in'][measure]:.6f}   chance {row['chance']:.6f} / {chance_ref:.6f}  (tieviz / reference)"
        )
    for side, key in (("out", "out"), ("in", "in")):
        worst = max(worst, abs(ours["measures"]["lin_cos"][side] - ref[key]["lin_cos"]))
    for i, values in enumerate(ref["chance"]):
        worst = max(worst, abs(ours["measures"]["lin_cos"]["chance_values"][i] - values["lin_cos"]))
    agree = worst <= 1e-5
    print(f"  linear-map cosines agree to 1e-5: {agree} (largest difference {worst:.2e})")
    checks = [agree]
    if seconds is not None:
        checks.append(ours_s <= seconds)
        print(f"  target ≤ {seconds:.0f} s: {ours_s <= seconds}")
    if gigabytes is not None:
        checks.append(ours_gb <= gigabytes)
        print(f"  target ≤ {gigabytes:.0f} GB: {ours_gb <= gigabytes}")
    if ratio is not None:
        checks.append(ours_s / ref_s <= ratio)
        print(f"  target ≤ {ratio} × the reference's time: {ours_s / ref_s <= ratio}")
    return all(checks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dir", type=Path, help="where the checkpoints are built and kept (default: a temp dir)"
    )
    parser.add_argument("--shapes", default="gpt2,olmo", help="comma-separated: gpt2, olmo")
    parser.add_argument("--shuffles", type=int, default=3)
    parser.add_argument("--no-reference", action="store_true", help="time tieviz alone (no ratio)")
    args = parser.parse_args()
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    if unknown := set(shapes) - set(SHAPES):
        parser.error(f"unknown shapes {sorted(unknown)}; choose from {sorted(SHAPES)}")
    with tempfile.TemporaryDirectory(prefix="tieviz-bench-compare-") as tmp:
        folder = args.dir or Path(tmp)
        results = [run(folder, shape, args.shuffles, not args.no_reference) for shape in shapes]
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
