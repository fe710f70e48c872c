"""Checkpoints: upload any Hugging Face causal LM and see its embeddings with the trained runs' figures."""

import pandas as pd
import streamlit as st

from tieviz import ui
from tieviz.families import families_label

ui.require_app()

st.title("Checkpoints: what does tying look like in a real model?")
st.markdown(
    f"Upload a Hugging Face checkpoint ({families_label()}) and see its input matrix `W_E` and output "
    "matrix `W_U` with the same figures as the trained runs. Nothing in the upload is executed: tieviz "
    "reads the config and the tensors only. Token frequencies and bigrams come from a text read with the "
    "checkpoint's **own tokenizer**."
)
ui.define("embedding", "unembedding", "tying")

from tieviz import checkpoint_analysis as ca  # noqa: E402
from tieviz import uploads  # noqa: E402
from tieviz.ui.checkpoint_upload import (  # noqa: E402
    current,
    layouts,
    loaded,
    panel,
    paper,
    refusal,
    stage,
    summary_card,
    token_text,
    uploader,
)

MAIN, OTHER = "ckpt_main", "ckpt_other"  # session keys holding upload ids
LIMIT_MB = st.get_option("server.maxUploadSize")
TEXTS = {"pydocs": "Python's documentation", "file": "a .txt file of mine", "run": "the run's own corpus"}
READ_FROM = {"pydocs": "Python's bundled documentation", "file": "your text", "run": "the run's own corpus"}


# ---------------------------------------------------------------- choosing a checkpoint

source = st.radio(
    "Checkpoint",
    ("upload", "example"),
    horizontal=True,
    key="ckpt_source",
    format_func={"upload": "Upload my own", "example": "Use an example from a trained run"}.get,
)
if source == "upload":
    uploader(
        "A zip of the checkpoint folder, or its files: config.json, *.safetensors (and the index), "
        "tokenizer files",
        "ckpt_upload",
        MAIN,
    )
    try:
        kept = f"removed after {uploads.CleanupPolicy.from_env().ttl_hours:g} hours"
    except ValueError as error:  # a mistyped TIEVIZ_UPLOAD_TTL_HOURS: say so here, uploading will refuse
        st.warning(str(error), icon=":material/warning:")
        kept = "removed by the clean-up policy"
    st.caption(
        f"Up to {LIMIT_MB:,} MB per file: the server's `server.maxUploadSize` setting (in "
        "`.streamlit/config.toml` or `--server.maxUploadSize`). Uploads are kept for this browser session "
        f"and {kept}."
    )
else:
    experiment = ui.selected_experiment()
    if experiment is None:
        ui.empty_state("Each trained run is a small GPT-2 checkpoint you can open here.")
    elif st.button("Open its tied model (and its untied twin for the comparison)", key="ckpt-example"):
        for slot, arm in ((MAIN, "tied"), (OTHER, "untied")):
            run_dir = experiment.runs[arm].path
            refused = stage(ca.example_files(run_dir), f"example {arm} model", slot, run_dir)
            if refused:
                st.error(refused, icon=":material/error:")
        st.session_state["ckpt_text"] = "run"

upload = current(MAIN)
if upload is None:
    st.stop()
try:
    ckpt = loaded(str(upload.checkpoint))
except Exception as error:  # noqa: BLE001 - the page's edge: one line, never a traceback
    st.error(refusal(error, "Reading the checkpoint"), icon=":material/error:")
    st.stop()
summary = ckpt.summary
st.subheader(ui.plain(upload.name))
summary_card(summary)

# ---------------------------------------------------------------- the text behind frequencies and bigrams

run_dir = st.session_state.get("ckpt_runs", {}).get(upload.id)
choices = ("run", "pydocs", "file") if run_dir else ("pydocs", "file")
if st.session_state.get("ckpt_text") not in choices:
    st.session_state["ckpt_text"] = choices[0]
text_source = st.radio(
    "Text for frequencies and bigrams", choices, format_func=TEXTS.get, horizontal=True, key="ckpt_text"
)
text_key = text_source
if text_source == "run":
    text_key = run_dir
elif text_source == "file":
    text_file = st.file_uploader("UTF-8 text", type=["txt"], key="ckpt_text_upload")
    if text_file is None:
        st.stop()
    try:  # kept as an upload and read piece by piece (tieviz.textfile), never decoded whole
        text_path, _ = uploads.save_text_upload(
            ui.data_root(), ui.visitor(), text_file.name, text_file.getvalue()
        )
    except ValueError as error:
        st.error(f"This text cannot be used: {ui.plain(error)}", icon=":material/error:")
        st.stop()
    text_key = str(text_path)  # content-addressed: the same text gives the same name
