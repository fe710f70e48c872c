"""Every dashboard page, opened through app.py: with no experiment, with a toy experiment, and from a URL."""

from __future__ import annotations

import json

import pytest

from tests.app.conftest import ANALYSIS_PAGES, PAGES, errors
from tieviz import ui

# Page -> the chart keys it must show for a trained experiment.
CHARTS = {
    "pages/overview.py": {
        "chart-bias_over_training_lin_cos",
        "chart-gradient_ratio",
        "chart-loss",
    },
    "pages/why_tie.py": {"chart-tying_savings"},
    "pages/causal.py": {"chart-causal_bias", "chart-bias_over_training_lin_cos"},
    "pages/bigrams.py": {"chart-symmetry-explorer", "chart-bigram_heatmaps", "chart-bigram_asymmetry"},
    "pages/maps.py": {"chart-embedding-maps", "chart-bias_over_training_lin_cos"},
    "pages/gradients.py": {
        "chart-gradient_ratio",
        "chart-gradient_share",
        "chart-paper_gradient_share",
        "chart-loss",
    },
    "pages/lens.py": {"chart-lens_kl", "chart-lens_contributions"},
}


def chart_keys(at) -> set[str]:
    return {chart.key for chart in at.get("plotly_chart")}


@pytest.mark.parametrize("page", ANALYSIS_PAGES)
def test_page_without_experiment_shows_the_empty_state(open_app, tmp_path, page):
    at = open_app(tmp_path, page)
    assert not at.exception
    assert not errors(at)
    assert any(ui.EMPTY_MESSAGE in info.value for info in at.info)
    shown = chart_keys(at)
    # Only the pieces that need no trained model are drawn: the calculator and the symmetry explorer.
    assert shown <= {"chart-symmetry-explorer"}


def test_checkpoints_page_needs_no_experiment(open_app, tmp_path):
    at = open_app(tmp_path, "pages/checkpoints.py")
    assert not at.exception
    assert not errors(at)
    assert at.get("file_uploader")  # it asks for a checkpoint instead


def test_train_page_without_experiment_offers_to_start(open_app, tmp_path):
    at = open_app(tmp_path, "pages/train.py")
    assert not at.exception
    assert not errors(at)
    assert not at.button(key="train-start").disabled
    assert any("Estimated time" in md.value for md in at.markdown)
    assert any("No experiments started" in caption.value for caption in at.caption)


@pytest.mark.parametrize("page", PAGES)
def test_page_with_a_toy_experiment_shows_its_charts(open_app, toy_data, page):
    data, summary = toy_data
    at = open_app(data, page)
    assert not at.exception
    assert not errors(at)
    assert at.sidebar.selectbox(key=ui.PICKER_KEY).value == summary["experiment_key"]
    assert at.query_params[ui.PICKER_KEY] == summary["experiment_key"]
    shown = chart_keys(at)
    assert CHARTS.get(page, set()) <= shown
    captions = [c.value for c in at.caption]
    for chart in at.get("plotly_chart"):
        caption = json.loads(chart.proto.spec)["layout"]["title"]["text"]
        assert caption  # every chart has a title
    assert len(captions) >= len(shown)  # and a "how to read this" caption under each
    for key in shown:
        name = key.removeprefix("chart-")
        at.get_by_key(f"dl-html-{name}")  # raises KeyError when the download is missing


def test_overview_headline_numbers_come_from_the_summary_with_intervals(open_app, toy_data):
    from tieviz.analysis.stats import SeedStat, format_stat

    data, summary = toy_data
    at = open_app(data)
    metrics = {m.label: m.value for m in at.metric}

    def shown(name: str, **kwargs) -> str:
        return format_stat(SeedStat.from_dict(summary["stats"][name]), **kwargs)

    assert metrics["Linear-map cosine to untied output"] == shown("score.tied.lin_cos_out")
    assert "±" in metrics["Linear-map cosine to untied output"]  # two seeds: an interval
    assert metrics["Bias (out − in)"] == shown("bias.tied.lin_cos", signed=True)
    assert metrics["Early gradient ratio"] == shown("grad_ratio.tied_early", unit="×")
    assert any("2 seeds" in c.value for c in at.caption)


def test_every_analysis_page_says_one_seed_for_a_single_seed_run(open_app, one_seed_data):
    data, summary = one_seed_data
    for page in ANALYSIS_PAGES:
        at = open_app(data, page)
        assert not at.exception, page
        text = " ".join([*(c.value for c in at.caption), *(i.value for i in at.info)])
        assert "one seed" in text.lower(), page


