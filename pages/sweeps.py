"""Sweeps: one experiment per value of α, width, depth or steps; watch the points fill in; read the curve.

Each point is an ordinary experiment job (see the Train page), so points run on the job layer's workers and
any point trained before is reused. The page records the sweep, queues its points and polls.
"""

import pandas as pd
import streamlit as st

from tieviz import ui
from tieviz.analysis.measures import MEASURE_NAMES
from tieviz.analysis.verdicts import Verdict
from tieviz.config import PRESETS, preset
from tieviz.experiments.sweep import AXES, SweepConfig, collect_sweep, sweep_rows
from tieviz.jobs.store import ACTIVE as JOB_ACTIVE
from tieviz.ui.sweeps import SWEEP_KEY, point_states, recorded_sweeps, resume_sweep, start_sweep

ui.require_app()

DEFAULT_VALUES = {
    "alpha": "0.5, 1, 2, 5, 10",
    "d_model": "16, 32, 64",
    "n_layers": "1, 2, 3",
    "steps": "50, 100, 200",
}
ACTIVE = (*JOB_ACTIVE, "waiting")  # a point this session will queue once its queue has room

st.title("Sweeps: the bias along α and along scale")
st.markdown(
    "A sweep trains one experiment per value of one setting and draws the paper's bias against it, with a "
    "95 % interval over seeds at every point. Along **α** (the causal test) the tied model's input-path "
    "gradient is scaled up: the paper predicts the bias falls. Along **width, layers or steps** it asks "
    "whether the bias holds, grows or shrinks with scale. Every point is an ordinary experiment: an α sweep "
    "trains each seed's tied and untied models once and shares them between its points, and points trained "
    "before are reused."
)
ui.define("sweep", "chance_floor", "baseline")

with st.container(border=True):
    left, middle, right = st.columns(3)
    name = left.radio("Preset", tuple(PRESETS), key="sweep_preset", horizontal=True)
    axis = middle.selectbox("Axis", tuple(AXES), format_func=AXES.get, key="sweep_axis")
    values_text = right.text_input(
        "Values (comma-separated)", DEFAULT_VALUES[axis], key=f"sweep_values_{axis}"
    )
    c = st.columns(3)
    base = PRESETS[name]
    seeds = c[0].number_input("Seeds per point", 1, 20, 3, key="sweep_seeds", help="3 or more give intervals")
    steps = None
    if axis != "steps":
        steps = c[1].number_input(
            "Steps per model", 1, 1_000_000, base.train.steps, 10, key=f"sweep_steps_{name}"
        )
    device = c[2].selectbox("Device", ("auto", "cpu", "cuda", "mps"), key="sweep_device")
    sweep = None
    try:
        sweep = SweepConfig(preset(name, seeds=seeds, steps=steps, device=device), axis, values_text)
    except ValueError as error:
        st.error(f"This sweep cannot run: {ui.plain(error)}", icon=":material/error:")
    if sweep is not None:
        st.caption(
            f"{len(sweep.values)} points × {seeds} seed{'s' if seeds != 1 else ''}; {AXES[axis]} = "
            + ", ".join(f"{v:g}" for v in sweep.values)
        )
    st.button(  # a callback, as Train's Start: a rerun right after the click cannot lose it
        "Start sweep",
        type="primary",
        key="sweep-start",
        disabled=sweep is None,
        icon=":material/play_arrow:",
        on_click=start_sweep,
        args=(sweep,),
    )

sweeps = recorded_sweeps()
if not sweeps:
    st.caption(
        "No sweeps yet: start one above. Sweeps started here or by `python -m tieviz sweep` are listed here."
    )
    st.stop()

by_key = {s.key(): s for s in sweeps}
ui.url_state(SWEEP_KEY, sweeps[0].key())
if st.session_state.get(SWEEP_KEY) not in by_key:
    st.session_state[SWEEP_KEY] = sweeps[0].key()


def label(key: str) -> str:
    s = by_key[key]
    return (
        f"{s.base.preset} · {AXES[s.axis]} = {', '.join(f'{v:g}' for v in s.values)} · "
        f"{s.base.seeds} seed{'s' if s.base.seeds != 1 else ''}"
    )


st.subheader("Sweep")
chosen = by_key[
    st.selectbox("Sweep", list(by_key), format_func=label, key=SWEEP_KEY, label_visibility="collapsed")
]
ui.keep_in_url(SWEEP_KEY)
measure = st.selectbox(
    "Measure",
    tuple(MEASURE_NAMES),
    format_func=MEASURE_NAMES.get,
    key="sweep_measure",
    help="The paper's headline is the linear-map cosine; the verdict is read on it.",
)


def sweep_panel() -> None:
    from tieviz.figures.sweep import sweep_figure

    points = point_states(chosen)
    record = collect_sweep(chosen, ui.manager().runs)
    done = len(record["points"])
    if done < len(points):
        running = [p for p in points if p.status in ACTIVE]
        st.progress(
            done / len(points), text=f"{done} of {len(points)} points finished; {len(running)} to come"
        )
    for point in points:
        if point.status in ("failed", "cancelled", "interrupted"):
            st.error(
                f"{AXES[chosen.axis]} = {point.value:g}: {point.status}. {ui.plain(point.error or '')}",
                icon=":material/error:",
            )
    if done >= 2:
        ui.show_verdict(Verdict(record["verdict"]["status"], record["verdict"]["text"]))
    ui.show_figure(sweep_figure(record, measure), data=pd.DataFrame(sweep_rows(record)), key="sweep")
    active = any(p.status in ACTIVE for p in points)
    was_active = st.session_state.get("sweep_was_active", False)
    st.session_state["sweep_was_active"] = active
    if was_active and not active:
        st.rerun()  # the last point finished: a full run stops this panel's polling


states = point_states(chosen)
missing = [p for p in states if p.status == "missing"]
if missing:
    st.warning(
        f"{len(missing)} point(s) of this sweep are neither stored nor queued (it was started elsewhere and "
        "not finished).",
        icon=":material/warning:",
    )
    st.button("Train the missing points", key="sweep-resume", on_click=resume_sweep, args=(chosen,))
polling = any(p.status in ACTIVE for p in states)
st.fragment(sweep_panel, run_every=2 if polling else None)()
