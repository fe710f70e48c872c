"""Streamlit pieces of the Checkpoints page: checkpoint jobs with progress, uploaders, the summary card.

Staging an upload, reading a text with its tokenizer, the pair comparison, the tuned lens and a series
run as checkpoint jobs (`tieviz.jobs.checkpoint`) in worker processes under this site's limits; the page
follows each with a progress bar and reads its result from disk. What they compute lives in
`tieviz.checkpoint_analysis`.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import streamlit as st

# transformers' top-level module is unsafe to import from two threads at once; importing it here, under
# this module's own import lock, finishes it before any session of the Checkpoints page can use it.
import transformers  # noqa: F401

from tieviz import checkpoint_analysis as ca
from tieviz.checkpoint_analysis.host_models import HostModel, find_host_model
from tieviz.checkpoints import CheckpointError, uploads
from tieviz.experiments.catalog import data_root
from tieviz.ui.identity import trusted, visitor
from tieviz.ui.text import plain
from tieviz.ui.training import manager

_PATH = re.compile(r"(?:^|[\s'\"(])(?:/[^/\s'\"]+){2,}")  # an absolute path of two or more parts
POLL_SECONDS = 0.25
Source = uploads.Upload | HostModel  # what a slot holds: an upload, or a checkpoint the host listed


@st.cache_resource(show_spinner=False, max_entries=4)
def loaded(path: str) -> ca.LoadedCheckpoint:
    return ca.load_checkpoint(Path(path))


def safe_line(message: str, what: str) -> str:
    """A job's or refusal's one line as plain text, unless it looks like it holds a server path.

    It may quote the upload's own names, so it is escaped (`plain`) before it meets Markdown.
    """
    message = " ".join(str(message).split())
    return plain(f"{what} failed on this checkpoint." if _PATH.search(message) else message)


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


# ---------------------------------------------------------------- checkpoint jobs


def follow(task: dict, what: str) -> tuple[Path | None, str | None]:
    """Queues the task as a checkpoint job (or joins/reuses an identical one) and follows it to its end.

    Returns (result folder, None) when done, else (None, why) in one line. The wait shows the queue
    position, then the job's stage and progress; leaving the page stops only the waiting, not the job.

    It always adds exactly one element, a job already done included: an element more in one run than
    in the next moves everything below it, and the browser then remounts those widgets, dropping a file
    the visitor was uploading into one of them.
    """
    from tieviz.jobs import LimitError

    bar = st.empty()
    jobs = manager()
    try:
        job = jobs.submit_checkpoint(task, visitor(), trusted=trusted())
    except LimitError as error:
        return None, plain(f"Not started: {error}.")
    while job.status in ("queued", "running"):
        if job.status == "queued":
            label = f"{plain(what)}: waiting for the job queue (position {job.position or 1})…"
        else:
            label = f"{plain(what)}: {plain(job.phase or 'starting')}…"
        bar.progress(job.progress_fraction, text=label)
        time.sleep(POLL_SECONDS)
        job = jobs.get(job.id)
    bar.empty()
    if job.status == "done":
        return jobs.result_dir(job.id), None
    return None, _why_ended(job, what)


def _why_ended(job, what: str) -> str:
    """One line for a job that ended without results: failed, or stopped (cancelled, interrupted)."""
    ended = "failed" if job.status == "failed" else "stopped"
    return f"{plain(what)} {ended}: {safe_line(job.error or job.status, what)}"


def finished(task: dict) -> Path | None:
    """The result folder of a done job for exactly this task, without starting one."""
    jobs = manager()
    job = jobs.find_checkpoint(task)
    return jobs.result_dir(job.id) if job is not None and job.status == "done" else None


def resume(task: dict, what: str, asked: bool = False) -> Path | None:
    """A done job's results, or a queued or running one followed again (a rerun of the page, a return to
    it, stopped only the waiting); None when no job was asked for, or the last one ended without results.

    `asked`: this run follows a click that asked for the job, so a job that already ended without results
    (it can fail before the run looks) says why.
    """
    jobs = manager()
    job = jobs.find_checkpoint(task)
    if job is None:
        return None
    if job.status not in ("queued", "running", "done"):
        if asked:
            st.error(_why_ended(job, what), icon=":material/error:")
        return None
    if job.status == "done":
        return jobs.result_dir(job.id)
    out, why = follow(task, what)
    if why:
        st.error(why, icon=":material/error:")
    return out


def _submit(task: dict, key: str) -> None:
    """A run button's callback: queues the job (or joins an identical one); the script then follows it.

    As a callback it runs as the click's rerun begins, so a rerun right after the click cannot lose it.
    """
    from tieviz.jobs import LimitError

    try:
        manager().submit_checkpoint(task, visitor(), trusted=trusted())
        st.session_state[f"{key}_asked"] = True
    except LimitError as error:
        st.session_state[f"{key}_refused"] = plain(f"Not started: {error}.")


def run_on_click(task: dict, what: str, label: str, key: str, help: str | None = None) -> Path | None:
    """The task's results when its job is done (or queued or running, followed), else a button that
    starts it; None until there are results. A job that ends without them says why in one line, also
    when it ended before this run could follow it."""
    out = resume(task, what, asked=st.session_state.pop(f"{key}_asked", False))
    if out is None:
        st.button(label, key=key, help=help, on_click=_submit, args=(task, key))
        if refused := st.session_state.pop(f"{key}_refused", None):
            st.error(refused, icon=":material/block:")
    return out


def stage(files, name: str, slot: str, run_dir: Path | None = None) -> str | None:
    """Stage an upload in a job (progress shown) and remember it in `slot`; returns why it was refused.

    The files go to disk first (the server holds them already); the worker unpacks, checks and reads
    them, so a hostile archive or checkpoint costs a job, not the server.
    """
    data = data_root()
    # beside the job store, not in it: the job store's disk cap would count an upload in flight
    incoming = ca.write_incoming(data / "incoming" / uuid.uuid4().hex, list(files))
    task = {
        "task": "stage",
        "incoming": str(incoming),
        "name": name,
        "visitor": visitor(),
        "max_bytes": uploads.max_staged_bytes(),
        "policy": asdict(uploads.CleanupPolicy.from_env()),
    }
    out, why = follow(task, f"Reading {name}")
    shutil.rmtree(incoming, ignore_errors=True)  # the job removes it; this covers a job that never ran
    if out is None:
        st.session_state.pop(slot, None)
        return why
    upload_id = ca.read_result(out)["upload_id"]
    st.session_state[slot] = upload_id
    st.session_state.setdefault("ckpt_runs", {})[upload_id] = str(run_dir) if run_dir else None
    return None


def uploader(label: str, key: str, slot: str) -> None:
    """A multi-file uploader that stages each new selection once, and keeps saying why one was refused.

    What staging shows goes in one container, present on every run: the run that stages and the runs
    after it then lay out the page alike (see `follow`).
    """
    files = st.file_uploader(label, accept_multiple_files=True, key=key)
    status = st.container()
    if not files:
        return
    signature = tuple(f.file_id for f in files)
    with status:
        if st.session_state.get(f"{key}_staged") != signature:
            name = files[0].name if len(files) == 1 else f"{len(files)} files"
            st.session_state[f"{key}_error"] = stage([(f.name, f.getvalue()) for f in files], name, slot)
            st.session_state[f"{key}_staged"] = signature
        if st.session_state.get(f"{key}_error"):
            st.error(st.session_state[f"{key}_error"], icon=":material/error:")


def host_picker(hosted: list[HostModel], label: str, key: str, slot: str) -> None:
    """A selectbox over the checkpoints the host listed (TIEVIZ_MODELS), by name; never a typed path."""
    names = {m.id: m.name for m in hosted}
    chosen = st.selectbox(label, list(names), format_func=names.get, index=None, key=key)
    if chosen is not None and st.session_state.get(slot) != chosen:
        st.session_state[slot] = chosen


def current(slot: str) -> Source | None:
    """The upload or host model in `slot`, or None (saying so when the clean-up policy removed it)."""
    chosen = st.session_state.get(slot)
    if chosen is None:
        return None
    if chosen.startswith("host-"):
        found = find_host_model(data_root(), chosen)
    else:
        found = uploads.find_upload(data_root(), visitor(), chosen)
    if found is None:
        st.warning(
            "That checkpoint is no longer available (cleaned up, or no longer listed); choose it again."
        )
        st.session_state.pop(slot, None)
    return found


def _text_task(source: Source, text_source: str, text_path: Path | None, vocab_size: int) -> dict:
    """The text job's task: the same dict both starts the job and finds its results again."""
    return {
        "task": "text",
        "checkpoint": str(source.checkpoint),
        "text": str(text_path) if text_path else "",
        "vocab_size": int(vocab_size),
        "source": text_source,
    }


