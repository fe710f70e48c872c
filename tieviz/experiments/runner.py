"""One experiment: train (or fetch from the run store) the tied, untied and scaled arms of every seed,
then summarise.

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
from tieviz.experiments.summary_record import OutdatedSummary, Summary, read_summary_json
from tieviz.training.run_store import Run, RunStore, write_json_atomic

# (phase, done, total, detail): phase is an arm name or "analysis"; detail holds the latest metrics.
ExperimentProgress = Callable[[str, int, int, dict], None]


def resolve(config: ExperimentConfig) -> ExperimentConfig:
    """Pins what "auto" and file paths leave open, so the config hashes to what will really run."""
    from tieviz.system.device import resolve_device
    from tieviz.training.text_file import scan_text_file

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

    from tieviz.training.loop import train_model
    from tieviz.training.model import build_model, count_parameters, quiet_transformers

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


def cached_summary(config: ExperimentConfig, store: RunStore) -> Summary | None:
    """The stored summary of a resolved config, if it is of the current schema and every run it names is
    complete. An older schema's summary is re-summarised from its runs (no retraining) and stored."""
    path = experiment_path(store, config.key())
    if not path.exists():
        return None
    if not all(store.is_complete(config.arm(name, seed).key()) for name, seed in arm_seeds(config)):
        return None
    try:
        return Summary.read(path)
    except OutdatedSummary:
        summary = resummarize(config, store)
        write_json_atomic(path, summary.to_dict())
        return summary
    except (OSError, ValueError):
        return None


def arm_seeds(config: ExperimentConfig) -> list[tuple[str, int]]:
    """Every (arm, seed) of an experiment, in training order: all arms of the first seed first."""
    return [(name, seed) for seed in config.seed_list for name in ARM_NAMES]


def stored_run_count(config: ExperimentConfig, store: RunStore) -> int:
    """How many of a resolved config's (arm, seed) runs are already complete in the store (not retrained)."""
    return sum(store.is_complete(config.arm(name, seed).key()) for name, seed in arm_seeds(config))


def stored_runs(config: ExperimentConfig, store: RunStore) -> dict[int, dict[str, Run]]:
    """The completed runs of every (arm, seed); ValueError naming the first one missing."""
    runs: dict[int, dict[str, Run]] = {}
    for name, seed in arm_seeds(config):
        run = store.get(config.arm(name, seed).key())
        if run is None:
            raise ValueError(f"the {name} run of seed {seed} is missing from the run store {store.root}")
        runs.setdefault(seed, {})[name] = run
    return runs


def resummarize(config: ExperimentConfig, store: RunStore) -> Summary:
    """Summarises an experiment again from its stored runs (after a schema change); no training."""
    from tieviz.experiments.measure_seeds import summarize

    seed_runs = stored_runs(config, store)
    return replace(summarize(config, seed_runs), train_seconds=_train_seconds(seed_runs))


def _train_seconds(seed_runs: dict[int, dict[str, Run]]) -> float:
    return float(
        sum(run.info.get("wall_seconds", 0.0) for runs in seed_runs.values() for run in runs.values())
    )


def run_experiment(
    config: ExperimentConfig,
    store: RunStore,
    progress: ExperimentProgress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Summary:
    """Trains what is missing for every seed, analyses, stores and returns the summary."""
    config = resolve(config)
    if (summary := cached_summary(config, store)) is not None:
        return replace(summary, cache_hit=True)
    from tieviz.system.threads import use_threads_for

    use_threads_for(config)  # small models on one thread: a busy host stays fast (see tieviz.system.threads)
    started = time.perf_counter()
    corpus_cache: list[Any] = []

    def corpus():
        if not corpus_cache:
            from tieviz.training.corpus import build_corpus

            corpus_cache.append(build_corpus(config.data, config.model.seq_len))
        return corpus_cache[0]

    seed_runs: dict[int, dict[str, Run]] = {}
    for name, seed in arm_seeds(config):

        def arm_progress(step: int, total: int, metrics: dict, name: str = name, seed: int = seed) -> None:
            if progress is not None:
                progress(name, step, total, {**metrics, "seed": seed})

        run = train_arm(config.arm(name, seed), store, corpus, arm_progress, should_stop)
        seed_runs.setdefault(seed, {})[name] = run

    from tieviz.experiments.measure_seeds import summarize

    analysis_started = time.perf_counter()
    summary = summarize(config, seed_runs, progress=progress)
    summary = replace(
        summary,
        wall_seconds=time.perf_counter() - started,
        train_seconds=_train_seconds(seed_runs),
        analysis_seconds=time.perf_counter() - analysis_started,
    )
    write_json_atomic(experiment_path(store, config.key()), summary.to_dict())
    return summary


def load_experiment(summary_or_dir: Path) -> tuple[Summary, dict[str, Run]]:
    """A summary.json (or a directory holding one) and its first seed's three runs.

    A summary of an older schema is summarised again from its runs, beside them in the run store,
    and the file is rewritten: opening an old experiment gives it every current measure.
    """
    path = summary_or_dir / "summary.json" if summary_or_dir.is_dir() else summary_or_dir
    if not path.exists():
        raise ValueError(f"no summary.json at {path}; run `python -m tieviz experiment --out DIR` first")
    raw = read_summary_json(path)
    try:
        summary = Summary.from_dict(raw)
    except OutdatedSummary:
        summary = _upgrade(raw, path)
    runs = {}
    for name, arm in summary.arms.items():
        run = Run(Path(arm.run_dir))
        if not (run.path / "run.json").exists():
            raise ValueError(f"the {name} run of this experiment is missing from {run.path}")
        runs[name] = run
    return summary, runs


def _upgrade(raw: dict, path: Path) -> Summary:
    """The current summary of an experiment stored by an older schema, rewritten in place."""
    try:
        config = ExperimentConfig.from_dict(raw["config"])
        run_dir = Path(next(iter(raw["arms"].values()))["run_dir"])
    except (KeyError, TypeError, StopIteration) as error:
        raise ValueError(f"{path.name} is not an experiment summary ({error})") from error
    summary = resummarize(config, RunStore(run_dir.parent))
    write_json_atomic(path, summary.to_dict())
    return summary


def whole_vocabulary_bias(summary_path: Path) -> dict:
    """{"stats", "floors", "n_tokens"}: the final bias of every seed over all non-special tokens, the
    token set the paper compares (the summary compares the config's top_n most frequent)."""
    from tieviz.experiments.measure_seeds import bias_stats
    from tieviz.experiments.run_analysis import top_token_ids

    summary, _ = load_experiment(summary_path)
    seed_runs = {
        int(seed): {n: Run(Path(a.run_dir)) for n, a in arms.items()}
        for seed, arms in summary.seed_arms.items()
    }
    tokens = top_token_ids(seed_runs[min(seed_runs)]["untied"], 0)
    stats, floors = bias_stats(seed_runs, tokens)
    return {"stats": stats, "floors": floors, "n_tokens": int(len(tokens))}
