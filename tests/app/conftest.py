"""Helpers for AppTest tests of the dashboard: open app.py on a page with a chosen data folder."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tieviz.ui.lesson import LESSON, TOOLS

APP = str(Path(__file__).resolve().parents[2] / "app.py")
# Every page, from the lesson's own definition: a new page is tested as soon as the app shows it.
STEPS = tuple({s.path: s for s in (*LESSON, *TOOLS)}.values())
PAGES = tuple(s.path for s in STEPS)
# Pages that need no trained experiment.
STANDALONE_PAGES = tuple(s.path for s in STEPS if not s.analyses)
# Pages that analyse a trained experiment, and so show the empty state without one.
ANALYSIS_PAGES = tuple(s.path for s in STEPS if s.analyses)


@pytest.fixture
def open_app(monkeypatch) -> Callable[..., AppTest]:
    """open_app(data_dir, page=None, query=None) -> an AppTest that has rendered that page once.

    The examples a fresh install trains by itself stay off unless `examples="1"`.
    """

    def open_page(
        data: Path, page: str | None = None, query: dict | None = None, examples: str = "0"
    ) -> AppTest:
        monkeypatch.setenv("TIEVIZ_DATA", str(data))
        monkeypatch.setenv("TIEVIZ_EXAMPLES", examples)
        at = AppTest.from_file(APP, default_timeout=120)
        at.query_params.update(query or {})
        at.run()
        if page is not None and page != "pages/overview.py":
            at.switch_page(page)
            at.run()
        return at

    return open_page


@pytest.fixture(scope="session")
def toy_data(tmp_path_factory) -> tuple[Path, dict]:
    """A data folder holding one tiny trained experiment of two seeds: (data dir, its summary).

    The tuned lens is fitted with 20 steps instead of 250: the pages only read its numbers.
    """
    return _trained_data(tmp_path_factory.mktemp("app-data"), seeds=2)


@pytest.fixture(scope="session")
def one_seed_data(tmp_path_factory) -> tuple[Path, dict]:
    """A data folder holding a tiny single-seed experiment, as a new user's first quick run."""
    return _trained_data(tmp_path_factory.mktemp("app-data-one-seed"), seeds=1)


def _trained_data(data: Path, seeds: int):
    from tieviz.config import preset
    from tieviz.experiments import measure_seeds as summarize
    from tieviz.experiments import run_analysis as results
    from tieviz.experiments.runner import run_experiment
    from tieviz.training.run_store import RunStore

    config = preset(
        "toy", steps=10, batch_size=4, d_model=16, n_heads=2, toy_tokens=8000, device="cpu", seeds=seeds
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(summarize, "lens_result", functools.partial(results.lens_result, steps=20))
        return data, run_experiment(config, RunStore(data / "runs")).to_dict()


def seen(markdown: str) -> str:
    """What a reader sees of a Markdown string that escapes outside text (`tieviz.ui.plain`)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace("\u2060", "")


def errors(at: AppTest) -> list[str]:
    """The error boxes' text as a reader sees it."""
    return [seen(e.value) for e in at.error]


def chart_keys(at: AppTest) -> list[str]:
    return [c.proto.id for c in at.get("plotly_chart")]
