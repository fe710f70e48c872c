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
    "reads the config and the tensors only, in a separate worker process. Token frequencies and bigrams "
    "come from a text read with the checkpoint's **own tokenizer**."
)
ui.define("embedding", "unembedding", "tying")

from tieviz import checkpoint_analysis as ca  # noqa: E402
from tieviz.checkpoint_analysis.host_models import host_models  # noqa: E402
from tieviz.checkpoints import uploads  # noqa: E402
from tieviz.experiments.catalog import data_root  # noqa: E402
from tieviz.ui import checkpoint_compare as cc  # noqa: E402
from tieviz.ui import checkpoint_upload as cu  # noqa: E402

MAIN, OTHER = "ckpt_main", "ckpt_other"  # session keys holding upload (or host model) ids
LIMIT_MB = st.get_option("server.maxUploadSize")
TABS = ["Bigrams", "Norms", "Maps", "Tuned lens", "Tied vs untied (paper)", "Over training"]
TEXTS = {"pydocs": "Python's documentation", "file": "a .txt file of mine", "run": "the run's own corpus"}
READ_FROM = {"pydocs": "Python's bundled documentation", "file": "your text", "run": "the run's own corpus"}
HOSTED = host_models(data_root())
SOURCES = {
    "upload": "Upload my own",
    "host": "A model on this server",
    "example": "Use an example from a trained run",
}


# ---------------------------------------------------------------- choosing a checkpoint

source = st.radio(
    "Checkpoint",
    [s for s in SOURCES if s != "host" or HOSTED],
    horizontal=True,
    key="ckpt_source",
    format_func=SOURCES.get,
)
staged_mb = uploads.max_staged_bytes() / 2**20
if source == "upload":
    cu.uploader(
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
        "`.streamlit/config.toml` or `--server.maxUploadSize`). A bigger checkpoint works as shards: select "
        f"all its `model-0000X-of-0000N.safetensors` files (each under {LIMIT_MB:,} MB), the "
        "`model.safetensors.index.json`, `config.json` and the tokenizer files together. One checkpoint may "
        f"hold up to {staged_mb:,.0f} MiB once unpacked (`{uploads.STAGED_ENV}`). Uploads are kept for this "
        f"browser session and {kept}."
    )
elif source == "host":
    cu.host_picker(HOSTED, "Checkpoint folders this server offers (`TIEVIZ_MODELS`)", "ckpt_host", MAIN)
else:
    experiment = ui.selected_experiment()
    if experiment is None:
        ui.empty_state("Each trained run is a small GPT-2 checkpoint you can open here.")
    else:
        clicked = st.button(
            "Open its tied model (and its untied twin for the comparison)", key="ckpt-example"
        )
        with st.container():  # one element on every run, whatever staging shows (see cu.uploader)
            if clicked:
                for slot, arm in ((MAIN, "tied"), (OTHER, "untied")):
                    run_dir = experiment.runs[arm].path
                    refused = cu.stage(ca.example_files(run_dir), f"example {arm} model", slot, run_dir)
                    if refused:
                        st.error(refused, icon=":material/error:")
                st.session_state["ckpt_text"] = "run"

upload = cu.current(MAIN)
if upload is None:
    st.stop()
try:
    ckpt = cu.loaded(str(upload.checkpoint))
except Exception as error:  # noqa: BLE001 - the page's edge: one line, never a traceback
    st.error(cu.refusal(error, "Reading the checkpoint"), icon=":material/error:")
    st.stop()
summary = ckpt.summary
st.subheader(ui.plain(upload.name))
cu.summary_card(summary)

# ---------------------------------------------------------------- the text behind frequencies and bigrams

run_dir = st.session_state.get("ckpt_runs", {}).get(upload.id)
choices = ("run", "pydocs", "file") if run_dir else ("pydocs", "file")
if st.session_state.get("ckpt_text") not in choices:
    st.session_state["ckpt_text"] = choices[0]
text_source = st.radio(
    "Text for frequencies and bigrams", choices, format_func=TEXTS.get, horizontal=True, key="ckpt_text"
)
text_path = run_dir if text_source == "run" else None
if text_source == "file":
    text_file = st.file_uploader("UTF-8 text", type=["txt"], key="ckpt_text_upload")
    if text_file is None:
        st.stop()
    try:  # kept as an upload (content-addressed, under the visitor's quota); the job reads it in pieces
        text_path, _ = uploads.save_text_upload(
            ui.data_root(), ui.visitor(), text_file.name, text_file.getvalue()
        )
    except ValueError as error:
        st.error(f"This text cannot be used: {ui.plain(error)}", icon=":material/error:")
        st.stop()
try:
    text = cu.token_text(upload, text_source, text_path, summary.vocab_size)
    if text.ids is None:
        st.info(
            f"{ui.plain(text.note)} There is no frequency information: the first token ids stand in for "
            "the most frequent tokens, the maps are drawn in one colour, and bigrams and the tuned lens need "
            "a tokenizer.",
            icon=":material/info:",
        )
    else:
        read_from = READ_FROM[text_source]
        st.caption(f"{text.ids.size:,} tokens read from {read_from}. {ui.plain(text.note)}")
    n_max = max(10, min(5000, summary.vocab_size))
    n = st.slider("Tokens for norms and maps (most frequent first)", 10, n_max, min(500, n_max), key="ckpt_n")
    ids = text.top_ids(summary.vocab_size, n)
