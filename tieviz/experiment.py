"""One experiment: train (or fetch from the run store) the tied, untied and scaled arms, then summarise.

The CLI, the dashboard's jobs and the tests all call `run_experiment`.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from tieviz.config import ARM_NAMES, ArmConfig, ExperimentConfig
from tieviz.runs import Run, RunStore, write_json_atomic

# (phase, done, total, detail): phase is an arm name or "analysis"; detail holds the latest metrics.
ExperimentProgress = Callable[[str, int, int, dict], None]


def resolve(config: ExperimentConfig) -> ExperimentConfig:
    """Pins what "auto" and file paths leave open, so the config hashes to what will really run."""
    from tieviz.device import resolve_device
    from tieviz.textfile import scan_text_file

    data = config.data
    if data.corpus == "file":
        # Refuses empty, oversized and non-UTF-8 files up front, streaming: the file is never held whole.
        data = replace(data, content_hash=scan_text_file(data.path).sha256)
    return replace(config, data=data, train=replace(config.train, device=resolve_device(config.train.device)))


def train_arm(
    arm: ArmConfig,
    store: RunStore,
    corpus_factory: Callable[[], Any],
    progress: Callable[[int, int, dict], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Run:
    """The completed run for this arm: from the store when present, else trained now and committed."""
    key = arm.key()
    if (run := store.get(key)) is not None:
        return run
    with store.lock(key):
        if (run := store.get(key)) is not None:  # trained by someone else while we waited
            return run
        store.clear_stale_staging(key)
        return _train_and_commit(arm, key, store, corpus_factory(), progress, should_stop)


def _train_and_commit(arm, key, store, corpus, progress, should_stop) -> Run:
    import torch
    import transformers

    from tieviz.model import build_model, count_parameters, quiet_transformers
    from tieviz.train import train_model

    quiet_transformers()
    with store.staging(key) as stage:
        model = build_model(arm, corpus.vocab_size, corpus.tokenizer.eos_token_id)
        with open(stage / "metrics.jsonl", "w") as metrics_file:

            def log(record: dict) -> None:
                metrics_file.write(json.dumps(record) + "\n")
                metrics_file.flush()
                if progress is not None:  # every record, so live curves miss no step
                    progress(record["step"], arm.train.steps, record)

            result = train_model(model, corpus, arm, stage, log, should_stop=should_stop)
        model.cpu().save_pretrained(stage)
        corpus.tokenizer.save_pretrained(stage)
        np.save(stage / "tokens.npy", corpus.all_ids.astype(np.int32))
        np.save(stage / "counts.npy", corpus.token_counts())
        if corpus.truth_log_probs is not None:
            np.save(stage / "truth.npy", corpus.truth_log_probs)
        info = {
            "key": key,
            "config": arm.to_dict(),
            "seed": arm.train.seed,
            "device": arm.train.device,
            "params": count_parameters(model),
            "vocab_size": corpus.vocab_size,
            "n_train_tokens": int(len(corpus.train_ids)),
            "n_val_tokens": int(len(corpus.val_ids)),
            "final_train_loss": result.final_train_loss,
            "final_val_loss": result.final_val_loss,
            "tokens_per_second": result.tokens_per_second,
            "wall_seconds": result.wall_seconds,
            "versions": {
                "python": platform.python_version(),
                "torch": torch.__version__,
                "transformers": transformers.__version__,
            },
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        return store.commit(stage, key, info)


def experiment_path(store: RunStore, key: str) -> Path:
    """Where the summary of the (resolved) experiment with this key is stored."""
    return store.root / "experiments" / f"{key}.json"


def cached_summary(config: ExperimentConfig, store: RunStore) -> dict | None:
    """The stored summary of a resolved config, if it and every arm it names are complete."""
    path = experiment_path(store, config.key())
    if not path.exists():
        return None
    try:
        summary = json.loads(path.read_text())
    except (json.JSONDecodeError, OSError):
        return None
    if not all(store.is_complete(config.arm(name).key()) for name in ARM_NAMES):
        return None
    return summary


def run_experiment(
    config: ExperimentConfig,
    store: RunStore,
    progress: ExperimentProgress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> dict:
    """Trains what is missing, analyses, stores and returns the summary (see `summary.summarize`)."""
    config = resolve(config)
    if (summary := cached_summary(config, store)) is not None:
        return {**summary, "cache_hit": True}
    started = time.perf_counter()
    corpus_cache: list[Any] = []

    def corpus():
        if not corpus_cache:
            from tieviz.data import build_corpus

            corpus_cache.append(build_corpus(config.data, config.model.seq_len))
        return corpus_cache[0]

    runs: dict[str, Run] = {}
    for name in ARM_NAMES:

        def arm_progress(step: int, total: int, metrics: dict, name: str = name) -> None:
            if progress is not None:
                progress(name, step, total, metrics)

        runs[name] = train_arm(config.arm(name), store, corpus, arm_progress, should_stop)

    from tieviz.summary import summarize

    summary = summarize(config, runs, progress=progress)
    summary["wall_seconds"] = time.perf_counter() - started
    write_json_atomic(experiment_path(store, config.key()), summary)
    return {**summary, "cache_hit": False}


def load_experiment(summary_or_dir: Path) -> tuple[dict, dict[str, Run]]:
    """A summary.json (or a directory holding one) and its three runs."""
    path = summary_or_dir / "summary.json" if summary_or_dir.is_dir() else summary_or_dir
    if not path.exists():
        raise ValueError(f"no summary.json at {path}; run `python -m tieviz experiment --out DIR` first")
    summary = json.loads(path.read_text())
    runs = {}
    for name, arm in summary["arms"].items():
        run = Run(Path(arm["run_dir"]))
        if not (run.path / "run.json").exists():
            raise ValueError(f"the {name} run of this experiment is missing from {run.path}")
        runs[name] = run
    return summary, runs
