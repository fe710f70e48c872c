import numpy as np
import pytest

from tieviz.analysis.lens import LensStatistics, layer_names
from tieviz.figures.base import ARM_COLOURS
from tieviz.figures.lens import contribution_figure, lens_figure


def stats(kl, ce) -> LensStatistics:
    return LensStatistics(np.array(kl, dtype=float), np.array(ce, dtype=float), layer_names(len(kl) - 1))


TUNED = {"tied": stats([2.0, 1.0, 0.0], [5.0, 4.0, 3.0]), "untied": stats([1.5, 0.5, 0.0], [4.5, 3.5, 3.0])}
LOGIT = {"tied": stats([4.0, 2.0, 0.0], [7.0, 5.0, 3.0]), "untied": stats([3.0, 1.0, 0.0], [6.0, 4.0, 3.0])}


def assert_labelled(cf):
    layout = cf.figure.layout
    assert layout.title.text and layout.xaxis.title.text and layout.yaxis.title.text
    assert cf.caption.strip()


def test_lens_figure_draws_one_solid_line_per_model_in_bits():
    cf = lens_figure(TUNED)
    assert_labelled(cf)
    assert [t.name for t in cf.figure.data] == ["tied, tuned lens", "untied, tuned lens"]
    assert all(t.line.dash == "solid" for t in cf.figure.data)
    assert list(cf.figure.data[0].x) == ["input", "1", "final"]
    np.testing.assert_allclose(cf.figure.data[0].y, np.array([2.0, 1.0, 0.0]) / np.log(2))
    assert cf.figure.data[0].line.color == ARM_COLOURS["tied"]
    assert "bits" in cf.figure.layout.yaxis.title.text
    assert "Dashed" not in cf.caption


def test_lens_figure_adds_dashed_logit_lens_baselines():
    cf = lens_figure(TUNED, logit_stats=LOGIT)
    dashed = [t for t in cf.figure.data if t.line.dash == "dash"]
    assert [t.name for t in dashed] == ["tied, logit lens", "untied, logit lens"]
    assert dashed[1].line.color == ARM_COLOURS["untied"]
    assert "Dashed" in cf.caption


def test_lens_figure_cross_entropy_in_nats():
    cf = lens_figure(TUNED, metric="cross_entropy", bits=False)
    assert_labelled(cf)
    np.testing.assert_allclose(cf.figure.data[1].y, [4.5, 3.5, 3.0])
    assert (
        "cross-entropy" in cf.figure.layout.yaxis.title.text and "nats" in cf.figure.layout.yaxis.title.text
    )
    assert cf.name == "lens_cross_entropy"


def test_lens_figure_rejects_bad_input():
    with pytest.raises(ValueError, match="metric"):
        lens_figure(TUNED, metric="accuracy")
    with pytest.raises(ValueError, match="at least one"):
        lens_figure({})


def test_contribution_figure_groups_bars_per_block():
    cf = contribution_figure({"tied": np.array([0.3, 0.6]), "untied": np.array([0.5, 0.4])})
    assert_labelled(cf)
    assert cf.figure.layout.barmode == "group"
    assert [t.type for t in cf.figure.data] == ["bar", "bar"]
    assert list(cf.figure.data[0].x) == ["block 1", "block 2"]
    np.testing.assert_allclose(cf.figure.data[1].y, [0.5, 0.4])
    assert cf.figure.data[0].marker.color == ARM_COLOURS["tied"]


def test_contribution_figure_rejects_empty_input():
    with pytest.raises(ValueError, match="at least one"):
        contribution_figure({})


def test_lens_figure_shades_each_tuned_curve_with_its_interval_in_the_unit_shown():
    bands = {name: (s.kl - 0.1, s.kl + 0.1) for name, s in TUNED.items()}
    cf = lens_figure(TUNED, bits=False, bands=bands)
    shaded = [t for t in cf.figure.data if t.fill == "toself"]
    assert len(shaded) == 2 and not any(t.showlegend for t in shaded)
    np.testing.assert_allclose(shaded[0].y, [2.1, 1.1, 0.1, -0.1, 0.9, 1.9])  # high out, low back, in nats
    assert "95 % interval" in cf.caption and "Dashed" not in cf.caption  # no logit lens unless asked
    in_bits = lens_figure(TUNED, bands=bands)
    np.testing.assert_allclose(in_bits.figure.data[0].y[0], 2.1 / np.log(2))
