"""The dashboard's shared parts: the experiment picker, figures with downloads, empty states, URL state.

The one module under tieviz/ that imports Streamlit. Pages call these helpers and the pure backend;
nothing here trains or measures anything. Heavy imports (torch, the job manager) stay inside functions,
so that opening the app is fast.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from tieviz.config import ExperimentConfig

if TYPE_CHECKING:
    import pandas as pd

    from tieviz.figures.base import CaptionedFigure
    from tieviz.jobs import JobManager
    from tieviz.runs import Run

TRAIN_PAGE = "pages/train.py"
PICKER_KEY = "run"  # widget key and URL parameter of the selected experiment
EMPTY_MESSAGE = "No experiment yet: train the toy preset in about 10 seconds."


_app = threading.local()


@contextlib.contextmanager
def inside_app() -> Iterator[None]:
    """Marks this script run as started by app.py (see `require_app`); app.py wraps `page.run()` in it."""
    _app.active = True
    try:
        yield
    finally:
        _app.active = False


def require_app() -> None:
    """Runs app.py around this page when Streamlit started the page on its own, then stops.

    Until some visitor's run has called st.navigation, a fresh server still treats a `pages/` folder
    the old way: a first visit to /maps would run pages/maps.py alone, without the page config and the
    shared sidebar. Every page calls this first.
    """
    if getattr(_app, "active", False):
        return
    import runpy

    runpy.run_path(str(Path(__file__).resolve().parent.parent / "app.py"), run_name="__main__")
    st.stop()


def data_root() -> Path:
    """$TIEVIZ_DATA, else ./data: runs in <data>/runs, jobs in <data>/jobs, uploads in <data>/uploads."""
    return Path(os.environ.get("TIEVIZ_DATA") or "data")


# ---------------------------------------------------------------- experiments on disk


@dataclass(frozen=True)
class ExperimentEntry:
    """One finished experiment summary in the run store, as the picker lists it."""

    key: str
    path: Path
    preset: str
    corpus: str
    steps: int
    device: str
    finished: float  # file modification time, seconds since the epoch

    @property
    def label(self) -> str:
        import time

        when = time.strftime("%d %b %H:%M", time.localtime(self.finished))
        return f"{self.preset} · {self.corpus} · {self.steps} steps · {when} · {self.device}"


def list_experiments(runs_dir: Path) -> list[ExperimentEntry]:
    """Readable experiment summaries under <runs>/experiments, newest first; unreadable files are skipped."""
    folder = Path(runs_dir) / "experiments"
    entries = []
    for path in folder.glob("*.json") if folder.is_dir() else []:
        try:
            summary = json.loads(path.read_text())
            config = summary["config"]
            entries.append(
                ExperimentEntry(
                    key=summary["experiment_key"],
                    path=path,
                    preset=summary.get("preset", "custom"),
                    corpus=config["data"]["corpus"],
                    steps=int(config["train"]["steps"]),
                    device=summary.get("device", "?"),
                    finished=path.stat().st_mtime,
                )
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return sorted(entries, key=lambda e: (-e.finished, e.key))


@dataclass(frozen=True)
class Experiment:
    """A loaded experiment: its summary and its three runs (tied, untied, scaled)."""

    key: str
    path: Path
    summary: dict
    runs: dict[str, Run]


def _stamp(runs_dir: Path) -> tuple:
    folder = runs_dir / "experiments"
    if not folder.is_dir():
        return ()
    return tuple(
        sorted((e.name, e.stat().st_mtime_ns) for e in os.scandir(folder) if e.name.endswith(".json"))
    )


@st.cache_data(show_spinner=False, max_entries=16)
def _experiments(runs_dir: str, stamp: tuple) -> list[ExperimentEntry]:
    return list_experiments(Path(runs_dir))


def experiments() -> list[ExperimentEntry]:
    """The finished experiments of this data folder, newest first (re-read when a file changes)."""
    runs_dir = data_root() / "runs"
    return _experiments(str(runs_dir), _stamp(runs_dir))


@st.cache_resource(show_spinner=False, max_entries=16)
def _load(path: str, mtime_ns: int) -> Experiment:
    from tieviz.experiment import load_experiment

    summary, runs = load_experiment(Path(path))
    return Experiment(summary["experiment_key"], Path(path), summary, runs)


def _chosen_key(keys: list[str]) -> str | None:
    """The picker's value, else the URL's, else the newest experiment."""
    for candidate in (st.session_state.get(PICKER_KEY), st.query_params.get(PICKER_KEY)):
        if candidate in keys:
            return candidate
    return keys[0] if keys else None


def experiment_picker() -> Experiment | None:
    """The sidebar's experiment picker (shared by every page); keeps the choice in the URL as ?run=KEY."""
    entries = experiments()
    by_key = {e.key: e for e in entries}
    with st.sidebar:
        st.markdown("### Experiment")
        if not entries:
            st.caption("No finished experiment yet.")
            st.page_link(TRAIN_PAGE, label="Train one", icon=":material/play_arrow:")
            return None
        st.session_state[PICKER_KEY] = _chosen_key(list(by_key))
        key = st.selectbox(
            "Finished experiments, newest first",
            list(by_key),
            format_func=lambda k: by_key[k].label,
            key=PICKER_KEY,
            help="preset · corpus · steps · finished at · device it trained on",
        )
        st.caption(f"device: {by_key[key].device} · key `{key}`")
    if st.query_params.get(PICKER_KEY) != key:
        st.query_params[PICKER_KEY] = key
    return load_entry(by_key[key])


