"""How fast, and in how much memory, tieviz reads W_E and W_U from a checkpoint of more than 1 GB.

Builds (once) an untied Llama-shaped safetensors checkpoint in shards, written tensor by tensor so
building it never holds more than one shard in memory, evicts it from the page cache, then times
``read_embeddings`` in a fresh process and reports its peak resident memory (ru_maxrss). Targets from
the issue: under 10 s and under 2 GB on a 2-core CPU.

    .venv/bin/python benchmarks/bench_checkpoint_read.py [--dir DIR] [--keep] [--warm]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

REPO = Path(__file__).resolve().parents[1]
TIME_LIMIT_S = 10.0
RSS_LIMIT_MB = 2048.0

CHILD = """
import json, resource, sys, time
start = time.perf_counter()
from tieviz.checkpoints import read_embeddings
imported = time.perf_counter()
pair = read_embeddings(sys.argv[1])
checksum = float(pair.W_E.sum()) + float(pair.W_U.sum())  # touch every number, so nothing stays lazy
done = time.perf_counter()
print(json.dumps({
    "import_s": imported - start, "read_s": done - imported, "total_s": done - start,
    "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "shape": list(pair.W_E.shape), "tied": pair.summary.tied, "checksum": checksum,
}))
"""


def _shards(vocab: int, d: int, inter: int, layers: int):
    """(file name, tensor shapes) per shard, in the order save_pretrained would use."""
    yield "model-embed.safetensors", {"model.embed_tokens.weight": (vocab, d)}
    for i in range(layers):
        p = f"model.layers.{i}."
        shapes = {f"{p}self_attn.{n}_proj.weight": (d, d) for n in "qkvo"}
        shapes |= {f"{p}mlp.gate_proj.weight": (inter, d), f"{p}mlp.up_proj.weight": (inter, d)}
        shapes |= {f"{p}mlp.down_proj.weight": (d, inter)}
        shapes |= {f"{p}input_layernorm.weight": (d,), f"{p}post_attention_layernorm.weight": (d,)}
        yield f"model-layer{i}.safetensors", shapes
    yield "model-head.safetensors", {"model.norm.weight": (d,), "lm_head.weight": (vocab, d)}


def build(ckpt: Path, vocab: int = 50257, d: int = 2048, inter: int = 5632, layers: int = 2) -> int:
    """Write the checkpoint with a config.json that matches its tensors; return its weight bytes."""
    ckpt.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    weight_map = {}
    for name, shapes in _shards(vocab, d, inter, layers):
        tensors = {k: (rng.standard_normal(s, dtype=np.float32) * 0.02) for k, s in shapes.items()}
        save_file(tensors, ckpt / name, metadata={"format": "pt"})
        weight_map |= dict.fromkeys(tensors, name)
        del tensors
    size = sum((ckpt / n).stat().st_size for n in set(weight_map.values()))
    index = {"metadata": {"total_size": size}, "weight_map": weight_map}
    (ckpt / "model.safetensors.index.json").write_text(json.dumps(index, indent=1))
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": vocab,
        "hidden_size": d,
        "intermediate_size": inter,
        "num_hidden_layers": layers,
        "num_attention_heads": 16,
        "num_key_value_heads": 16,
        "max_position_embeddings": 2048,
        "rms_norm_eps": 1e-6,
        "tie_word_embeddings": False,
        "torch_dtype": "float32",
    }
    (ckpt / "config.json").write_text(json.dumps(config, indent=1))
    return size


def evict(ckpt: Path) -> None:
    """Drop the files from the page cache so the child reads from disk, as a fresh upload would."""
    for path in ckpt.iterdir():
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def measure(ckpt: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(ckpt)], cwd=REPO, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, help="where to build (or reuse) the checkpoint")
    parser.add_argument("--keep", action="store_true", help="keep the checkpoint afterwards")
    parser.add_argument("--warm", action="store_true", help="do not evict the files from the page cache")
    args = parser.parse_args()
    ckpt = args.dir or Path(tempfile.mkdtemp(prefix="tieviz-bench-ckpt-"))
    try:
        if (ckpt / "config.json").is_file():
            size = sum(p.stat().st_size for p in ckpt.glob("*.safetensors"))
            print(f"reusing {ckpt} ({size / 1e9:.2f} GB)")
        else:
            start = time.perf_counter()
            size = build(ckpt)
            print(f"built {ckpt}: {size / 1e9:.2f} GB in {time.perf_counter() - start:.1f} s")
        if not args.warm:
            evict(ckpt)
        r = measure(ckpt)
        ok_t, ok_m = r["total_s"] < TIME_LIMIT_S, r["maxrss_mb"] < RSS_LIMIT_MB
        print(
            f"checkpoint {size / 1e9:.2f} GB, W_E/W_U {r['shape']} float32, tied={r['tied']}, "
            f"cpus={os.cpu_count()}"
        )
        print(
            f"  time  {r['total_s']:.2f} s (imports {r['import_s']:.2f} s + read {r['read_s']:.2f} s)"
            f"  limit {TIME_LIMIT_S:.0f} s  {'PASS' if ok_t else 'FAIL'}"
        )
        print(
            f"  peak RSS {r['maxrss_mb']:.0f} MiB  limit {RSS_LIMIT_MB:.0f} MiB  {'PASS' if ok_m else 'FAIL'}"
        )
        return 0 if ok_t and ok_m else 1
    finally:
        if not args.keep:
            shutil.rmtree(ckpt, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
