"""The causal test's bars: each value is written beyond its whisker, never across it."""

from __future__ import annotations

import pytest

from tieviz.analysis.causal import causal_shifts
from tieviz.analysis.stats import seed_stat
from tieviz.figures.causal import BAR_WIDTH, causal_bias_figure


def test_value_labels_sit_beyond_the_whiskers_on_each_bars_own_position():
    stats = {
        "bias.tied.lin_cos": seed_stat([0.30, 0.20, 0.25]),
        "bias.scaled.lin_cos": seed_stat([-0.10, -0.30, -0.20]),
        "bias_change.lin_cos": seed_stat([-0.4, -0.5, -0.45]),
    }
    (shift,) = causal_shifts(stats)
    fig = causal_bias_figure([shift], alpha=5).figure
    tied, scaled = fig.layout.annotations
    assert tied.text == "+0.25" and scaled.text == "-0.20"
    top = shift.tied_bias.mean + shift.tied_bias.half_width
    bottom = shift.scaled_bias.mean - shift.scaled_bias.half_width
    assert tied.y == pytest.approx(top) and tied.yanchor == "bottom"  # above the upper whisker
    assert scaled.y == pytest.approx(bottom) and scaled.yanchor == "top"  # below the lower one
    assert tied.x == pytest.approx(-BAR_WIDTH / 2) and scaled.x == pytest.approx(BAR_WIDTH / 2)
    assert fig.layout.bargap == pytest.approx(1 - 2 * BAR_WIDTH) and fig.layout.bargroupgap == 0
    assert all(not bar.text for bar in fig.data)  # no second label on the bar's end


def test_share_axes_leave_out_the_zero_label_that_collides_with_the_first_step():
    from tieviz.figures.curves import grad_share_figure
    from tieviz.figures.reference import paper_share_figure
    from tieviz.reference import olmo1b_gradient_norms

    for fig in (grad_share_figure({}).figure, paper_share_figure({}, olmo1b_gradient_norms()).figure):
        assert 0 not in fig.layout.yaxis.tickvals and tuple(fig.layout.yaxis.range) == (0, 1)