try:
    with st.spinner("Reading the text with the checkpoint's tokenizer…"):
        text = token_text(str(upload.checkpoint), text_source, text_key, summary.vocab_size, None)
    if text.ids is None:
        st.info(
            f"{ui.plain(text.note)} Frequencies are unknown, so the first token ids stand in for the most "
            "frequent tokens; bigrams and the tuned lens need a tokenizer.",
            icon=":material/info:",
        )
    else:
        st.caption(f"{text.ids.size:,} tokens read from {READ_FROM[text_source]}. {ui.plain(text.note)}")
    n_max = max(10, min(5000, summary.vocab_size))
    n = st.slider("Tokens for norms and maps (most frequent first)", 10, n_max, min(500, n_max), key="ckpt_n")
    ids = text.top_ids(summary.vocab_size, n)
except Exception as error:  # noqa: BLE001 - the page's edge: one line, never a traceback
    st.error(refusal(error, "Reading the text"), icon=":material/error:")
    st.stop()

tabs = st.tabs(["Bigrams", "Norms", "Maps", "Tuned lens", "Tied vs untied (paper)"])

with tabs[0]:
    from tieviz.figures.bigrams import asymmetry_heatmaps, bigram_heatmaps
    from tieviz.results import bigram_summary

    if text.ids is None:
        st.info("The direct path is compared with the bigrams of a text, which needs the tokenizer.")
    else:
        k = st.slider("Tokens in the matrices", 5, 80, 30, key="ckpt_k")
        with panel("The bigram comparison"):
            comparison = ca.checkpoint_bigrams(ckpt, text, k)
            which = ("empirical", ckpt.arm, *([f"{ckpt.arm}_ln"] if ckpt.final_norm else []))
            ui.show_figure(bigram_heatmaps(comparison, which), bigram_summary(comparison), key="ckpt-bigrams")
            ui.show_figure(asymmetry_heatmaps(comparison, which), key="ckpt-asymmetry")
            st.caption(
                f"Final norm: {ckpt.final_norm_note}." + ("" if ckpt.final_norm else " Raw product only.")
            )

with tabs[1], panel("The row norms"):
    from tieviz.figures.checkpoints import norm_frequency_figure

    stats = ca.norm_stats(ckpt, text, ids)
    for name, rho in stats.spearman.items():
        st.caption(f"Rank correlation of {name} row norm with frequency: {rho:+.2f}")
    frame = pd.DataFrame(
        {"token": stats.labels, "id": stats.token_ids, "count": stats.counts}
        | {f"norm_{k}": v for k, v in stats.norms.items()}
    )
    ui.show_figure(
        norm_frequency_figure(stats.labels, stats.counts, stats.norms, summary.tied), frame, key="ckpt-norms"
    )

with tabs[2], panel("The maps"):
    from tieviz.analysis.maps import neighbour_table
    from tieviz.figures.maps import embedding_map_figure

    titles = {"W_E": "shared W_E = W_U" if summary.tied else "input W_E", "W_U": "output W_U"}
    method = st.radio(
        "Layout",
        ("pca", "umap"),
        horizontal=True,
        key="ckpt_method",
        format_func={"pca": "PCA (instant)", "umap": "UMAP (slow the first time)"}.get,
    )
    embeddings = ca.checkpoint_embeddings(ckpt, text, ids)
    token = st.selectbox("Highlight a token", embeddings.labels, index=None, key="ckpt_token")
    with st.spinner("Computing layouts (cached with the upload)…", show_time=True):
        rows = tuple(int(i) for i in ids)
        maps = layouts(str(upload.cache_dir("maps")), rows, method, embeddings.matrices)
    figure = embedding_map_figure(maps, embeddings.labels, embeddings.counts, titles, token, method)
    ui.show_figure(figure, key="ckpt-maps")
    if token is not None:
        table = neighbour_table(embeddings.matrices, embeddings.labels, embeddings.labels.index(token))
        for column, (name, rows) in zip(st.columns(len(table)), table.items(), strict=True):
            column.text(f"Nearest to “{token}” in {titles[name]}")  # text: a token is never markup
            column.dataframe(pd.DataFrame(rows, columns=["token", "cosine"]), hide_index=True)

