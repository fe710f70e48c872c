"""The causal test: a tied model against the same tied model trained with its input gradient scaled by α."""

import pandas as pd
import streamlit as st

from tieviz import ui

ui.require_app()

st.title("The causal test: give the input path more pull")
st.markdown(
    "The previous pages showed *that* the shared matrix looks like an output matrix, and that the output "
    "path's gradient is larger early on. Is the gradient the *cause*? The paper's test: train the same "
    "tied model from the same start on the same text, but multiply the gradient arriving through the "
    "input path by a factor α > 1 before every update. Only α differs, so if the bias shrinks, the "
    "balance of the two gradients caused it."
)
ui.define("alpha", "bias")

experiment = ui.selected_experiment()
if experiment is None:
    ui.empty_state("Then the tied and the α-scaled model are compared here.")
    st.stop()

from tieviz.analysis.causal import causal_shifts  # noqa: E402
from tieviz.analysis.verdicts import scaling_verdict  # noqa: E402
from tieviz.figures.bias import bias_over_training_figure  # noqa: E402
from tieviz.figures.causal import causal_bias_figure  # noqa: E402

summary = experiment.summary
alpha = summary["config"]["alpha"]
try:
    shifts = causal_shifts(summary)
except ValueError as error:
    st.error(f"No causal test to show: {error}.")
    st.stop()

by_measure = {s.measure: s for s in shifts}
cols = st.columns(len(shifts))
for col, shift in zip(cols, shifts, strict=True):
    col.metric(
        f"{shift.label}: bias, tied",
        f"{shift.tied_bias:+.2f}",
        delta=f"α = {alpha:g}: {shift.scaled_bias:+.2f}",
        delta_color="off",
        delta_arrow="off",
        help="Output − input; the delta line is the same bias for the α-scaled model",
    )
ui.define("lin_cos", "proc_cos", "cka", "mknn")
if "cka" in by_measure:
    cka = by_measure["cka"]
    ui.show_verdict(scaling_verdict(cka.tied_bias, cka.scaled_bias, alpha))
disagree = {s.label for s in shifts if (s.shift < 0) != (shifts[0].shift < 0)}
if disagree:
    st.info(
        f"The measures disagree about the direction: {', '.join(sorted(disagree))} moved the other way "
        f"from {shifts[0].label}. At small scale a single seed can do that; read the paper's measure first."
    )

rows = pd.DataFrame(
    [
        {
            "measure": s.label,
            "tied: vs output": s.tied_out,
            "tied: vs input": s.tied_in,
            "tied: bias": s.tied_bias,
            f"α = {alpha:g}: vs output": s.scaled_out,
            f"α = {alpha:g}: vs input": s.scaled_in,
            f"α = {alpha:g}: bias": s.scaled_bias,
            "change": s.shift,
        }
        for s in shifts
    ]
)
ui.show_figure(causal_bias_figure(shifts, alpha), rows)
st.dataframe(
    rows,
    hide_index=True,
    key="causal-table",
    width="stretch",
    column_config={c: st.column_config.NumberColumn(format="%.3f") for c in rows.columns if c != "measure"},
)

st.subheader("Over training")
ui.url_state("causal_measure", "cka", ui.choice(("cka", "mknn")))
measure = st.radio(
    "Measure",
    ("cka", "mknn"),
    format_func={"cka": "linear CKA", "mknn": "mutual 10-NN overlap"}.get,
    key="causal_measure",
    horizontal=True,
)
ui.keep_in_url("causal_measure")
ui.show_figure(
    bias_over_training_figure(summary["bias_over_training"], measure), summary["bias_over_training"]
)
st.markdown(
    "At the paper's 1B scale the shift with α = 5 was small (Procrustes cosine 0.384 to 0.369); at this "
    "tiny scale it is usually large. Both are honest results: the direction is what the test asks about."
)
