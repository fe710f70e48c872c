"""`python -m tieviz compare` and `compare-series`: the paper's Table 1 for checkpoints on disk.

Results go to stdout (a table, or JSON with --json) and, with --out, to files; the progress bar and
errors go to stderr. Heavy libraries are imported when a command runs, not when the parser is built.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The two commands' arguments, on the main parser's subcommands."""
    cmp = sub.add_parser(
        "compare",
        help="the paper's Table 1 for a tied and an untied checkpoint (folder, zip or hub-cache snapshot)",
    )
    cmp.add_argument("tied", help="the tied checkpoint (either order works: tying is read from the files)")
    cmp.add_argument("untied", help="the untied checkpoint")
    _flags(cmp, "directory for comparison.json and per_token.csv")
    ser = sub.add_parser(
        "compare-series",
        help="the bias over training: each tied step checkpoint against one untied checkpoint",
    )
    ser.add_argument("tied", nargs="+", help="tied step checkpoints (step1000, ...), or one folder of them")
    ser.add_argument("--against", required=True, help="the untied checkpoint every step is compared with")
    _flags(ser, "directory for series.json, series.csv and the figure (HTML)")


def _flags(command: argparse.ArgumentParser, out_help: str) -> None:
    command.add_argument(
        "--tokens",
        default="all",
        help="'all' (default: the whole shared vocabulary, as the paper) or N: the N lowest shared token ids",
    )
    command.add_argument("--shuffles", type=int, default=3, help="row shuffles behind the chance floor (3)")
    command.add_argument("--seed", type=int, default=0, help="seed of the shuffles (0)")
    command.add_argument("--json", action="store_true", dest="as_json", help="JSON on stdout")
    command.add_argument("--out", type=Path, help=out_help)
    command.add_argument("--quiet", action="store_true", help="no progress bar")


def parse_tokens(value: str) -> int | str:
    """--tokens: 'all' or a whole number above 10 (mutual 10-NN needs 11 tokens)."""
    if value.strip().lower() == "all":
        return "all"
    try:
        count = int(value)
    except ValueError:
        raise ValueError(f"--tokens takes a number or 'all' (got {value!r})") from None
    if count <= 10:
        raise ValueError(
            f"--tokens must be more than 10, or 'all' (got {count}): mutual 10-NN needs 11 tokens"
        )
    return count


class _Bar:
    """A tqdm bar on stderr driven by (stage, fraction) progress calls."""

    def __init__(self, enabled: bool) -> None:
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(
                total=1000,
                file=sys.stderr,
                dynamic_ncols=True,
                bar_format="{desc} {percentage:3.0f}%|{bar}| {elapsed}",
            )

    def __call__(self, stage: str, fraction: float) -> None:
        if self.bar is not None:
            self.bar.n = int(1000 * min(max(fraction, 0.0), 1.0))
            self.bar.set_description(stage, refresh=False)
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def format_table(result) -> str:
    """Table 1 for people: each measure against W_U and W_E, the bias and the chance floor."""
    lines = [
        f"tied   {result.tied_name}: vocabulary {result.vocab_tied:,}, width {result.width_tied:,}",
        f"untied {result.untied_name}: vocabulary {result.vocab_untied:,}, width {result.width_untied:,}",
        f"tokens compared {result.n_tokens:,} ({result.n_matched:,} shared, matched by {result.alignment}); "
        f"k = {result.k}; chance floor over {result.shuffles} shuffle(s)",
        "",
        f"{'measure (tied vs …)':<28} {'untied W_U':>10} {'untied W_E':>10} {'bias':>8} {'chance':>8}",
    ]
    for row in result.rows.values():
        lines.append(
            f"{row.label:<28} {row.out:>10.3f} {row.inp:>10.3f} {row.bias:>+8.3f} {row.chance:>8.3f}"
        )
    lines += ["", f"verdict (linear-map cosine): {result.verdict.status}. {result.verdict.text}"]
    lines += [f"note: {note}" for note in result.notes]
    lines.append(f"({result.seconds:.1f} s)")
    return "\n".join(lines)


def _per_token_csv(result, path: Path) -> None:
    import csv

    keys = list(result.per_token)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["token_id_tied", "token_id_untied", "token", *keys])
        for i in range(result.n_tokens):
            values = [f"{result.per_token[key][i]:.6f}" for key in keys]
            writer.writerow([result.token_ids_tied[i], result.token_ids_untied[i], result.labels[i], *values])


def _with_bar(quiet: bool, work):
    """Runs `work(bar)` with a progress bar on stderr (none when quiet), closed however the work ends."""
    bar = _Bar(enabled=not quiet)
    try:
        return work(bar)
    finally:
        bar.close()


def cmd_compare(args: argparse.Namespace) -> int:
    from tieviz.checkpoint_analysis.compare import compare
    from tieviz.training.run_store import write_json_atomic

    tokens = parse_tokens(args.tokens)
    result = _with_bar(
        args.quiet,
        lambda bar: compare(
            args.tied, args.untied, tokens=tokens, shuffles=args.shuffles, seed=args.seed, progress=bar
        ),
    )
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        write_json_atomic(args.out / "comparison.json", result.to_dict())
        _per_token_csv(result, args.out / "per_token.csv")
    print(result.to_json() if args.as_json else format_table(result))
    return 0


def cmd_compare_series(args: argparse.Namespace) -> int:
    from tieviz.checkpoint_analysis.series import compare_series
    from tieviz.training.run_store import write_json_atomic

    tokens = parse_tokens(args.tokens)
    series = _with_bar(
        args.quiet,
        lambda bar: compare_series(
            args.tied, args.against, tokens=tokens, shuffles=args.shuffles, seed=args.seed, progress=bar
        ),
    )
    if args.out is not None:
        from tieviz.figures.series import bias_series_figure
        from tieviz.reference import olmo1b_gradient_norms

        args.out.mkdir(parents=True, exist_ok=True)
        write_json_atomic(args.out / "series.json", series.to_dict())
        (args.out / "series.csv").write_text(series.to_csv(), encoding="utf-8")
        figure = bias_series_figure(
            series.steps,
            series.values("lin_cos", "out"),
            series.values("lin_cos", "in"),
            series.values("lin_cos", "chance"),
            olmo1b_gradient_norms(),
        )
        figure.figure.write_html(args.out / figure.file_name("html"), include_plotlyjs=True)
    if args.as_json:
        print(series.to_json())
    else:
        print(
            f"{len(series.points)} checkpoints against {series.against} (linear-map cosine, paper's measure):"
        )
        print(f"{'step':>10} {'to W_U':>8} {'to W_E':>8} {'bias':>8} {'chance':>8}  verdict")
        for p in series.points:
            row = p.comparison.rows["lin_cos"]
            print(
                f"{p.step:>10} {row.out:>8.3f} {row.inp:>8.3f} {row.bias:>+8.3f} {row.chance:>8.3f}  "
                f"{p.comparison.verdict.status}"
            )
    return 0
