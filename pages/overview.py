"""Overview: the finding in plain words, the headline numbers and figures."""

import streamlit as st

from tieviz import ui
from tieviz.config import preset

ui.require_app()

st.title("Weight tying shapes embeddings for output")
st.markdown(
    "Many language models use **one matrix twice**: to turn tokens into vectors at the input, and to "
    "turn the last vector back into next-token scores at the output (*weight tying*). "
    "Lopardo et al. (2026) found that the shared matrix ends up looking much more like a separate model's "
    "**output** matrix than its **input** matrix. The cause: early in training the gradient arriving "
    "through the output is much larger than the one arriving through the input, so the output wins. "
    "tieviz trains a tied model, an untied reference (from its own initial weights, as the paper's "
    "independently trained models) and a tied model whose input gradient is scaled up, on the same text, "
    "over several seeds, and lets you see each step of that argument with its uncertainty."
)
ui.define("tying", "lin_cos", "bias")  # the headline numbers are the linear-map cosine

STARTED = "overview_started"


def start_preset(name: str) -> None:
    """A training button's callback (run as the click's rerun begins, so no rerun can lose the click)."""
    st.session_state[STARTED] = ui.start_training(preset(name))


experiment = ui.selected_experiment()
examples_coming = ui.examples_notice()  # a fresh install's examples, while they train

if experiment is None and not examples_coming:
    ui.empty_state("Or train the default experiment, which shows the effect clearly.")
    left, right = st.columns(2)
    toy_time, demo_time = (ui.preset_duration(name) for name in ("toy", "demo"))  # the timing model's
    left.button(
        f"Quick toy run ({toy_time})",
        key="overview-train-toy",
        type="primary",
        on_click=start_preset,
        args=("toy",),
    )
    right.button(
        f"Train the default experiment ({demo_time})",
        key="overview-train-demo",
        on_click=start_preset,
        args=("demo",),
    )
    if st.session_state.pop(STARTED, False):  # set by the click's callback: follow the job on Train
        st.switch_page(ui.TRAIN_PAGE)
elif experiment is not None:
    from tieviz.experiments.summary_text import bias_table, bias_table_caption, headlines, seeds_note

    summary = experiment.summary
    st.subheader("Headline numbers")
    st.caption(seeds_note(summary))
    tiles = headlines(summary)
    for row in (tiles[:3], tiles[3:]):  # three a row: a value with its interval needs the width
        for col, tile in zip(st.columns(3), row, strict=False):
            col.metric(tile.label, tile.value, help=tile.help)
    for claim in ("bias", "scaling"):
        ui.show_verdict(summary.verdict(claim))
    ui.define("seed", "interval", "verdict")  # after the numbers: a class sees the finding first
    with st.expander("Every measure, with chance floors and the same-recipe baseline"):
        st.dataframe(bias_table(summary), hide_index=True, key="overview-bias-table", width="stretch")
        st.caption(bias_table_caption(summary))
        ui.define("chance_floor", "baseline")
    from tieviz.figures.bias import summary_bias_figure
    from tieviz.figures.curves import gradient_ratio_figure, loss_figure

    ui.show_figure(  # first, before the step records are read: it needs only the summary
        summary_bias_figure(summary, "lin_cos"),
        summary.bias_over_training,
    )
    ui.link_to("pages/maps.py", "Embedding maps and all bias scores", experiment)
    metrics = ui.run_metrics(experiment)
    steps = summary.steps
    ui.show_figure(
        gradient_ratio_figure(metrics, alpha=summary.alpha, total_steps=steps), ui.records_frame(metrics)
    )
    ui.link_to("pages/gradients.py", "Gradients in detail", experiment)
    ui.show_figure(loss_figure(metrics), ui.records_frame(metrics))
    ui.link_to("pages/bigrams.py", "Why tying cannot learn word order: bigram symmetry", experiment)
