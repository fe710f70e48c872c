"""From a staged checkpoint to analysis inputs and results: what `tieviz.experiments.run_analysis` is for
trained runs.

`loaded` reads the matrices, labels and final norm; `token_text` reads a text with the checkpoint's tokenizer;
`analyses` runs the trained runs' analyses on them; `compare` gives the paper's Table 1 for a tied and
an untied checkpoint (`pairing` lines their tokens up), `series` the same over a model's training steps,
and `paper` keeps the page's older shape of one comparison; `pair` carries a comparison across processes,
`cost` estimates it; `work` is what a checkpoint job runs; `host_models` lists the checkpoints a host
offers (TIEVIZ_MODELS).
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
from tieviz.checkpoint_analysis.compare import compare, compare_matrices
from tieviz.checkpoint_analysis.cost import Budget, TokenChoice, choose_tokens, compare_cost, floor_is_high
from tieviz.checkpoint_analysis.loaded import (
    LoadedCheckpoint,
    example_files,
    load_checkpoint,
    read_final_norm,
)
from tieviz.checkpoint_analysis.pair import PairResult, compare_pair, read_pair
from tieviz.checkpoint_analysis.pair_record import MeasureRow, PairComparison
from tieviz.checkpoint_analysis.paper import PaperComparison, paper_comparison, tied_and_untied
from tieviz.checkpoint_analysis.series import BiasSeries, compare_series
from tieviz.checkpoint_analysis.token_text import TokenText, text_from_run, tokenize_text
from tieviz.checkpoint_analysis.work import (
    SeriesRow,
    read_lens,
    read_result,
    read_series,
    read_text,
    write_incoming,
)

__all__ = [
    "BiasSeries",
    "MeasureRow",
    "PairComparison",
    "compare",
    "compare_matrices",
    "compare_series",
    "LENS_MAX_PARAMS_ENV",
    "Budget",
    "PairResult",
    "SeriesRow",
    "TokenChoice",
    "choose_tokens",
    "compare_cost",
    "compare_pair",
    "floor_is_high",
    "read_lens",
    "read_pair",
    "read_result",
    "read_series",
    "read_text",
    "write_incoming",
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
