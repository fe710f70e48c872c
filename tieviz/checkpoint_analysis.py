"""From a staged checkpoint to analysis inputs and results: what `tieviz.results` is for trained runs.

An uploaded model comes without its training corpus, so token frequencies and empirical bigrams come
from a text (CPython's documentation by default) read with the checkpoint's own tokenizer. The
analyses themselves are the ones the trained runs use, from `tieviz.analysis`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tieviz.analysis.alignment import MEASURES, compare_embeddings, scores_by_side
from tieviz.analysis.bigrams import BigramComparison, LayerNormParams, compare_bigrams, most_frequent
from tieviz.checkpoints import (
    CheckpointError,
    CheckpointSummary,
    load_tokenizer_labels,
    read_embeddings,
)
from tieviz.checkpoints.reader import has_tokenizer_files
from tieviz.env import env_int
from tieviz.results import (
    LENS_SEQUENCES,
    LENS_STEPS,
    EmbeddingSet,
    LensResult,
    model_lens_result,
    special_ids,
)
from tieviz.runs import Run

LENS_MAX_PARAMS_ENV = "TIEVIZ_LENS_MAX_PARAMS"
DEFAULT_LENS_MAX_PARAMS = 200_000_000
MAX_TEXT_TOKENS = 400_000  # enough for stable frequencies of the top few thousand tokens
LENS_CONTEXT = 64  # tokens per lens window (fewer when the model's context is shorter)
_RUN_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")

# family -> (final-norm weight suffix, kind, config key of its epsilon, default epsilon)
_FINAL_NORMS = {
    "gpt2": ("ln_f.weight", "layernorm", "layer_norm_epsilon", 1e-5),
    "gpt_neox": ("final_layer_norm.weight", "layernorm", "layer_norm_eps", 1e-5),
    "llama": ("norm.weight", "rmsnorm", "rms_norm_eps", 1e-6),
    "gemma": ("norm.weight", "rmsnorm", "rms_norm_eps", 1e-6),
    "opt": ("decoder.final_layer_norm.weight", "layernorm", None, 1e-5),  # each layer has one too
    "phi": ("final_layernorm.weight", "layernorm", "layer_norm_eps", 1e-5),
}


@dataclass(frozen=True)
class LoadedCheckpoint:
    """A checkpoint's matrices, readable token labels and (when cheaply readable) its final norm."""

    path: Path  # the checkpoint directory (holds config.json)
    summary: CheckpointSummary
    W_E: np.ndarray  # [V, d] float32
    W_U: np.ndarray  # [V, d] float32; the same array as W_E when tied
    labels: list[str]  # [V]
    final_norm: LayerNormParams | None
    final_norm_note: str  # why there is no final norm, or which tensor it is

    @property
    def arm(self) -> str:
        """ "tied" or "untied": the key its direct path and colours go by in the figures."""
        return "tied" if self.summary.tied else "untied"


def read_final_norm(ckpt_dir: Path, summary: CheckpointSummary) -> tuple[LayerNormParams | None, str]:
    """The final norm before the unembedding, read from its tensors alone, or None with the reason."""
    from tieviz.checkpoints.families import find_key
    from tieviz.checkpoints.weights import WeightSet

    spec = _FINAL_NORMS.get(summary.family)
    if spec is None:
        return None, f"the final norm of {summary.family} models is not read"
    suffix, kind, eps_key, eps_default = spec
    weights = WeightSet.open(Path(ckpt_dir))
    try:
        key = find_key(sorted(weights.infos), (suffix,), "final norm")
    except CheckpointError:
        key = None
    if key is None or weights.infos[key].shape != (summary.d_embed,):
        return None, "no final-norm weight of the embedding width was found"
    bias_key = key.removesuffix("weight") + "bias"
    config = json.loads((Path(ckpt_dir) / "config.json").read_text(encoding="utf-8"))
    eps = config.get(eps_key, eps_default) if eps_key else eps_default
    weight = weights.tensor(key).float().numpy()
    if summary.family == "gemma":  # Gemma's RMSNorm scales by (1 + weight)
        weight = weight + 1.0
    bias = weights.tensor(bias_key).float().numpy() if bias_key in weights.infos else None
    return LayerNormParams(weight, bias, eps=float(eps), kind=kind), f"{key} ({kind})"


