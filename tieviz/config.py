"""Configuration dataclasses for one experiment: data, model shape, training, and the three arms.

Everything that changes a trained result lives here, so that a hash of it is a safe cache key.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

CORPORA = ("toy", "pydocs", "file")
DEVICES = ("auto", "cpu", "cuda", "mps")
# bump when tieviz.training.corpus.toy_language changes, so old toy runs are not reused
TOY_LANGUAGE_VERSION = 2

# The one range of every size a run accepts, whoever asks (CLI, Train page, job submission, model building).
# Minimums are what the analysis needs (a vocabulary of 16 leaves the mutual 10-NN its 11 tokens after the
# special ones); maximums are far beyond a toy and short of absurd.
BOUNDS: dict[str, tuple[int, int]] = {
    "vocab_size": (16, 2_000_000),
    "d_model": (4, 16_384),
    "n_layers": (1, 256),
    "n_heads": (1, 1_024),
    "seq_len": (4, 65_536),
    "steps": (1, 10_000_000),
    "batch_size": (1, 65_536),
    "seeds": (1, 100),
}
MIN_COMPARED_TOKENS = 10  # top_n: mutual 10-NN needs a token and its 10 neighbours


def check_bounds(part: Any) -> None:
    """Raises ValueError, in one sentence, for a field of `part` outside its BOUNDS."""
    for name in part.__dataclass_fields__:
        if name not in BOUNDS:
            continue
        value, (low, high) = getattr(part, name), BOUNDS[name]
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{name} must be a whole number (got {value!r})")
        if value < low:
            raise ValueError(f"{name} must be at least {low:,} (got {value:,})")
        if value > high:
            raise ValueError(f"{name} {value:,} is above the most tieviz accepts ({high:,})")


def _check_positive(name: str, value: float) -> None:
    if not 0 < value < float("inf"):
        raise ValueError(f"{name} must be a positive number (got {value})")


@dataclass(frozen=True)
class DataConfig:
    corpus: str = "pydocs"  # "toy", "pydocs" or "file"
    path: str | None = None  # the UTF-8 text file when corpus == "file"
    content_hash: str | None = None  # sha256 of that file, filled in so edits change the key
    vocab_size: int = 2000  # word-level vocabulary cap, special tokens included
    val_fraction: float = 0.1  # tail of the token stream held out for validation and the lens
    toy_tokens: int = 200_000  # length of the synthetic toy corpus, in words
    toy_vocab: int = 200  # distinct words in the toy language
    toy_language: int = TOY_LANGUAGE_VERSION  # generator of the toy language; in the key of toy runs only

    def __post_init__(self) -> None:
        if self.toy_language != TOY_LANGUAGE_VERSION:
            raise ValueError(
                f"this tieviz generates toy language version {TOY_LANGUAGE_VERSION}, "
                f"not {self.toy_language}: runs of another version came from another tieviz"
            )

    def validate(self) -> None:
        """Raises ValueError, in one sentence, for data settings no run can use."""
        check_bounds(self)
        if self.corpus not in CORPORA:
            raise ValueError(f"corpus must be one of {', '.join(CORPORA)}, not {self.corpus!r}")
        if not 0 < self.val_fraction < 1:
            raise ValueError(f"val_fraction must be between 0 and 1 (got {self.val_fraction})")

    def hashed(self) -> dict[str, Any]:
        """The settings that identify the data; the toy language's version only matters for toy runs."""
        settings = asdict(self)
        if self.corpus != "toy":
            settings.pop("toy_language")
        return settings


