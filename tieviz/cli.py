"""`python -m tieviz ...`: run experiments, export figures, inspect and compare checkpoints, no dashboard.

Heavy libraries are imported inside the commands, so `--help` and a cache hit stay quick.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tieviz.config import PRESETS, preset
from tieviz.error_lines import error_line

EXIT_USER_ERROR = 2
SWEEP_FLAGS = {"alpha": "--alpha", "d_model": "--d-model", "n_layers": "--layers", "steps": "--steps"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tieviz", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    exp = sub.add_parser("experiment", help="train the tied, untied and scaled arms and summarise the bias")
    _experiment_flags(exp, "directory for summary.json")
    exp.add_argument("--steps", type=int)
    exp.add_argument("--d-model", type=int, dest="d_model")
    exp.add_argument("--layers", type=int, dest="n_layers")
    exp.add_argument("--alpha", type=float, help="input-gradient scale of the scaled arm (default 5)")

    swp = sub.add_parser(
        "sweep", help="one experiment per value of --alpha, --d-model, --layers or --steps: the bias along it"
    )
    _experiment_flags(swp, "directory for sweep.json")
    for axis, flag in SWEEP_FLAGS.items():
        swp.add_argument(flag, dest=axis, help="comma-separated values to sweep (one value: a fixed setting)")

    fig = sub.add_parser("figures", help="write every figure of an experiment or a sweep as HTML and PNG")
    fig.add_argument("dir", type=Path, help="an experiment's or a sweep's --out directory")
    fig.add_argument("--no-png", action="store_true", help="HTML only (PNG export needs Chrome for kaleido)")

    ins = sub.add_parser("inspect", help="summarise a Hugging Face checkpoint (directory or zip)")
    ins.add_argument("path")
    ins.add_argument("--json", action="store_true", dest="as_json")

    from tieviz.compare_cli import add_parsers

    add_parsers(sub)
    return parser


def _experiment_flags(command: argparse.ArgumentParser, out_help: str) -> None:
    """The settings `experiment` and `sweep` share (the sweep's axes are added by each command)."""
    command.add_argument("--preset", default="demo", help=f"one of {', '.join(PRESETS)} (default demo)")
    command.add_argument("--out", required=True, type=Path, help=out_help)
    command.add_argument("--runs-dir", default=None, help="run store (default $TIEVIZ_RUNS or ./runs)")
    command.add_argument("--corpus", help="toy, pydocs, or a path to a UTF-8 text file")
    command.add_argument("--heads", type=int, dest="n_heads")
    command.add_argument("--vocab", type=int, dest="vocab_size")
    command.add_argument("--seq-len", type=int, dest="seq_len")
    command.add_argument("--batch", type=int, dest="batch_size")
    command.add_argument("--lr", type=float)
    command.add_argument("--seed", type=int)
    command.add_argument(
        "--seeds",
        type=int,
        help="train every arm for this many seeds, from --seed on (the preset's: toy 5, demo 3, gpu 1)",
    )
    command.add_argument(
        "--init",
        choices=("independent", "shared"),
        help="independent (default): the untied reference draws its own initial weights; "
        "shared: it starts from the tied arms' matrix",
    )
    command.add_argument(
        "--data-order",
        choices=("independent", "shared"),
        dest="data_order",
        help="independent (default): the untied reference reads its own batch order; shared: the tied "
        "arms' batches in their order",
    )
    command.add_argument(
        "--tokens",
        help="tokens the bias measures compare: a number (the most frequent ones) or 'all' (the whole "
        "vocabulary, as the paper); default: the preset's",
    )
    command.add_argument("--device", help="auto, cpu, cuda or mps (default auto)")
    command.add_argument("--quiet", action="store_true", help="no progress bar")


def experiment_config(args: argparse.Namespace):
    overrides = {
        name: getattr(args, name)
        for name in (
            "steps",
            "d_model",
            "n_layers",
            "n_heads",
            "vocab_size",
            "seq_len",
            "batch_size",
            "lr",
            "seed",
        )
    }
    overrides["alpha"] = args.alpha
    overrides["device"] = args.device
    overrides["seeds"] = args.seeds
    overrides["init"] = args.init
    overrides["data_order"] = args.data_order
    overrides["top_n"] = _tokens(args.tokens)
    if args.corpus is not None:
        if args.corpus in ("toy", "pydocs"):
            overrides["corpus"] = args.corpus
        else:
            overrides["corpus"], overrides["path"] = "file", str(Path(args.corpus).resolve())
    config = preset(args.preset, **overrides)
    config.validate()  # one sentence now, not an allocation traceback later
    return config


def _tokens(value: str | None) -> int | None:
    """--tokens: None (the preset's), 'all' (0, the whole vocabulary) or a positive count."""
    if value is None:
        return None
    if value.strip().lower() == "all":
        return 0
    try:
        return int(value)  # ExperimentConfig.validate says which counts the measures can use
    except ValueError:
        raise ValueError(f"--tokens takes a number or 'all' (got {value!r})") from None


class _ProgressBar:
    """One tqdm bar on stderr across the three arms and the analysis."""

    def __init__(self, total_steps: int, seeds: list[int], enabled: bool) -> None:
        from tieviz.config import ARM_NAMES

        self.bar = None
        if enabled:
            from tqdm import tqdm

            total = len(ARM_NAMES) * len(seeds) * total_steps
            self.bar = tqdm(total=total, file=sys.stderr, unit="step", dynamic_ncols=True)
        order = [(name, seed) for seed in seeds for name in ARM_NAMES]
        self.offsets = {pair: index * total_steps for index, pair in enumerate(order)}

    def __call__(self, phase: str, done: int, total: int, metrics: dict) -> None:
        if self.bar is None:
            return
        if (phase, metrics.get("seed")) in self.offsets:
            self.bar.n = self.offsets[(phase, metrics["seed"])] + done
            loss = metrics.get("train_loss", float("nan"))
            self.bar.set_description(f"seed {metrics['seed']} {phase} loss {loss:.3f}")
        else:
            self.bar.set_description(f"analysis: {metrics.get('stage', '')}")
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def cmd_experiment(args: argparse.Namespace) -> int:
    from tieviz.experiments.runner import run_experiment
    from tieviz.training.run_store import RunStore, write_json_atomic

    config = experiment_config(args)
    bar = _ProgressBar(config.train.steps, config.seed_list, enabled=not args.quiet)
    try:
        summary = run_experiment(config, RunStore(args.runs_dir), progress=bar)
    finally:
        bar.close()
    write_json_atomic(args.out / "summary.json", summary.to_dict())
    how = "cache hit" if summary.cache_hit else "trained"
    print(f"{how} ({summary.n_seeds} seed(s)); summary in {args.out / 'summary.json'}")
    for claim in ("bias", "scaling", "ratio"):
        verdict = summary.verdict(claim)
        print(f"{claim}: {verdict.status}. {verdict.text}")
    return 0


def sweep_settings(args: argparse.Namespace):
    """(base config, axis, values) of `sweep`: the one flag given several values is the axis."""
    from tieviz.experiments.sweep import parse_values

    fixed = argparse.Namespace(**vars(args))
    axes = {}
    for axis, flag in SWEEP_FLAGS.items():
        raw = getattr(args, axis)
        if raw is None:
            continue
        try:
            values = parse_values(axis, raw)
        except ValueError as error:
            raise ValueError(f"{flag}: {error}") from None
        if len(values) > 1 or "," in raw:
            axes[axis] = values
            setattr(fixed, axis, None)
        else:
            setattr(fixed, axis, values[0])
    if len(axes) != 1:
        given = ", ".join(SWEEP_FLAGS[a] for a in axes) or "none"
        raise ValueError(
            f"a sweep takes one axis with comma-separated values, e.g. --alpha 0.5,1,2 (got {given})"
        )
    [(axis, values)] = axes.items()
    base = experiment_config(fixed)
    return base, axis, values


class _SweepBar:
    """One tqdm bar on stderr across every point's arms and seeds; runs fetched from the store skip ahead."""

    def __init__(self, points: list, values: tuple, axis: str, enabled: bool) -> None:
        from tieviz.config import ARM_NAMES

        self.axis, self.bar, self.offsets, total = axis, None, {}, 0
        for index, config in enumerate(points):
            for seed in config.seed_list:
                for name in ARM_NAMES:
                    self.offsets[(index, name, seed)] = total
                    total += config.train.steps
        self.values = values
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, file=sys.stderr, unit="step", dynamic_ncols=True)

    def __call__(self, index: int, phase: str, done: int, total: int, metrics: dict) -> None:
        if self.bar is None:
            return
        where = f"{self.axis} {self.values[index]:g}"
        if (index, phase, metrics.get("seed")) in self.offsets:
            self.bar.n = self.offsets[(index, phase, metrics["seed"])] + done
            loss = metrics.get("train_loss", float("nan"))
            self.bar.set_description(f"{where} seed {metrics['seed']} {phase} loss {loss:.3f}")
        else:
            self.bar.set_description(f"{where} analysis: {metrics.get('stage', '')}")
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def cmd_sweep(args: argparse.Namespace) -> int:
    from tieviz.analysis.stats import SeedStat, format_stat
    from tieviz.experiments.sweep import SweepConfig, run_sweep
    from tieviz.training.run_store import RunStore, write_json_atomic

    base, axis, values = sweep_settings(args)
    sweep = SweepConfig(base, axis, values)
    for config in sweep.points():
        config.validate()
    bar = _SweepBar(sweep.points(), sweep.values, axis, enabled=not args.quiet)
    try:
        record = run_sweep(base, axis, values, RunStore(args.runs_dir), progress=bar)
    finally:
        bar.close()
    write_json_atomic(args.out / "sweep.json", record)
    print(f"{len(record['points'])} points of {axis}; sweep in {args.out / 'sweep.json'}")
    for point in record["points"]:
        bias = SeedStat.from_dict(point["stats"]["bias.lin_cos"])
        print(f"  {axis} = {point[axis]:g}: linear-map bias {format_stat(bias, signed=True)}")
    print(f"verdict: {record['verdict']['status']}. {record['verdict']['text']}")
    return 0


def cmd_figures(args: argparse.Namespace) -> int:
    from tieviz.experiments.figure_export import export_figures

    written = export_figures(args.dir, png=not args.no_png)
    print(f"wrote {len(written)} files to {args.dir / 'figures'}")
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from tieviz.checkpoints import main_inspect

    return main_inspect(args.path, args.as_json)


def cmd_compare(args: argparse.Namespace) -> int:
    from tieviz.compare_cli import cmd_compare as run

    return run(args)


def cmd_compare_series(args: argparse.Namespace) -> int:
    from tieviz.compare_cli import cmd_compare_series as run

    return run(args)


COMMANDS = {
    "experiment": cmd_experiment,
    "sweep": cmd_sweep,
    "figures": cmd_figures,
    "inspect": cmd_inspect,
    "compare": cmd_compare,
    "compare-series": cmd_compare_series,
}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("error: interrupted; nothing incomplete was kept", file=sys.stderr)
        return 130
    except (ValueError, OSError) as err:  # user-causable: bad config, corpus, device, divergence, files
        if os.environ.get("TIEVIZ_DEBUG"):
            raise
        print(f"error: {error_line(err)}", file=sys.stderr)
        return EXIT_USER_ERROR
