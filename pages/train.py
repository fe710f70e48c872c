"""Train: choose a preset (or open the advanced settings), start, watch it live, cancel.

Training runs in a worker process owned by the job manager, never in this script: a rerun, a page switch
or a closed tab neither stops nor duplicates it. This page only submits and polls.
"""

import streamlit as st

from tieviz import ui
from tieviz.checkpoints.uploads import save_text_upload
from tieviz.config import BOUNDS, CORPORA, DEVICES, PRESETS, preset
from tieviz.jobs.store import ACTIVE

ui.require_app()

PRESET_WORDS = {  # no time words: labels that changed between runs would reset the choice;
    # the estimate below the settings gives the time, from the timing model
    "toy": "Toy: a synthetic language with known word order, tiny models",
    "demo": "Demo: Python's documentation text, the default that shows the bias",
    "gpu": "GPU: wider, deeper, longer, meant for a GPU",
}

st.title("Train tied and untied twins")
st.markdown(
    "Each experiment trains three models of the same shape on the same text: **tied**, **untied** (from "
    "its own initial weights and in its own batch order, as the paper's independently trained models), "
    "and tied with its input gradient **scaled** by α (sharing the tied model's start and batches, so only "
    "α differs), plus, per seed, a second untied model for the same-recipe baseline. With several **seeds** "
    "every number gets a 95 % interval and every verdict is read from it. Finished experiments join the "
    "picker in the sidebar; asking for one that was already trained opens it at once."
)

ui.define("arm", "seed", "interval")

device_note = st.empty()  # filled once torch has said which device "auto" means (slow the first time)

ui.url_state("train_preset", "toy", ui.choice(tuple(PRESETS)))
name = st.radio("Preset", tuple(PRESETS), format_func=PRESET_WORDS.get, key="train_preset")
ui.keep_in_url("train_preset")
base = PRESETS[name]
overrides: dict = {}
overrides["seeds"] = st.number_input(
    "Seeds",
    *BOUNDS["seeds"],
    base.seeds,
    key=f"train-{name}-seeds",
    help="Every arm is trained once per seed. One seed is an anecdote: 3 or more give each number a 95 % "
    "interval, at that many times the training time.",
)
advanced = st.toggle("Advanced settings", key="train_advanced")

