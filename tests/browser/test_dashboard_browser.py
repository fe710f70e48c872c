"""The dashboard in a real Chromium: train through the Train page, then every analysis page draws its charts;
two visitors train different experiments at once and each sees its own.

Each experiment is the toy preset cut to a few steps (10-20 s of training and analysis on two cores); both
tests take about a minute together. Screenshots of every page go to test-artifacts/browser/.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

import pytest

from tieviz.jobs.store import JobStore
from tieviz.testing.server import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TRAIN_TIMEOUT_S = 300  # two experiments at once on a loaded two-core CI machine
SUBMIT_TIMEOUT_S = 60  # from a click on Start to the job in the job store
OVERVIEW_TITLE = "Weight tying shapes embeddings for output"

# Sidebar label, path, words of the page's title, and the charts it must draw (`chart-<name>` keys).
PAGES = (
    (
        "Bigram symmetry",
        "/bigrams",
        "Bigram symmetry",
        ("symmetry-explorer", "bigram_heatmaps", "bigram_asymmetry"),
    ),
    ("Embedding maps", "/maps", "Embedding maps", ("embedding-maps", "bias_over_training_lin_cos")),
    ("Gradients", "/gradients", "Gradients", ("gradient_ratio", "gradient_share", "loss")),
    ("Tuned lens", "/lens", "Tuned lens", ("lens_kl", "lens_contributions")),
)
OVERVIEW_CHARTS = ("bias_over_training_lin_cos", "gradient_ratio", "loss")
JOBS = "[class*='st-key-job-']"  # one bordered container per job in the Train page's live panel
# Records in the page every job whose live loss chart was ever drawn: a short job's chart can come and go
# between two looks at the panel.
WATCH_LIVE = """() => {
    window.liveCharts = window.liveCharts || [];
    const look = () => document.querySelectorAll("[class*='st-key-live-loss-']").forEach(box => {
        const key = [...box.classList].find(c => c.startsWith('st-key-live-loss-'));
        const drawn = box.querySelector('.js-plotly-plot');
        if (drawn && !window.liveCharts.includes(key)) window.liveCharts.push(key);
    });
    new MutationObserver(look).observe(document.body, {childList: true, subtree: true});
    look();
}"""

# True once Plotly has drawn data into the element: traces, an SVG, marks (lines, points, heatmap images or
# WebGL canvases) and a real size.
DRAWN = """el => !!el && (el.data || []).length > 0
    && el.querySelectorAll('svg.main-svg').length > 0
    && el.querySelectorAll('g.trace, g.hm image, image, canvas').length > 0
    && el.getBoundingClientRect().height > 100"""


def href(page) -> str:
    """The address bar; Playwright's page.url stays stale after Streamlit switches pages."""
    return page.evaluate("location.href")


def query(page, name: str) -> str | None:
    return parse_qs(urlparse(href(page)).query).get(name, [None])[0]


def picked(page) -> str:
    """The label of the experiment the sidebar picker shows."""
    return page.locator(".st-key-run input").input_value()


def settle(page) -> None:
    """Waits until the current script run has replaced every element of the previous one."""
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')")


def assert_no_errors(page, where: str) -> None:
    for test_id in ("stException", "stAlertContentError"):
        shown = page.locator(f"[data-testid='{test_id}']").all_inner_texts()  # no waiting, no race
        assert not shown, f"{where} shows an error: {shown}"


def assert_charts(page, names: tuple[str, ...], where: str) -> None:
    for name in names:
        selector = f".st-key-chart-{name} .js-plotly-plot"
        page.locator(selector).wait_for(state="visible", timeout=90_000)
        try:
            page.wait_for_function(f"s => ({DRAWN})(document.querySelector(s))", arg=selector, timeout=30_000)
        except Exception as error:  # Playwright's TimeoutError; say which chart
            raise AssertionError(f"{where}: the chart {name!r} has no drawn data") from error


def open_page(page, label: str, path: str, title: str) -> None:
    """Follows the sidebar link and waits for the new page to have rendered."""
    page.locator("[data-testid='stSidebarNav'] a", has_text=label).click()
    page.wait_for_function("p => location.pathname.endsWith(p)", arg=path)
    page.locator("h1", has_text=title).wait_for()
    settle(page)


def set_number(page, key: str, value: int) -> None:
    box = page.locator(f".st-key-{key} input")
    box.fill(str(value))
    box.press("Enter")
    page.wait_for_function(
        "([s, v]) => document.querySelector(s)?.value === v", arg=[f".st-key-{key} input", str(value)]
    )
    settle(page)


def shot(page, artifacts, name: str) -> None:
    page.wait_for_timeout(300)  # let Plotly finish its transitions
    page.screenshot(path=str(artifacts / f"{name}.png"))


