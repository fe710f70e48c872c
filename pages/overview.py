"""Overview: the finding in plain words, the headline numbers and figures."""

import streamlit as st

from tieviz import ui
from tieviz.analysis.verdicts import bias_verdict, scaling_verdict
from tieviz.config import preset

ui.require_app()

st.title("Weight tying shapes embeddings for output")
st.markdown(
    "Many language models use **one matrix twice**: to turn tokens into vectors at the input, and to "
    "turn the last vector back into next-token scores at the output (*weight tying*). "
    "Lopardo et al. (2026) found that the shared matrix ends up looking much more like a separate model's "
    "**output** matrix than its **input** matrix. The cause: early in training the gradient arriving "
    "through the output is much larger than the one arriving through the input, so the output wins. "
    "tieviz trains a tied model, an untied twin and a tied model whose input gradient is scaled up, "
    "on the same text with the same seed, and lets you see each step of that argument."
)
ui.define("tying", "cka", "bias")

experiment = ui.selected_experiment()
examples_coming = ui.examples_notice()  # a fresh install's examples, while they train

if experiment is None and not examples_coming:
    ui.empty_state(
        "Or train the default experiment, which shows the effect clearly (a few minutes on a CPU)."
    )
    left, right = st.columns(2)
    if left.button("Quick toy run (under a minute)", key="overview-train-toy", type="primary"):
        if ui.start_training(preset("toy")):
            st.switch_page(ui.TRAIN_PAGE)
    if right.button("Train the default experiment (minutes)", key="overview-train-demo"):
        if ui.start_training(preset("demo")):
            st.switch_page(ui.TRAIN_PAGE)
elif experiment is not None:
    summary = experiment.summary
    tied, scaled = summary["bias"]["tied"], summary["bias"]["scaled"]
    ratio = summary["grad_ratio"]
    alpha = summary["config"]["alpha"]
    bias = tied["cka_out"] - tied["cka_in"]
    st.subheader("Headline numbers")
    cols = st.columns(5)
    cols[0].metric(
        "CKA to untied output",
        f"{tied['cka_out']:.2f}",
        help="Linear CKA between the tied matrix and the untied model's output matrix W_U; 1 = same shape",
    )
    cols[1].metric(
        "CKA to untied input",
        f"{tied['cka_in']:.2f}",
        help="Linear CKA between the tied matrix and the untied model's input matrix W_E",
    )
    cols[2].metric(
        "Bias (out − in)",
        f"{bias:+.2f}",
        help="Positive: the shared matrix is shaped more like an output matrix",
    )
    cols[3].metric(
        "Early gradient ratio",
        f"{ratio['tied_early']:.2f}×",
        delta=f"late {ratio['tied_late']:.2f}×",
        delta_color="off",
        delta_arrow="off",
        help="‖output-path gradient‖ / ‖input-path gradient‖ over the first 5% of steps; late = last 20%",
    )
    cols[4].metric(
        f"Bias with α = {alpha:g}",
        f"{scaled['cka_out'] - scaled['cka_in']:+.2f}",
        help="The same bias for the tied model whose input-path gradient was scaled up (the causal test)",
    )
    ui.show_verdict(bias_verdict(tied["cka_out"], tied["cka_in"]))
    ui.show_verdict(scaling_verdict(bias, scaled["cka_out"] - scaled["cka_in"], alpha))
    from tieviz.figures.bias import bias_over_training_figure
    from tieviz.figures.curves import gradient_ratio_figure, loss_figure

    ui.show_figure(  # first, before the step records are read: it needs only the summary
        bias_over_training_figure(summary["bias_over_training"], "cka"), summary["bias_over_training"]
    )
    ui.link_to("pages/maps.py", "Embedding maps and all bias scores", experiment)
    metrics = ui.run_metrics(experiment)
    steps = summary["config"]["train"]["steps"]
    ui.show_figure(gradient_ratio_figure(metrics, alpha=alpha, total_steps=steps), ui.records_frame(metrics))
    ui.link_to("pages/gradients.py", "Gradients in detail", experiment)
    ui.show_figure(loss_figure(metrics), ui.records_frame(metrics))
    ui.link_to("pages/bigrams.py", "Why tying cannot learn word order: bigram symmetry", experiment)
