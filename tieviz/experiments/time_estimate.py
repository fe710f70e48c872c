"""How long an experiment will take on this machine, from what earlier experiments here took.

An experiment's wall time is a job's start-up (a fresh Python process importing torch), four models of
`steps` steps for each seed (less the runs the store already holds), then the analysis of every seed
(bias scores, bigrams, the tuned lens). Every run records its
wall time (`run.json`), and every experiment its total (`summary.json`), so the costs come, in order of
preference, from:

- an earlier experiment of the same shape on this device ("same shape"): its seconds per step and its
  analysis time, which already include this machine's speed and load;
- earlier experiments of other shapes on this device ("this machine"): a step-cost model scaled by how
  much slower or faster this machine ran them than the model says;
- the step-cost model alone ("guess").

Pure arithmetic over configs and summaries, plus reading each arm's `run.json`; no Streamlit.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tieviz.config import ARM_NAMES, ExperimentConfig
from tieviz.experiments.summary_record import ArmRecord, SummaryHeader

# Seconds of fixed cost per step (data, optimiser, evaluations, snapshots) and effective operations per
# second, by device kind. CPU: fitted to the toy (0.0122 s a step) and demo (0.055 s a step) presets on a
# quiet 2-core CPU; for a loaded machine the measured runs correct it.
STEP_MODEL = {"cpu": (0.011, 9.2e10), "mps": (0.01, 1e12), "cuda": (0.01, 1e13)}
# The analysis after training, per seed, in step-equivalents of the same model (toy and demo: ~75; most of
# it is the tuned lens, 150 steps for each of two models).
ANALYSIS_STEPS = 75
STARTUP_SECONDS = {"cpu": 8.0, "mps": 8.0, "cuda": 12.0}  # the job's worker process: Python, torch, data
MEASURED_RUNS = 5  # the newest experiments on this device that calibrate the model for a new shape

Basis = Literal["stored", "same shape", "this machine", "guess"]
BASIS_WORDS = {
    "stored": "already trained and analysed here: it is read back from the run store",
    "same shape": "from an earlier run of this shape on this machine",
    "this machine": "scaled from the speed of earlier runs on this machine",
    "guess": "a rough guess from the model size; it improves after the first run",
}


@dataclass(frozen=True)
class Estimate:
    """Predicted wall time of one experiment, and what the prediction rests on."""

    seconds: float
    basis: Basis

    @property
    def words(self) -> str:
        return BASIS_WORDS[self.basis]


@dataclass(frozen=True)
class Measured:
    """One earlier experiment: its config, device, mean seconds per step of an arm, analysis seconds."""

    config: ExperimentConfig
    device: str
    step_seconds: float
    analysis_seconds: float


def shape(config: ExperimentConfig) -> tuple:
    """What a step's and the analysis's cost depend on (not the seed, the steps or the learning rate)."""
    return (config.model, config.data.vocab_size, config.data.corpus, config.train.batch_size)


def model_step_seconds(config: ExperimentConfig, device: str) -> float:
    """The model's seconds per step: a fixed cost plus ~6 x parameters x tokens operations."""
    from tieviz.jobs.limits import estimate_params

    overhead, flops = STEP_MODEL[device if device in STEP_MODEL else "cpu"]
    tokens_per_step = config.train.batch_size * config.model.seq_len
    return overhead + 6 * estimate_params(config) * tokens_per_step / flops


def _arm_seconds(arm: ArmRecord) -> float:
    """An arm's wall time: from the summary when it has it, else from the run's own run.json."""
    if arm.wall_seconds is not None:
        return float(arm.wall_seconds)
    return float(json.loads((Path(arm.run_dir) / "run.json").read_text())["wall_seconds"])


def measured(summary: SummaryHeader) -> Measured | None:
    """The costs an earlier experiment's summary recorded, or None when its timings cannot be read."""
    try:
        config = summary.config
        if summary.train_seconds:  # every seed's models, the baseline's too, as recorded by the summary
            trained, models = float(summary.train_seconds), summary.models_per_seed
        else:  # an older summary: one seed, its arms' own times
            trained = config.seeds * sum(_arm_seconds(arm) for arm in summary.arms.values())
            models = len(summary.arms)
        step_seconds = trained / (config.seeds * models * config.train.steps)
        if summary.analysis_seconds is not None:  # recorded since the run store reuses seeds' runs
            analysis = float(summary.analysis_seconds) / config.seeds
        else:  # an older summary: everything it did not spend training (right when nothing was reused)
            analysis = (float(summary.wall_seconds) - trained) / config.seeds
        if step_seconds <= 0 or analysis < 0:
            return None
        return Measured(config, summary.device, step_seconds, analysis)
    except (OSError, KeyError, TypeError, ValueError, ZeroDivisionError, statistics.StatisticsError):
        return None


def estimate(
    config: ExperimentConfig,
    device: str,
    summaries: list[SummaryHeader] = (),
    runs_stored: int = 0,
    summary_stored: bool = False,
) -> Estimate:
    """Wall time of `config` on `device`, from earlier experiments' summaries (newest first).

    runs_stored: how many of its (arm, seed) runs the run store already holds; they are not trained again
    (an experiment that shares seeds with an earlier one trains only the new ones), but are analysed.
    summary_stored: its summary is stored too, so with every run stored nothing is trained or analysed.
    """
    kind = device if device in STEP_MODEL else "cpu"
    if summary_stored and runs_stored >= len(ARM_NAMES) * config.seeds:
        return Estimate(STARTUP_SECONDS[kind], "stored")
    here = [s for s in summaries if s.device == device]
    matching = [s for s in here if shape(s.config) == shape(config)]
    same = [m for m in map(measured, matching[:1]) if m is not None]
    model = model_step_seconds(config, device)
    if same:
        step, analysis, basis = same[0].step_seconds, same[0].analysis_seconds, "same shape"
    elif others := [m for m in map(measured, here[:MEASURED_RUNS]) if m is not None]:
        # How much slower or faster this machine ran other shapes than the model says.
        step_factor = statistics.median(m.step_seconds / model_step_seconds(m.config, device) for m in others)
        analysis_factor = statistics.median(
            m.analysis_seconds / (ANALYSIS_STEPS * model_step_seconds(m.config, device)) for m in others
        )
        step, analysis = step_factor * model, analysis_factor * ANALYSIS_STEPS * model
        basis = "this machine"
    else:
        step, analysis, basis = model, ANALYSIS_STEPS * model, "guess"
    to_train = max(0, len(ARM_NAMES) * config.seeds - runs_stored)
    return Estimate(
        STARTUP_SECONDS[kind] + to_train * config.train.steps * step + config.seeds * analysis, basis
    )


# UMAP's cost on the maps page: importing umap and numba compiling it, once per server process, then a
# fixed and a per-token cost per map (benchmarks/bench_maps.py; 2-core CPU: 20-32 s to start, ~3 s for a
# map of 1,000 tokens, ~1 s for 300).
UMAP_START_SECONDS = 20.0
UMAP_MAP_SECONDS = (0.25, 0.003)  # (fixed, per token)


def umap_seconds(n_tokens: int, n_maps: int, started: bool) -> float:
    """Seconds to lay out `n_maps` UMAP maps of `n_tokens` tokens; `started`: umap is already compiled."""
    fixed, per_token = UMAP_MAP_SECONDS
    return (0.0 if started else UMAP_START_SECONDS) + n_maps * (fixed + per_token * n_tokens)
