"""Embedding maps: the tied matrix next to the untied input and output matrices, token search, bias scores."""

import pandas as pd
import streamlit as st

from tieviz import ui
from tieviz.analysis.measures import REGISTRY

ui.require_app()

st.title("Embedding maps: does the tied matrix look like an input or an output matrix?")
st.markdown(
    "Each panel places the most frequent tokens by the direction of their rows in one matrix: the tied "
    "model's shared matrix, the untied model's **input** matrix `W_E` and its **output** matrix `W_U`. "
    "If the tied panel resembles the output panel more than the input panel, tying has shaped the "
    "shared matrix for prediction. The bias scores below measure that without any picture."
)
ui.define("pca_umap", *(m.key for m in REGISTRY))

experiment = ui.selected_experiment()
if experiment is None:
    ui.empty_state()
    st.stop()

from tieviz.analysis.maps import neighbour_table  # noqa: E402
from tieviz.figures.bias import summary_bias_figure  # noqa: E402
from tieviz.figures.maps import embedding_map_figure  # noqa: E402

TITLES = {
    "tied": "tied (shared matrix)",
    "untied_in": "untied input W_E",
    "untied_out": "untied output W_U",
    "scaled": "tied, input gradient scaled",
}
available = experiment.summary.n_top_tokens or 1000
n_max = max(10, min(1000, available))

ui.url_state("maps_method", "pca", ui.choice(("pca", "umap")))
ui.url_state("maps_n", min(300, n_max), ui.bounded_int(10, n_max))
ui.url_state("maps_scaled", False, ui.parse_bool)
cols = st.columns([2, 2, 1])
maps_count = 4 if st.session_state.get("maps_scaled") else 3
umap_cost = ui.umap_estimate(st.session_state.get("maps_n", n_max), maps_count)
method = cols[0].radio(
    "Layout",
    ("pca", "umap"),
    format_func={"pca": "PCA (instant)", "umap": f"UMAP ({umap_cost})"}.get,
    key="maps_method",
    horizontal=True,
)
n = cols[1].slider("Tokens (most frequent first)", 10, n_max, step=10 if n_max >= 100 else 1, key="maps_n")
with_scaled = cols[2].toggle("Add the scaled model", key="maps_scaled")

embeddings = ui.embedding_set(experiment, n)
labels = embeddings.labels
if experiment.summary.n_seeds > 1:
    st.caption(
        f"The maps show the first seed ({experiment.summary.seeds[0]}); the scores further down are over "
        f"all {experiment.summary.n_seeds} seeds."
    )
if st.session_state.get("maps_token") is None and st.query_params.get("maps_token") in labels:
    st.session_state["maps_token"] = st.query_params["maps_token"]
if st.session_state.get("maps_token") not in labels:
    st.session_state["maps_token"] = None
token = st.selectbox(
    "Highlight a token (type to search)",
    labels,
    index=None,
    placeholder="e.g. the 10th most frequent token",
    key="maps_token",
)
ui.keep_in_url("maps_method", "maps_n", "maps_scaled", "maps_token")

names = ("tied", "untied_in", "untied_out", *(("scaled",) if with_scaled else ()))
spinner = "Computing UMAP layouts (cached on disk afterwards)…" if method == "umap" else "Computing layouts…"
with st.spinner(spinner, show_time=True):
    maps = ui.layouts(experiment, n, names, method)
figure = embedding_map_figure(maps, labels, embeddings.counts, {k: TITLES[k] for k in names}, token, method)
layout_rows = pd.DataFrame(
    {"token": labels, "count": embeddings.counts}
    | {f"{name}_{axis}": maps[name][:, i] for name in names for i, axis in enumerate("xy")}
)
ui.show_figure(figure, layout_rows, key="embedding-maps")

if token is not None:
    st.subheader(f"Nearest neighbours of “{ui.plain(token)}” in each matrix")
    st.caption("Cosine similarity in the full space, not distances in the picture.")
    table = neighbour_table({k: embeddings.matrices[k] for k in names}, labels, labels.index(token), k=10)
    columns = st.columns(len(names))
    for column, name in zip(columns, names, strict=True):
        column.markdown(f"**{TITLES[name]}**")
        column.dataframe(
            pd.DataFrame(table[name], columns=["token", "cosine"]),
            hide_index=True,
            key=f"neighbours-{name}",
            width="stretch",
        )

st.subheader("Bias scores")
from tieviz.analysis.measures import MEASURE_LABELS, PAPER_MEASURE  # noqa: E402
from tieviz.experiments.summary_text import bias_rows, bias_table, bias_table_caption, seeds_note  # noqa: E402

summary = experiment.summary
scopes = {
    "summary": f"the {summary.n_top_tokens} most frequent tokens",
    "all": "the whole vocabulary (paper)",
}
if summary.whole_vocabulary:
    scopes = {"summary": "the whole vocabulary (paper)"}
ui.url_state("maps_tokens", "summary", ui.choice(tuple(scopes)))
scope = st.radio(
    "Tokens compared",
    tuple(scopes),
    format_func=scopes.get,
    key="maps_tokens",
    horizontal=True,
    help="The paper compares the whole vocabulary; rare tokens barely move in a short run, so tieviz's "
    "default is the most frequent ones.",
)
ui.keep_in_url("maps_tokens")
if scope == "all":
    whole = ui.whole_vocabulary_stats(experiment)
    rows = bias_rows(whole["stats"], whole["floors"], summary.baseline, summary.alpha)
    st.caption(
        f"Compared over the whole vocabulary ({whole['n_tokens']} tokens, special tokens left out). The "
        "same-recipe baseline column is over the summary's tokens. " + seeds_note(summary)
    )
else:
    rows = bias_table(summary)
    st.caption(bias_table_caption(summary))
st.dataframe(rows, hide_index=True, key="bias-table", width="stretch")
ui.url_state("maps_measure", PAPER_MEASURE, ui.choice(tuple(MEASURE_LABELS)))
measure = st.radio(
    "Over training",
    tuple(MEASURE_LABELS),
    format_func=MEASURE_LABELS.get,
    key="maps_measure",
    horizontal=True,
)
ui.keep_in_url("maps_measure")
ui.show_figure(
    summary_bias_figure(summary, measure),
    summary.bias_over_training,
)