def load_entry(entry: ExperimentEntry) -> Experiment | None:
    try:
        return _load(str(entry.path), entry.path.stat().st_mtime_ns)
    except (OSError, ValueError, KeyError) as error:
        st.sidebar.error(f"This experiment cannot be opened: {error}")
        return None


def selected_experiment() -> Experiment | None:
    """The experiment the sidebar picked (or the URL names, or the newest) without drawing anything."""
    entries = {e.key: e for e in experiments()}
    key = _chosen_key(list(entries))
    return load_entry(entries[key]) if key else None


def empty_state(what: str = "") -> None:
    """A friendly "train something first" notice with a link to the Train page, instead of an error."""
    st.info(f"{EMPTY_MESSAGE} {what}".strip(), icon=":material/info:")
    st.page_link(TRAIN_PAGE, label="Go to Train", icon=":material/play_arrow:")


@st.cache_resource(show_spinner=False)
def warm_imports() -> None:
    """Imports torch and the figure modules in the background once per server, before a page needs them."""
    import threading

    def load() -> None:
        import tieviz.figures.curves  # noqa: F401  (pulls in torch through tieviz.summary)
        import tieviz.train  # noqa: F401

    threading.Thread(target=load, name="tieviz-warm-imports", daemon=True).start()


# ---------------------------------------------------------------- figures and downloads


def _browser_found() -> bool:
    """Whether kaleido can find Chrome/Chromium to draw PNGs (it downloads nothing here)."""
    import shutil

    if os.environ.get("BROWSER_PATH"):
        return True
    names = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
    return any(shutil.which(name) for name in names)


