"""tieviz: see, measure and teach what weight tying does to a language model's embeddings.

`tieviz.compare(tied, untied)` gives the paper's Table 1 for two checkpoints, `tieviz.compare_series`
the bias over training; both are imported on first use, so `import tieviz` stays light (no torch).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "compare": "tieviz.checkpoint_analysis.compare",
    "compare_matrices": "tieviz.checkpoint_analysis.compare",
    "PairComparison": "tieviz.checkpoint_analysis.compare",
    "compare_series": "tieviz.checkpoint_analysis.series",
}
__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tieviz' has no attribute {name!r}")
