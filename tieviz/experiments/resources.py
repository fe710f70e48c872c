"""What an experiment will cost here (parameters, FLOPs, memory, time), and how to say it to a person.

Pure arithmetic over configs and earlier summaries (no Streamlit). The Train page shows the time;
`ExperimentConfig.validate` refuses a step that cannot fit in memory before any work starts; the site's
budget for anonymous visitors counts the same FLOPs.
"""

from __future__ import annotations

import os

from tieviz.config import ARM_NAMES, ExperimentConfig

BYTES_PER_FLOAT = 4


def estimate_params(config: ExperimentConfig) -> int:
    """Parameters of the largest arm (untied): 2·V·d for W_E and W_U, T·d positions, ~12·L·d² for blocks."""
    v, d, n_layers = config.data.vocab_size, config.model.d_model, config.model.n_layers
    return 2 * v * d + config.model.seq_len * d + 12 * n_layers * d * d


def training_flops(config: ExperimentConfig) -> float:
    """Floating-point operations to train every model: 4 per seed (the three arms and the baseline's second
    untied model) x seeds x steps x batch x context x per token.

    Per token, 6 x parameters (forward and backward through every weight, W_U included) plus 12·L·T·d for
    attention scores over the context, which grows with T and no parameter count shows.
    """
    m = config.model
    per_token = 6 * estimate_params(config) + 12 * m.n_layers * m.seq_len * m.d_model
    tokens = config.seeds * config.train.steps * config.train.batch_size * m.seq_len
    return float(len(ARM_NAMES)) * tokens * per_token


SNAPSHOT_BUDGET_BYTES = 256 * 2**20  # embedding snapshots one arm keeps, whatever the model's size


def snapshot_count(n_checkpoints: int, vocab_size: int, d_model: int) -> int:
    """The `n` of `checkpoint_steps` for an arm: the config's, less when the snapshots would pass the budget.

    A snapshot holds W_E and W_U in float32 (2·V·d·4 bytes): 9 of a 20,000 × 432 model were 622 MiB per
    arm. Small models keep exactly their config's count. Step 0 is saved besides these.
    """
    each = 2 * vocab_size * d_model * 4
    return min(n_checkpoints, max(1, SNAPSHOT_BUDGET_BYTES // max(each, 1) - 1))


def run_store_bytes(config: ExperimentConfig) -> int:
    """Disk the experiment's runs take: per arm and seed, the float32 model and its embedding snapshots."""
    from tieviz.config import ARM_NAMES

    m, v = config.model, config.data.vocab_size
    snapshots = snapshot_count(config.train.n_checkpoints, v, m.d_model) + 2  # with step 0 and the last
    per_arm = BYTES_PER_FLOAT * (estimate_params(config) + snapshots * 2 * v * m.d_model)
    return len(ARM_NAMES) * config.seeds * per_arm


def training_bytes(config: ExperimentConfig) -> int:
    """Peak memory of one training step, roughly: weights, gradients and Adam's two moments, activations.

    Activations: the [B, T, V] logits three times (logits, float copy, gradient), ~20 [B, T, d] tensors
    per layer and 3 [B, H, T, T] attention maps per layer.
    """
    m, b = config.model, config.train.batch_size
    tokens = b * m.seq_len
    activations = tokens * (3 * config.data.vocab_size + 20 * m.n_layers * m.d_model)
    attention = 3 * m.n_layers * b * m.n_heads * m.seq_len * m.seq_len
    return BYTES_PER_FLOAT * (4 * estimate_params(config) + activations + attention)


def physical_memory() -> int | None:
    """Bytes of RAM on this machine, None where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return None


def check_memory(config: ExperimentConfig, memory: int | None = None) -> None:
    """Refuses a config whose training step needs more than `memory` bytes (default: this machine's RAM)."""
    memory = physical_memory() if memory is None else memory
    need = training_bytes(config)
    if memory and need > memory:
        raise ValueError(
            f"one training step would need about {need / 2**30:,.0f} GiB of memory and this machine has "
            f"{memory / 2**30:,.0f} GiB; choose a smaller batch, context, width or vocabulary"
        )


def duration(seconds: float) -> str:
    """'about 40 s', 'about 3 min', 'about 1.5 h'."""
    if seconds < 90:
        return f"about {max(5, round(seconds / 5) * 5):.0f} s"
    if seconds < 5400:
        return f"about {seconds / 60:.0f} min"
    return f"about {seconds / 3600:.1f} h"


def size_words(n_bytes: float) -> str:
    """'under 1 MiB', '340 MiB', '2.1 GiB': a memory estimate as a person reads it (never '0 MiB')."""
    if n_bytes < 2**20:
        return "under 1 MiB"
    if n_bytes < 2**30:
        return f"{n_bytes / 2**20:,.0f} MiB"
    return f"{n_bytes / 2**30:,.1f} GiB"


def device_words(device: str) -> str:
    """The device a person reads: 'GPU (cuda)', 'Apple GPU (mps)' or 'CPU'."""
    return {"cuda": "GPU (cuda)", "mps": "Apple GPU (mps)"}.get(device, "CPU")
