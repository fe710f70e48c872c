"""Cached reads of an experiment's run files: per-server st.cache_data wrappers over
tieviz.experiments.run_analysis.

Each wrapper keys its cache on plain strings (the experiment key and the run folders), never on the
Run objects, so Streamlit can hash the arguments cheaply.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:
    import pandas as pd

    from tieviz.ui.picker import Experiment


@st.cache_data(show_spinner=False, max_entries=8)
def _metrics(run_dirs: tuple[tuple[str, str], ...]) -> dict[str, list[dict]]:
    from tieviz.training.run_store import Run

    return {name: Run(Path(path)).metrics() for name, path in run_dirs}


def run_metrics(experiment: Experiment) -> dict[str, list[dict]]:
    """Per arm, the step records of metrics.jsonl (train_loss, grad_ratio, val_loss, ...)."""
    return _metrics(tuple((name, str(run.path)) for name, run in experiment.runs.items()))


def records_frame(metrics: dict[str, list[dict]]) -> pd.DataFrame:
    """One row per (arm, step) record, for the data downloads of the curve figures."""
    import pandas as pd

    return pd.DataFrame([{"arm": arm, **record} for arm, records in metrics.items() for record in records])


@st.cache_data(show_spinner="Comparing the direct paths with the corpus's bigrams…", max_entries=16)
def _bigrams(key: str, run_dirs: tuple[tuple[str, str], ...], k: int):
    from tieviz.experiments.run_analysis import bigram_comparison
    from tieviz.training.run_store import Run

    return bigram_comparison({name: Run(Path(path)) for name, path in run_dirs}, k)


def bigrams(experiment: Experiment, k: int):
    """`tieviz.experiments.run_analysis.bigram_comparison` over the k most frequent tokens, cached per
    experiment and k."""
    return _bigrams(experiment.key, tuple((n, str(r.path)) for n, r in experiment.runs.items()), k)


@st.cache_data(show_spinner=False, max_entries=16)
def _embedding_set(key: str, run_dirs: tuple[tuple[str, str], ...], n: int):
    from tieviz.experiments.run_analysis import embedding_set
    from tieviz.training.run_store import Run

    return embedding_set({name: Run(Path(path)) for name, path in run_dirs}, n)


def embedding_set(experiment: Experiment, n: int):
    """The tied, untied-input, untied-output and scaled matrices over the n most frequent tokens."""
    return _embedding_set(experiment.key, tuple((n_, str(r.path)) for n_, r in experiment.runs.items()), n)


@st.cache_data(show_spinner=False, max_entries=32)
def _layouts(key: str, cache_dir: str, n: int, names: tuple[str, ...], method: str, _matrices: dict):
    from tieviz.analysis.maps import cached_embedding_maps

    return cached_embedding_maps(Path(cache_dir), {name: _matrices[name] for name in names}, method, seed=0)


def umap_estimate(n_tokens: int, n_maps: int) -> str:
    """What the UMAP choice costs now, from the timing model: 'about 25 s the first time' until this server
    has compiled UMAP, then 'about 5 s'; a layout computed before is read back from disk at once."""
    import sys

    from tieviz.experiments.resources import duration
    from tieviz.experiments.time_estimate import umap_seconds

    started = "umap" in sys.modules
    took = duration(umap_seconds(n_tokens, n_maps, started))
    return took if started else f"{took} the first time"


def layouts(experiment: Experiment, n: int, names: tuple[str, ...], method: str) -> dict:
    """Aligned 2-D layouts of the named matrices (PCA instantly; UMAP cached on disk in the untied run)."""
    matrices = embedding_set(experiment, n).matrices
    cache_dir = experiment.runs["untied"].analysis_dir("maps")
    return _layouts(experiment.key, str(cache_dir), n, names, method, matrices)


@st.cache_data(show_spinner=False, max_entries=16)
def _untied_drift(run_dir: str):
    from tieviz.experiments.run_analysis import untied_drift as drift
    from tieviz.training.run_store import Run

    return drift(Run(Path(run_dir)))


def untied_drift(experiment: Experiment) -> dict:
    """How far the untied reference's W_E and W_U moved from their start, per saved step (first seed)."""
    return _untied_drift(str(experiment.runs["untied"].path))


@st.cache_data(show_spinner="Scoring every seed over the whole vocabulary…", max_entries=8)
def _whole_vocabulary_stats(key: str, summary_path: str) -> dict:
    from tieviz.experiments.runner import whole_vocabulary_bias

    return whole_vocabulary_bias(Path(summary_path))


def whole_vocabulary_stats(experiment: Experiment) -> dict:
    """Bias stats of every seed over the whole vocabulary (the paper's choice), computed on demand."""
    return _whole_vocabulary_stats(experiment.key, str(experiment.path))