@dataclass
class Visitor:
    """One browser session on the Train page with the job it started."""

    page: object
    steps: int
    seed: int
    job: str = ""
    saw_live: bool = False  # its own job's live loss chart was drawn while it trained (see WATCH_LIVE)
    saw_other: str = ""  # the title of another visitor's job, if this page ever listed one
    opened_itself: bool = False  # the Overview opened with no click when the job finished

    def configure(self, base_url: str) -> None:
        """Opens the app, goes to Train, picks the toy preset and cuts it to `steps` steps and `seed`."""
        page = self.page
        page.goto(base_url)
        page.locator("h1").first.wait_for()
        open_page(page, "Train", "/train", "Train tied and untied twins")
        page.locator(".st-key-train_preset label", has_text="Toy").click()
        page.locator(".st-key-train_advanced label").click()
        page.locator(".st-key-adv-toy-steps input").wait_for()
        set_number(page, "adv-toy-steps", self.steps)
        set_number(page, "adv-toy-seed", self.seed)
        set_number(page, "train-toy-seeds", 1)  # one seed keeps two visitors' jobs short
        page.get_by_text(f"4 models × {self.steps} steps").wait_for()  # the estimate uses these settings
        assert_no_errors(page, "the Train page")

    def start(self) -> None:
        self.page.evaluate(WATCH_LIVE)
        self.page.locator(".st-key-train-start button").click()

    def snapshot(self) -> dict[str, str]:
        """Every job panel on the page, job id to text, read in one step.

        One JavaScript call, so a panel that re-renders or disappears (another visitor's job finishing)
        between two separate Playwright calls cannot stall or fail the look."""
        pairs = self.page.locator(JOBS).evaluate_all("els => els.map(e => [e.className, e.innerText])")
        panels = {}
        for classes, text in pairs:
            key = next(c for c in classes.split() if c.startswith("st-key-job-"))
            panels[key[len("st-key-job-") :]] = text
        return panels

    def poll(self) -> bool:
        """One look at the live panel; True once this visitor's job has finished.

        A finished training opens its results by itself: the page switching to the Overview is done too.
        """
        if self.page.locator("h1", has_text=OVERVIEW_TITLE).count() and (
            self.job or f"{self.steps} steps" in picked(self.page)
        ):  # a short job can finish and open its results before a look at the panel ever saw it
            self.opened_itself = True
            return True
        panels = self.snapshot()
        if not self.job:
            mine = [
                job
                for job, text in panels.items()
                if f"{self.steps} steps" in text and "another visitor" not in text
            ]
            if not mine:
                return False
            self.job = mine[0]
        text = panels.get(self.job, "")
        if not text.strip():  # between two renders of the live panel
            return False
        assert f"{self.steps} steps" in text and "another visitor" not in text, text
        for word in ("Training failed", "Cancelled", "Interrupted"):
            assert word not in text, f"the job ended badly: {text}"
        others = [text for job, text in panels.items() if job != self.job and "another visitor" in text]
        if others:
            self.saw_other = others[0]
        assert_no_errors(self.page, "the Train page while training")
        return "Finished" in text


def train_until_done(visitors: list[Visitor], jobs_dir) -> None:
    for visitor in visitors:
        visitor.start()
    deadline = time.monotonic() + TRAIN_TIMEOUT_S
    submitted_by = time.monotonic() + SUBMIT_TIMEOUT_S
    while missing := [v for v in visitors if not _submitted(v, jobs_dir)]:  # each click queued a job
        if time.monotonic() > submitted_by:
            raise AssertionError(f"no job was queued {SUBMIT_TIMEOUT_S} s after Start: {_seen(missing)}")
        visitors[0].page.wait_for_timeout(250)
    pending = list(visitors)
    while pending:
        if time.monotonic() > deadline:
            raise AssertionError(f"training did not finish within {TRAIN_TIMEOUT_S} s: {_seen(pending)}")
        pending = [v for v in pending if not v.poll()]
        visitors[0].page.wait_for_timeout(500)
    for visitor in visitors:  # a job that finished before any look at the panel: find it by its steps
        if not visitor.job:
            found = [
                s["id"] for s in JobStore(jobs_dir).all() if s["config"]["train"]["steps"] == visitor.steps
            ]
            assert len(found) == 1, found
            visitor.job = found[0]
        visitor.saw_live = f"st-key-live-loss-{visitor.job}" in visitor.page.evaluate("window.liveCharts")


def _submitted(visitor: Visitor, jobs_dir) -> bool:
    return any(s["config"]["train"]["steps"] == visitor.steps for s in JobStore(jobs_dir).all())


