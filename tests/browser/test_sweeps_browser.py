"""The Sweeps page in a real Chromium: start a tiny α sweep (α = 1, 2; one seed; 10 steps), watch its points
run as jobs, and see its chart drawn with both points and the verdict beside it.
"""

from __future__ import annotations

import pytest

from tests.browser.test_dashboard_browser import (
    TRAIN_TIMEOUT_S,
    assert_no_errors,
    open_page,
    set_number,
    settle,
    shot,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BIAS_TRACE = "scaled bias (out − in)"
# True once Plotly has drawn the sweep's bias line through both points (_fullData holds decoded arrays).
BOTH_POINTS = """name => { const el = document.querySelector('.st-key-chart-sweep .js-plotly-plot');
    const t = el && (el._fullData || []).find(d => d.name === name);
    return !!t && t._length === 2 && el.querySelectorAll('g.trace').length > 0; }"""


def test_start_a_tiny_sweep_and_see_its_chart(new_page, dashboard, artifacts):
    page = new_page()
    page.goto(dashboard.url)
    page.locator("h1").first.wait_for()
    open_page(page, "Sweeps", "/sweeps", "Sweeps")
    values = page.locator(".st-key-sweep_values_alpha input")
    values.fill("1, 2")
    values.press("Enter")
    page.get_by_text("2 points × 3 seeds").wait_for()
    settle(page)
    set_number(page, "sweep_seeds", 1)
    set_number(page, "sweep_steps_toy", 10)
    page.get_by_text("2 points × 1 seed;").wait_for()
    assert_no_errors(page, "the Sweeps page")
    page.locator(".st-key-sweep-start button").click()
    try:
        page.wait_for_function(BOTH_POINTS, arg=BIAS_TRACE, timeout=TRAIN_TIMEOUT_S * 1000)
    except Exception as error:  # Playwright's TimeoutError; say what the page shows
        shot(page, artifacts, "sweep-timeout")
        raise AssertionError("the sweep's chart never showed both points") from error
    settle(page)
    page.get_by_text("linear-map bias went from").first.wait_for()  # the verdict
    assert page.locator(".st-key-dl-html-sweep").count() == 1
    assert_no_errors(page, "the Sweeps page after the sweep")
    shot(page, artifacts, "20-sweep-finished")
