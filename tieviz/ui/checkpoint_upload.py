"""Streamlit pieces of the Checkpoints page: staging an upload with progress, the uploaders, the summary card.

The reading and the analyses themselves live in `tieviz.uploads` and `tieviz.checkpoint_analysis`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

# transformers' top-level module is unsafe to import from two threads at once; importing it here, under
# this module's own import lock, finishes it before any session of the Checkpoints page can use it.
import transformers  # noqa: F401

from tieviz import checkpoint_analysis as ca
from tieviz import uploads
from tieviz.catalog import data_root
from tieviz.checkpoints import CheckpointError
from tieviz.data import pydocs_text
from tieviz.ui.identity import visitor
from tieviz.ui.text import plain

_PATH = re.compile(r"(?:^|[\s'\"(])(?:/[^/\s'\"]+){2,}")  # an absolute path of two or more parts


@st.cache_resource(show_spinner=False, max_entries=4)
def loaded(path: str) -> ca.LoadedCheckpoint:
    return ca.load_checkpoint(Path(path))


@st.cache_data(show_spinner=False, max_entries=8)
def token_text(path: str, source: str, text_key: str, vocab_size: int, _text: str | None) -> ca.TokenText:
    if source == "run":
        from tieviz.runs import Run

        return ca.text_from_run(Run(Path(text_key)))
    if source == "file":  # text_key: the saved upload, read by the bounded reader
        return ca.tokenize_text(Path(path), Path(text_key), vocab_size, source)
    return ca.tokenize_text(Path(path), _text if _text is not None else pydocs_text(), vocab_size, source)


@st.cache_data(show_spinner=False, max_entries=8)
def layouts(cache_dir: str, ids: tuple[int, ...], method: str, _matrices: dict) -> dict:
    """Map layouts of an upload's rows `ids`, kept per session run: the disk cache below hashes every
    matrix byte to find its file, which is slow for wide models on every rerun."""
    from tieviz.analysis.maps import cached_embedding_maps

    return cached_embedding_maps(Path(cache_dir), _matrices, method)


@st.cache_data(show_spinner="Comparing the two matrices token by token…", max_entries=8)
def paper(path_a: str, path_b: str, ids: tuple[int, ...]) -> ca.PaperComparison:
    return ca.paper_comparison(loaded(path_a), loaded(path_b), list(ids))


def refusal(error: Exception, what: str) -> str:
    """One line for the page, as plain text: a refusal's own sentence, else what failed and the type only.

    Other exceptions' messages can carry the server's paths, so they are not shown, nor is any message
    that looks like it holds one. A refusal quotes the upload's own names, so it is escaped (`plain`).
    """
    message = " ".join(str(error).split())
    if isinstance(error, CheckpointError | ValueError) and not _PATH.search(message):
        return plain(message)
    return plain(f"{what} failed on this checkpoint ({type(error).__name__}).")


@contextmanager
def panel(what: str) -> Iterator[None]:
    """Run one panel of the page; its failure becomes one error box there instead of blanking the page."""
    try:
        yield
    except Exception as error:  # noqa: BLE001 - the page's edge: every failure becomes one line
        st.error(refusal(error, what), icon=":material/error:")


def stage(files, name: str, slot: str, run_dir: Path | None = None) -> str | None:
    """Stage an upload (progress shown) and remember it in `slot`; returns why it was refused, if it was.

    An upload that stages but cannot be read is removed again, so nothing unusable is kept.
    """
    with st.status(f"Reading {plain(name)}…", expanded=False) as status:
        upload = None
        try:
            status.write("Unpacking the files, reading the config, the tensor headers and the two matrices…")
            # read before it is accepted: a refused upload must not push other uploads out
            upload = uploads.new_upload(data_root(), visitor(), files, name, check=lambda p: loaded(str(p)))
        except Exception as error:  # noqa: BLE001 - the upload's edge: one line, never a traceback
            if upload is not None:
                uploads.remove_upload(upload)
            status.update(label=f"{plain(name)} cannot be read", state="error")
            st.session_state.pop(slot, None)
            return refusal(error, "Reading the upload")
        status.update(label=f"{plain(name)} is ready", state="complete")
    st.session_state[slot] = upload.id
    st.session_state.setdefault("ckpt_runs", {})[upload.id] = str(run_dir) if run_dir else None
    return None


def uploader(label: str, key: str, slot: str) -> None:
    """A multi-file uploader that stages each new selection once, and keeps saying why one was refused."""
    files = st.file_uploader(label, accept_multiple_files=True, key=key)
    if not files:
        return
    signature = tuple(f.file_id for f in files)
    if st.session_state.get(f"{key}_staged") != signature:
        name = files[0].name if len(files) == 1 else f"{len(files)} files"
        st.session_state[f"{key}_error"] = stage([(f.name, f.getvalue()) for f in files], name, slot)
        st.session_state[f"{key}_staged"] = signature
    if st.session_state.get(f"{key}_error"):
        st.error(st.session_state[f"{key}_error"], icon=":material/error:")


def current(slot: str) -> uploads.Upload | None:
    upload_id = st.session_state.get(slot)
    if upload_id is None:
        return None
    upload = uploads.find_upload(data_root(), visitor(), upload_id)
    if upload is None:
        st.warning("That upload was removed by the clean-up policy; upload it again.", icon=":material/info:")
        st.session_state.pop(slot, None)
    return upload


def summary_card(summary) -> None:
    params = f"{summary.n_params / 1e6:,.1f}M" if summary.n_params >= 1e6 else f"{summary.n_params:,}"
    cols = st.columns([3, 2, 2, 2, 1, 2])
    cols[0].metric("Architecture", plain(summary.architecture))
    cols[1].metric("Parameters", params)
    cols[2].metric("Vocabulary", f"{summary.vocab_size:,}")
    cols[3].metric("Width", f"{summary.d_model:,}")
    cols[4].metric("Tied", "yes" if summary.tied else "no", help=f"Decided by: {plain(summary.tied_reason)}")
    cols[5].metric("Embedding share", f"{summary.embedding_share:.1%}", help="W_E and W_U (once if tied)")
    st.caption(
        f"{plain(summary.model_type)} · {summary.n_layers} layers · tying decided by "
        f"{plain(summary.tied_reason)} · "
        f"{summary.weights_bytes / 2**20:,.1f} MiB of weights · "
        f"tokenizer {'included' if summary.has_tokenizer else 'missing'}"
    )
    for warning in summary.warnings:
        st.warning(plain(warning), icon=":material/warning:")
    for note in summary.notes:
        st.caption(plain(note))