@dataclass(frozen=True)
class ModelConfig:
    d_model: int = 128  # width: the length of every embedding row and of the residual stream
    n_layers: int = 2  # transformer blocks between the embedding and the unembedding
    n_heads: int = 4  # attention heads per block; must divide d_model
    seq_len: int = 64  # context length; also the training window

    def validate(self) -> None:
        """Raises ValueError, in one sentence, for a shape no model can take."""
        check_bounds(self)
        if self.d_model % self.n_heads:
            raise ValueError(
                f"d_model ({self.d_model}) must be divisible by the number of heads ({self.n_heads})"
            )


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 500  # optimizer steps per arm and seed
    batch_size: int = 16  # sequences of seq_len tokens per step
    lr: float = 3e-3  # AdamW's peak learning rate, reached after the warm-up
    weight_decay: float = 0.0  # AdamW's decoupled weight decay
    warmup_steps: int = 20  # linear warm-up from 0 to lr, in steps
    seed: int = 0  # seed of the batch order and the initial weights, unless an arm sets its own
    device: str = "auto"  # resolved to "cpu", "cuda" or "mps" before hashing
    eval_every: int = 50  # validation loss cadence, in steps
    n_checkpoints: int = 10  # roughly log-spaced saves of the embedding matrices

    def validate(self) -> None:
        """Raises ValueError, in one sentence, for a schedule no run can follow."""
        check_bounds(self)
        _check_positive("lr", self.lr)
        if not 0 <= self.weight_decay < float("inf"):
            raise ValueError(f"weight_decay must be 0 or more (got {self.weight_decay})")
        for name in ("warmup_steps", "eval_every", "n_checkpoints"):
            if getattr(self, name) < (0 if name == "warmup_steps" else 1):
                raise ValueError(f"{name} must be at least {0 if name == 'warmup_steps' else 1}")
        if self.device not in DEVICES:
            raise ValueError(f"unknown device {self.device!r}; choose one of {', '.join(DEVICES)}")


@dataclass(frozen=True)
class LensConfig:
    """How the tuned lens's translators are fitted: until their loss on held-out windows of the training
    split stops falling (early stopping), within a step cap. A fitted estimator is reported at convergence:
    at 150 fixed steps the toy's early-layer gap read three times what it reads converged."""

    max_steps: int = 4000  # cap; a fit that reaches it is reported as not converged
    lr: float = 5e-3  # Adam's learning rate for the translators
    batch_size: int = 8  # windows per Adam step
    check_every: int = 25  # steps between evaluations of the held-out fit loss
    patience: int = 6  # evaluations without an improvement of min_delta before stopping
    min_delta: float = 2e-4  # nats of held-out fit loss (summed over layers) that count as progress
    fit_windows: int = 64  # windows of the training split: three quarters fit, one quarter stops the fit
    seed: int = 0  # batch order of the fit

    def __post_init__(self) -> None:
        if min(self.max_steps, self.batch_size, self.check_every, self.patience) < 1 or self.lr <= 0:
            raise ValueError("lens settings: steps, batch size, check interval and patience >= 1, lr > 0")
        if self.fit_windows < 4 or self.min_delta < 0:
            raise ValueError("lens settings: at least 4 fit windows and a non-negative min_delta")


@dataclass(frozen=True)
class ArmConfig:
    """One trained model: the experiment's shared settings plus tying and the input-gradient scale."""

    data: DataConfig  # the experiment's text
    model: ModelConfig  # the experiment's shape
    train: TrainConfig  # the experiment's schedule (train.seed: this arm's seed)
    tied: bool  # one matrix for W_E and W_U (tie_word_embeddings)
    alpha: float = 1.0  # multiplies the input-path gradient on the embedding matrix
    init_seed: int | None = None  # seed of the initial weights; None: train.seed
    data_seed: int | None = None  # seed of the batch order; None: train.seed

    def __post_init__(self) -> None:
        if not self.tied and self.alpha != 1.0:
            raise ValueError("alpha scales the input path of a tied matrix; an untied arm takes alpha = 1")

    @property
    def weights_seed(self) -> int:
        """The seed the initial weights are drawn from."""
        return self.train.seed if self.init_seed is None else self.init_seed

    @property
    def order_seed(self) -> int:
        """The seed the training batches are drawn from."""
        return self.train.seed if self.data_seed is None else self.data_seed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def key(self) -> str:
        """Stable hash of every setting that changes the trained weights.

        An unset init_seed or data_seed is left out, so runs that draw both from train.seed keep the keys
        they had before the settings existed, and a run with its own batch order never shares a key with one
        trained on the tied arm's order.
        """
        settings = {**self.to_dict(), "data": self.data.hashed()}
        for name in ("init_seed", "data_seed"):
            if settings[name] is None:
                settings.pop(name)
        return config_hash(settings)