def load_checkpoint(ckpt_dir: Path) -> LoadedCheckpoint:
    """W_E, W_U, labels and final norm of a staged checkpoint directory."""
    pair = read_embeddings(Path(ckpt_dir))
    labels = load_tokenizer_labels(Path(ckpt_dir), pair.summary.vocab_size)
    norm, note = read_final_norm(Path(ckpt_dir), pair.summary)
    return LoadedCheckpoint(Path(ckpt_dir), pair.summary, pair.W_E, pair.W_U, labels, norm, note)


# ---------------------------------------------------------------- a text read with the model's tokenizer


@dataclass(frozen=True)
class TokenText:
    """A text as the checkpoint's token ids, and the frequencies it gives; ids is None without a tokenizer."""

    ids: np.ndarray | None  # [L] int64 token stream
    counts: np.ndarray | None  # [V] occurrences of each token id
    special_ids: tuple[int, ...]
    source: str  # what text this is, for the page
    note: str = ""  # why frequencies are missing, or what was left out


def _token_text(ids: np.ndarray, vocab_size: int, specials: tuple[int, ...], source: str) -> TokenText:
    ids = np.asarray(ids, dtype=np.int64)
    dropped = int(np.count_nonzero(ids >= vocab_size))
    ids = ids[ids < vocab_size]
    note = f"{dropped:,} tokens with ids beyond the model's vocabulary were left out." if dropped else ""
    counts = np.bincount(ids, minlength=vocab_size)
    return TokenText(ids, counts, tuple(i for i in specials if i < vocab_size), source, note)


def tokenize_text(
    ckpt_dir: Path, text: str, vocab_size: int, source: str, max_tokens: int = MAX_TEXT_TOKENS
) -> TokenText:
    """`text` read with the checkpoint's own tokenizer (no remote code), paragraph by paragraph.

    Without usable tokenizer files the result has no ids and says why, so analyses that need only the
    matrices can still run on the first token ids.
    """
    if not has_tokenizer_files(Path(ckpt_dir)):
        return TokenText(None, None, (), source, "The checkpoint has no tokenizer files.")
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(
            Path(ckpt_dir), local_files_only=True, trust_remote_code=False
        )
    except Exception as exc:  # noqa: BLE001 - broken files mean "no tokenizer", not a crash
        return TokenText(None, None, (), source, f"The checkpoint's tokenizer could not be loaded ({exc}).")
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    if not paragraphs:
        raise ValueError("The text is empty.")
    ids: list[int] = []
    for start in range(0, len(paragraphs), 256):
        batch = tokenizer(paragraphs[start : start + 256], add_special_tokens=False, verbose=False)
        for row in batch["input_ids"]:
            ids.extend(row)
        if len(ids) >= max_tokens:
            break
    specials = tuple(sorted(set(tokenizer.all_special_ids)))
    return _token_text(np.array(ids[:max_tokens], dtype=np.int64), vocab_size, specials, source)


def text_from_run(run: Run) -> TokenText:
    """A trained run's own corpus (the example checkpoints): its token stream and special tokens."""
    return _token_text(run.tokens(), run.info["vocab_size"], tuple(special_ids(run)), "the run's own corpus")


def example_files(run_dir: Path) -> list[tuple[str, bytes]]:
    """The checkpoint files of a trained run directory (a run is a Hugging Face checkpoint), for staging."""
    return [
        (name, (Path(run_dir) / name).read_bytes()) for name in _RUN_FILES if (Path(run_dir) / name).is_file()
    ]


