"""Tuned lens: what each layer already predicts, tied against untied (the logit lens on demand)."""

import streamlit as st

from tieviz import ui

ui.require_app()

st.title("Tuned lens: do early layers do less in a tied model?")
st.markdown(
    "Read the model's prediction from the middle of the network: after each layer, map the hidden vector "
    "through a small learned translator (the **tuned lens**) and the output matrix, and measure how far "
    "that prediction is from the final one (KL divergence: 0 = the same prediction). The **logit lens** "
    "skips the translator. The paper's reading: in a tied model the early residual stream is further from "
    "the final prediction, so the tied model's KL curve starts higher and the curves close in the later "
    "layers."
)
ui.define("residual_stream", "logit_lens", "tuned_lens", "kl", "nats_bits")

experiment = ui.selected_experiment()
if experiment is None:
    ui.empty_state()
    st.stop()

summary = experiment.summary
lens = summary.lens
if not lens:
    st.info("This experiment's summary has no lens results; train it again with this version of tieviz.")
    st.stop()

from tieviz.analysis.verdicts import lens_claim  # noqa: E402
from tieviz.experiments.run_analysis import lens_bands, lens_from_summary  # noqa: E402
from tieviz.experiments.summary_text import lens_note, seeds_note  # noqa: E402
from tieviz.figures.lens import METRIC_NAMES, contribution_figure, lens_figure  # noqa: E402

results = lens_from_summary(lens)
tuned = {name: r.tuned for name, r in results.items()}
logit = {name: r.logit for name, r in results.items()}


ui.url_state("lens_metric", "kl", ui.choice(("kl", "cross_entropy")))
ui.url_state("lens_logit", False, ui.parse_bool)  # off: its scale flattens the tuned-lens gap
ui.url_state("lens_bits", True, ui.parse_bool)
left, middle, right = st.columns(3)
metric = left.radio(
    "Measure",
    ("kl", "cross_entropy"),
    format_func=METRIC_NAMES.get,
    key="lens_metric",
    horizontal=True,
)
show_logit = middle.toggle("Show the logit lens (no translator)", key="lens_logit")
bits = right.toggle("Bits (off: nats)", key="lens_bits")
ui.keep_in_url("lens_metric", "lens_logit", "lens_bits")

ui.show_figure(
    lens_figure(tuned, metric, logit if show_logit else None, bits, bands=lens_bands(lens, metric)), lens
)
st.caption(f"{lens_note(summary)} Curves are means over seeds. {seeds_note(summary)}")
if (gap := summary.stat("lens.early_kl_gap")) is not None:
    ui.show_verdict(lens_claim(gap, bits=bits))
ui.show_figure(
    contribution_figure({name: r.contributions for name, r in results.items()}),
    {name: lens.models[name].contributions for name in results},
)