upload_error = None
if advanced:
    with st.container(border=True):
        corpus_col, device_col = st.columns(2)
        overrides["corpus"] = corpus_col.selectbox(
            "Corpus",
            CORPORA,
            index=CORPORA.index(base.data.corpus),
            format_func={
                "toy": "toy: synthetic language with a known transition matrix",
                "pydocs": "pydocs: Python's documentation (about 65,000 words)",
                "file": "file: your own UTF-8 .txt file",
            }.get,
            key=f"adv-{name}-corpus",
        )
        overrides["device"] = device_col.selectbox(
            "Device",
            DEVICES,
            key=f"adv-{name}-device",
            help="auto picks a CUDA GPU, then Apple's MPS, then the CPU",
        )
        if overrides["corpus"] == "file":
            upload = st.file_uploader("Text file (.txt, UTF-8)", type=["txt"], key="train_upload")
            if upload is not None:
                try:
                    path, words = save_text_upload(
                        ui.data_root(), ui.visitor(), upload.name, upload.getvalue()
                    )
                    st.caption(f"{ui.plain(upload.name)}: {words:,} words")
                    overrides["path"] = str(path)
                except ValueError as error:
                    upload_error = str(error)
                    st.error(f"This file cannot be used: {ui.plain(upload_error)}", icon=":material/error:")
        c = st.columns(4)
        overrides["d_model"] = c[0].number_input(
            "Width (d_model)", *BOUNDS["d_model"], base.model.d_model, 8, key=f"adv-{name}-d_model"
        )
        overrides["n_layers"] = c[1].number_input(
            "Layers", *BOUNDS["n_layers"], base.model.n_layers, key=f"adv-{name}-layers"
        )
        overrides["n_heads"] = c[2].number_input(
            "Heads", *BOUNDS["n_heads"], base.model.n_heads, key=f"adv-{name}-heads"
        )
        overrides["vocab_size"] = c[3].number_input(
            "Vocabulary", *BOUNDS["vocab_size"], base.data.vocab_size, 100, key=f"adv-{name}-vocab"
        )
        c = st.columns(4)
        overrides["steps"] = c[0].number_input(
            "Steps", *BOUNDS["steps"], base.train.steps, 10, key=f"adv-{name}-steps"
        )
        overrides["batch_size"] = c[1].number_input(
            "Batch size", *BOUNDS["batch_size"], base.train.batch_size, key=f"adv-{name}-batch"
        )
        overrides["seq_len"] = c[2].number_input(
            "Context length", *BOUNDS["seq_len"], base.model.seq_len, key=f"adv-{name}-seq"
        )
        overrides["lr"] = c[3].number_input(
            "Learning rate", min_value=1e-7, value=base.train.lr, format="%g", key=f"adv-{name}-lr"
        )
        c = st.columns(4)
        overrides["seed"] = c[0].number_input("Seed", 0, 2**31 - 1, base.train.seed, key=f"adv-{name}-seed")
        overrides["alpha"] = c[1].number_input(
            "α (input-gradient scale of the scaled arm)",
            0.1,
            1000.0,
            base.alpha,
            0.5,
            key=f"adv-{name}-alpha",
        )
        overrides["init"] = c[2].selectbox(
            "Untied reference starts",
            ("independent", "shared"),
            format_func={
                "independent": "from its own weights (as the paper)",
                "shared": "from the tied model's weights",
            }.get,
            key=f"adv-{name}-init",
            help="Shared: tied and untied differ only in tying, but the tied matrix starts as the untied "
            "input matrix, which inflates their similarity.",
        )
        overrides["data_order"] = c[3].selectbox(
            "Untied reference reads",
            ("independent", "shared"),
            format_func={
                "independent": "its own batch order (as the paper)",
                "shared": "the tied model's batches, in order",
            }.get,
            key=f"adv-{name}-order",
            help="Shared: tied and untied see the same batches in the same order, which makes them more "
            "alike than independently trained models are (about a quarter of the demo's bias).",
        )

device = ui.device()
device_note.caption(f"This server trains on **{ui.device_words(device)}** when the device is left on auto.")

config = None
try:
    candidate = preset(name, **overrides)
    candidate.validate()  # the rules the CLI and the job manager apply, in one sentence
    config = candidate
except ValueError as error:
    st.error(f"These settings cannot run: {ui.plain(error)}", icon=":material/error:")

missing_file = config is not None and config.data.corpus == "file" and not config.data.path
if config is not None and not missing_file:
    target = device if config.train.device == "auto" else config.train.device
    guess = ui.time_estimate(config, target, ui.recent_summaries())
    st.markdown(
        f"**Estimated time: {ui.duration(guess.seconds)} on {ui.device_words(target)}** ({guess.words}; "
        f"4 models × {config.train.steps:,} steps of {config.train.batch_size} × {config.model.seq_len} "
        "tokens"
        + (f", for each of {config.seeds} seeds" if config.seeds > 1 else "")
        + ", then the analysis)."
    )
elif missing_file and upload_error is None:
    st.info("Upload a UTF-8 .txt file to train on it.")

ui.host_access()
refusal = ui.over_limits(config) if config is not None else None
if refusal:
    st.warning(f"This site would not run it: {ui.plain(refusal)}.", icon=":material/block:")
st.button(  # a callback: it runs as the click's rerun begins, so a rerun that interrupts it cannot lose it
    "Start training",
    type="primary",
    key="train-start",
    disabled=config is None or missing_file or refusal is not None,
    icon=":material/play_arrow:",
    on_click=ui.start_training,
    args=(config,),
)


def cancel(job_id: str) -> None:
    ui.manager().cancel(job_id, ui.visitor())


def open_experiment(key: str) -> None:
    ui.open_results_soon(key)
    st.session_state["train_open"] = True  # the panel's run that follows this click reruns the whole app


