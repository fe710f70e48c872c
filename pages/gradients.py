"""Gradients: how hard the output path and the input path pull on the shared matrix, step by step."""

import streamlit as st

from tieviz import ui

ui.require_app()

st.title("Gradients: which path shapes the shared matrix?")
st.markdown(
    "A tied matrix gets two gradients at every step: one through the **input** lookup (how each token "
    "should be represented) and one through the **output** projection (how every token should be scored "
    "as the next word). tieviz splits them exactly and logs the ratio ‖output‖ / ‖input‖. "
    "For the untied model the comparable curve is ‖∇W_U‖ / ‖∇W_E‖; for the scaled model the input "
    "part was multiplied by α before the update, which is the causal test."
)
ui.define("gradient_paths", "alpha")

experiment = ui.selected_experiment()
if experiment is None:
    ui.empty_state()
    st.stop()

from tieviz.analysis.curves import (  # noqa: E402
    EARLY_FRACTION,
    LATE_FRACTION,
    early_window_end,  # noqa: E402
)
from tieviz.analysis.verdicts import ratio_verdict  # noqa: E402
from tieviz.figures.curves import grad_share_figure, gradient_ratio_figure, loss_figure  # noqa: E402

summary = experiment.summary
ratio = summary["grad_ratio"]
steps = summary["config"]["train"]["steps"]
alpha = summary["config"]["alpha"]

cols = st.columns(3)
for col, arm in zip(cols, ("tied", "untied", "scaled"), strict=True):
    col.metric(
        f"{arm}: early ratio",
        f"{ratio[f'{arm}_early']:.2f}×",
        delta=f"late {ratio[f'{arm}_late']:.2f}×",
        delta_color="off",
        delta_arrow="off",
        help=f"Mean over the first {EARLY_FRACTION:.0%} of steps; late: over the last {LATE_FRACTION:.0%}",
    )
ui.show_verdict(ratio_verdict(ratio["tied_early"], ratio["tied_late"]))

ui.url_state("grad_smoothing", 0.6, ui.bounded_float(0.0, 0.95))
smoothing = st.slider(
    "Smoothing",
    0.0,
    0.95,
    step=0.05,
    key="grad_smoothing",
    help="Exponential moving average, as in TensorBoard",
)
ui.keep_in_url("grad_smoothing")

metrics = ui.run_metrics(experiment)
data = ui.records_frame(metrics)
ui.show_figure(gradient_ratio_figure(metrics, smoothing, alpha, steps), data)
st.markdown(
    f"**The early window.** The grey band covers the first {EARLY_FRACTION:.0%} of training (steps 1 to "
    f"{early_window_end(steps)} of "
    f"{steps}). That is when the embedding matrix moves most, and when the paper finds the output path "
    "supplies most of the gradient: whatever shape the matrix takes then, it keeps. Later the ratio may "
    "fall, but by then the matrix has already been pulled towards an output matrix."
)
ui.show_figure(grad_share_figure(metrics, smoothing, steps), data)
ui.show_figure(loss_figure(metrics, smoothing), data)
