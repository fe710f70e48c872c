"""Bigram symmetry: why a tied direct path cannot tell "New York" from "York New"."""

import numpy as np
import pandas as pd
import streamlit as st

from tieviz import ui
from tieviz.analysis.teaching import default_breaking_map, default_toy_embeddings
from tieviz.figures.teaching import teaching_products_figure

ui.require_app()

st.title("Bigram symmetry: tying cannot learn word order on its own")
st.markdown(
    "Skip every transformer block and a model still has a **direct path**: token *i* is embedded by "
    "`W_E` and scored against every next token by the unembedding. Tied, that path is `W_E W_Eᵀ`, "
    "which is **symmetric**: it scores *B after A* exactly as *A after B*. Real text is not symmetric "
    "(*York* follows *New*, rarely the reverse). Untied, `W_E W_U` can be any matrix of its rank."
)
ui.define("direct_path", "asymmetry", "z_score", "layer_norm")

st.subheader("Try it: edit an embedding matrix")
labels, W_E = default_toy_embeddings()
left, right = st.columns([2, 3])
with left:
    st.caption("Each row is a token's embedding (3 numbers). Change any cell.")
    edited = st.data_editor(
        pd.DataFrame(W_E, index=labels, columns=["d1", "d2", "d3"]),
        key="sym_embeddings",
        width="stretch",
    )
    use_map = st.toggle("Insert a map M between input and output (W_E M W_Eᵀ)", key="sym_map")
    M = None
    if use_map:
        st.caption("M is 3 × 3. The default is not symmetric, so it breaks the mirror.")
        M = st.data_editor(
            pd.DataFrame(default_breaking_map(3), index=["d1", "d2", "d3"], columns=["d1", "d2", "d3"]),
            key="sym_m",
            width="stretch",
        ).to_numpy(dtype=float)
with right:
    try:
        ui.show_figure(
            teaching_products_figure(labels, edited.to_numpy(dtype=float), M),
            {
                "labels": labels,
                "W_E": edited.to_numpy(dtype=float).tolist(),
                "M": None if M is None else M.tolist(),
            },
            key="symmetry-explorer",
        )
    except (ValueError, TypeError) as error:
        st.error(f"Cannot draw this matrix: {error}. Fill every cell with a number.")

st.divider()
st.subheader("In the trained models")
experiment = ui.selected_experiment()
if experiment is None:
    ui.empty_state("Then the trained tied and untied direct paths appear here next to the corpus's bigrams.")
    st.stop()

from tieviz.figures.bigrams import asymmetry_heatmaps, bigram_heatmaps  # noqa: E402

vocab = experiment.runs["untied"].info["vocab_size"]
k_max = max(5, min(80, vocab - 2))
ui.url_state("bigram_k", min(experiment.summary.config.bigram_k, k_max), ui.bounded_int(5, k_max))
ui.url_state("bigram_ln", False, ui.parse_bool)
ui.url_state("bigram_truth", False, ui.parse_bool)
left, middle, right = st.columns(3)
k = left.slider("Tokens shown (most frequent first)", 5, k_max, key="bigram_k")
result = ui.bigrams(experiment, k)
has_truth = result.truth is not None
use_truth = middle.toggle(
    "Compare with the true transitions",
    key="bigram_truth",
    disabled=not has_truth,
    help="The toy language is generated from a known transition matrix; other corpora only have counts",
)
through_norm = right.toggle(
    "Through the final layer norm",
    key="bigram_ln",
    help="The model's real direct path normalises each row first, which breaks exact symmetry a little",
)
ui.keep_in_url("bigram_k", "bigram_ln", "bigram_truth")

suffix = "_ln" if through_norm else ""
reference = "truth" if use_truth and has_truth else "empirical"
which = (reference, f"tied{suffix}", f"untied{suffix}")

cols = st.columns(4)
cols[0].metric(
    "True transitions' asymmetry" if reference == "truth" else "Corpus asymmetry",
    f"{result.asymmetry[reference]:.2f}",
    help="‖A − Aᵀ‖ / ‖A‖; 0 = symmetric",
)
cols[1].metric("Tied path asymmetry", f"{result.asymmetry[f'tied{suffix}']:.2f}")
correlation, against = (
    (result.truth_correlation, "true transitions")
    if reference == "truth"
    else (result.correlation, "bigrams")
)
cols[2].metric(
    f"Tied: correlation with {against}",
    f"{correlation[f'tied{suffix}']:.2f}",
    help=f"Pearson correlation of the direct path with the {against}' log-probabilities",
)
cols[3].metric(f"Untied: correlation with {against}", f"{correlation[f'untied{suffix}']:.2f}")
summary = experiment.summary
st.caption(
    f"The numbers above are the first seed's, for the {k} tokens shown. The verdict below is read from the "
    f"interval over all {summary.n_seeds} seed(s), each scored on its {summary.config.bigram_k} most "
    "frequent tokens without the final layer norm."
    if summary.n_seeds > 1
    else "One seed: the verdict below is that seed's, on the summary's tokens without the final layer norm."
)
ui.show_verdict(summary.verdict("symmetry"))

data = {
    "tokens": result.labels,
    **{name: np.asarray(result.matrix(name)).tolist() for name in which},
    "asymmetry": result.asymmetry,
    "correlation": result.correlation,
}
ui.show_figure(bigram_heatmaps(result, which), data)
ui.show_figure(asymmetry_heatmaps(result, which), data)
