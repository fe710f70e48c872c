"""Screenshots of every lesson page at 1280x800, at 1024x768 in presenter mode, and at 390x844 (a phone).

Starts the dashboard on a data folder holding a trained experiment (e.g. one made with
`python -m tieviz experiment --preset toy --runs-dir DATA/runs --out /tmp/x`), loads each page in
headless Chromium, and writes PNGs of the top of each page and of its first charts to
test-artifacts/screenshots/. It prints, per shot, the first chart's tick-label size, how far down the
first chart starts, and whether anything sticks out sideways.

    .venv/bin/python benchmarks/screenshots.py DATA [--pages overview,bigrams] [--charts 3]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tieviz.testing.server import launch_chromium, start_dashboard, stop_dashboard  # noqa: E402
from tieviz.ui.lesson import LESSON, TOOLS  # noqa: E402

OUT = ROOT / "test-artifacts" / "screenshots"
VIEWS = (("1280x800", 1280, 800, ""), ("1024x768-present", 1024, 768, "present=1"), ("390x844", 390, 844, ""))
# A phone says so in its User-Agent ("Mobi"), which is how the dashboard knows to stack chart panels.
PHONE_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile "
    "Safari/537.36"
)
PROBE = """() => {
    const tick = document.querySelector('.js-plotly-plot .xtick text, .js-plotly-plot .ytick text');
    const chart = document.querySelector('.js-plotly-plot');
    return {
        tick_px: tick ? parseFloat(getComputedStyle(tick).fontSize) : null,
        first_chart_top: chart ? Math.round(chart.getBoundingClientRect().top) : null,
        overflow_x: document.documentElement.scrollWidth > window.innerWidth,
    };
}"""


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--pages", help="comma-separated page names (default: every page)")
    parser.add_argument("--charts", type=int, default=3, help="charts shot per page (default 3)")
    args = parser.parse_args()
    names = {Path(s.path).stem: s for s in (*LESSON, *TOOLS)}
    chosen = args.pages.split(",") if args.pages else list(names)
    OUT.mkdir(parents=True, exist_ok=True)
    server = start_dashboard(args.data, OUT / "server.log", {"TIEVIZ_EXAMPLES": "0"})
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            for label, width, height, query in VIEWS:
                phone = {"user_agent": PHONE_AGENT, "is_mobile": True} if width < 640 else {}
                context = browser.new_context(viewport={"width": width, "height": height}, **phone)
                context.set_default_timeout(120_000)
                page = context.new_page()
                for name in chosen:
                    path = "" if name == "overview" else name
                    page.goto(f"{server.url}/{path}{'?' + query if query else ''}")
                    page.locator("h1").first.wait_for()
                    page.wait_for_load_state("networkidle")
                    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')")
                    page.wait_for_timeout(1500)  # Plotly's first draw
                    # Streamlit's fixed header would cover the top of each chart shot below.
                    page.add_style_tag(content="[data-testid='stHeader'] { display: none; }")
                    probe = page.evaluate(PROBE)
                    shot = OUT / f"{name}-{label}.png"
                    page.screenshot(path=str(shot))
                    print(f"{shot.name:<40} {probe}", flush=True)
                    # Streamlit scrolls inside its main block, so each chart is shot on its own, in view.
                    charts = page.locator("[class*='st-key-chart-']")
                    for index in range(min(charts.count(), args.charts)):
                        charts.nth(index).screenshot(path=str(OUT / f"{name}-{label}-chart{index + 1}.png"))
                context.close()
            browser.close()
    finally:
        stop_dashboard(server)


if __name__ == "__main__":
    main()
