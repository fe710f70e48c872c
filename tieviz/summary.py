"""The experiment summary: one typed, versioned record of every number the pages and the CLI show.

summary.json is this record's `to_dict()`. Readers go through `Summary.from_dict`, never raw keys, and
a summary written by an older schema is re-summarised from its stored runs (no retraining) when opened
(`tieviz.experiment.load_experiment`), so cached experiments learn new measures.

`stats` holds every headline number over seeds (see `tieviz.analysis.stats.SeedStat`), under names:
    bias.{tied,scaled}.{lin_cos,proc_cos,cka,mknn}   out − in score: positive = output-shaped
    score.{tied,scaled}.{measure}_{out,in}            the two scores behind each bias
    bias_change.{measure}                             scaled bias − tied bias, paired by seed
    grad_ratio.{arm}_{early,late}, grad_ratio.tied_drop   tieviz's exact [V, d] split; drop = early − late
    grad_share.{tied,scaled}.{first_1pct,first_5pct,overall}   the paper's output share (activation-
                                                      gradient norms) over the first 1 % and 5 % of steps
    lens.early_kl.{tied,untied}, lens.early_kl_gap   held-out tuned-lens KL (nats), tied − untied
    bigram.corr_gap, bigram.truth_corr_gap            untied − tied correlation, bigrams / true transitions
    val_loss.{arm}
    baseline.{measure}                                the untied output matrix onto a second untied
                                                      model's (independent per seed); `baseline_method`
    baseline_gap.{measure}                            score.tied.{measure}_out − baseline, paired by seed
The mean-only sections (`bias`, `grad_ratio`, `lens`, ...) are the same numbers averaged over seeds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from tieviz.analysis.stats import SeedStat
from tieviz.config import ExperimentConfig

# 1: one seed, no stats (unversioned); 2: seeds, stats, floors, baseline, verdicts; 3: the lens fitted to
# convergence (settings in the key), the baseline per seed from a second untied model, 100+ shuffles
# behind each floor, the untied reference's own data order, the output share at matched fractions
SCHEMA_VERSION = 3


@dataclass(frozen=True)
class Summary:
    schema_version: int
    preset: str
    config: ExperimentConfig
    experiment_key: str
    device: str
    seeds: list[int]
    n_top_tokens: int  # tokens the bias measures compare: the most frequent ones
    whole_vocabulary: bool  # True when those are every non-special token
    arms: dict[str, dict]  # arm -> the first seed's run (run_dir, key, losses, params, ...)
    seed_arms: dict[str, dict[str, dict]]  # str(seed) -> arm -> run summary
    bias: dict[str, dict[str, float]]  # tied/scaled -> "{measure}_{out,in}" -> mean over seeds
    bias_over_training: dict  # steps, and per tied arm each "{measure}_{side}" series (mean over seeds)
    grad_ratio: dict[str, float]  # "{arm}_{early,late}" means
    grad_share: dict | None  # tied/scaled -> curves.SHARE_FRACTIONS' spans (paper's definition); None: no log
    bigram: dict  # the first seed's bigram comparison (tokens, asymmetry, correlations)
    lens: dict  # tied/untied per-layer means and tuned intervals, held_out, windows, fit_steps, converged
    stats: dict[str, SeedStat]
    floors: dict[str, SeedStat]  # measure -> the tied matrix against shuffled untied rows, mean per seed
    baseline: dict[str, SeedStat]  # measure -> the same-recipe baseline (stats' baseline.*); {}: none
    verdicts: dict[str, dict[str, str]]  # claim -> {"status", "text"}
    floors_shuffles: int = 0  # shuffles behind the floors, all seeds together (each untied matrix)
    baseline_method: str = ""  # how `baseline` was measured (tieviz.summarize.baseline_method)
    wall_seconds: float | None = None
    train_seconds: float | None = None  # sum of the runs' own training times
    analysis_seconds: float | None = None  # the analysis after training (all seeds), in this process
    cache_hit: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # keys a newer tieviz wrote, kept on rewrite

    @property
    def n_seeds(self) -> int:
        return len(self.seeds)

    @property
    def alpha(self) -> float:
        return self.config.alpha

    @property
    def steps(self) -> int:
        return self.config.train.steps

    def stat(self, name: str) -> SeedStat | None:
        return self.stats.get(name)

    def verdict(self, claim: str):
        """A claim's `tieviz.analysis.verdicts.Verdict`, read from the stored stats by this tieviz's wording
        (the stored text may be an older wording of the same numbers), or None for an unknown claim."""
        from tieviz.analysis.verdicts import experiment_verdicts

        return experiment_verdicts(self).get(claim)

    def token_scope(self) -> str:
        """Which tokens the bias tables compare, in words."""
        if self.whole_vocabulary:
            return f"the whole vocabulary ({self.n_top_tokens} tokens, special tokens left out)"
        return f"the {self.n_top_tokens} most frequent tokens of the training text"

    def with_verdicts(self, verdicts: dict) -> Summary:
        stored = {claim: {"status": v.status, "text": v.text} for claim, v in verdicts.items()}
        return replace(self, verdicts=stored)

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("extra",)}
        out["config"] = self.config.to_dict()
        for name in ("stats", "floors", "baseline"):
            out[name] = {k: v.to_dict() for k, v in getattr(self, name).items()}
        out["verdicts"] = {claim: v["status"] for claim, v in self.verdicts.items()}
        out["verdict_texts"] = {claim: v["text"] for claim, v in self.verdicts.items()}
        return {**self.extra, **_plain(out)}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Summary:
        """The summary stored in summary.json; ValueError if it is not a current summary."""
        if not isinstance(raw, dict):
            raise ValueError("summary.json does not hold an experiment summary")
        version = raw.get("schema_version", 1)
        if version != SCHEMA_VERSION:
            raise OutdatedSummary(version)
        try:
            known = {f.name for f in fields(cls)}
            values = {k: v for k, v in raw.items() if k in known and k not in ("extra",)}
            values["config"] = ExperimentConfig.from_dict(raw["config"])
            for name in ("stats", "floors", "baseline"):
                values[name] = {k: SeedStat.from_dict(v) for k, v in raw[name].items()}
            texts = raw.get("verdict_texts", {})
            values["verdicts"] = {
                c: {"status": s, "text": texts.get(c, "")} for c, s in raw["verdicts"].items()
            }
            extra = {k: v for k, v in raw.items() if k not in known and k != "verdict_texts"}
            return cls(**values, extra=extra)
        except (KeyError, TypeError) as error:
            raise ValueError(f"summary.json is incomplete or damaged ({error})") from error


class OutdatedSummary(ValueError):
    """A summary written by an older tieviz: re-summarise it from its runs."""

    def __init__(self, version: Any) -> None:
        super().__init__(f"summary schema {version!r} is not the current {SCHEMA_VERSION}")
        self.version = version


def _plain(value: Any) -> Any:
    """Dataclasses and tuples as JSON-ready dicts and lists."""
    if hasattr(value, "__dataclass_fields__"):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
