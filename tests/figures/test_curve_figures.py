from pathlib import Path

import numpy as np
import pytest

from tieviz.figures.base import ARM_COLOURS, NO_DATA
from tieviz.figures.bias import bias_over_training_figure
from tieviz.figures.curves import grad_share_figure, gradient_ratio_figure, loss_figure


def records(n: int, ratio_start: float, ratio_end: float, val_every: int = 10) -> list[dict]:
    """n synthetic step records whose gradient ratio decays geometrically from ratio_start to ratio_end."""
    ratios = np.geomspace(ratio_start, ratio_end, n)
    out = []
    for step, ratio in enumerate(ratios, start=1):
        record = {
            "step": step,
            "train_loss": 6.0 - 3.0 * step / n,
            "lr": 1e-3,
            "grad_in": 1.0,
            "grad_out": float(ratio),
            "grad_ratio": float(ratio),
            "tokens_per_second": 1000.0,
        }
        if step % val_every == 0:
            record["val_loss"] = 6.2 - 3.0 * step / n
        out.append(record)
    return out


METRICS = {"tied": records(100, 9.0, 0.5), "untied": records(100, 2.0, 1.5), "scaled": records(100, 3.0, 0.2)}
BIAS = {
    "steps": [1, 2, 4, 8, 16, 32, 64, 100],
    "tied": {
        "cka_out": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.65, 0.7],
        "cka_in": [0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.38, 0.4],
        "mknn_out": [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.37],
        "mknn_in": [0.05, 0.06, 0.07, 0.1, 0.12, 0.14, 0.16, 0.17],
    },
    "scaled": {
        "cka_out": [0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.43, 0.45],
        "cka_in": [0.1, 0.2, 0.3, 0.35, 0.4, 0.45, 0.47, 0.49],
        "mknn_out": [0.05] * 8,
        "mknn_in": [0.06] * 8,
    },
}


def assert_labelled(cf):
    layout = cf.figure.layout
    assert layout.title.text and layout.xaxis.title.text and layout.yaxis.title.text
    assert cf.caption.strip()


def assert_hover_shows_step_and_value(cf):
    for trace in cf.figure.data:
        if trace.name == "equal pull":
            continue
        assert "step %{x}" in trace.hovertemplate, trace.name
        assert "%{y" in trace.hovertemplate, trace.name


def annotation_texts(cf) -> list[str]:
    return [a.text for a in cf.figure.layout.annotations]


def by_name(cf, name: str):
    matches = [t for t in cf.figure.data if t.name == name]
    assert len(matches) == 1, f"{name!r} not found once in {[t.name for t in cf.figure.data]}"
    return matches[0]


def test_gradient_ratio_figure_has_one_smoothed_and_one_faint_raw_line_per_arm():
    cf = gradient_ratio_figure(METRICS, alpha=5)
    assert_labelled(cf)
    assert_hover_shows_step_and_value(cf)
    legend = [t.name for t in cf.figure.data if t.showlegend is not False]
    assert legend == ["tied", "untied (‖∇W_U‖/‖∇W_E‖)", "scaled (α=5)", "equal pull"]
    for arm, label in (("tied", "tied"), ("untied", "untied (‖∇W_U‖/‖∇W_E‖)"), ("scaled", "scaled (α=5)")):
        smooth, raw = by_name(cf, label), by_name(cf, f"{label} (raw)")
        assert smooth.line.color == raw.line.color == ARM_COLOURS[arm]
        assert raw.opacity < 1 and raw.showlegend is False
        np.testing.assert_allclose(raw.y, [r["grad_ratio"] for r in METRICS[arm]])
        assert len(smooth.x) == 100
    assert "(raw %{customdata" in by_name(cf, "tied").hovertemplate


def test_gradient_ratio_figure_uses_a_log_axis_and_an_equal_pull_line_at_one():
    cf = gradient_ratio_figure(METRICS)
    assert cf.figure.layout.yaxis.type == "log"
    line = by_name(cf, "equal pull")
    np.testing.assert_array_equal(line.y, [1.0, 1.0])
    assert line.x[0] == 0 and line.x[-1] == 100
    label = [a for a in cf.figure.layout.annotations if a.text == "equal pull"]
    assert len(label) == 1 and label[0].y == 0  # log10(1): annotation positions on a log axis are logs
    assert by_name(cf, "scaled").name == "scaled"  # no alpha given: no alpha claimed


def test_gradient_ratio_figure_shades_the_first_five_percent_of_steps():
    cf = gradient_ratio_figure(METRICS)
    shaded = [s for s in cf.figure.layout.shapes if s.type == "rect"]
    assert len(shaded) == 1
    assert (shaded[0].x0, shaded[0].x1) == (0, 5)
    assert any("early window" in text for text in annotation_texts(cf))
    assert "early window" in cf.caption and "above" in cf.caption