def test_every_bias_table_shows_intervals_floors_and_the_baseline(open_app, toy_data):
    from tieviz.analysis.stats import SeedStat, format_stat

    data, summary = toy_data
    for page in ("pages/overview.py", "pages/maps.py"):
        at = open_app(data, page)
        table = next(df.value for df in at.dataframe if "chance floor" in df.value.columns)
        tied = table[table["model"] == "tied"]
        assert all("±" in value for value in tied["bias (output − input)"]), page
        # The floor and the baseline are numbers over seeds too: each is printed with its interval.
        floor = format_stat(SeedStat.from_dict(summary["floors"]["lin_cos"]), mark_one_seed=False)
        base = format_stat(SeedStat.from_dict(summary["baseline"]["cka"]), mark_one_seed=False)
        assert floor in set(tied["chance floor"]) and "±" in floor, page
        assert base in set(tied["same-recipe baseline"]) and "±" in base, page
        assert any("most frequent tokens" in c.value for c in at.caption), page


def test_the_maps_page_can_score_the_whole_vocabulary(open_app, toy_data):
    data, summary = toy_data
    at = open_app(data, "pages/maps.py", query={"maps_tokens": "all"})
    assert not at.exception and not errors(at)
    assert any("whole vocabulary" in c.value for c in at.caption)


def test_the_gradients_page_puts_the_papers_share_beside_olmo_1b(open_app, toy_data):
    from tieviz.analysis.stats import SeedStat, format_stat

    data, summary = toy_data
    at = open_app(data, "pages/gradients.py")
    [table] = [frame.value for frame in at.dataframe]  # this run beside OLMo-1B at matched fractions
    first = table[table["span of training"] == "first 1 % of steps"].iloc[0]
    expected = format_stat(
        SeedStat.from_dict(summary["stats"]["grad_share.tied.first_1pct"]), mark_one_seed=False
    )
    assert first["tied"] == expected and first["paper's OLMo-1B"] == "0.90"
    assert first["paper's steps"] == "1–101 of 10,010"
    text = " ".join(m.value for m in at.markdown)
    assert f"is {expected}," in text and "the paper's 0.90" in text and "well below" not in text
    assert {"chart-paper_gradient_share", "chart-drift_from_start"} <= chart_keys(at)


# Page -> the claims whose stored verdicts it must show.
PAGE_CLAIMS = {
    "pages/overview.py": ("bias", "scaling"),
    "pages/bigrams.py": ("symmetry",),
    "pages/gradients.py": ("ratio",),
    "pages/causal.py": ("scaling",),
}


@pytest.mark.parametrize("page", [*PAGE_CLAIMS, "pages/lens.py"])
def test_pages_say_whether_the_run_agrees_with_the_paper(open_app, toy_data, page):
    from tieviz.analysis.stats import SeedStat
    from tieviz.analysis.verdicts import lens_claim

    data, summary = toy_data
    at = open_app(data, page)
    shown = " ".join(m.value for m in [*at.success, *at.warning, *at.info])
    if page == "pages/lens.py":
        texts = [lens_claim(SeedStat.from_dict(summary["stats"]["lens.early_kl_gap"]), bits=True).text]
    else:
        texts = [summary["verdict_texts"][claim] for claim in PAGE_CLAIMS[page]]
    for text in texts:
        assert text in shown, (text, shown)


def test_url_opens_the_same_view(open_app, toy_data):
    data, summary = toy_data
    at = open_app(data)
    at.switch_page("pages/maps.py")
    at.run()
    token = at.selectbox(key="maps_token").options[3]
    query = {"run": summary["experiment_key"], "maps_n": "20", "maps_token": token, "maps_scaled": "true"}
    shared = open_app(data, "pages/maps.py", query)
    assert not shared.exception
    assert shared.slider(key="maps_n").value == 20
    assert shared.selectbox(key="maps_token").value == token
    assert shared.toggle(key="maps_scaled").value is True
    # The UMAP choice says what the timing model expects for these 20 tokens and 4 maps, not a fixed guess.
    import sys

    from tieviz.experiments.resources import duration
    from tieviz.experiments.time_estimate import umap_seconds

    umap_label = shared.radio(key="maps_method").options[1]
    assert duration(umap_seconds(20, 4, "umap" in sys.modules)) in umap_label
    # The neighbour tables of the searched token, one per matrix (tied, untied in/out, scaled).
    neighbours = [d.value for d in shared.dataframe if list(d.value.columns) == ["token", "cosine"]]
    assert len(neighbours) == 4
    for table in neighbours:
        assert len(table) == 10 and token not in set(table["token"])
        assert table["cosine"].is_monotonic_decreasing
    figure = json.loads(shared.get_by_key("chart-embedding-maps").proto.spec)
    assert (
        sum(1 for trace in figure["data"] if trace.get("text") == [token]) == 4
    )  # highlighted in every panel


def test_bad_url_values_fall_back_to_defaults(open_app, toy_data):
    data, _ = toy_data
    at = open_app(data, "pages/maps.py", {"run": "nonexistent", "maps_n": "lots", "maps_method": "tsne"})
    assert not at.exception
    assert at.radio(key="maps_method").value == "pca"
    assert at.slider(key="maps_n").value >= 10
    at = open_app(data, "pages/lens.py", {"lens_metric": "cross_entropy", "lens_logit": "false"})
    assert not at.exception
    figure = json.loads(at.get_by_key("chart-lens_cross_entropy").proto.spec)
    assert not any("logit lens" in trace["name"] for trace in figure["data"])