with tabs[3], panel("The tuned lens"):
    from tieviz.figures.lens import contribution_figure, lens_figure

    limit = ca.lens_max_params()
    lens_key = f"ckpt-lens-{upload.id}-{text_key}"
    if summary.n_params > limit:
        st.info(
            f"The tuned lens loads the whole model; this one has {summary.n_params:,} parameters, over "
            f"this server's limit of {limit:,} ({ca.LENS_MAX_PARAMS_ENV})."
        )
    elif text.ids is None:
        st.info("The tuned lens is trained on windows of a text, which needs the tokenizer.")
    elif st.button("Fit the tuned lens", key="ckpt-lens-run", help="Cached with the upload afterwards"):
        bar = st.progress(0.0, "Fitting one translator per layer…")
        with panel("The tuned lens"):
            st.session_state[lens_key] = ca.checkpoint_lens(
                upload.checkpoint, text, upload.cache_dir("lens"), progress=lambda i, t: bar.progress(i / t)
            )
        bar.empty()
    result = st.session_state.get(lens_key)
    if result is not None:
        ui.show_figure(lens_figure({ckpt.arm: result.tuned}, "kl", {ckpt.arm: result.logit}), key="ckpt-lens")
        ui.show_figure(contribution_figure({ckpt.arm: result.contributions}), key="ckpt-contributions")

with tabs[4], panel("The comparison"):
    from tieviz.analysis.verdicts import bias_verdict
    from tieviz.figures.checkpoints import cosine_histogram_figure

    st.markdown(
        "The paper's measure needs **one tied and one untied** checkpoint over the same vocabulary: is the "
        "tied matrix closer to the untied model's output matrix than to its input matrix?"
    )
    uploader("The other checkpoint (untied if this one is tied, tied if not)", "ckpt_other_upload", OTHER)
    other = current(OTHER)
    if other is not None:
        other_ckpt = loaded(str(other.checkpoint))  # read (and checked) when it was staged
        st.caption(
            f"Compared with {ui.plain(other.name)}: {ui.plain(other_ckpt.summary.architecture)}, "
            f"{'tied' if other_ckpt.summary.tied else 'untied'}, "
            f"vocabulary {other_ckpt.summary.vocab_size:,}."
        )
        result = None
        with panel("The comparison"):
            ca.tied_and_untied(ckpt, other_ckpt)
            n_cmp = st.slider("Tokens compared", 20, n_max, min(1000, n_max), key="ckpt_n_cmp")
            ids_cmp = text.top_ids(summary.vocab_size, n_cmp)
            result = paper(str(upload.checkpoint), str(other.checkpoint), tuple(int(i) for i in ids_cmp))
        if result is not None:
            for note in result.notes:
                st.warning(ui.plain(note), icon=":material/warning:")
            rows = [
                {
                    "measure": label,
                    "vs untied output": result.scores[f"{m}_out"],
                    "vs untied input": result.scores[f"{m}_in"],
                    "output − input": result.scores[f"{m}_out"] - result.scores[f"{m}_in"],
                    "chance (tokens shuffled)": result.chance[m],
                }
                for m, label in (
                    ("lin_cos", "mean cosine after a linear map"),
                    ("proc_cos", "mean cosine after a rotation"),
                    ("cka", "linear CKA"),
                    ("mknn", "mutual 10-NN overlap"),
                )
            ]
            st.dataframe(pd.DataFrame(rows), hide_index=True, key="ckpt-paper-table")
            cka_out, cka_in, chance = result.scores["cka_out"], result.scores["cka_in"], result.chance["cka"]
            ui.show_verdict(bias_verdict(cka_out, cka_in, tieviz_run=False, chance=chance))
            st.caption(
                "Each measure ignores rotation and scale; 'output − input' above 0 means the tied matrix is "
                "shaped like an output matrix. The chance column scores the tied matrix against the untied "
                "output matrix with its tokens shuffled: a score near it means no real match."
            )
            map_kind = st.radio(
                "Map",
                ("lin", "proc"),
                horizontal=True,
                key="ckpt_paper_method",
                format_func={"lin": "linear map", "proc": "rotation"}.get,
            )
            data = pd.DataFrame({"token": result.labels, "id": result.token_ids} | result.per_token)
            ui.show_figure(
                cosine_histogram_figure(result.per_token, result.labels, map_kind, result.scores),
                data,
                key="ckpt-paper",
            )
