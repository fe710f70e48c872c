"""The experiment summary: one typed, versioned record of every number the pages and the CLI show.

summary.json is this record's `to_dict()`. Readers go through `Summary.from_dict`, never raw keys, and
a summary written by an older schema is re-summarised from its stored runs (no retraining) when opened
(`tieviz.experiments.runner.load_experiment`), so cached experiments learn new measures.

`stats` holds every headline number over seeds (see `tieviz.analysis.stats.SeedStat`), under names:
    bias.{tied,scaled}.{lin_cos,proc_cos,cka,mknn}   out − in score: positive = output-shaped
    score.{tied,scaled}.{measure}_{out,in}            the two scores behind each bias
    bias_change.{measure}                             scaled bias − tied bias, paired by seed
    grad_ratio.{arm}_{early,late}, grad_ratio.tied_drop   tieviz's exact [V, d] split; drop = early − late
    grad_share.{tied,scaled}.{span}                   the paper's output share (activation-gradient
                                                      norms) over curves.SHARE_FRACTIONS: first_1pct,
                                                      first_5pct, first_10pct, overall
    lens.early_kl.{tied,untied}, lens.early_kl_gap   held-out tuned-lens KL (nats), tied − untied
    bigram.corr_gap, bigram.truth_corr_gap            untied − tied correlation, bigrams / true transitions
    val_loss.{arm}
    baseline.{measure}                                the untied output matrix onto a second untied
                                                      model's (independent per seed); `baseline_method`
    baseline_gap.{measure}                            score.tied.{measure}_out − baseline, paired by seed
The mean-only sections (`bias`, `grad_ratio`, `lens`, ...) are the same numbers averaged over seeds.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from tieviz.analysis.stats import SeedStat
from tieviz.config import ExperimentConfig

# 1: one seed, no stats (unversioned); 2: seeds, stats, floors, baseline, verdicts; 3: the lens fitted to
# convergence (settings in the key), the baseline per seed from a second untied model, 100+ shuffles
# behind each floor, the untied reference's own data order, the output share at matched fractions
SCHEMA_VERSION = 3

R = TypeVar("R", bound="Record")


class Record:
    """A section of summary.json as a small frozen dataclass: typed fields, plus `extra`.

    Keys this tieviz does not know (written by a newer one) stay in `extra` and are written back, so a
    field is added by declaring it (with a default, so older summaries still read). A record stored in a
    layout other than its fields overrides `_unflatten` and `_flatten`.
    """

    nested: ClassVar[dict[str, type[Record]]] = {}  # dict field -> the record type of its values

    @classmethod
    def from_dict(cls: type[R], raw: dict[str, Any]) -> R:
        if not isinstance(raw, dict):
            raise TypeError(f"{cls.__name__} expects an object, not {type(raw).__name__}")
        raw = cls._unflatten(raw)
        known = {f.name for f in fields(cls)} - {"extra"}  # type: ignore[arg-type]
        values = {k: v for k, v in raw.items() if k in known}
        for name, kind in cls.nested.items():
            if name in values:
                values[name] = {k: kind.from_dict(v) for k, v in values[name].items()}
        return cls(**values, extra={k: v for k, v in raw.items() if k not in known})

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}  # type: ignore[arg-type]
        return {**self.extra, **self._flatten(_plain(out))}  # type: ignore[attr-defined]

    @classmethod
    def _unflatten(cls, raw: dict[str, Any]) -> dict[str, Any]:
        """The stored object rearranged into this record's fields (stored as the fields: unchanged)."""
        return raw

    def _flatten(self, out: dict[str, Any]) -> dict[str, Any]:
        """The inverse of `_unflatten`."""
        return out


