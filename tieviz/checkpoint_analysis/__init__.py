"""From a staged checkpoint to analysis inputs and results: what `tieviz.results` is for trained runs.

`loaded` reads the matrices, labels and final norm; `text` reads a text with the checkpoint's tokenizer;
`analyses` runs the trained runs' analyses on them; `compare` gives the paper's Table 1 for a tied and
an untied checkpoint (`pairing` lines their tokens up), `series` the same over a model's training steps,
and `paper` keeps the page's older shape of one comparison.
"""

from tieviz.checkpoint_analysis.analyses import (
    LENS_MAX_PARAMS_ENV,
    NormStats,
    checkpoint_bigrams,
    checkpoint_embeddings,
    checkpoint_lens,
    lens_max_params,
    norm_stats,
    spearman,
)
from tieviz.checkpoint_analysis.compare import MeasureRow, PairComparison, compare, compare_matrices
from tieviz.checkpoint_analysis.loaded import (
    LoadedCheckpoint,
    example_files,
    load_checkpoint,
    read_final_norm,
)
from tieviz.checkpoint_analysis.paper import PaperComparison, paper_comparison, tied_and_untied
from tieviz.checkpoint_analysis.series import BiasSeries, compare_series
from tieviz.checkpoint_analysis.text import TokenText, text_from_run, tokenize_text

__all__ = [
    "BiasSeries",
    "MeasureRow",
    "PairComparison",
    "compare",
    "compare_matrices",
    "compare_series",
    "LENS_MAX_PARAMS_ENV",
    "LoadedCheckpoint",
    "NormStats",
    "PaperComparison",
    "TokenText",
    "checkpoint_bigrams",
    "checkpoint_embeddings",
    "checkpoint_lens",
    "example_files",
    "lens_max_params",
    "load_checkpoint",
    "norm_stats",
    "paper_comparison",
    "read_final_norm",
    "spearman",
    "text_from_run",
    "tied_and_untied",
    "tokenize_text",
]