def test_gradient_ratio_smoothing_is_geometric_and_lags_the_raw_decay():
    cf = gradient_ratio_figure({"tied": METRICS["tied"]}, smoothing=0.6)
    smooth, raw = np.asarray(by_name(cf, "tied").y), np.asarray(by_name(cf, "tied (raw)").y)
    assert smooth[0] == pytest.approx(raw[0])
    assert np.all(smooth[1:] > raw[1:])  # a decaying curve, smoothed, lags above it
    unsmoothed = gradient_ratio_figure({"tied": METRICS["tied"]}, smoothing=0.0)
    np.testing.assert_allclose(by_name(unsmoothed, "tied").y, raw)


def test_gradient_ratio_figure_works_while_training_is_running():
    partial = {"tied": METRICS["tied"][:1], "untied": METRICS["untied"][:30]}  # scaled not started
    cf = gradient_ratio_figure(partial, total_steps=200)
    assert [t.name for t in cf.figure.data if t.showlegend is not False] == [
        "tied",
        "untied (‖∇W_U‖/‖∇W_E‖)",
        "equal pull",
    ]
    assert list(by_name(cf, "tied").x) == [1]
    shaded = [s for s in cf.figure.layout.shapes if s.type == "rect"]
    assert shaded[0].x1 == 10  # 5% of the planned 200 steps, not of the 30 logged so far


def test_gradient_ratio_skips_infinite_and_zero_ratios():
    recs = records(4, 2.0, 1.0)
    recs[0]["grad_ratio"] = float("inf")
    recs[1]["grad_ratio"] = 0.0
    cf = gradient_ratio_figure({"tied": recs})
    assert list(by_name(cf, "tied").x) == [3, 4]


@pytest.mark.parametrize("metrics", [{}, {"tied": []}, {"tied": [{"step": 1, "train_loss": 5.0}]}])
def test_gradient_figures_say_no_data_yet_instead_of_raising(metrics):
    for cf in (gradient_ratio_figure(metrics), grad_share_figure(metrics)):
        assert_labelled(cf)
        assert NO_DATA in annotation_texts(cf)
        assert len(cf.figure.data) == 0


def test_grad_share_figure_is_the_output_share_of_the_combined_norm():
    recs = [{"step": 1, "grad_in": 1.0, "grad_out": 9.0}, {"step": 2, "grad_in": 3.0, "grad_out": 1.0}]
    cf = grad_share_figure({"tied": recs}, smoothing=0.0)
    assert_labelled(cf)
    assert_hover_shows_step_and_value(cf)
    np.testing.assert_allclose(by_name(cf, "tied").y, [0.9, 0.25])
    np.testing.assert_array_equal(by_name(cf, "equal pull").y, [0.5, 0.5])
    assert tuple(cf.figure.layout.yaxis.range) == (0, 1)


def test_loss_figure_draws_train_solid_and_validation_dashed_per_arm():
    cf = loss_figure(METRICS)
    assert_labelled(cf)
    assert_hover_shows_step_and_value(cf)
    for arm in ("tied", "untied", "scaled"):
        train, val = by_name(cf, f"{arm}, train"), by_name(cf, f"{arm}, validation")
        assert train.line.color == val.line.color == ARM_COLOURS[arm]
        assert val.line.dash == "dash" and "markers" in val.mode
        assert list(val.x) == list(range(10, 101, 10))
        np.testing.assert_allclose(
            by_name(cf, f"{arm}, train (raw)").y, [r["train_loss"] for r in METRICS[arm]]
        )


def test_loss_figure_handles_partial_and_empty_input():
    cf = loss_figure({"untied": METRICS["untied"][:5]})  # no validation point yet
    assert [t.name for t in cf.figure.data] == ["untied, train (raw)", "untied, train"]
    assert NO_DATA not in annotation_texts(cf)
    empty = loss_figure({})
    assert NO_DATA in annotation_texts(empty) and len(empty.figure.data) == 0


def test_bias_over_training_figure_has_out_solid_and_in_dashed_per_arm_on_a_log_axis():
    cf = bias_over_training_figure(BIAS, "cka")
    assert_labelled(cf)
    assert_hover_shows_step_and_value(cf)
    assert cf.figure.layout.xaxis.type == "log"
    names = [t.name for t in cf.figure.data]
    assert names == [
        "tied vs untied W_U",
        "tied vs untied W_E",
        "scaled vs untied W_U",
        "scaled vs untied W_E",
    ]
    assert by_name(cf, "tied vs untied W_U").line.dash == "solid"
    assert by_name(cf, "tied vs untied W_E").line.dash == "dash"
    assert by_name(cf, "scaled vs untied W_E").line.color == ARM_COLOURS["scaled"]
    np.testing.assert_allclose(by_name(cf, "tied vs untied W_U").y, BIAS["tied"]["cka_out"])
    assert "CKA" in cf.figure.layout.yaxis.title.text


def test_bias_over_training_figure_can_show_mutual_knn_and_rejects_other_measures():
    cf = bias_over_training_figure(BIAS, measure="mknn")
    np.testing.assert_allclose(by_name(cf, "tied vs untied W_E").y, BIAS["tied"]["mknn_in"])
    assert cf.name == "bias_over_training_mknn"
    with pytest.raises(ValueError, match="measure"):
        bias_over_training_figure(BIAS, measure="procrustes")


