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
from tieviz.analysis.stats import format_stat  # noqa: E402
from tieviz.experiments.summary_text import early_window_sentence, seeds_note, share_rows, share_sentences  # noqa: E402
from tieviz.figures.curves import grad_share_figure, gradient_ratio_figure, loss_figure  # noqa: E402

summary = experiment.summary
steps = summary.steps
alpha = summary.alpha

st.caption(seeds_note(summary))
cols = st.columns(3)
for col, arm in zip(cols, ("tied", "untied", "scaled"), strict=True):
    early, late = summary.stat(f"grad_ratio.{arm}_early"), summary.stat(f"grad_ratio.{arm}_late")
    col.metric(
        f"{arm}: early ratio",
        format_stat(early, "×"),
        delta=f"late {format_stat(late, '×')}",
        delta_color="off",
        delta_arrow="off",
        help=f"Mean over the first {EARLY_FRACTION:.0%} of steps; late: over the last {LATE_FRACTION:.0%}. "
        "tieviz's exact split of the [V, d] gradient on the matrix.",
    )
ui.show_verdict(summary.verdict("ratio"))

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
    f"{early_window_end(steps)} of {steps}). {early_window_sentence(summary)} What the run ends with is the "
    "bias (see the bias-over-training chart on the Embedding maps page)."
)
ui.show_figure(grad_share_figure(metrics, smoothing, steps), data)

st.subheader("The paper's definition, beside the paper's own 1B run, at matched fractions of training")
from tieviz.figures.reference import drift_figure, paper_share_figure  # noqa: E402
from tieviz.reference import DRIFT_MODELS, olmo1b_gradient_norms, olmo1b_output_shares, public_drift  # noqa: E402

paper_norms = olmo1b_gradient_norms()
paper_shares = olmo1b_output_shares()
if summary.grad_share is None or summary.stat("grad_share.tied.first_1pct") is None:
    st.info("These runs were trained by an older tieviz that did not log the activation-gradient norm.")
else:
    st.dataframe(
        share_rows(summary, paper_shares, len(paper_norms.steps)), hide_index=True, key="share-table"
    )
    st.caption(
        "The paper's definition: summed output-path norms / (input + output) over the span, input norm on "
        'the looked-up activations before the scatter-add (and before α). The paper\'s "first 100 steps" '
        "are the first 1 % of its training, so this run is read at its own first 1 %."
    )
    st.markdown(share_sentences(summary, paper_shares))
ui.show_figure(paper_share_figure(metrics, paper_norms, alpha), data)
st.markdown(
    "The two shares measure different things: the exact split above sums each path's contribution into "
    "the [vocabulary × width] matrix, where many positions of one token add up; the paper's input norm is "
    "taken per position before that sum."
)
ui.show_figure(
    drift_figure(ui.untied_drift(experiment), [public_drift(m) for m in DRIFT_MODELS]),
    [{"model": m} for m in DRIFT_MODELS],
)
ui.show_figure(loss_figure(metrics, smoothing), data)
