"""Embedding maps: the tied matrix next to the untied input and output matrices, token search, bias scores."""

import pandas as pd
import streamlit as st

from tieviz import ui

ui.require_app()

st.title("Embedding maps: does the tied matrix look like an input or an output matrix?")
st.markdown(
    "Each panel places the most frequent tokens by the direction of their rows in one matrix: the tied "
    "model's shared matrix, the untied model's **input** matrix `W_E` and its **output** matrix `W_U`. "
    "If the tied panel resembles the output panel more than the input panel, tying has shaped the "
    "shared matrix for prediction. The bias scores below measure that without any picture."
)
ui.define("pca_umap", "cka", "mknn", "lin_cos", "proc_cos")

experiment = ui.selected_experiment()
if experiment is None:
    ui.empty_state()
    st.stop()

from tieviz.analysis.maps import neighbour_table  # noqa: E402
from tieviz.figures.bias import bias_over_training_figure  # noqa: E402
from tieviz.figures.maps import embedding_map_figure  # noqa: E402

TITLES = {
    "tied": "tied (shared matrix)",
    "untied_in": "untied input W_E",
    "untied_out": "untied output W_U",
    "scaled": "tied, input gradient scaled",
}
available = experiment.summary.get("n_top_tokens") or 1000
n_max = max(10, min(1000, available))

ui.url_state("maps_method", "pca", ui.choice(("pca", "umap")))
ui.url_state("maps_n", min(300, n_max), ui.bounded_int(10, n_max))
ui.url_state("maps_scaled", False, ui.parse_bool)
cols = st.columns([2, 2, 1])
method = cols[0].radio(
    "Layout",
    ("pca", "umap"),
    format_func={"pca": "PCA (instant)", "umap": "UMAP (about 10 s the first time)"}.get,
    key="maps_method",
    horizontal=True,
)
n = cols[1].slider("Tokens (most frequent first)", 10, n_max, step=10 if n_max >= 100 else 1, key="maps_n")
with_scaled = cols[2].toggle("Add the scaled model", key="maps_scaled")

embeddings = ui.embedding_set(experiment, n)
labels = embeddings.labels
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
    st.subheader(f"Nearest neighbours of “{token}” in each matrix")
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
st.caption(
    "Similarity of the tied (and scaled) matrix to the untied output and input matrices, over the most "
    "frequent tokens. Every measure ignores rotation and scale; 'output − input' above 0 means output-shaped."
)
bias = experiment.summary["bias"]
MEASURES = {
    "cka": "linear CKA",
    "mknn": "mutual 10-NN overlap",
    "lin_cos": "mean cosine after a linear map (paper)",
    "proc_cos": "mean cosine after a rotation (paper)",
}
rows = [
    {
        "model": model,
        "measure": label,
        "vs untied output": bias[model][f"{measure}_out"],
        "vs untied input": bias[model][f"{measure}_in"],
        "output − input": bias[model][f"{measure}_out"] - bias[model][f"{measure}_in"],
    }
    for model in ("tied", "scaled")
    for measure, label in MEASURES.items()
]
st.dataframe(
    pd.DataFrame(rows),
    hide_index=True,
    key="bias-table",
    width="stretch",
    column_config={
        name: st.column_config.NumberColumn(format="%.3f")
        for name in ("vs untied output", "vs untied input", "output − input")
    },
)
ui.url_state("maps_measure", "cka", ui.choice(("cka", "mknn")))
measure = st.radio(
    "Over training",
    ("cka", "mknn"),
    format_func=MEASURES.get,
    key="maps_measure",
    horizontal=True,
)
ui.keep_in_url("maps_measure")
ui.show_figure(bias_over_training_figure(experiment.summary["bias_over_training"], measure), bias)