def test_symmetry_explorer_stays_symmetric_until_a_map_is_inserted(open_app, tmp_path):
    at = open_app(tmp_path, "pages/bigrams.py")

    def titles():
        spec = json.loads(at.get_by_key("chart-symmetry-explorer").proto.spec)
        return [a["text"] for a in spec["layout"]["annotations"]]

    assert titles() == ["W_E W_Eᵀ (tied)<br>asymmetry 0.00"]
    at.toggle(key="sym_map").set_value(True).run()
    assert not at.exception
    tied, mapped = titles()
    assert tied.endswith("asymmetry 0.00")
    assert float(mapped.rsplit(" ", 1)[1]) > 0.05


def ui_device() -> str:
    """The device "auto" resolves to on this machine, as the dashboard reports it."""
    from tieviz.system.device import resolve_device

    return resolve_device("auto")


def test_overview_quick_toy_run_starts_a_job_and_opens_train(open_app, tmp_path):
    from tieviz.jobs.store import JobStore

    at = open_app(tmp_path)
    from tieviz.config import preset
    from tieviz.experiments.resources import duration
    from tieviz.experiments.time_estimate import estimate

    # The button's time is the timing model's (a fresh folder: its guess), not a fixed "under a minute".
    expected = duration(estimate(preset("toy"), ui_device(), []).seconds)
    assert at.button(key="overview-train-toy").label == f"Quick toy run ({expected})"
    assert any(f"{ui.EMPTY_MESSAGE} ({expected} here)" in info.value for info in at.info)  # the notice too
    at.button(key="overview-train-toy").click().run()
    assert not at.exception
    assert at.title[0].value == "Train tied and untied twins"
    [job] = JobStore(tmp_path / "jobs").all()
    assert job["config"]["preset"] == "toy" and job["status"] in ("queued", "running")
    at.button(key=f"cancel-{job['id']}").click().run()  # do not leave it training behind the other tests
    assert not at.exception


def test_bigram_page_correlates_with_what_it_compares_against(open_app, toy_data):
    """With the true transitions shown, the first seed's correlations are against them, not the counts."""
    data, summary = toy_data
    at = open_app(data, "pages/bigrams.py")
    metrics = {m.label: m.value for m in at.metric}
    counts = summary["bigram"]["corr_with_bigrams"]
    assert metrics["Untied: correlation with bigrams"] == f"{counts['untied']:.2f}"
    at.toggle(key="bigram_truth").set_value(True).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    truth = summary["bigram"]["corr_with_truth"]
    assert metrics["Tied: correlation with true transitions"] == f"{truth['tied']:.2f}"
    assert metrics["Untied: correlation with true transitions"] == f"{truth['untied']:.2f}"


def test_an_experiment_that_cannot_be_opened_is_reported_once(open_app, toy_data, tmp_path):
    """The sidebar's picker loads the experiment once per run and the page reuses it, error included."""
    import shutil

    data, summary = toy_data
    broken = tmp_path / "data"
    shutil.copytree(data, broken)
    stored = broken / "runs" / "experiments" / f"{summary['experiment_key']}.json"
    content = json.loads(stored.read_text())
    content["arms"]["untied"]["run_dir"] = str(tmp_path / "gone")
    content["arms"]["untied"]["key"] = "0" * 16
    stored.write_text(json.dumps(content))
    at = open_app(broken)
    assert not at.exception
    assert sum("cannot be opened" in e for e in errors(at)) == 1, errors(at)
    assert any(ui.EMPTY_MESSAGE in info.value for info in at.info)  # the page falls back to its empty state


def test_every_analysis_page_shows_intervals_for_a_multi_seed_run(open_app, toy_data):
    data, _ = toy_data
    for page in ANALYSIS_PAGES:
        at = open_app(data, page)
        shown = [m.value for m in at.metric]
        shown += [v.value for v in [*at.success, *at.warning, *at.info]]
        shown += [c.value for c in at.caption]
        assert any("±" in text for text in shown), page
        assert any("2 seeds" in text or "over 2 seeds" in text for text in shown), page


def test_a_fresh_install_trains_the_examples_without_a_click(open_app, tmp_path):
    from tieviz.experiments.examples import EXAMPLES_VISITOR
    from tieviz.jobs.store import JobStore

    at = open_app(tmp_path, examples="1")
    assert not at.exception
    jobs = sorted(JobStore(tmp_path / "jobs").all(), key=lambda j: j["created_at"])
    assert [j["config"]["preset"] for j in jobs] == ["toy", "demo"]
    assert all(j["visitors"] == [EXAMPLES_VISITOR] for j in jobs)
    assert any("training two example experiments" in i.value for i in at.info)
    assert not at.get("button") or not any(b.key == "overview-train-toy" for b in at.button)
    at.run()  # a second visit queues nothing more
    assert len(JobStore(tmp_path / "jobs").all()) == 2
    for job in jobs:  # do not leave them training behind the other tests
        ui.manager().cancel(job["id"])
