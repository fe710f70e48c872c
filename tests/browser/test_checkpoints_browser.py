"""The Checkpoints page in a real Chromium, on a dashboard started the README's way (TIEVIZ_DATA unset, so
the data folder is ./data, relative): a zip, loose files and the example from a trained run are analysed.

A relative data folder once made every upload unreadable while every test set an absolute TIEVIZ_DATA.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.test_dashboard_browser import assert_charts, assert_no_errors, settle, shot
from tests.checkpoints.tiny import V, build_model, save_checkpoint, zip_dir
from tieviz.testing.server import Dashboard, start_dashboard, stop_dashboard

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TITLE = "Checkpoints: what does tying look like in a real model?"


def _seed_experiment(data: Path) -> None:
    """One tiny trained experiment in ./data/runs, for "Use an example from a trained run"."""
    from tieviz.config import preset
    from tieviz.experiments import measure_seeds as summarize
    from tieviz.experiments import run_analysis as results
    from tieviz.experiments.runner import run_experiment
    from tieviz.training.run_store import RunStore

    config = preset(
        "toy", steps=10, batch_size=4, d_model=16, n_heads=2, toy_tokens=8000, device="cpu", seeds=1
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(summarize, "lens_result", functools.partial(results.lens_result, steps=5))
        run_experiment(config, RunStore(data / "runs"))


@pytest.fixture(scope="module")
def readme_dashboard(tmp_path_factory, artifacts, browser) -> Iterator[Dashboard]:
    """`streamlit run app.py` from a working folder with no TIEVIZ_DATA: the data folder is ./data there."""
    cwd = tmp_path_factory.mktemp("readme-way")
    _seed_experiment(cwd / "data")
    server = start_dashboard(None, artifacts / "server-readme.log", {"TIEVIZ_TORCH_THREADS": "1"}, cwd=cwd)
    yield server
    stop_dashboard(server)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """A tiny tied GPT-2 checkpoint folder with a word-level tokenizer."""
    from tieviz.training.corpus import pydocs_text, train_tokenizer

    folder = save_checkpoint(build_model("gpt2", tied=True), tmp_path_factory.mktemp("upload") / "gpt2")
    train_tokenizer([d for d in pydocs_text().split("\n\n")[:300] if d.strip()], V).save_pretrained(folder)
    return folder


def open_checkpoints(browser, url: str):
    context = browser.new_context(viewport={"width": 1440, "height": 1800})
    context.set_default_timeout(90_000)
    page = context.new_page()
    page.goto(f"{url}/checkpoints")
    page.locator("h1", has_text=TITLE).wait_for()
    settle(page)
    return context, page


def assert_analysed(page, artifacts, name: str) -> None:
    """The summary card, the bigram charts, and the maps after switching to their tab; no error box."""
    page.locator("[data-testid='stMetric']", has_text="Architecture").wait_for()
    assert_charts(page, ("ckpt-bigrams", "ckpt-asymmetry"), name)
    page.get_by_role("tab", name="Maps").click()
    assert_charts(page, ("ckpt-maps",), name)
    assert_no_errors(page, name)
    text = page.locator("[data-testid='stMain']").inner_text()
    assert "is not in the subpath" not in text and "/data/uploads" not in text
    shot(page, artifacts, name)


@pytest.mark.parametrize("form", ["zip", "loose files"])
def test_an_upload_is_analysed_on_a_dashboard_started_the_readme_way(
    browser, readme_dashboard, checkpoint, artifacts, tmp_path, form
):
    files = [zip_dir(checkpoint, tmp_path / "gpt2.zip")] if form == "zip" else sorted(checkpoint.iterdir())
    context, page = open_checkpoints(browser, readme_dashboard.url)
    try:
        page.locator(".st-key-ckpt_upload input[type='file']").set_input_files([str(f) for f in files])
        assert_analysed(page, artifacts, f"20-checkpoints-{form.replace(' ', '-')}")
    finally:
        context.close()
    assert list((readme_dashboard.data / "uploads").glob("*/ck-*/upload.json"))


def test_the_example_from_a_trained_run_is_analysed_the_readme_way(browser, readme_dashboard, artifacts):
    context, page = open_checkpoints(browser, readme_dashboard.url)
    try:
        page.locator(".st-key-ckpt_source label", has_text="Use an example from a trained run").click()
        page.locator(".st-key-ckpt-example button").click()
        assert_analysed(page, artifacts, "22-checkpoints-example")
    finally:
        context.close()


@pytest.fixture(scope="module")
def untied_checkpoint(tmp_path_factory) -> Path:
    """A tiny untied Llama checkpoint with a word-level tokenizer, the tied GPT-2's partner."""
    from tieviz.training.corpus import pydocs_text, train_tokenizer

    folder = save_checkpoint(build_model("llama", tied=False), tmp_path_factory.mktemp("other") / "llama")
    train_tokenizer([d for d in pydocs_text().split("\n\n")[:300] if d.strip()], V).save_pretrained(folder)
    return folder


def selected_tab(page) -> str:
    return page.locator("[role='tab'][aria-selected='true']").inner_text().strip()


def test_a_pair_is_compared_in_a_job_and_the_open_tab_stays(
    browser, readme_dashboard, checkpoint, untied_checkpoint, artifacts
):
    """A second upload used to send the page back to its first tab; the comparison runs as a job."""
    context, page = open_checkpoints(browser, readme_dashboard.url)
    try:
        files = [str(f) for f in sorted(checkpoint.iterdir())]
        page.locator(".st-key-ckpt_upload input[type='file']").set_input_files(files)
        page.locator("[data-testid='stMetric']", has_text="Architecture").wait_for()
        settle(page)
        page.get_by_role("tab", name="Tied vs untied (paper)").click()
        # no waiting for the rerun the click starts: a visitor uploads while it runs, and an upload into a
        # widget that run moved was once dropped (the page changed its layout between runs)
        other = [str(f) for f in sorted(untied_checkpoint.iterdir())]
        page.locator(".st-key-ckpt_other_upload input[type='file']").set_input_files(other)
        try:
            page.locator(".st-key-ckpt-compare button").wait_for()
        except Exception as error:  # Playwright's TimeoutError: say what the page shows instead
            main = page.locator("[data-testid='stMain']").inner_text()
            shot(page, artifacts, "24-checkpoints-pair-failed")
            raise AssertionError(
                f"no Compare button after the second upload; the page says:\n{main[-1500:]}"
            ) from error
        settle(page)
        assert selected_tab(page) == "Tied vs untied (paper)"
        page.locator(".st-key-ckpt-compare button").click()
        assert_charts(page, ("ckpt-paper",), "24-checkpoints-pair")
        settle(page)
        assert selected_tab(page) == "Tied vs untied (paper)"
        assert_no_errors(page, "the pair's comparison")
        assert "All 64 tokens by default" in page.locator("[data-testid='stMain']").inner_text()
        shot(page, artifacts, "24-checkpoints-pair")
    finally:
        context.close()