# The three compared arms, then the baseline: a second untied model per seed, trained like the untied
# reference but from its own weights and batch order, whose output matrix the reference's is compared with.
ARM_NAMES = ("tied", "untied", "scaled", "baseline")
COMPARED_ARMS = ARM_NAMES[:3]
INITS = ("independent", "shared")
DATA_ORDERS = ("independent", "shared")
# The untied reference of seed s draws its weights (and, under an independent data order, its batches) from
# seed s + this offset, so it never starts from, or reads in, the order of the tied arms of any small seed;
# the baseline model draws both from s + twice the offset.
INDEPENDENT_INIT_OFFSET = 100_003


@dataclass(frozen=True)
class ExperimentConfig:
    preset: str  # the preset's name ("toy", "demo", "gpu"); a label only, not in the key
    data: DataConfig = field(default_factory=DataConfig)  # the text every arm trains on
    model: ModelConfig = field(default_factory=ModelConfig)  # the shape every arm shares
    train: TrainConfig = field(default_factory=TrainConfig)  # the schedule every arm shares
    alpha: float = 5.0  # input-gradient scale of the "scaled" arm
    top_n: int = 1000  # most frequent tokens compared by the bias measures; 0: the whole vocabulary
    bigram_k: int = 40  # tokens shown in the bigram-symmetry matrices
    seeds: int = 1  # every arm is trained for seeds train.seed .. train.seed + seeds - 1
    # "independent": the untied reference draws its own initial weights (as the paper's independently
    # trained models do); "shared": it starts from the tied arms' matrix (differs only in tying).
    init: str = "independent"
    # "independent": the untied reference also reads its own batch order, as independently trained models
    # do; "shared": it reads the tied arms' batches in the same order (27 % of the demo's bias came from it).
    data_order: str = "independent"
    lens: LensConfig = field(default_factory=LensConfig)  # part of the key: the lens numbers depend on it

    def __post_init__(self) -> None:
        if self.init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)}, not {self.init!r}")
        if self.data_order not in DATA_ORDERS:
            raise ValueError(f"data_order must be one of {', '.join(DATA_ORDERS)}, not {self.data_order!r}")

    def validate(self, memory: int | None = None) -> None:
        """Raises ValueError, in one sentence, for settings that cannot run, before any work starts.

        The one set of rules the CLI, the Train page, job submission and model building share: every field
        within BOUNDS, the width divisible by the heads, positive finite lr and alpha, a compared-token
        count the measures can use, and one training step that fits in `memory` bytes (default: this
        machine's RAM), which would otherwise fail late with an allocation error or swap the server to a
        halt.
        """
        from tieviz.experiments.resources import check_memory

        self.data.validate()
        self.model.validate()
        self.train.validate()
        check_bounds(self)
        _check_positive("alpha", self.alpha)
        if self.top_n != 0 and self.top_n < MIN_COMPARED_TOKENS:
            raise ValueError(
                f"the compared tokens (top_n) must be 0 (the whole vocabulary) or at least "
                f"{MIN_COMPARED_TOKENS} (got {self.top_n}): mutual 10-NN needs a token and 10 neighbours"
            )
        check_memory(self, memory)

    @property
    def seed_list(self) -> list[int]:
        return [self.train.seed + offset for offset in range(self.seeds)]

    def arm(self, name: str, seed: int | None = None) -> ArmConfig:
        """One arm's config for one seed (default: the first). The tied and scaled arms share their start
        and batch order, so the causal test differs only in alpha; the untied one shares the start only
        under init="shared" and the order only under data_order="shared". The baseline model shares neither
        with any other arm."""
        train = self.train if seed is None else replace(self.train, seed=seed)
        if name == "tied":
            return ArmConfig(self.data, self.model, train, tied=True, alpha=1.0)
        if name == "untied":
            own = train.seed + INDEPENDENT_INIT_OFFSET
            return ArmConfig(
                self.data,
                self.model,
                train,
                tied=False,
                alpha=1.0,
                init_seed=own if self.init == "independent" else None,
                data_seed=own if self.data_order == "independent" else None,
            )
        if name == "baseline":
            own = train.seed + 2 * INDEPENDENT_INIT_OFFSET
            return ArmConfig(
                self.data, self.model, train, tied=False, alpha=1.0, init_seed=own, data_seed=own
            )
        if name == "scaled":
            return ArmConfig(self.data, self.model, train, tied=True, alpha=self.alpha)
        raise ValueError(f"unknown arm {name!r}; expected one of {', '.join(ARM_NAMES)}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def key(self) -> str:
        """Hash of everything but the preset's name: two names for one setup share results."""
        settings = {**self.to_dict(), "data": self.data.hashed()}
        settings.pop("preset")
        return config_hash(settings)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ExperimentConfig:
        return cls(
            preset=raw["preset"],
            data=DataConfig(**raw["data"]),
            model=ModelConfig(**raw["model"]),
            train=TrainConfig(**raw["train"]),
            alpha=raw["alpha"],
            top_n=raw["top_n"],
            bigram_k=raw["bigram_k"],
            seeds=raw.get("seeds", 1),  # summaries written before seeds existed trained one
            init=raw.get("init", "shared"),  # ... from one shared start
            data_order=raw.get("data_order", "shared"),  # ... reading one shared batch order
            lens=LensConfig(**raw.get("lens", {})),  # ... and their lens is refitted to convergence
        )


def config_hash(settings: dict[str, Any]) -> str:
    blob = json.dumps(settings, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


PRESETS: dict[str, ExperimentConfig] = {
    # Seconds on a CPU: a synthetic language with a known transition matrix. Enough steps for the
    # output path's early lead, the bias (tied CKA to the untied output above that to the input) and
    # alpha's shrinking of it to show.
    "toy": ExperimentConfig(
        preset="toy",
        data=DataConfig(corpus="toy", vocab_size=128, toy_tokens=40_000, toy_vocab=126),
        model=ModelConfig(d_model=32, n_layers=2, n_heads=2, seq_len=32),
        train=TrainConfig(steps=200, batch_size=16, lr=1e-2, warmup_steps=10, eval_every=25, n_checkpoints=8),
        top_n=120,
        bigram_k=30,
        seeds=5,  # a few seconds each: five give an interval a class can trust
    ),
    # The default: Python's documentation, three seeds, about two minutes on a 2-core CPU. 220 steps of
    # 16 x 64 tokens over a 1,000-word vocabulary (it was 500 steps and 2,000 words, 3.1 times the compute
    # a seed): every claim still holds on every seed, and three seeds give intervals in the time one took.
    "demo": ExperimentConfig(
        preset="demo",
        data=DataConfig(vocab_size=1000),
        train=TrainConfig(steps=220),
        seeds=3,
    ),
    # Meant for a GPU: wider, deeper, longer.
    "gpu": ExperimentConfig(
        preset="gpu",
        data=DataConfig(corpus="pydocs", vocab_size=8000),
        model=ModelConfig(d_model=384, n_layers=6, n_heads=6, seq_len=128),
        train=TrainConfig(
            steps=4000, batch_size=64, lr=1e-3, warmup_steps=100, eval_every=200, n_checkpoints=14
        ),
    ),
}


def preset(name: str, **overrides: Any) -> ExperimentConfig:
    """A preset with some fields replaced; keys are field names of any of the sub-configs."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    base = PRESETS[name]
    parts: dict[str, Any] = {"data": base.data, "model": base.model, "train": base.train}
    top: dict[str, Any] = {}
    for key, value in overrides.items():
        if value is None:
            continue
        for part_name, part in parts.items():
            if key in part.__dataclass_fields__:
                parts[part_name] = replace(part, **{key: value})
                break
        else:
            if key in ExperimentConfig.__dataclass_fields__:
                top[key] = value
            else:
                raise ValueError(f"unknown setting {key!r}")
    return replace(base, **parts, **top)
