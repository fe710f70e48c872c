"""Fixtures for the real-browser tests: one dashboard server on loopback and one headless Chromium.

Without Chromium (or Playwright) the tests skip and say why, except under CI (CI set to anything but
"false"/"0"), where they fail: CI must really run them. Screenshots and the server's log go to
test-artifacts/browser/ at the repository root.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tieviz.system.browser import chromium_path
from tieviz.testing.server import (
    ROOT,
    Dashboard,
    launch_chromium,
    start_dashboard,
    stop_dashboard,
)

ARTIFACTS = ROOT / "test-artifacts" / "browser"
VIEWPORT = {"width": 1440, "height": 1800}  # tall: Streamlit scrolls inside its main block, not the page


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(reason: str) -> None:
    """Skips with the reason, or fails under CI."""
    print(f"browser tests cannot run: {reason}")
    if in_ci():
        pytest.fail(f"{reason} (CI must run the browser tests)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """A headless Playwright Browser on the system's Chromium."""
    executable = chromium_path()
    if executable is None:
        unavailable("no Chromium found (install Debian's chromium package, or set BROWSER_PATH)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed (pip install -r requirements-dev.txt)")
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright, executable)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def dashboard(tmp_path_factory, artifacts, browser) -> Iterator[Dashboard]:
    """`streamlit run app.py` on a free loopback port over an empty data folder, shared by the tests.

    Two jobs may train at once, one torch thread each, so that two visitors' runs overlap on two cores.
    """
    data = tmp_path_factory.mktemp("browser-data")
    env = {"TIEVIZ_TORCH_THREADS": "1", "TIEVIZ_CONCURRENCY": "2", "TIEVIZ_EXAMPLES": "0"}
    server = start_dashboard(data, artifacts / "server.log", env)
    yield server
    stop_dashboard(server)


@pytest.fixture
def new_page(browser, dashboard) -> Iterator:
    """new_page() -> a Page in a fresh browser context: a new visitor with its own session."""
    contexts = []

    def make():
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(60_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
