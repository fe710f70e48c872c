"""After a sweep, a fresh visitor still lands on the example experiment, not on the sweep's newest point.

The data folder holds the toy example (the unchanged toy preset, as a fresh install trains it) and then an
α sweep over it (α = 5, 10): its α = 10 point is the newest experiment on disk. A new visitor with no
?run= must see the example, labelled as one, and the picker must tell the entries apart.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import pytest

from tests.browser.conftest import VIEWPORT
from tests.browser.test_dashboard_browser import OVERVIEW_TITLE, assert_no_errors, picked, query, settle, shot
from tieviz.testing.server import Dashboard, start_dashboard, stop_dashboard

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def swept_site(tmp_path_factory, artifacts, browser) -> Iterator[tuple[Dashboard, str, str]]:
    """(server, the example's key, the sweep's α = 10 key) over a data folder trained in this process."""
    from dataclasses import replace

    from tieviz.config import preset
    from tieviz.experiments import measure_seeds as summarize
    from tieviz.experiments import run_analysis as results
    from tieviz.experiments.runner import resolve, run_experiment
    from tieviz.experiments.sweep import SweepConfig, run_sweep
    from tieviz.training.run_store import RunStore

    data = tmp_path_factory.mktemp("landing-data")
    store = RunStore(data / "runs")
    example = resolve(replace(preset("toy"), train=replace(preset("toy").train, device="cpu")))
    with pytest.MonkeyPatch.context() as patch:  # the lens's fit steps are not in the key: a quick lens
        patch.setattr(summarize, "lens_result", functools.partial(results.lens_result, steps=20))
        run_experiment(example, store)
        run_sweep(example, "alpha", "5,10", store)
    newest = SweepConfig(example, "alpha", (5, 10)).point(10).key()
    server = start_dashboard(data, artifacts / "landing-server.log", {"TIEVIZ_EXAMPLES": "0"})
    yield server, example.key(), newest
    stop_dashboard(server)


def test_a_fresh_visitor_lands_on_the_example_after_a_sweep(browser, swept_site, artifacts):
    server, example_key, sweep_key = swept_site
    assert sweep_key != example_key
    context = browser.new_context(viewport=VIEWPORT)  # a new visitor: no session, no ?run=
    context.set_default_timeout(120_000)
    page = context.new_page()
    page.goto(server.url)
    page.get_by_role("heading", name=OVERVIEW_TITLE).wait_for()
    settle(page)
    assert query(page, "run") == example_key, f"landed on {query(page, 'run')}, not the example"
    assert picked(page).startswith("toy · example · α 5 · 200 steps · 5 seeds from 0"), picked(page)
    assert_no_errors(page, "the Overview of the example")
    page.locator(".st-key-run").click()
    options = page.get_by_role("option").all_inner_texts()
    assert any("sweep point · α 10" in o for o in options), options
    assert len(set(options)) == len(options), options  # no two entries read alike
    shot(page, artifacts, "landing-after-sweep")
    context.close()
