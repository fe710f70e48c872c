"""Tuned lens: what each layer already predicts, tied against untied (with the logit lens as baseline)."""

import streamlit as st

from tieviz import ui

ui.require_app()

st.title("Tuned lens: do early layers do less in a tied model?")
st.markdown(
    "Read the model's prediction from the middle of the network: after each layer, map the hidden vector "
    "through a small learned translator (the **tuned lens**) and the output matrix, and measure how far "
    "that prediction is from the final one. The **logit lens** skips the translator. If tying makes the "
    "shared matrix an output matrix, the early layers of the tied model have to work harder to turn "
    "input vectors into something useful, and its early-layer curve stays higher."
)
ui.define("residual_stream", "logit_lens", "tuned_lens", "kl", "nats_bits")

experiment = ui.selected_experiment()
if experiment is None:
    ui.empty_state()
    st.stop()

lens = experiment.summary.get("lens")
if not lens:
    st.info("This experiment's summary has no lens results; train it again with this version of tieviz.")
    st.stop()

from tieviz.analysis.verdicts import lens_verdict  # noqa: E402
from tieviz.figures.lens import contribution_figure, lens_figure  # noqa: E402
from tieviz.results import lens_from_summary  # noqa: E402

results = lens_from_summary(lens)
tuned = {name: r.tuned for name, r in results.items()}
logit = {name: r.logit for name, r in results.items()}


ui.url_state("lens_metric", "kl", ui.choice(("kl", "cross_entropy")))
ui.url_state("lens_logit", True, ui.parse_bool)
ui.url_state("lens_bits", True, ui.parse_bool)
left, middle, right = st.columns(3)
metric = left.radio(
    "Measure",
    ("kl", "cross_entropy"),
    format_func={"kl": "KL to the final prediction", "cross_entropy": "next-token cross-entropy"}.get,
    key="lens_metric",
    horizontal=True,
)
show_logit = middle.toggle("Show the logit lens (no translator)", key="lens_logit")
bits = right.toggle("Bits (off: nats)", key="lens_bits")
ui.keep_in_url("lens_metric", "lens_logit", "lens_bits")

ui.show_figure(lens_figure(tuned, metric, logit if show_logit else None, bits), lens)
if "tied" in lens and "untied" in lens:
    ui.show_verdict(lens_verdict(lens["tied"]["tuned_kl"], lens["untied"]["tuned_kl"], bits=bits))
ui.show_figure(
    contribution_figure({name: r.contributions for name, r in results.items()}),
    {name: values["contributions"] for name, values in lens.items()},
)