@dataclass(frozen=True)
class ArmRecord(Record):
    """One trained model (arm and seed) as the summary names it: where it is stored and how it trained."""

    run_dir: str  # the run's folder in the run store
    key: str  # the run's key (hash of its ArmConfig)
    tied: bool
    alpha: float  # input-gradient scale (1 for tied and untied)
    final_train_loss: float
    final_val_loss: float
    params: int  # distinct parameters: a tied matrix counted once
    tokens_per_second: float
    wall_seconds: float | None = None  # the run's own training time; None in summaries before it was kept
    seed: int | None = None  # the data order's seed
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LensCurves(Record):
    """One model's per-layer lens statistics, input embedding first (KL and cross-entropy in nats)."""

    layers: list[str]
    tuned_kl: list[float]
    logit_kl: list[float]
    tuned_ce: list[float]
    logit_ce: list[float]
    contributions: list[float]  # how far each layer moves the tuned-lens prediction
    # each tuned curve's per-layer 95 % interval over seeds; None with one seed (or before it was kept)
    tuned_kl_low: list[float | None] | None = None
    tuned_kl_high: list[float | None] | None = None
    tuned_ce_low: list[float | None] | None = None
    tuned_ce_high: list[float | None] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LensRecord(Record):
    """The tuned and logit lens of the tied and untied models (means over seeds), and how they were scored.

    Stored flat in summary.json ({"tied": {...}, "untied": {...}, "held_out": ...}), as it always was.
    """

    nested: ClassVar[dict[str, type[Record]]] = {"models": LensCurves}

    models: dict[str, LensCurves] = field(default_factory=dict)  # "tied"/"untied" -> curves
    held_out: bool = False  # scored on validation windows neither the model nor the lens saw
    fit_windows: int = 0  # windows of training text the translators were fitted on
    score_windows: int = 0  # windows they were scored on
    fit_steps: dict[str, list[int]] = field(default_factory=dict)  # model -> Adam steps kept, per seed
    converged: bool = False  # every fit stopped on its held-out loss before the step cap
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def _unflatten(cls, raw: dict[str, Any]) -> dict[str, Any]:
        models = {k: v for k, v in raw.items() if isinstance(v, dict) and "tuned_kl" in v}
        return {**{k: v for k, v in raw.items() if k not in models}, "models": models}

    def _flatten(self, out: dict[str, Any]) -> dict[str, Any]:
        return {**out.pop("models"), **out}

    def __bool__(self) -> bool:
        return bool(self.models)


@dataclass(frozen=True)
class BigramRecord(Record):
    """The first seed's bigram comparison: the tokens shown and how symmetric and faithful each path is."""

    tokens: list[str] = field(default_factory=list)  # labels of the bigram_k most frequent tokens
    asymmetry: dict[str, float] = field(default_factory=dict)  # matrix -> ||A - A^T|| / ||A|| (0: symmetric)
    corr_with_bigrams: dict[str, float] = field(
        default_factory=dict
    )  # direct path -> correlation with the corpus's bigram log-probs
    corr_with_truth: dict[str, float] = field(default_factory=dict)  # ... with the toy language's truth
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BiasOverTraining(Record):
    """Each tied arm's out and in scores at every saved step (means over seeds).

    Stored flat in summary.json ({"steps": [...], "tied": {"cka_out": [...], ...}, "scaled": {...}}).
    """

    steps: list[int] = field(default_factory=list)
    arms: dict[str, dict[str, list[float]]] = field(
        default_factory=dict
    )  # arm -> "{measure}_{side}" -> series
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def _unflatten(cls, raw: dict[str, Any]) -> dict[str, Any]:
        arms = {k: v for k, v in raw.items() if k != "steps" and isinstance(v, dict)}
        return {**{k: v for k, v in raw.items() if k not in arms}, "arms": arms}

    def _flatten(self, out: dict[str, Any]) -> dict[str, Any]:
        return {**out.pop("arms"), **out}

    def series(self, arm: str, key: str) -> list[float]:
        """One score over the saved steps ([] when the arm or the score is absent)."""
        return list(self.arms.get(arm, {}).get(key, []))


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
    arms: dict[str, ArmRecord]  # arm -> the first seed's run
    seed_arms: dict[str, dict[str, ArmRecord]]  # str(seed) -> arm -> run
    bias: dict[str, dict[str, float]]  # tied/scaled -> "{measure}_{out,in}" -> mean over seeds
    bias_over_training: BiasOverTraining  # each tied arm's scores per saved step (mean over seeds)
    grad_ratio: dict[str, float]  # "{arm}_{early,late}" means
    grad_share: dict | None  # tied/scaled -> curves.SHARE_FRACTIONS' spans (paper's definition); None: no log
    bigram: BigramRecord  # the first seed's bigram comparison
    lens: LensRecord  # tied/untied per-layer means and tuned intervals, how the lens was fitted and scored
    stats: dict[str, SeedStat]
    floors: dict[str, SeedStat]  # measure -> the tied matrix against shuffled untied rows, mean per seed
    baseline: dict[str, SeedStat]  # measure -> the same-recipe baseline (stats' baseline.*); {}: none
    verdicts: dict[str, dict[str, str]]  # claim -> {"status", "text"}
    floors_shuffles: int = 0  # shuffles behind the floors, all seeds together (each untied matrix)
    # how `baseline` was measured (tieviz.experiments.measure_seeds.baseline_method)
    baseline_method: str = ""
    wall_seconds: float | None = None
    train_seconds: float | None = None  # sum of the runs' own training times
    analysis_seconds: float | None = None  # the analysis after training (all seeds), in this process
    cache_hit: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # keys a newer tieviz wrote, kept on rewrite

    def __post_init__(self) -> None:
        """Sections given as plain dicts (by the summariser, or read from JSON) become their records."""

        def arm(value: Any) -> ArmRecord:
            return value if isinstance(value, ArmRecord) else ArmRecord.from_dict(value)

        def record(kind: type[R], value: Any) -> R:
            return value if isinstance(value, kind) else kind.from_dict(value)

        set_ = object.__setattr__
        set_(self, "arms", {name: arm(a) for name, a in self.arms.items()})
        set_(
            self, "seed_arms", {s: {n: arm(a) for n, a in arms.items()} for s, arms in self.seed_arms.items()}
        )
        set_(self, "bias_over_training", record(BiasOverTraining, self.bias_over_training))
        set_(self, "bigram", record(BigramRecord, self.bigram))
        set_(self, "lens", record(LensRecord, self.lens))

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
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"summary.json is incomplete or damaged ({error})") from error

    @classmethod
    def read(cls, path: Path) -> Summary:
        """The summary stored at `path`; ValueError (OutdatedSummary for an older schema) in one sentence."""
        return cls.from_dict(read_summary_json(path))