def _data_bytes(data: Any) -> tuple[Callable[[], bytes], str, str]:
    """(deferred bytes, extension, mime) for a DataFrame (CSV) or anything JSON can hold."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return (lambda: data.to_csv(index=False).encode()), "csv", "text/csv"
    return (lambda: json.dumps(data, indent=2, default=_jsonable).encode()), "json", "application/json"


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def show_figure(
    captioned: CaptionedFigure, data: dict | pd.DataFrame | None = None, key: str | None = None
) -> None:
    """The chart, its "how to read this" caption, and downloads of the figure (HTML, PNG) and its data.

    Files are produced only when a button is clicked, so a page with many figures renders fast.
    The HTML file embeds plotly.js, so it opens offline. `key` (default: the figure's name) makes the
    chart findable as `chart-<key>` and the buttons as `dl-html-<key>`, `dl-png-<key>`, `dl-data-<key>`.
    """
    key = key or captioned.name
    figure, name = captioned.figure, captioned.name
    st.plotly_chart(figure, key=f"chart-{key}", theme=None, width="stretch")
    st.caption(captioned.caption)
    row = st.container(horizontal=True, key=f"downloads-{key}", gap="small")
    row.download_button(
        "HTML",
        data=lambda: figure.to_html(include_plotlyjs=True, full_html=True).encode(),
        file_name=f"{name}.html",
        mime="text/html",
        key=f"dl-html-{key}",
        help="The interactive figure as one HTML file that opens offline",
        icon=":material/download:",
        on_click="ignore",
    )
    if _browser_found():
        row.download_button(
            "PNG",
            data=lambda: figure.to_image(format="png", scale=2),
            file_name=f"{name}.png",
            mime="image/png",
            key=f"dl-png-{key}",
            help="The figure as a PNG image (drawn on the server when clicked; takes a few seconds)",
            icon=":material/image:",
            on_click="ignore",
        )
    else:
        row.button(
            "PNG",
            key=f"dl-png-{key}",
            disabled=True,
            help="PNG export needs Chrome or Chromium on the server (kaleido draws with it); use HTML",
        )
    if data is not None:
        produce, extension, mime = _data_bytes(data)
        row.download_button(
            extension.upper(),
            data=produce,
            file_name=f"{name}.{extension}",
            mime=mime,
            key=f"dl-data-{key}",
            help="The numbers behind the figure",
            icon=":material/table:",
            on_click="ignore",
        )


def link_to(page: str, label: str, experiment: Experiment | None) -> None:
    """A link to another page that keeps the selected experiment."""
    params = {PICKER_KEY: experiment.key} if experiment is not None else None
    st.page_link(page, label=label, icon=":material/arrow_forward:", query_params=params)


# ---------------------------------------------------------------- page state in the URL


def url_state(key: str, default: Any, parse: Callable[[str], Any] = str) -> None:
    """Seeds widget state `key` from ?key=... once per session (bad values fall back to `default`)."""
    if key in st.session_state:
        return
    raw = st.query_params.get(key)
    try:
        st.session_state[key] = parse(raw) if raw is not None else default
    except (TypeError, ValueError):
        st.session_state[key] = default


def keep_in_url(*keys: str) -> None:
    """Writes the current values of these widget keys to the URL, so a shared link opens the same view."""
    for key in keys:
        value = st.session_state.get(key)
        text = "" if value is None else (str(value).lower() if isinstance(value, bool) else str(value))
        if st.query_params.get(key) != text:
            st.query_params[key] = text


def parse_bool(raw: str) -> bool:
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"not a yes/no value: {raw!r}")


def choice(options: tuple[str, ...]) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in options:
            raise ValueError(f"{raw!r} is not one of {options}")
        return raw

    return parse


# ---------------------------------------------------------------- jobs, visitor, device


def visitor() -> str:
    """This browser session's id, kept in the URL (?visitor=...) so a reload still finds its jobs."""
    if "visitor" not in st.session_state:
        raw = st.query_params.get("visitor", "")
        st.session_state["visitor"] = raw if re.fullmatch(r"[a-z0-9]{8,32}", raw) else uuid.uuid4().hex[:12]
    if st.query_params.get("visitor") != st.session_state["visitor"]:
        st.query_params["visitor"] = st.session_state["visitor"]
    return st.session_state["visitor"]


@st.cache_resource(show_spinner="Starting the training queue…")
def _manager(root: str) -> JobManager:
    from tieviz.jobs import JobManager, Limits, default_manager

    manager = default_manager()
    if manager.root.resolve() == Path(root).resolve():
        return manager
    return JobManager(Path(root), limits=Limits.from_env())  # the data folder moved since start (tests)


def manager() -> JobManager:
    """The job manager of this data folder, shared by every session of this server."""
    return _manager(str(data_root()))


@st.cache_resource(show_spinner="Looking for a GPU…")
def device() -> str:
    """The device "auto" trains on here: cuda, mps or cpu (imports torch, so called lazily)."""
    from tieviz.train import resolve_device

    return resolve_device("auto")


def start_training(config: ExperimentConfig) -> bool:
    """Submits the experiment for this visitor; shows why not (a limit, a bad setting) and returns False."""
    from tieviz.jobs import LimitError

    try:
        job = manager().submit(config, visitor())
    except LimitError as error:
        st.error(f"Not started: {error}.", icon=":material/block:")
        return False
    except ValueError as error:
        st.error(f"Not started: {error}", icon=":material/error:")
        return False
    st.session_state["last_job"] = job.id
    return True


# ---------------------------------------------------------------- cached reads of run files


@st.cache_data(show_spinner=False, max_entries=8)
def _metrics(run_dirs: tuple[tuple[str, str], ...]) -> dict[str, list[dict]]:
    from tieviz.runs import Run

    return {name: Run(Path(path)).metrics() for name, path in run_dirs}


def run_metrics(experiment: Experiment) -> dict[str, list[dict]]:
    """Per arm, the step records of metrics.jsonl (train_loss, grad_ratio, val_loss, ...)."""
    return _metrics(tuple((name, str(run.path)) for name, run in experiment.runs.items()))


def records_frame(metrics: dict[str, list[dict]]) -> pd.DataFrame:
    """One row per (arm, step) record, for the data downloads of the curve figures."""
    import pandas as pd

    return pd.DataFrame([{"arm": arm, **record} for arm, records in metrics.items() for record in records])


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """A URL parser for a whole number in [low, high]; anything else falls back to the default."""

    def parse(raw: str) -> int:
        value = int(raw)
        if not low <= value <= high:
            raise ValueError(f"{value} is outside [{low}, {high}]")
        return value

    return parse


def bounded_float(low: float, high: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        value = float(raw)
        if not low <= value <= high:
            raise ValueError(f"{value} is outside [{low}, {high}]")
        return value

    return parse


@st.cache_data(show_spinner="Comparing the direct paths with the corpus's bigrams…", max_entries=16)
def _bigrams(key: str, run_dirs: tuple[tuple[str, str], ...], k: int):
    from tieviz.results import bigram_comparison
    from tieviz.runs import Run

    return bigram_comparison({name: Run(Path(path)) for name, path in run_dirs}, k)


def bigrams(experiment: Experiment, k: int):
    """`tieviz.results.bigram_comparison` over the k most frequent tokens, cached per experiment and k."""
    return _bigrams(experiment.key, tuple((n, str(r.path)) for n, r in experiment.runs.items()), k)


@st.cache_data(show_spinner=False, max_entries=16)
def _embedding_set(key: str, run_dirs: tuple[tuple[str, str], ...], n: int):
    from tieviz.results import embedding_set
    from tieviz.runs import Run

    return embedding_set({name: Run(Path(path)) for name, path in run_dirs}, n)


def embedding_set(experiment: Experiment, n: int):
    """The tied, untied-input, untied-output and scaled matrices over the n most frequent tokens."""
    return _embedding_set(experiment.key, tuple((n_, str(r.path)) for n_, r in experiment.runs.items()), n)


@st.cache_data(show_spinner=False, max_entries=32)
def _layouts(key: str, cache_dir: str, n: int, names: tuple[str, ...], method: str, _matrices: dict):
    from tieviz.analysis.maps import cached_embedding_maps

    return cached_embedding_maps(Path(cache_dir), {name: _matrices[name] for name in names}, method, seed=0)


def layouts(experiment: Experiment, n: int, names: tuple[str, ...], method: str) -> dict:
    """Aligned 2-D layouts of the named matrices (PCA instantly; UMAP cached on disk in the untied run)."""
    matrices = embedding_set(experiment, n).matrices
    cache_dir = experiment.runs["untied"].analysis_dir("maps")
    return _layouts(experiment.key, str(cache_dir), n, names, method, matrices)


# ---------------------------------------------------------------- training time estimate

# (seconds of fixed cost per step, effective floating-point operations per second) by device kind.
# Conservative: measured on a shared, loaded 2-core CPU; a GPU is assumed to reach a small share of its peak.
SPEED = {"cpu": (0.08, 7e9), "mps": (0.05, 1e11), "cuda": (0.02, 2e12)}
ANALYSIS_SECONDS = {"cpu": 20.0, "mps": 10.0, "cuda": 5.0}  # bias, bigrams and the lens after training


def measured_speed(summaries: list[dict], config: ExperimentConfig, device: str) -> float | None:
    """Mean training tokens/s of an earlier experiment of the same shape on the same device, if any."""
    shape = (config.model, config.data.vocab_size, config.train.batch_size)
    for summary in summaries:
        try:
            earlier = ExperimentConfig.from_dict(summary["config"])
            same = (earlier.model, earlier.data.vocab_size, earlier.train.batch_size) == shape
            if same and summary.get("device") == device:
                speeds = [arm["tokens_per_second"] for arm in summary["arms"].values()]
                return sum(speeds) / len(speeds)
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            continue
    return None


def estimate_seconds(config: ExperimentConfig, device: str, tokens_per_second: float | None = None) -> float:
    """Rough wall time of an experiment: three arms of `steps` steps, then the analysis.

    From a measured speed when one is given, else from ~6 x parameters x tokens operations per step.
    """
    from tieviz.jobs.limits import estimate_params

    kind = device if device in SPEED else "cpu"
    tokens_per_step = config.train.batch_size * config.model.seq_len
    if tokens_per_second:
        per_step = tokens_per_step / tokens_per_second
    else:
        overhead, flops = SPEED[kind]
        per_step = overhead + 6 * estimate_params(config) * tokens_per_step / flops
    return 3 * config.train.steps * per_step + ANALYSIS_SECONDS[kind]


def duration(seconds: float) -> str:
    """'about 40 s', 'about 3 min', 'about 1.5 h'."""
    if seconds < 90:
        return f"about {max(5, round(seconds / 5) * 5):.0f} s"
    if seconds < 5400:
        return f"about {seconds / 60:.0f} min"
    return f"about {seconds / 3600:.1f} h"


def device_words(device: str) -> str:
    return {"cuda": "GPU (cuda)", "mps": "Apple GPU (mps)"}.get(device, "CPU")
