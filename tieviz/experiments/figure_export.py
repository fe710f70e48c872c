"""`python -m tieviz figures DIR`: every figure of an experiment or a sweep as HTML and PNG, for papers and
slides."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tieviz.analysis.measures import MEASURES
from tieviz.config import COMPARED_ARMS
from tieviz.error_lines import error_line
from tieviz.experiments.runner import load_experiment
from tieviz.experiments.summary_record import Summary, SummaryHeader
from tieviz.figures import CaptionedFigure
from tieviz.training.run_store import Run

MAP_TOKENS = 1000


def check_summary(directory: Path) -> None:
    """Refuses, in one sentence naming the file, a summary.json that is not a tieviz experiment summary.

    Checked before any run is opened, so a hand-edited or foreign file reads as a user's error, not a
    KeyError traceback from deep inside the figures.
    """
    path = directory / "summary.json" if directory.is_dir() else directory
    if not path.is_file():
        return  # load_experiment says how to make one
    try:
        header = SummaryHeader.read(path)
    except ValueError as error:
        raise ValueError(
            f"{path.name} in {directory.name} is not a tieviz experiment summary ({error}); write one with "
            "`python -m tieviz experiment --out DIR`"
        ) from None
    if missing := [name for name in COMPARED_ARMS if name not in header.arms]:
        raise ValueError(f"{path.name} in {directory.name} names no run of the {', '.join(missing)} arm")


def experiment_figures(summary: Summary, runs: dict[str, Run]) -> Iterator[CaptionedFigure]:
    """All figures of one experiment, in the order the dashboard tells the story."""
    from tieviz.analysis.maps import cached_embedding_maps
    from tieviz.analysis.teaching import default_breaking_map, default_toy_embeddings, standard_savings_table
    from tieviz.experiments import run_analysis as results
    from tieviz.figures import bias, bigrams, curves, lens, maps, reference, teaching
    from tieviz.reference import DRIFT_MODELS, olmo1b_gradient_norms, public_drift

    labels, toy = default_toy_embeddings()
    yield teaching.teaching_products_figure(labels, toy, default_breaking_map(toy.shape[1]))
    yield teaching.savings_figure(standard_savings_table())

    comparison = results.bigram_comparison(runs, summary.config.bigram_k)
    yield bigrams.bigram_heatmaps(comparison)
    yield bigrams.asymmetry_heatmaps(comparison)

    embeddings = results.embedding_set(runs, MAP_TOKENS)
    shown = {name: embeddings.matrices[name] for name in ("tied", "untied_in", "untied_out")}
    layouts = cached_embedding_maps(runs["untied"].analysis_dir("maps"), shown, method="umap")
    yield maps.embedding_map_figure(layouts, embeddings.labels, embeddings.counts, method="umap")

    arm_metrics = results.metrics(runs)
    alpha = summary.alpha
    yield curves.gradient_ratio_figure(arm_metrics, alpha=alpha)
    yield curves.grad_share_figure(arm_metrics)
    yield reference.paper_share_figure(arm_metrics, olmo1b_gradient_norms(), alpha)
    yield reference.drift_figure(
        results.untied_drift(runs["untied"]), [public_drift(m) for m in DRIFT_MODELS]
    )
    yield curves.loss_figure(arm_metrics)
    for measure in MEASURES:
        yield bias.summary_bias_figure(summary, measure)

    lenses = results.lens_from_summary(summary.lens)  # computed when the experiment was summarised
    tuned = {name: r.tuned for name, r in lenses.items()}
    yield lens.lens_figure(tuned, "kl", bands=results.lens_bands(summary.lens, "kl"))
    yield lens.lens_figure(tuned, "cross_entropy", bands=results.lens_bands(summary.lens, "cross_entropy"))
    yield lens.contribution_figure({name: r.contributions for name, r in lenses.items()})


def sweep_figures(record: dict[str, Any]) -> Iterator[CaptionedFigure]:
    """A sweep's dose–response or scale trend, once per measure, the paper's first."""
    from tieviz.figures.sweep import sweep_figure

    for measure in MEASURES:
        yield sweep_figure(record, measure)


def export_figures(directory: Path, png: bool = True) -> list[Path]:
    """Writes DIR/figures/tieviz_NAME.html (self-contained) and .png; returns the files written.

    DIR is an experiment's folder (summary.json) or a sweep's (sweep.json).
    """
    sweep = directory / "sweep.json"
    if sweep.is_file():
        from tieviz.experiments.sweep import read_sweep

        figures = list(sweep_figures(read_sweep(sweep)))
    else:
        check_summary(directory)
        summary, runs = load_experiment(directory)
        figures = list(experiment_figures(summary, runs))
    out = directory / "figures"
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for captioned in figures:
        path = out / captioned.file_name("html")
        captioned.figure.write_html(path, include_plotlyjs=True)
        written.append(path)
    if png:
        for captioned in figures:
            path = out / captioned.file_name("png")
            try:
                captioned.figure.write_image(path, width=1400, height=700, scale=2)
            except Exception as err:  # kaleido raises its own types when no browser is found
                raise OSError(
                    f"PNG export failed ({error_line(err)}); "
                    "it needs Chrome or Chromium (set BROWSER_PATH) - the HTML files were written, "
                    "or use --no-png"
                ) from err
            written.append(path)
    return written
