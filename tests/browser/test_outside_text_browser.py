"""No page asks any host but the dashboard's, even with hostile names on it (a real Chromium).

A stranger's `[x](https://…) ![x](https://….png)` in a config's `architectures`, a zip entry name or a URL
parameter, rendered as Markdown, would put a link and an image on the page and make the browser fetch from
the stranger's host. Every request the browser makes is recorded; any to another host fails the test, as
does any link or image pointing there.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.browser.test_dashboard_browser import settle
from tests.checkpoints.tiny import build_model, save_checkpoint, zip_bytes
from tieviz.ui.lesson import LESSON, TOOLS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HOSTILE = "[x](https://evil.example) ![x](https://evil.example/a.png) <img src='https://evil.example/b.png'>"
URL_KEYS = ("maps_tokens", "maps_measure", "train_preset", "causal_measure", "lens_metric")
# Every page but the Glossary, from the lesson's definition (new pages are covered); "" is the Overview.
PAGES = tuple(
    "" if s.path == "pages/overview.py" else Path(s.path).stem
    for s in dict.fromkeys((*LESSON, *TOOLS))
    if s.path != "pages/glossary.py"
)


def _checkpoint_files(tmp_path) -> dict[str, bytes]:
    folder = save_checkpoint(build_model("gpt2", True), tmp_path / "ckpt")
    config = json.loads((folder / "config.json").read_text())
    config["architectures"] = [HOSTILE]
    (folder / "config.json").write_text(json.dumps(config))
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def _assert_nothing_foreign(page, requests: list[str], own: str, where: str) -> None:
    foreign = [url for url in requests if urlsplit(url).hostname not in (own, None)]
    assert not foreign, f"{where} asked other hosts: {foreign[:5]}"
    live = page.locator("a[href*='evil'], img[src*='evil']").count()
    shown = page.locator("a[href*='evil'], img[src*='evil']").evaluate_all(
        "els => els.map(e => e.parentElement.outerHTML.slice(0, 400))"
    )
    assert not live, f"{where} shows {live} links or images to the stranger's host: {shown}"


def test_no_page_asks_another_host_with_hostile_names(browser, dashboard, tmp_path):
    own = urlsplit(dashboard.url).hostname
    context = browser.new_context(viewport={"width": 1440, "height": 1800})
    context.set_default_timeout(90_000)
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    try:
        query = "&".join(f"{key}={HOSTILE}" for key in URL_KEYS)
        for name in PAGES:
            page.goto(f"{dashboard.url}/{name}?{query}")
            page.locator("h1").first.wait_for()
            settle(page)
            _assert_nothing_foreign(page, requests, own, f"/{name}")

        files = _checkpoint_files(tmp_path)
        uploader = page.locator(".st-key-ckpt_upload input[type='file']")
        accepted = zip_bytes({f"ckpt/{name}": data for name, data in files.items()})
        page.goto(f"{dashboard.url}/checkpoints")
        uploader.set_input_files([{"name": "model.zip", "mimeType": "application/zip", "buffer": accepted}])
        page.locator("[data-testid='stMetric']", has_text="evil.example").wait_for()
        settle(page)
        _assert_nothing_foreign(page, requests, own, "an upload naming a hostile architecture")

        refused = zip_bytes({**files, f"../{HOSTILE}/config.json": b"{}"})
        page.goto(f"{dashboard.url}/checkpoints")
        uploader.set_input_files([{"name": "bad.zip", "mimeType": "application/zip", "buffer": refused}])
        page.locator("[data-testid='stAlertContentError']", has_text="evil.example").wait_for()
        settle(page)
        _assert_nothing_foreign(page, requests, own, "a refusal quoting a hostile zip entry")
    finally:
        context.close()
