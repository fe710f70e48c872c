"""What the pages print: every bias row carries its interval, its floor and the baseline."""

from __future__ import annotations

from tieviz.evidence import bias_table, headlines, lens_note, seeds_note


def test_bias_rows_print_intervals_floors_and_the_baseline(tiny_experiment):
    _, _, summary = tiny_experiment
    rows = bias_table(summary)
    assert len(rows) == 2 * 4 and rows[0]["measure"].startswith("linear-map cosine")  # the paper's first
    assert all("±" in row["bias (output − input)"] for row in rows)
    assert rows[0]["chance floor"] == f"{summary.floors['lin_cos'].mean:.3f}"
    assert rows[0]["same-recipe baseline"] == f"{summary.baseline['lin_cos'].mean:.3f}"
    assert "2 seeds" in seeds_note(summary)
    assert headlines(summary)[0].label.startswith("Linear-map cosine")
    assert "held-out" in lens_note(summary)


def test_a_shared_start_is_labelled(tiny_experiment):
    from dataclasses import replace

    _, _, summary = tiny_experiment
    shared = replace(summary, config=replace(summary.config, init="shared"))
    assert "shared initialisation" in seeds_note(shared)
    assert "shared initialisation" not in seeds_note(summary)
