"""What a pair comparison over N tokens costs, so a host's budget can choose N before anything runs.

The page defaults to the whole vocabulary (the paper's setting) when the estimate fits the budget, and
otherwise to the largest N that does, saying which limit chose it. The model follows the blocked,
float32 comparison: three N x d matrices prepared once (raw, centred and unit rows), d x d products for
the maps, and mutual k-NN over row blocks against all columns; never an N x N array.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

FLOAT_BYTES = 4  # float32 throughout the comparison
KNN_BLOCK_ROWS = 1024  # rows of one k-NN block: block x N similarities at a time
COPIES_PER_MATRIX = 3  # raw, centred, unit-row copies of each prepared matrix
# What the blocked float32 maths reached per CPU second on the 2-core build machine, under load: 0.7e10 to
# 1.3e10 (benchmarks/bench_compare_cost.py prints estimate against measurement; re-measure when it changes).
FLOPS_PER_CORE_SECOND = 1e10
MEMORY_MARGIN = 1.5  # the model missed a measured peak by up to 25 %: err on the side of fewer tokens
WORKER_BASE_BYTES = 1 << 30  # a worker's own imports (torch, transformers, numpy) before any work


@dataclass(frozen=True)
class CompareCost:
    """Estimated peak memory, work and time of one pair comparison."""

    tokens: int
    peak_bytes: int
    flops: float
    seconds: float


def compare_cost(
    tokens: int, d_tied: int, d_untied: int, shuffles: int = 3, cores: int = 1, vocab: int = 0
) -> CompareCost:
    """The estimate for `tokens` rows of a tied matrix of width d_tied against untied matrices of d_untied.

    Three matrices take part (tied, untied input, untied output); each chance-floor shuffle refits the maps
    against a row-permuted copy of the untied output matrix but reuses its neighbours. `vocab` adds the
    whole matrices a job reads from the two checkpoints before choosing its rows (float32, [vocab, d]).
    """
    n, widths = int(tokens), d_tied + 2 * d_untied
    loaded = FLOAT_BYTES * int(vocab) * widths
    block = min(n, KNN_BLOCK_ROWS)
    matrices = FLOAT_BYTES * n * widths * COPIES_PER_MATRIX
    maps = 8 * 4 * max(d_tied, d_untied) ** 2  # d x d float64 products and their eigenvectors
    knn = FLOAT_BYTES * block * n * 2 + 8 * n * 10 * 3  # one block of similarities, a running top-k
    per_token = 8 * n * (4 + 2 * shuffles)
    peak = loaded + MEMORY_MARGIN * (matrices + maps + knn + per_token)
    fits = 2 * (1 + shuffles) * 2 * n * d_tied * d_untied * 2  # least squares and Procrustes per pair
    flops = 2.0 * n * n * widths + fits + 10.0 * max(d_tied, d_untied) ** 3
    return CompareCost(n, int(peak), flops, flops / (FLOPS_PER_CORE_SECOND * max(1, cores)))


def physical_memory_bytes() -> int | None:
    """This machine's memory, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


@dataclass(frozen=True)
class Budget:
    """What one comparison may use on this host: 0 means no cap on that resource."""

    memory_bytes: int = 0
    seconds: float = 0
    flops: float = 0

    def over(self, cost: CompareCost) -> str | None:
        """Which cap the cost exceeds, as words for the page; None when it fits."""
        if self.memory_bytes and cost.peak_bytes > self.memory_bytes:
            return (
                f"it would need about {cost.peak_bytes / 2**20:,.0f} MiB of memory, over the "
                f"{self.memory_bytes / 2**20:,.0f} MiB a job may use here"
            )
        if self.seconds and cost.seconds > self.seconds:
            return (
                f"it would take about {cost.seconds / 60:,.1f} minutes, over the "
                f"{self.seconds / 60:,.0f} minutes a job may run here"
            )
        if self.flops and cost.flops > self.flops:
            return (
                f"it would take about {cost.flops / 1e12:,.1f} TFLOPs, over this site's budget of "
                f"{self.flops / 1e12:,.0f}"
            )
        return None


@dataclass(frozen=True)
class TokenChoice:
    """The default number of tokens to compare, and why it is not the whole vocabulary when it is not."""

    tokens: int
    vocab_size: int
    reason: str | None  # None when the whole vocabulary fits
    cost: CompareCost

    @property
    def all_tokens(self) -> bool:
        return self.tokens >= self.vocab_size


def choose_tokens(
    vocab_size: int,
    d_tied: int,
    d_untied: int,
    budget: Budget,
    shuffles: int = 3,
    cores: int = 1,
    k: int = 10,
) -> TokenChoice:
    """All tokens when the estimate fits the budget, else the largest count that does (at least k + 2)."""

    def cost(n: int) -> CompareCost:
        return compare_cost(n, d_tied, d_untied, shuffles, cores, vocab=vocab_size)

    whole = cost(vocab_size)
    why = budget.over(whole)
    if why is None:
        return TokenChoice(vocab_size, vocab_size, None, whole)
    low, high = min(vocab_size, k + 2), vocab_size  # low fits (or is the least we can do), high does not
    while high - low > 1:
        mid = (low + high) // 2
        if budget.over(cost(mid)) is None:
            low = mid
        else:
            high = mid
    return TokenChoice(low, vocab_size, why, cost(low))


def floor_is_high(tokens: int, width: int) -> bool:
    """Fewer tokens than 4x the width: a fitted linear map then matches even unrelated matrices well."""
    return tokens < 4 * width