def token_text(source: Source, text_source: str, text_path: Path | None, vocab_size: int) -> ca.TokenText:
    """The text read with the checkpoint's tokenizer, in a job; without one (or if it fails), no ids."""
    if text_source == "run":
        return _run_text(text_path)
    task = _text_task(source, text_source, text_path, vocab_size)
    out, why = follow(task, "Reading the text with the checkpoint's tokenizer")
    if out is None:
        return ca.TokenText(None, None, (), text_source, f"The tokenizer could not read the text ({why}).")
    return _read_text(str(out))


@st.cache_data(show_spinner=False, max_entries=8)
def _read_text(out: str) -> ca.TokenText:
    return ca.read_text(Path(out))


@st.cache_data(show_spinner=False, max_entries=8)
def _run_text(run_dir: Path) -> ca.TokenText:
    from tieviz.training.run_store import Run

    return ca.text_from_run(Run(Path(run_dir)))


def text_folder(source: Source, text_source: str, text_path: Path | None, vocab_size: int) -> str:
    """The result folder of the text job behind the frequencies ("" when they come from a run)."""
    if text_source == "run":
        return ""
    task = _text_task(source, text_source, text_path, vocab_size)
    out = finished(task)
    return str(out) if out is not None else ""


def token_choice(vocab_size: int, d_tied: int, d_untied: int, pairs: int = 1) -> ca.TokenChoice:
    """All tokens when the comparison's estimate fits this site's budget, else the largest count that does.

    A series of `pairs` comparisons in one job shares the time and FLOP budget; each pair has the memory.
    """
    from dataclasses import replace

    from tieviz.jobs.checkpoint import budget

    cores = max(1, (os.cpu_count() or 1) - 1)
    plan = budget(manager().limits, trusted())
    plan = replace(plan, seconds=plan.seconds / pairs, flops=plan.flops / pairs)
    return ca.choose_tokens(vocab_size, d_tied, d_untied, plan, cores=cores)


@st.cache_data(show_spinner=False, max_entries=8)
def read_pair(out: str) -> ca.PairResult:
    return ca.read_pair(Path(out))


@st.cache_data(show_spinner=False, max_entries=8)
def read_lens(out: str):
    return ca.read_lens(Path(out))


@st.cache_data(show_spinner=False, max_entries=8)
def layouts(cache_dir: str, ids: tuple[int, ...], method: str, _matrices: dict) -> dict:
    """Map layouts of an upload's rows `ids`, kept per session run: the disk cache below hashes every
    matrix byte to find its file, which is slow for wide models on every rerun."""
    from tieviz.analysis.maps import cached_embedding_maps

    return cached_embedding_maps(Path(cache_dir), _matrices, method)


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
