"""The dashboard's shared parts: the experiment picker, figures with downloads, empty states, URL state.

The one package under tieviz/ that imports Streamlit. Pages call these helpers and the pure backend;
nothing here trains or measures anything. Heavy imports (torch, the job manager) stay inside functions,
so that opening the app is fast. Pages use the names below as `ui.<name>`:

    app_shell    inside_app, require_app, warm_imports, TRAIN_PAGE
    picker       the sidebar's experiment picker and the loaded Experiment
    display      show_figure (chart, caption, downloads), show_verdict, empty_state, link_to
    url          page state in the URL and its parsers, the visitor id
    training     the job manager, the "auto" device, start_training
    cached       cached reads of run files (metrics, bigrams, embedding sets, map layouts, drift)
    sweeps       start_sweep, point_states, resume_sweep, recorded_sweeps (pages/sweeps.py imports them)

The Streamlit-free helpers they re-export live in tieviz.catalog (the data folder) and
tieviz.estimate (the training time estimate).
"""

from tieviz.catalog import data_root
from tieviz.estimate import device_words, duration, estimate_seconds, measured_speed
from tieviz.ui.app_shell import TRAIN_PAGE, inside_app, require_app, warm_imports
from tieviz.ui.cached import (
    bigrams,
    embedding_set,
    layouts,
    records_frame,
    run_metrics,
    untied_drift,
    whole_vocabulary_stats,
)
from tieviz.ui.display import EMPTY_MESSAGE, empty_state, link_to, show_figure, show_verdict
from tieviz.ui.picker import (
    PICKER_KEY,
    Experiment,
    experiment_picker,
    recent_summaries,
    selected_experiment,
)
from tieviz.ui.training import device, manager, start_training
from tieviz.ui.url import bounded_float, bounded_int, choice, keep_in_url, parse_bool, url_state, visitor

__all__ = [
    "EMPTY_MESSAGE",
    "PICKER_KEY",
    "TRAIN_PAGE",
    "Experiment",
    "bigrams",
    "bounded_float",
    "bounded_int",
    "choice",
    "data_root",
    "device",
    "device_words",
    "duration",
    "embedding_set",
    "empty_state",
    "estimate_seconds",
    "experiment_picker",
    "inside_app",
    "keep_in_url",
    "layouts",
    "link_to",
    "manager",
    "measured_speed",
    "parse_bool",
    "records_frame",
    "require_app",
    "recent_summaries",
    "run_metrics",
    "selected_experiment",
    "show_figure",
    "show_verdict",
    "start_training",
    "untied_drift",
    "url_state",
    "visitor",
    "warm_imports",
    "whole_vocabulary_stats",
]