class OutdatedSummary(ValueError):
    """A summary written by an older tieviz: re-summarise it from its runs."""

    def __init__(self, version: Any) -> None:
        super().__init__(f"summary schema {version!r} is not the current {SCHEMA_VERSION}")
        self.version = version


def _plain(value: Any) -> Any:
    """Records, dataclasses and tuples as JSON-ready dicts and lists."""
    if isinstance(value, Record):
        return value.to_dict()
    if hasattr(value, "__dataclass_fields__"):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def read_summary_json(path: Path) -> dict[str, Any]:
    """The object in a summary.json, the one place the file is parsed; ValueError naming the file."""
    path = Path(path)
    try:
        raw = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"{path.name} is not valid JSON ({error})") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{path.name} does not hold an experiment summary")
    return raw


@dataclass(frozen=True)
class SummaryHeader:
    """What listings and the timing model need from a summary.json, without its stats or an upgrade.

    Cheap to build for every stored experiment: no SeedStat, no re-summarising of an older schema.
    """

    key: str
    preset: str
    config: ExperimentConfig
    device: str
    seeds: list[int]
    arms: dict[str, ArmRecord]  # the first seed's runs
    wall_seconds: float | None = None
    train_seconds: float | None = None
    analysis_seconds: float | None = None
    models_per_seed: int = 3  # models trained per seed (train_seconds covers them all): 4 with a baseline

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> SummaryHeader:
        """ValueError when the object is not an experiment summary of any schema."""
        try:
            config = ExperimentConfig.from_dict(raw["config"])
            return cls(
                key=str(raw["experiment_key"]),
                preset=str(raw.get("preset", config.preset)),
                config=config,
                device=str(raw.get("device", config.train.device)),
                seeds=[int(s) for s in raw.get("seeds", [config.train.seed])],
                arms={name: ArmRecord.from_dict(arm) for name, arm in raw["arms"].items()},
                wall_seconds=raw.get("wall_seconds"),
                train_seconds=raw.get("train_seconds"),
                analysis_seconds=raw.get("analysis_seconds"),
                models_per_seed=len(next(iter((raw.get("seed_arms") or {"": raw["arms"]}).values()))),
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"not an experiment summary ({error})") from None

    @classmethod
    def read(cls, path: Path) -> SummaryHeader:
        return cls.from_dict(read_summary_json(path))
