"""What the pages print: every bias row carries its interval, its floor and the baseline."""

from __future__ import annotations

from tieviz.analysis.measures import MEASURES, PAPER_MEASURE
from tieviz.analysis.stats import format_stat
from tieviz.experiments.summary_text import bias_table, headlines, lens_note, seeds_note


def test_bias_rows_print_intervals_floors_and_the_baseline(tiny_experiment):
    _, _, summary = tiny_experiment
    rows = bias_table(summary)
    assert len(rows) == 2 * len(MEASURES) and rows[0]["measure"].startswith(
        "linear-map cosine"
    )  # paper's first
    assert all("±" in row["bias (output − input)"] for row in rows)
    # The floor and the baseline carry their own intervals: each is a number over seeds too.
    floor, base = summary.floors[PAPER_MEASURE], summary.baseline[PAPER_MEASURE]
    assert (
        rows[0]["chance floor"] == format_stat(floor, mark_one_seed=False) and "±" in rows[0]["chance floor"]
    )
    assert rows[0]["same-recipe baseline"] == format_stat(base, mark_one_seed=False)
    assert "±" in rows[0]["same-recipe baseline"]
    assert "2 seeds" in seeds_note(summary)
    assert headlines(summary)[0].label.startswith("Linear-map cosine")
    assert "held-out" in lens_note(summary) and "every fit converged" in lens_note(summary)


def test_a_shared_start_is_labelled(tiny_experiment):
    from dataclasses import replace

    _, _, summary = tiny_experiment
    shared = replace(summary, config=replace(summary.config, init="shared"))
    assert "shares the tied model's initial weights" in seeds_note(shared)
    assert "shares the tied model's" not in seeds_note(summary)


def test_a_shared_data_order_is_labelled(tiny_experiment):
    from dataclasses import replace

    _, _, summary = tiny_experiment
    both = replace(summary, config=replace(summary.config, init="shared", data_order="shared"))
    assert "initial weights and batch order" in seeds_note(both)
    order = replace(summary, config=replace(summary.config, data_order="shared"))
    assert "shares the tied model's batch order" in seeds_note(order)
