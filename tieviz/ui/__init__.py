"""The dashboard's shared parts: the experiment picker, figures with downloads, empty states, URL state.

The one package under tieviz/ that imports Streamlit. Pages call these helpers and the pure backend;
nothing here trains or measures anything. Heavy imports (torch, the job manager) stay inside functions,
so that opening the app is fast. Pages use the names below as `ui.<name>`:

    app_shell    inside_app, require_app, warm_imports, TRAIN_PAGE
    picker       the sidebar's experiment picker and the loaded Experiment
    display      show_figure (chart, caption, downloads), show_verdict, empty_state, link_to
    text         plain: the one way text from outside (uploads, configs, tokens, URLs) meets Markdown
    examples     the example experiments a fresh install trains by itself, and the Overview's notice
    lesson       the pages in the lesson's order, the tools apart, the "Next" link
    presenter    presenter mode (?present=1), the page config
    url          page state in the URL (view state only) and its parsers
    identity     the session's visitor id, host access by the host's token
    training     the job manager, the "auto" device, start_training
    opening      opening a finished experiment on the Overview from the Train page (results_opener)
    cached       cached reads of run files (metrics, bigrams, embedding sets, map layouts, drift)
    sweeps       start_sweep, point_states, resume_sweep, recorded_sweeps (pages/sweeps.py imports them)

The Streamlit-free helpers they re-export live in tieviz.experiments.catalog (the data folder),
tieviz.experiments.resources (how to say a duration) and tieviz.experiments.time_estimate (the training time
estimate from earlier runs here, which training.time_estimate feeds with what the data folder already holds).
"""

from tieviz.experiments.catalog import data_root
from tieviz.experiments.resources import device_words, duration
from tieviz.ui.app_shell import TRAIN_PAGE, inside_app, require_app, warm_imports
from tieviz.ui.cached import (
    bigrams,
    embedding_set,
    layouts,
    records_frame,
    run_metrics,
    umap_estimate,
    untied_drift,
    whole_vocabulary_stats,
)
from tieviz.ui.display import (
    EMPTY_MESSAGE,
    define,
    empty_state,
    link_to,
    live_chart,
    show_figure,
    show_verdict,
)
from tieviz.ui.examples import examples_notice, start_examples_once
from tieviz.ui.identity import host_access, visitor
from tieviz.ui.lesson import begin_page, navigation_sections, next_link
from tieviz.ui.opening import open_results_soon, opening, results_opener
from tieviz.ui.picker import (
    PICKER_KEY,
    Experiment,
    experiment_picker,
    open_next_run,
    recent_summaries,
    selected_experiment,
)
from tieviz.ui.presenter import page_config, presenter_toggle
from tieviz.ui.text import plain
from tieviz.ui.training import (
    device,
    manager,
    over_limits,
    preset_duration,
    recent_jobs,
    start_training,
    time_estimate,
)
from tieviz.ui.url import bounded_float, bounded_int, choice, keep_in_url, parse_bool, url_state

__all__ = [
    "EMPTY_MESSAGE",
    "begin_page",
    "navigation_sections",
    "next_link",
    "page_config",
    "presenter_toggle",
    "PICKER_KEY",
    "TRAIN_PAGE",
    "Experiment",
    "bigrams",
    "bounded_float",
    "bounded_int",
    "choice",
    "data_root",
    "define",
    "device",
    "device_words",
    "duration",
    "embedding_set",
    "empty_state",
    "examples_notice",
    "time_estimate",
    "preset_duration",
    "experiment_picker",
    "host_access",
    "inside_app",
    "keep_in_url",
    "layouts",
    "link_to",
    "live_chart",
    "manager",
    "open_next_run",
    "open_results_soon",
    "opening",
    "over_limits",
    "parse_bool",
    "plain",
    "records_frame",
    "require_app",
    "results_opener",
    "recent_jobs",
    "recent_summaries",
    "run_metrics",
    "selected_experiment",
    "show_figure",
    "show_verdict",
    "start_examples_once",
    "start_training",
    "umap_estimate",
    "untied_drift",
    "url_state",
    "visitor",
    "warm_imports",
    "whole_vocabulary_stats",
]