@pytest.mark.parametrize("bias", [{}, {"steps": []}, {"steps": [], "tied": {"cka_out": [], "cka_in": []}}])
def test_bias_over_training_figure_says_no_data_yet(bias):
    cf = bias_over_training_figure(bias, "cka")
    assert_labelled(cf)
    assert NO_DATA in annotation_texts(cf)


def test_bias_over_training_figure_with_one_arm_and_a_step_zero():
    bias = {"steps": [0, 1, 10], "tied": {"cka_out": [0.0, 0.2, 0.5], "cka_in": [0.0, 0.1, 0.3]}}
    cf = bias_over_training_figure(bias, "cka")
    assert [t.name for t in cf.figure.data] == ["tied vs untied W_U", "tied vs untied W_E"]
    assert list(cf.figure.data[0].x) == [1, 10]  # step 0 cannot sit on a log axis


@pytest.mark.slow
def test_figures_draw_a_real_tiny_run(tmp_path):
    from tieviz.config import preset
    from tieviz.experiments.runner import run_experiment
    from tieviz.training.run_store import Run, RunStore

    config = preset(
        "toy", steps=10, batch_size=4, d_model=16, n_heads=2, toy_tokens=8000, device="cpu", seeds=1
    )
    summary = run_experiment(config, RunStore(tmp_path)).to_dict()
    metrics = {arm: Run(Path(info["run_dir"])).metrics() for arm, info in summary["arms"].items()}
    ratio = gradient_ratio_figure(metrics, alpha=summary["arms"]["scaled"]["alpha"])
    assert {t.name for t in ratio.figure.data} >= {"tied", "untied (‖∇W_U‖/‖∇W_E‖)", "equal pull"}
    assert len(by_name(ratio, "tied").x) == 10
    loss = loss_figure(metrics)
    assert len(by_name(loss, "tied, validation").x) >= 1
    bias = bias_over_training_figure(summary["bias_over_training"])
    assert len(bias.figure.data) == 4
    assert min(min(t.x) for t in bias.figure.data) >= 1
    for cf in (ratio, loss, bias, grad_share_figure(metrics)):
        assert NO_DATA not in annotation_texts(cf)
        cf.figure.to_json()


def test_log_axes_label_their_ticks_with_plain_numbers():
    """Plotly's own minor log ticks read 0.5 as "5"; ours say "0.5"."""
    metrics = {"tied": [{"step": s, "grad_ratio": r} for s, r in [(1, 0.4), (2, 3.0), (3, 40.0)]]}
    axis = gradient_ratio_figure(metrics).figure.layout.yaxis
    labels = dict(zip(axis.tickvals, axis.ticktext, strict=True))
    assert labels[0.5] == "0.5" and labels[1.0] == "1" and labels[20.0] == "20"
    assert min(axis.tickvals) <= 0.4 and max(axis.tickvals) >= 40
    bias = {"steps": [1, 10, 100], "tied": {"cka_out": [0.1, 0.5, 0.8], "cka_in": [0.9, 0.4, 0.3]}}
    x_axis = bias_over_training_figure(bias, "cka").figure.layout.xaxis
    assert "50" in x_axis.ticktext and "9" not in x_axis.ticktext


def test_bias_over_training_draws_the_floor_and_the_baseline_as_lines():
    cf = bias_over_training_figure(BIAS, "cka", floor=0.11, baseline=0.69, n_seeds=5)
    lines = {round(shape.y0, 2) for shape in cf.figure.layout.shapes}
    assert lines == {0.11, 0.69}
    texts = annotation_texts(cf)
    assert any("chance floor 0.11" in t for t in texts) and any("baseline 0.69" in t for t in texts)
    assert "means over 5 seeds" in cf.caption
    assert not bias_over_training_figure(BIAS, "cka").figure.layout.shapes


def test_the_train_pages_live_curves_name_and_colour_the_baseline_model():
    """A job trains four models a seed; the fourth, the baseline's second untied model, is labelled as one."""
    live = {**METRICS, "baseline": records(100, 2.1, 1.4)}
    loss = loss_figure(live).figure
    ratio = gradient_ratio_figure(live, alpha=5, total_steps=100).figure
    baseline_loss = [t for t in loss.data if t.name == "baseline, train"]
    baseline_ratio = [t for t in ratio.data if t.name == "baseline untied (‖∇W_U‖/‖∇W_E‖)"]
    assert len(baseline_loss) == len(baseline_ratio) == 1
    assert baseline_ratio[0].line.color == ARM_COLOURS["baseline"] != ARM_COLOURS["untied"]
    drawn = [t for t in ratio.data if t.name and "(raw)" not in t.name and t.name != "equal pull"]
    colours = {t.line.color for t in drawn}
    assert len(colours) == 4  # each model its own colour
