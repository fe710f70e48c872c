"""How long an experiment will take to train here, and how to say it to a person.

Pure arithmetic over configs and earlier summaries (no Streamlit); the Train page shows the result.
"""

from __future__ import annotations

from tieviz.config import ExperimentConfig

# (seconds of fixed cost per step, effective floating-point operations per second) by device kind.
# Conservative: measured on a shared, loaded 2-core CPU; a GPU is assumed to reach a small share of its peak.
SPEED = {"cpu": (0.08, 7e9), "mps": (0.05, 1e11), "cuda": (0.02, 2e12)}
ANALYSIS_SECONDS = {"cpu": 20.0, "mps": 10.0, "cuda": 5.0}  # bias, bigrams and the lens after training


def measured_speed(summaries: list[dict], config: ExperimentConfig, device: str) -> float | None:
    """Mean training tokens/s of an earlier experiment of the same shape on the same device, if any."""
    shape = (config.model, config.data.vocab_size, config.train.batch_size)
    for summary in summaries:
        try:
            earlier = ExperimentConfig.from_dict(summary["config"])
            same = (earlier.model, earlier.data.vocab_size, earlier.train.batch_size) == shape
            if same and summary.get("device") == device:
                speeds = [arm["tokens_per_second"] for arm in summary["arms"].values()]
                return sum(speeds) / len(speeds)
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            continue
    return None


def estimate_seconds(config: ExperimentConfig, device: str, tokens_per_second: float | None = None) -> float:
    """Rough wall time of an experiment: three arms of `steps` steps per seed, then the analysis.

    From a measured speed when one is given, else from ~6 x parameters x tokens operations per step.
    """
    from tieviz.jobs.limits import estimate_params

    kind = device if device in SPEED else "cpu"
    tokens_per_step = config.train.batch_size * config.model.seq_len
    if tokens_per_second:
        per_step = tokens_per_step / tokens_per_second
    else:
        overhead, flops = SPEED[kind]
        per_step = overhead + 6 * estimate_params(config) * tokens_per_step / flops
    return config.seeds * (3 * config.train.steps * per_step + ANALYSIS_SECONDS[kind])


def duration(seconds: float) -> str:
    """'about 40 s', 'about 3 min', 'about 1.5 h'."""
    if seconds < 90:
        return f"about {max(5, round(seconds / 5) * 5):.0f} s"
    if seconds < 5400:
        return f"about {seconds / 60:.0f} min"
    return f"about {seconds / 3600:.1f} h"


def device_words(device: str) -> str:
    """The device a person reads: 'GPU (cuda)', 'Apple GPU (mps)' or 'CPU'."""
    return {"cuda": "GPU (cuda)", "mps": "Apple GPU (mps)"}.get(device, "CPU")