def top_token_ids(text: TokenText, vocab_size: int, n: int) -> np.ndarray:
    """The n most frequent non-special tokens of the text [<= n]; without a tokenizer, the first n ids."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if text.ids is None:
        ids = np.setdiff1d(np.arange(vocab_size), np.asarray(text.special_ids, dtype=np.int64))
        return ids[:n]
    top = most_frequent(text.counts, n, text.special_ids)  # counts are the ids' bincount
    if top.size == 0:
        raise ValueError(f"No ordinary token of this vocabulary occurs in {text.source}.")
    return top


# ---------------------------------------------------------------- analyses


def bigram_comparison(ckpt: LoadedCheckpoint, text: TokenText, k: int = 40) -> BigramComparison:
    """The text's empirical bigrams against the direct path (raw and, when read, through the final norm)."""
    if text.ids is None:
        raise ValueError("Bigrams need a text read with the checkpoint's tokenizer, and it has none.")
    norms = {ckpt.arm: ckpt.final_norm} if ckpt.final_norm is not None else None
    return compare_bigrams(
        text.ids,
        ckpt.summary.vocab_size,
        ckpt.labels,
        {ckpt.arm: (ckpt.W_E, ckpt.W_U)},
        k=k,
        exclude=text.special_ids,
        final_norms=norms,
    )


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation of two [N] arrays (ties get their average rank); NaN when undefined."""
    from scipy.stats import rankdata

    rx, ry = rankdata(x), rankdata(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    den = np.sqrt((rx**2).sum() * (ry**2).sum())
    return float((rx * ry).sum() / den) if den > 0 else float("nan")


@dataclass(frozen=True)
class NormStats:
    """Row norms of W_E (and W_U when untied) over the chosen tokens, and how they follow frequency."""

    token_ids: np.ndarray  # [N]
    labels: list[str]  # [N]
    counts: np.ndarray | None  # [N] occurrences in the text; None without a tokenizer
    norms: dict[str, np.ndarray]  # "W_E" (and "W_U") -> [N]
    spearman: dict[str, float]  # matrix -> rank correlation of norm with count; empty without counts


def norm_stats(ckpt: LoadedCheckpoint, text: TokenText, token_ids: np.ndarray) -> NormStats:
    ids = np.asarray(token_ids, dtype=np.int64)
    matrices = {"W_E": ckpt.W_E} if ckpt.summary.tied else {"W_E": ckpt.W_E, "W_U": ckpt.W_U}
    norms = {
        name: np.linalg.norm(np.asarray(m[ids], dtype=np.float64), axis=1) for name, m in matrices.items()
    }
    counts = None if text.counts is None else text.counts[ids]
    rho = {} if counts is None else {name: spearman(values, counts) for name, values in norms.items()}
    return NormStats(ids, [ckpt.labels[i] for i in ids], counts, norms, rho)


def embedding_set(ckpt: LoadedCheckpoint, text: TokenText, token_ids: np.ndarray) -> EmbeddingSet:
    """W_E (and W_U when untied) restricted to the chosen tokens, for the maps."""
    ids = np.asarray(token_ids, dtype=np.int64)
    matrices = {"W_E": ckpt.W_E[ids]}
    if not ckpt.summary.tied:
        matrices["W_U"] = ckpt.W_U[ids]
    counts = np.zeros(ids.size, dtype=np.int64) if text.counts is None else text.counts[ids]
    return EmbeddingSet(ids, [ckpt.labels[i] for i in ids], counts, matrices)


def lens_max_params() -> int:
    """$TIEVIZ_LENS_MAX_PARAMS (default 200M): the largest model the tuned lens will load."""
    return env_int(LENS_MAX_PARAMS_ENV, DEFAULT_LENS_MAX_PARAMS)


def lens_result(
    ckpt_dir: Path,
    text: TokenText,
    cache_dir: Path,
    steps: int = LENS_STEPS,
    max_params: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> LensResult:
    """Tuned and logit lens of the full model over windows of the text; translators cached in `cache_dir`."""
    import torch

    from tieviz.checkpoints import load_full_model
    from tieviz.data import fixed_windows

    if text.ids is None:
        raise ValueError("The tuned lens needs a text read with the checkpoint's tokenizer, and it has none.")
    model = load_full_model(Path(ckpt_dir), lens_max_params() if max_params is None else max_params).float()
    context = getattr(model.config, "max_position_embeddings", None) or getattr(
        model.config, "n_positions", 0
    )
    length = min(LENS_CONTEXT, context or LENS_CONTEXT)
    ids = fixed_windows(text.ids, length - 1, LENS_SEQUENCES).to(torch.long)
    summary = model.config.to_dict()
    key = f"{summary.get('model_type')}-{sum(p.numel() for p in model.parameters())}-{Path(ckpt_dir).name}"
    return model_lens_result(model, ids, Path(cache_dir), key, steps, progress)


# ---------------------------------------------------------------- the paper's comparison


@dataclass(frozen=True)
class PaperComparison:
    """The tied matrix against the untied input and output matrices over the same tokens (claim 1).

    `chance` scores the tied matrix against the untied output matrix with its rows shuffled (tokens
    mismatched): what each measure gives with no real correspondence, since with few tokens per
    dimension the fitted maps score well above 0 on unrelated matrices.
    """

    token_ids: np.ndarray  # [N]
    labels: list[str]  # [N]
    scores: dict[str, float]  # the keys of `bias_scores`: lin_cos_out, lin_cos_in, ... mknn_in
    chance: dict[str, float]  # lin_cos, proc_cos, cka, mknn against the row-shuffled output matrix
    per_token: dict[str, np.ndarray]  # lin_cos_out, lin_cos_in, proc_cos_out, proc_cos_in -> [N]
    notes: tuple[str, ...]


def tied_and_untied(a: LoadedCheckpoint, b: LoadedCheckpoint) -> tuple[LoadedCheckpoint, LoadedCheckpoint]:
    """The pair ordered (tied, untied), refused when it is not one of each over the same vocabulary."""
    if a.summary.tied == b.summary.tied:
        both = "tied" if a.summary.tied else "untied"
        raise CheckpointError(f"Both checkpoints are {both}; the comparison needs one tied and one untied.")
    if a.summary.vocab_size != b.summary.vocab_size:
        raise CheckpointError(
            f"The checkpoints have different vocabularies ({a.summary.vocab_size:,} and "
            f"{b.summary.vocab_size:,} tokens), so their rows are not the same tokens."
        )
    return (a, b) if a.summary.tied else (b, a)


def paper_comparison(
    a: LoadedCheckpoint, b: LoadedCheckpoint, token_ids: np.ndarray, k: int = 10, seed: int = 0
) -> PaperComparison:
    """Claim 1 over `token_ids`: the numbers of `bias_scores`, per-token cosines and a chance level."""
    tied, untied = tied_and_untied(a, b)
    ids = np.asarray(token_ids, dtype=np.int64)
    if ids.size <= k:
        raise ValueError(f"The comparison needs more than {k} tokens, got {ids.size}.")
    tied_E, untied_E, untied_U = tied.W_E[ids], untied.W_E[ids], untied.W_U[ids]
    notes = []
    if tied.labels != untied.labels:
        notes.append("The two tokenizers differ (or one is missing): the same id may not be the same token.")
    width = max(tied_E.shape[1], untied_E.shape[1])
    if ids.size <= 5 * width:
        notes.append(
            f"With {ids.size} tokens for width {width}, the fitted maps have many parameters per token, so "
            "even unrelated matrices score well above 0: compare with the chance column, and use more tokens "
            "where the vocabulary allows."
        )
    similarities = {
        "out": compare_embeddings(tied_E, untied_U, k),
        "in": compare_embeddings(tied_E, untied_E, k),
    }
    shuffled = untied_U[np.random.default_rng(seed).permutation(ids.size)]
    chance = compare_embeddings(tied_E, shuffled, k)
    return PaperComparison(
        token_ids=ids,
        labels=[tied.labels[i] for i in ids],
        scores=scores_by_side(similarities),
        chance={m: getattr(chance, m) for m in MEASURES},
        per_token={
            f"{m}_{side}": getattr(similarities[side], f"{m}_per_token")
            for m in ("lin_cos", "proc_cos")
            for side in ("out", "in")
        },
        notes=tuple(notes),
    )