def _seen(visitors: list[Visitor]) -> str:
    """What each visitor's page shows, for a failure message: its address, its alerts and the end of its
    text (where the Start button and the job panel are); a screenshot of each goes to the artifacts."""
    seen = []
    for v in visitors:
        alerts = v.page.locator("[data-testid='stAlertContainer'], [data-testid='stException']")
        text = v.page.locator("[data-testid='stMain']").inner_text()
        v.page.screenshot(path=str(ROOT / "test-artifacts" / "browser" / f"failed-{v.steps}-step.png"))
        seen.append(
            f"{v.steps}-step visitor at {href(v.page)}: alerts {alerts.all_inner_texts()}; "
            + "... "
            + text[-800:].replace("\n", " | ")
        )
    return "; ".join(seen)


def open_finished(visitor: Visitor) -> str:
    """Clicks "Open this experiment" unless the Overview opened by itself; returns the key it shows."""
    page = visitor.page
    if not page.locator("h1", has_text=OVERVIEW_TITLE).count():
        page.locator(f".st-key-open-{visitor.job} button").click()
    page.locator("h1", has_text=OVERVIEW_TITLE).wait_for()
    page.wait_for_function("() => new URLSearchParams(location.search).get('run')")
    settle(page)
    return query(page, "run")


def test_train_toy_then_every_page_draws_its_charts(new_page, dashboard, artifacts):
    visitor = Visitor(new_page(), steps=20, seed=0)
    visitor.configure(dashboard.url)
    shot(visitor.page, artifacts, "01-train-settings")
    train_until_done([visitor], dashboard.data / "jobs")
    shot(visitor.page, artifacts, "02-train-finished")
    assert visitor.job
    visitor.page.locator("h1", has_text=OVERVIEW_TITLE).wait_for()  # its results open, with no click

    page = visitor.page
    key = open_finished(visitor)
    assert key, href(page)
    assert "20 steps" in picked(page)  # the sidebar picker shows this run
    assert_charts(page, OVERVIEW_CHARTS, "Overview")
    assert_no_errors(page, "Overview")
    shot(page, artifacts, "03-overview")

    for number, (label, path, title, charts) in enumerate(PAGES, start=4):
        open_page(page, label, path, title)
        assert query(page, "run") == key, f"{label} lost the selected experiment: {href(page)}"
        assert_charts(page, charts, label)
        assert_no_errors(page, label)
        shot(page, artifacts, f"{number:02d}-{path.strip('/')}")


def test_two_visitors_train_at_once_and_each_sees_their_own(new_page, dashboard, artifacts):
    first = Visitor(new_page(), steps=12, seed=1)
    second = Visitor(new_page(), steps=16, seed=2)
    for visitor in (first, second):
        visitor.configure(dashboard.url)
        assert query(visitor.page, "visitor") is None, href(visitor.page)  # who you are is not in links

    train_until_done([first, second], dashboard.data / "jobs")
    shot(first.page, artifacts, "10-visitor-one-finished")
    shot(second.page, artifacts, "11-visitor-two-finished")

    assert first.job != second.job
    states = {s["id"]: s for s in JobStore(dashboard.data / "jobs").all()}
    one, two = states[first.job], states[second.job]
    assert one["started_at"] < two["finished_at"] and two["started_at"] < one["finished_at"], "not at once"
    assert first.saw_live or second.saw_live, "no live chart appeared while training"
    for visitor, other in ((first, second), (second, first)):
        page = visitor.page
        page.locator("h1", has_text=OVERVIEW_TITLE).wait_for()  # each opened its own results by itself
        assert f"{visitor.steps} steps" in picked(page)
        open_page(page, "Train", "/train", "Train tied and untied twins")  # back to the job list
        # Once the live panel has polled again after both finished, each page lists only its own job.
        # One JavaScript check, so a re-render between two Playwright calls cannot fail the test.
        only_mine = (
            "([sel, want]) => { const e = document.querySelectorAll(sel); return e.length === 1 && "
            "e[0].innerText.includes(want); }"
        )
        try:
            page.wait_for_function(only_mine, arg=[JOBS, f"{visitor.steps} steps"], timeout=30_000)
        except Exception as error:  # Playwright's TimeoutError; show what is listed
            listed = page.locator(JOBS).all_inner_texts()
            raise AssertionError(f"expected only this visitor's job: {listed}") from error
        assert other.job not in visitor.snapshot()
        if visitor.saw_other:  # while both ran, the other's job was marked as someone else's
            assert f"{other.steps} steps" in visitor.saw_other, visitor.saw_other

    shared = new_page()  # someone opens the link the first visitor would share
    shared.goto(href(first.page))
    shared.get_by_text("No experiments started in this session yet.").wait_for()
    assert first.job not in Visitor(shared, steps=0, seed=0).snapshot()

    keys = [open_finished(v) for v in (first, second)]
    assert keys[0] != keys[1]
    for visitor, name in ((first, "12-visitor-one-overview"), (second, "13-visitor-two-overview")):
        assert f"{visitor.steps} steps" in picked(visitor.page)
        assert_charts(visitor.page, OVERVIEW_CHARTS, name)
        assert_no_errors(visitor.page, name)
        shot(visitor.page, artifacts, name)