def show_job(job, manager) -> None:
    from tieviz.figures.curves import gradient_ratio_figure, loss_figure

    cfg = job.config
    train = cfg["train"]
    where = f"{ui.plain(cfg['data']['corpus'])} · {train['steps']:,} steps · {ui.plain(train['device'])}"
    title = f"**{ui.plain(cfg['preset'])}** · {where}"
    with st.container(border=True, key=f"job-{job.id}"):
        st.markdown(title)
        if job.status == "queued":
            st.info(f"Queued: number {job.position} in line.", icon=":material/hourglass_top:")
        elif job.status == "running":
            phase = job.phase or "starting"
            detail = f"{phase}: step {job.step:,} of {job.total:,}" if job.total else f"{phase}…"
            if job.n_seeds > 1 and phase != "analysis":
                detail = f"seed {job.seed_index + 1} of {job.n_seeds} · {detail}"
            if (loss := job.latest.get("train_loss")) is not None:
                detail += f" · loss {loss:.3f}"
            st.progress(job.progress_fraction, text=detail)
            live = manager.live_metrics(job.id)
            if live:
                left, right = st.columns(2)
                loss_chart = loss_figure(live).figure.update_layout(title_text="Loss so far")
                ratio_chart = gradient_ratio_figure(
                    live, alpha=cfg["alpha"], total_steps=train["steps"]
                ).figure
                ratio_chart.update_layout(title_text="Gradient ratio so far (output / input)")
                ui.live_chart(loss_chart, f"live-loss-{job.id}", left)
                ui.live_chart(ratio_chart, f"live-ratio-{job.id}", right)
        elif job.status == "done":
            took = (job.finished_at or 0) - (job.started_at or 0)
            how = "from the cache, instantly" if took < 1 else f"in {ui.duration(took)[6:]}"
            st.success(f"Finished {how}.", icon=":material/check_circle:")
            st.button("Open this experiment", key=f"open-{job.id}", on_click=open_experiment, args=(job.key,))
        elif job.status == "failed":
            st.error(f"Training failed: {ui.plain(job.error)}", icon=":material/error:")
        elif job.status == "cancelled":
            st.warning(
                f"Cancelled: {ui.plain(job.error)}." if job.error else "Cancelled.", icon=":material/cancel:"
            )
        else:
            st.warning(f"Interrupted: {ui.plain(job.error)}", icon=":material/warning:")
        if job.status in ACTIVE:
            st.button(
                "Cancel", key=f"cancel-{job.id}", icon=":material/stop:", on_click=cancel, args=(job.id,)
            )


def jobs_panel() -> None:
    if st.session_state.pop("train_open", False):
        st.rerun()  # a full run stops this panel's timer before the results open (see tieviz.ui.opening)
    manager = ui.manager()
    me = ui.visitor()
    every = manager.jobs()  # one read of the job folder per refresh
    mine = [j for j in every if me in j.visitors][:5]
    others = sum(1 for j in every if j.status in ACTIVE and me not in j.visitors)
    if not mine:
        st.caption("No experiments started in this session yet.")
    for job in mine:  # only this visitor's: a box per job of every visitor was 206 boxes with 206 jobs
        show_job(job, manager)
    if others:
        st.caption(
            f"{others:,} other experiment{'s are' if others > 1 else ' is'} queued or running for other "
            "visitors; the queue takes turns between them and you."
        )
    last = st.session_state.get("last_job")  # the job this session started (or joined) last
    finished = next((j for j in mine if j.id == last and j.status == "done"), None)
    if finished is not None and st.session_state.get("train_opened") != last:
        st.session_state["train_opened"] = last
        ui.open_results_soon(finished.key)
        st.rerun()  # its results open by themselves, on the Overview (see tieviz.ui.opening)
    active = {j.id for j in every if j.status in ACTIVE}  # anyone's finish lists a new experiment
    if st.session_state.get("train_watching", set()) - active and not ui.opening():
        st.session_state["train_watching"] = active
        st.rerun()  # a job just finished: redraw the whole app so the sidebar picker lists it
    st.session_state["train_watching"] = active


st.subheader("Your experiments")
polling = not ui.opening() and any(j.status in ACTIVE for j in ui.recent_jobs())
st.fragment(jobs_panel, run_every=1 if polling else None)()
