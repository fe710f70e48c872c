"""The lesson in a real Chromium: presenter mode's chart text, and no request to any host but the server."""

from __future__ import annotations

import time
from urllib.parse import urlparse

import pytest

from tieviz.ui.lesson import LESSON, TOOLS

pytestmark = [pytest.mark.browser]

# Every page's address: the default page is "/", the others their script's name.
PATHS = ["/" if s.path == "pages/overview.py" else f"/{s.path[6:-3]}" for s in (*LESSON, *TOOLS)]

# The font size, in CSS pixels as drawn, of the first chart's first tick label.
FIRST_TICK_PX = """() => {
    const tick = document.querySelector('.js-plotly-plot .xtick text, .js-plotly-plot .ytick text');
    return tick ? parseFloat(getComputedStyle(tick).fontSize) : null;
}"""


def wait_for_page(page) -> None:
    page.locator("h1").first.wait_for()
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')")
    page.wait_for_load_state("networkidle")


def test_presenter_mode_draws_chart_ticks_at_18px_or_more(new_page, dashboard, artifacts):
    sizes = {}
    for query in ("", "?present=1"):
        page = new_page()
        page.goto(f"{dashboard.url}/why_tie{query}")
        wait_for_page(page)
        page.locator(".js-plotly-plot .xtick text").first.wait_for()
        sizes[query] = page.evaluate(FIRST_TICK_PX)
        if query:
            page.screenshot(path=str(artifacts / "why_tie-present.png"))
            # The sidebar starts collapsed for the projector.
            assert page.locator("[data-testid='stSidebar'][aria-expanded='true']").count() == 0
    assert sizes["?present=1"] >= 18, sizes
    assert sizes[""] < 18, sizes  # the mode, not the page, made them large


def test_no_page_requests_anything_from_another_host(new_page, dashboard):
    page = new_page()
    server = urlparse(dashboard.url).netloc
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    for path in PATHS:
        page.goto(f"{dashboard.url}{path}")
        wait_for_page(page)
    hosts = {urlparse(u).netloc for u in requested if urlparse(u).scheme in ("http", "https", "ws", "wss")}
    assert requested and server in hosts
    assert hosts == {server}, sorted(u for u in requested if urlparse(u).netloc != server)


@pytest.mark.slow
def test_a_fresh_install_shows_the_example_on_the_overview_without_a_click(browser, tmp_path, artifacts):
    """The issue's first "done when": an empty data folder, a visitor who only waits, the toy example's
    charts on the Overview (150 s on an idle 2-core machine; the timeout allows a loaded one)."""
    from tieviz.testing.server import start_dashboard, stop_dashboard

    env = {"TIEVIZ_TORCH_THREADS": "1", "TIEVIZ_EXAMPLES": "1"}
    server = start_dashboard(tmp_path / "data", artifacts / "server-examples.log", env)
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        started = time.monotonic()
        page.goto(server.url)
        page.get_by_text("training two example experiments").wait_for(timeout=60_000)
        page.locator(".st-key-chart-bias_over_training_lin_cos .js-plotly-plot").wait_for(timeout=900_000)
        print(f"the example's first chart after {time.monotonic() - started:.0f} s, no click")
        page.screenshot(path=str(artifacts / "fresh-install-overview.png"))
        context.close()
    finally:
        stop_dashboard(server)
