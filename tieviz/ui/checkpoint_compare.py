"""The Checkpoints page's comparison views: one tied/untied pair's Table 1, and a series over training.

Both results come from checkpoint jobs (`tieviz.ui.checkpoint_upload.follow`); this module only shows
them, and builds the series' task from what the visitor picked.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from tieviz import checkpoint_analysis as ca
from tieviz.analysis.measures import MEASURE_LABELS, MEASURES
from tieviz.checkpoint_analysis.host_models import HostModel, step_of
from tieviz.checkpoints import uploads
from tieviz.experiments.catalog import data_root
from tieviz.experiments.resources import duration, size_words
from tieviz.ui.checkpoint_upload import Source, loaded, run_on_click, token_choice
from tieviz.ui.display import show_figure, show_verdict
from tieviz.ui.identity import visitor
from tieviz.ui.text import plain


def pair_job(main: Source, ckpt: ca.LoadedCheckpoint, other: Source, frequency: str, run: str):
    """The pair's token count (whole vocabulary when it fits the budget, else the largest that does, and
    why), then its comparison job: the result folder when done, None until the visitor starts it."""
    other_ckpt = loaded(str(other.checkpoint))  # read (and checked) when it was staged
    st.caption(
        f"Compared with {plain(other.name)}: {plain(other_ckpt.summary.architecture)}, "
        f"{'tied' if other_ckpt.summary.tied else 'untied'}, "
        f"vocabulary {other_ckpt.summary.vocab_size:,}."
    )
    tied, untied = ca.tied_and_untied(ckpt, other_ckpt)
    vocab = tied.summary.vocab_size
    d_tied, d_untied = tied.W_E.shape[1], untied.W_E.shape[1]
    choice = token_choice(vocab, d_tied, d_untied)
    cost = choice.cost
    if choice.all_tokens:
        st.caption(
            f"All {vocab:,} tokens by default, as in the paper: the estimate (memory "
            f"{size_words(cost.peak_bytes)}, time {duration(cost.seconds)}) fits this site's budget."
        )
    else:
        st.info(
            f"{choice.tokens:,} of {vocab:,} tokens (most frequent first) by default, not the whole "
            f"vocabulary: {choice.reason}.",
            icon=":material/info:",
        )
    tokens = st.number_input(
        "Tokens compared",
        min_value=12,
        max_value=vocab,
        value=choice.tokens,
        step=max(1, vocab // 100),
        key=f"ckpt_n_cmp_{main.id}_{other.id}",
    )
    task = {
        "task": "compare",
        "a": str(tied.path),
        "b": str(untied.path),
        "tokens": int(tokens),
        "frequency": frequency,
        "run": run,
        "d_tied": int(d_tied),
        "d_untied": int(d_untied),
        "vocab": int(vocab),
    }
    out = run_on_click(task, "Comparing the pair", f"Compare {int(tokens):,} tokens", "ckpt-compare")
    return out


def show_pair(result: ca.PairResult) -> None:
    """Table 1 with each score's chance floor, the verdict (linear-map cosine), notes and the histogram.

    Fewer tokens than 4x the width always come with the warning that the floor is high, and why.
    """
    from tieviz.figures.checkpoints import cosine_histogram_figure

    if result.floor_is_high:
        st.warning(
            f"The chance floor is high: {result.tokens:,} tokens is fewer than 4× the width "
            f"({result.width:,}), so a least-squares map has almost as many parameters as there are tokens "
            "and fits even unrelated matrices well (linear-map cosine "
            f"{result.chance['lin_cos']:.2f} with the tokens shuffled). Read each score against its "
            "floor, and compare more tokens "
            "where the vocabulary allows.",
            icon=":material/warning:",
        )
    for note in result.notes:
        st.warning(plain(note), icon=":material/warning:")
    rows = [
        {
            "measure": MEASURE_LABELS[m],
            "vs untied output": result.scores[f"{m}_out"],
            "vs untied input": result.scores[f"{m}_in"],
            "output − input": result.bias(m),
            "chance floor": result.chance[m],
        }
        for m in MEASURES
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="ckpt-paper-table")
    show_verdict(result.verdict)
    floor_words = f"{result.shuffles} shuffle{'s' if result.shuffles != 1 else ''} of the tokens"
    st.caption(
        f"{result.tokens:,} of {result.vocab_size:,} tokens"
        + (" (the whole vocabulary)" if result.all_tokens else "")
        + f" at width {result.width:,}. The verdict is read from the paper's measure, the linear-map "
        "cosine, against its chance floor (the tied matrix against the untied output matrix after "
        f"{floor_words}); the other measures are shown beside it. Each ignores rotation and scale; "
        "'output − input' above 0 means the tied matrix is shaped like an output matrix."
    )
    if (result.bias("cka") > 0) != (result.bias("lin_cos") > 0):
        st.caption(
            f"CKA points the other way here ({result.bias('cka'):+.3f}): it weighs the directions of "
            "largest variance, the linear-map cosine weighs every token alike."
        )
    map_kind = st.radio(
        "Map",
        ("lin", "proc"),
        horizontal=True,
        key="ckpt_paper_method",
        format_func={"lin": "linear map", "proc": "rotation"}.get,
    )
    data = pd.DataFrame({"token": result.labels, "id": result.token_ids} | result.per_token)
    show_figure(
        cosine_histogram_figure(result.per_token, result.labels, map_kind, result.scores),
        data,
        key="ckpt-paper",
    )


def series_panel(hosted: list[HostModel], main: Source, frequency: str) -> None:
    """Several tied step checkpoints against one untied model: the bias over training, in one job."""
    from tieviz.figures.checkpoints import series_bias_figure
    from tieviz.reference import DRIFT_MODELS, public_drift

    st.markdown(
        "Checkpoints of one tied model at several training steps, each against one untied model: how the "
        "bias grows (or not) over training, beside the paper's own untied models."
    )
    mine = uploads.list_uploads(data_root(), visitor())
    options: dict[str, Source] = {m.id: m for m in hosted} | {u.id: u for u in mine}
    if len(options) < 3:
        st.info(
            "A series needs at least two tied checkpoints and one untied model: upload them above (each "
            "stays available here), or ask the host to list a folder of step checkpoints in `TIEVIZ_MODELS`.",
            icon=":material/info:",
        )
        return
    names = {key: source.name for key, source in options.items()}
    tied_ids = st.multiselect(
        "Tied checkpoints", list(options), format_func=names.get, key="ckpt_series_tied", default=None
    )
    rest = [key for key in options if key not in tied_ids]
    untied_id = st.selectbox(
        "The untied model", rest, format_func=names.get, index=None, key="ckpt_series_untied"
    )
    if len(tied_ids) < 2 or untied_id is None:
        st.caption("Choose two or more tied checkpoints and the untied model to compare them with.")
        return
    chosen = [options[key] for key in tied_ids]
    steps = [step_of(source.name) for source in chosen]
    if all(step is not None for step in steps):
        chosen, steps = zip(*sorted(zip(chosen, steps, strict=True), key=lambda pair: pair[1]), strict=True)
    else:
        steps = [None] * len(chosen)  # drawn in the order chosen
    untied = loaded(str(options[untied_id].checkpoint))
    first = loaded(str(chosen[0].checkpoint))
    for source in chosen:
        ca.tied_and_untied(loaded(str(source.checkpoint)), untied)  # refuses a pair that is not one of each
    d_tied, d_untied = first.W_E.shape[1], untied.W_E.shape[1]
    vocab = first.summary.vocab_size
    choice = token_choice(vocab, d_tied, d_untied, pairs=len(chosen))
    if not choice.all_tokens:
        st.info(f"{choice.tokens:,} tokens per checkpoint, not all: {choice.reason}.", icon=":material/info:")
    task = {
        "task": "series",
        "tied": [str(source.checkpoint) for source in chosen],
        "labels": [source.name for source in chosen],
        "steps": list(steps),
        "untied": str(untied.path),
        "tokens": choice.tokens,
        "frequency": frequency if main.checkpoint in {s.checkpoint for s in chosen} else "",
        "d_tied": int(d_tied),
        "d_untied": int(d_untied),
        "vocab": int(vocab),
        "pairs": len(chosen),
    }
    out = run_on_click(task, "Comparing the series", f"Compare {len(chosen)} checkpoints", "ckpt-series-run")
    if out is not None:
        points = ca.read_series(out)
        public = [public_drift(model) for model in DRIFT_MODELS]
        frame = [p.__dict__ for p in points]
        show_figure(series_bias_figure(points, public), frame, key="ckpt-series")