except Exception as error:  # noqa: BLE001 - the page's edge: one line, never a traceback
    st.error(cu.refusal(error, "Reading the text"), icon=":material/error:")
    st.stop()
frequency = cu.text_folder(upload, text_source, text_path, summary.vocab_size)  # "" for a run's corpus
run_for_text = str(run_dir) if text_source == "run" and run_dir else ""

tabs = st.tabs(TABS, key="ckpt_tabs", on_change="rerun")  # keyed: a second upload keeps the open tab

with tabs[0]:
    from tieviz.experiments.run_analysis import bigram_summary
    from tieviz.figures.bigrams import asymmetry_heatmaps, bigram_heatmaps

    if text.ids is None:
        st.info("The direct path is compared with the bigrams of a text, which needs the tokenizer.")
    else:
        k = st.slider("Tokens in the matrices", 5, 80, 30, key="ckpt_k")
        with cu.panel("The bigram comparison"):
            comparison = ca.checkpoint_bigrams(ckpt, text, k)
            which = ("empirical", ckpt.arm, *([f"{ckpt.arm}_ln"] if ckpt.final_norm else []))
            ui.show_figure(bigram_heatmaps(comparison, which), bigram_summary(comparison), key="ckpt-bigrams")
            ui.show_figure(asymmetry_heatmaps(comparison, which), key="ckpt-asymmetry")
            st.caption(
                f"Final norm: {ckpt.final_norm_note}." + ("" if ckpt.final_norm else " Raw product only.")
            )

with tabs[1], cu.panel("The row norms"):
    from tieviz.figures.checkpoints import norm_frequency_figure

    stats = ca.norm_stats(ckpt, text, ids)
    for name, rho in stats.spearman.items():
        st.caption(f"Rank correlation of {name} row norm with frequency: {rho:+.2f}")
    frame = pd.DataFrame(
        {"token": stats.labels, "id": stats.token_ids}
        | ({} if stats.counts is None else {"count": stats.counts})
        | {f"norm_{k}": v for k, v in stats.norms.items()}
    )
    ui.show_figure(
        norm_frequency_figure(stats.labels, stats.counts, stats.norms, summary.tied), frame, key="ckpt-norms"
    )

with tabs[2], cu.panel("The maps"):
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
        maps = cu.layouts(str(upload.cache_dir("maps")), rows, method, embeddings.matrices)
    counts = None if text.counts is None else embeddings.counts  # no tokenizer: no frequency to colour by
    figure = embedding_map_figure(maps, embeddings.labels, counts, titles, token, method)
    ui.show_figure(figure, key="ckpt-maps")
    if token is not None:
        table = neighbour_table(embeddings.matrices, embeddings.labels, embeddings.labels.index(token))
        for column, (name, rows) in zip(st.columns(len(table)), table.items(), strict=True):
            column.text(f"Nearest to “{token}” in {titles[name]}")  # text: a token is never markup
            column.dataframe(pd.DataFrame(rows, columns=["token", "cosine"]), hide_index=True)

with tabs[3], cu.panel("The tuned lens"):
    from tieviz.figures.lens import contribution_figure, lens_figure

    limit = ca.lens_max_params()
    if summary.n_params > limit:
        st.info(
            f"The tuned lens loads the whole model; this one has {summary.n_params:,} parameters, over "
            f"this server's limit of {limit:,} ({ca.LENS_MAX_PARAMS_ENV})."
        )
    elif text.ids is None:
        st.info("The tuned lens is trained on windows of a text read with the checkpoint's tokenizer.")
    else:
        lens_task = {
            "task": "lens",
            "checkpoint": str(upload.checkpoint),
            "frequency": frequency,
            "run": run_for_text,
            "cache_dir": str(upload.cache_dir("lens")),
            "n_params": summary.n_params,
        }
        lens_out = cu.run_on_click(
            lens_task,
            "Fitting one translator per layer",
            "Fit the tuned lens",
            "ckpt-lens-run",
            help="Runs as a job",
        )
        if lens_out is not None:
            result = cu.read_lens(str(lens_out))
            ui.show_figure(
                lens_figure({ckpt.arm: result.tuned}, "kl", {ckpt.arm: result.logit}), key="ckpt-lens"
            )
            ui.show_figure(contribution_figure({ckpt.arm: result.contributions}), key="ckpt-contributions")

with tabs[4]:
    st.markdown(
        "The paper's measure needs **one tied and one untied** checkpoint over the same vocabulary: is the "
        "tied matrix closer to the untied model's output matrix than to its input matrix?"
    )
    cu.uploader("The other checkpoint (untied if this one is tied, tied if not)", "ckpt_other_upload", OTHER)
    if HOSTED:
        cu.host_picker(HOSTED, "…or one this server offers", "ckpt_other_host", OTHER)
    other = cu.current(OTHER)
    if other is not None:
        with cu.panel("The comparison"):
            out = cc.pair_job(upload, ckpt, other, frequency, run_for_text)
        if out is not None:
            cc.show_pair(cu.read_pair(str(out)))

with tabs[5], cu.panel("The series"):
    cc.series_panel(HOSTED, upload, frequency)
