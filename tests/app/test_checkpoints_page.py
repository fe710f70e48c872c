"""The Checkpoints page: uploads of loose files and zips, the summary card, the figures, refused uploads."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP, errors
from tests.checkpoints.tiny import V, build_model, save_checkpoint, save_gpt2_with, zip_dir
from tieviz.training.corpus import pydocs_text, train_tokenizer

PAGE = "pages/checkpoints.py"
UPLOADER = "ckpt_upload"


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """(family, tied) -> a saved tiny checkpoint folder with a word-level tokenizer."""
    root = tmp_path_factory.mktemp("page-ckpts")
    docs = [d for d in pydocs_text().split("\n\n")[:300] if d.strip()]
    tokenizer = train_tokenizer(docs, V)
    folders = {}
    for family, tied in (("gpt2", True), ("llama", False)):
        folder = save_checkpoint(build_model(family, tied), root / f"{family}-{tied}")
        tokenizer.save_pretrained(folder)
        folders[family, tied] = folder
    return folders


def as_files(folder):
    return [(p.name, p.read_bytes(), "application/octet-stream") for p in sorted(folder.iterdir())]


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def charts(at) -> set[str]:
    return {chart.key for chart in at.get("plotly_chart")}


def upload(at, files):
    at.file_uploader(key=UPLOADER).set_value(files).run()
    assert not at.exception
    return at


def test_loose_files_show_the_summary_card_and_figures(open_app, tmp_path, checkpoints):
    at = upload(open_app(tmp_path, PAGE), as_files(checkpoints["gpt2", True]))
    assert not errors(at)
    shown = metrics(at)
    assert shown["Architecture"] == "GPT2LMHeadModel"
    assert shown["Tied"] == "yes"
    assert shown["Vocabulary"] == str(V) and shown["Width"] == "16"
    assert {"chart-ckpt-bigrams", "chart-ckpt-asymmetry", "chart-ckpt-norms", "chart-ckpt-maps"} <= charts(at)
    assert len(list((tmp_path / "uploads").glob("*/ck-*/upload.json"))) == 1
    assert any("tokens read from Python's bundled documentation" in caption.value for caption in at.caption)


def test_the_page_states_the_upload_limit(open_app, tmp_path):
    from streamlit import config

    before = config.get_option("server.maxUploadSize")
    config.set_option("server.maxUploadSize", 321)
    try:
        at = open_app(tmp_path, PAGE)
    finally:
        config.set_option("server.maxUploadSize", before)
    assert not at.exception and not errors(at)
    assert at.file_uploader(key=UPLOADER).accept_multiple_files
    assert any("Up to 321 MB per file" in caption.value for caption in at.caption)
    assert not at.metric


def test_a_zip_of_an_untied_llama(open_app, tmp_path, checkpoints):
    archive = zip_dir(checkpoints["llama", False], tmp_path / "llama.zip")
    at = upload(open_app(tmp_path / "data", PAGE), ("llama.zip", archive.read_bytes(), "application/zip"))
    assert not errors(at)
    assert metrics(at)["Architecture"] == "LlamaForCausalLM"
    assert metrics(at)["Tied"] == "no"
    assert "chart-ckpt-maps" in charts(at)


def test_a_corrupt_upload_is_one_clear_error(open_app, tmp_path):
    at = upload(open_app(tmp_path, PAGE), ("model.zip", b"this is not a zip", "application/zip"))
    assert any("not a valid zip" in message for message in errors(at))
    assert not at.metric
    at.run()  # the reason stays on screen while the same file is selected
    assert any("not a valid zip" in message for message in errors(at))
    assert not list((tmp_path / "uploads").glob("*/ck-*"))  # nothing kept


def test_the_paper_comparison_of_an_uploaded_pair(open_app, tmp_path, checkpoints):
    at = upload(open_app(tmp_path, PAGE), as_files(checkpoints["gpt2", True]))
    at.file_uploader(key="ckpt_other_upload").set_value(as_files(checkpoints["llama", False])).run()
    assert not at.exception and not errors(at)
    assert "chart-ckpt-paper" not in charts(at)  # a comparison is a job: it starts on a click
    at.button(key="ckpt-compare").click().run()
    assert not at.exception and not errors(at), errors(at)
    assert "chart-ckpt-paper" in charts(at)
    (table,) = [d.value for d in at.dataframe if "measure" in d.value.columns]
    assert list(table["measure"])[2] == "linear CKA"
    assert 0 <= table["vs untied output"].iloc[2] <= 1
    assert "chance floor" in table.columns
    assert any(f"All {V} tokens by default" in c.value for c in at.caption)  # tiny: the whole vocabulary fits


def test_a_pair_with_the_same_tying_is_refused(open_app, tmp_path, checkpoints):
    at = upload(open_app(tmp_path, PAGE), as_files(checkpoints["gpt2", True]))
    at.file_uploader(key="ckpt_other_upload").set_value(as_files(checkpoints["gpt2", True])).run()
    assert any("Both checkpoints are tied" in message for message in errors(at))
    assert "chart-ckpt-paper" not in charts(at)


def test_the_example_opens_a_trained_pair(open_app, toy_data):
    data, summary = toy_data
    at = open_app(data, PAGE)
    at.radio(key="ckpt_source").set_value("example").run()
    at.button(key="ckpt-example").click().run()
    assert not at.exception and not errors(at)
    assert metrics(at)["Tied"] == "yes"
    assert metrics(at)["Vocabulary"] == str(summary["config"]["data"]["vocab_size"])
    assert at.radio(key="ckpt_text").value == "run"
    at.button(key="ckpt-compare").click().run()
    assert {"chart-ckpt-bigrams", "chart-ckpt-paper"} <= charts(at)
    verdicts = [
        m.value for m in [*at.success, *at.warning, *at.info] if "to the untied output matrix" in m.value
    ]
    assert len(verdicts) == 1 and "default preset" not in verdicts[0], verdicts  # no training advice here
    at.button(key="ckpt-lens-run").click().run()
    assert not at.exception and not errors(at)
    assert {"chart-ckpt-lens", "chart-ckpt-contributions"} <= charts(at)


def test_without_a_tokenizer_the_matrix_figures_still_show(open_app, tmp_path, checkpoints):
    files = [
        f for f in as_files(checkpoints["llama", False]) if not f[0].startswith(("tokenizer", "special"))
    ]
    at = upload(open_app(tmp_path, PAGE), files)
    assert not errors(at)
    assert metrics(at)["Tied"] == "no"
    assert any("no tokenizer files" in info.value for info in at.info)
    shown = charts(at)
    assert {"chart-ckpt-norms", "chart-ckpt-maps"} <= shown and "chart-ckpt-bigrams" not in shown


@pytest.fixture
def readme_default(monkeypatch, tmp_path):
    """The README's way: TIEVIZ_DATA unset, so the data folder is ./data, relative to the working folder."""

    def open_page(data_source=None):
        monkeypatch.chdir(tmp_path)
        if data_source is not None:
            (tmp_path / "data").symlink_to(data_source, target_is_directory=True)
        at = AppTest.from_file(APP, default_timeout=120)
        monkeypatch.delenv("TIEVIZ_DATA", raising=False)
        at.run()
        at.switch_page(PAGE)
        at.run()
        return at

    return open_page


def test_uploads_work_with_the_default_relative_data_folder(readme_default, tmp_path, checkpoints):
    archive = zip_dir(checkpoints["llama", False], tmp_path / "llama.zip")
    at = upload(readme_default(), ("llama.zip", archive.read_bytes(), "application/zip"))
    assert not errors(at), errors(at)
    assert metrics(at)["Tied"] == "no"
    at.file_uploader(key="ckpt_other_upload").set_value(as_files(checkpoints["gpt2", True])).run()
    assert not at.exception and not errors(at), errors(at)
    at.button(key="ckpt-compare").click().run()
    assert not at.exception and not errors(at), errors(at)
    assert {"chart-ckpt-maps", "chart-ckpt-paper"} <= charts(at)
    assert len(list((tmp_path / "data" / "uploads").glob("*/ck-*/upload.json"))) == 2


def test_the_example_works_with_the_default_relative_data_folder(readme_default, toy_data):
    at = readme_default(toy_data[0])
    at.radio(key="ckpt_source").set_value("example").run()
    at.button(key="ckpt-example").click().run()
    assert not at.exception and not errors(at), errors(at)
    assert metrics(at)["Tied"] == "yes"


def _files_with_config(folder, **changes):
    import json

    files = as_files(folder)
    config = json.loads((folder / "config.json").read_text()) | changes
    return [(n, json.dumps(config).encode() if n == "config.json" else b, t) for n, b, t in files]


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("nested config", "config.json is nested too deeply"),
        ("epsilon list", "layer_norm_epsilon must be a number"),
        ("config twice", "'config.json' was uploaded twice"),
        ("sparse bin", "holds transformer.wte.weight as a torch.sparse_coo tensor"),
    ],
)
def test_a_hostile_upload_is_one_error_box_and_leaves_nothing(open_app, tmp_path, checkpoints, case, words):
    import io

    import torch
    from safetensors.torch import load_file

    folder = checkpoints["gpt2", True]
    if case == "nested config":
        files = [
            (n, b"[" * 100_000 + b"]" * 100_000 if n == "config.json" else b, t)
            for n, b, t in as_files(folder)
        ]
    elif case == "epsilon list":
        files = _files_with_config(folder, layer_norm_epsilon=[1e-5])
    elif case == "config twice":
        files = [
            *as_files(folder),
            ("config.json", (folder / "config.json").read_bytes(), "application/json"),
        ]
    else:
        state = load_file(folder / "model.safetensors")
        state["transformer.wte.weight"] = state["transformer.wte.weight"].to_sparse()
        buf = io.BytesIO()
        torch.save(state, buf)
        files = [f for f in as_files(folder) if f[0] != "model.safetensors"]
        files.append(("pytorch_model.bin", buf.getvalue(), "application/octet-stream"))
    at = upload(open_app(tmp_path, PAGE), files)
    shown = errors(at)
    assert len(shown) == 1 and words in shown[0], shown
    assert str(tmp_path) not in shown[0] and not at.metric
    assert not list((tmp_path / "uploads").glob("*/ck-*"))  # a refused or unreadable upload is not kept


def test_a_failing_lens_is_one_error_box_and_the_other_panels_stay(open_app, tmp_path, checkpoints):
    at = upload(open_app(tmp_path, PAGE), _files_with_config(checkpoints["gpt2", True], n_head=0))
    assert not errors(at) and {"chart-ckpt-bigrams", "chart-ckpt-maps"} <= charts(at)
    at.button(key="ckpt-lens-run").click().run()
    assert not at.exception
    shown = errors(at)
    assert len(shown) == 1 and "config.json (ZeroDivisionError" in shown[0], shown
    assert {"chart-ckpt-bigrams", "chart-ckpt-norms", "chart-ckpt-maps"} <= charts(at)


def test_the_shipped_config_hides_exception_details():
    import tomllib

    from streamlit.config import ShowErrorDetailsConfigOptions

    shipped = tomllib.loads((Path(APP).parent / ".streamlit" / "config.toml").read_text())
    value = shipped["client"]["showErrorDetails"]
    assert value == ShowErrorDetailsConfigOptions.NONE.value


# ---------------------------------------------------------------- comparisons as jobs, floors, verdicts


def _outlier_pair(root):
    """A tied/untied pair (256 tokens, width 8) on which CKA and the linear-map cosine disagree.

    The tied matrix's bulk is the untied input matrix rotated, but four of its rows are huge, and only the
    untied output matrix shares those four. CKA, weighted by variance, follows the four rows (output-
    shaped); the linear-map cosine weighs each token alike and follows the bulk (input-shaped).
    """
    import numpy as np

    rng = np.random.default_rng(0)
    n, d = 256, 8
    bulk = rng.normal(size=(n, d))
    tied = bulk.copy()
    huge = rng.normal(size=(4, d)) * 20
    tied[:4] = huge
    rotation = np.linalg.qr(rng.normal(size=(d, d)))[0]
    untied_in = bulk @ rotation + 0.3 * rng.normal(size=(n, d))
    untied_out = rng.normal(size=(n, d))
    untied_out[:4] = huge @ rotation
    return (
        save_gpt2_with(root / "outlier-tied", tied),
        save_gpt2_with(root / "outlier-untied", untied_in, untied_out),
    )


def test_the_verdict_follows_the_linear_map_cosine_where_cka_disagrees(open_app, tmp_path):
    tied, untied = _outlier_pair(tmp_path)
    at = upload(open_app(tmp_path / "data", PAGE), as_files(tied))
    at.file_uploader(key="ckpt_other_upload").set_value(as_files(untied)).run()
    at.button(key="ckpt-compare").click().run()
    assert not at.exception and not errors(at), errors(at)
    (table,) = [d.value for d in at.dataframe if "measure" in d.value.columns]
    by_measure = table.set_index("measure")["output − input"]
    assert by_measure["linear CKA"] > 0.5  # CKA: output-shaped
    assert by_measure["linear-map cosine (paper)"] < -0.5  # the paper's measure: input-shaped
    verdicts = [w.value for w in at.warning if "opposite of the paper" in w.value]
    assert len(verdicts) == 1 and "linear-map cosine" in verdicts[0], [w.value for w in at.warning]
    assert not [s.value for s in at.success]  # a CKA verdict would have said "as in the paper"
    assert any("CKA points the other way" in c.value for c in at.caption)


def test_few_tokens_for_the_width_say_the_floor_is_high(open_app, tmp_path, checkpoints):
    at = upload(open_app(tmp_path, PAGE), as_files(checkpoints["gpt2", True]))
    at.file_uploader(key="ckpt_other_upload").set_value(as_files(checkpoints["llama", False])).run()
    (tokens,) = [n for n in at.number_input if n.label == "Tokens compared"]
    assert tokens.value == V  # the whole vocabulary fits this host's budget
    tokens.set_value(40).run()  # 40 tokens at width 16: fewer than 4x the width
    at.button(key="ckpt-compare").click().run()
    assert not at.exception and not errors(at), errors(at)
    high = [w.value for w in at.warning if "chance floor is high" in w.value]
    assert len(high) == 1 and "40 tokens is fewer than 4× the width (16)" in high[0], high
    assert "chart-ckpt-paper" in charts(at)


def test_a_small_memory_budget_chooses_fewer_tokens_and_says_why(open_app, tmp_path, monkeypatch):
    import numpy as np

    monkeypatch.setenv("TIEVIZ_ANON_MAX_MEMORY_MB", "1")
    rng = np.random.default_rng(1)
    tied = save_gpt2_with(tmp_path / "wide-tied", rng.normal(size=(4000, 8)))
    untied = save_gpt2_with(tmp_path / "wide-untied", rng.normal(size=(4000, 8)), rng.normal(size=(4000, 8)))
    at = upload(open_app(tmp_path / "data", PAGE), as_files(tied))
    at.file_uploader(key="ckpt_other_upload").set_value(as_files(untied)).run()
    assert not at.exception and not errors(at), errors(at)
    (tokens,) = [n for n in at.number_input if n.label == "Tokens compared"]
    assert 12 <= tokens.value < 4000
    said = [i.value for i in at.info if "not the whole vocabulary" in i.value]
    assert len(said) == 1 and f"{tokens.value:,} of 4,000 tokens" in said[0], said
    assert "MiB of memory, over the 1 MiB a job may use here" in said[0]


def test_a_second_upload_keeps_the_open_tab(open_app, tmp_path, checkpoints):
    at = upload(open_app(tmp_path, PAGE), as_files(checkpoints["gpt2", True]))
    at.session_state["ckpt_tabs"] = "Tied vs untied (paper)"  # the visitor opened the comparison tab
    at.run()
    at.file_uploader(key="ckpt_other_upload").set_value(as_files(checkpoints["llama", False])).run()
    assert not at.exception and not errors(at), errors(at)
    assert at.session_state["ckpt_tabs"] == "Tied vs untied (paper)"
    (container,) = [b for b in at._tree if getattr(b, "type", None) == "tab_container"]
    assert container.proto.tab_container.default_tab_index == 4  # the comparison tab is still the one shown


@pytest.fixture
def host_folder(tmp_path, checkpoints):
    """TIEVIZ_MODELS with a folder of three tied step checkpoints and one untied model."""
    import numpy as np

    rng = np.random.default_rng(2)
    n, d = 128, 8
    untied_in, untied_out = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    steps = tmp_path / "host" / "tied-run"
    for step, share in ((100, 0.1), (200, 0.5), (300, 0.9)):  # ever more output-shaped
        tied = (1 - share) * untied_in + share * untied_out + 0.1 * rng.normal(size=(n, d))
        save_gpt2_with(steps / f"step{step}", tied)
    untied = save_gpt2_with(tmp_path / "host" / "untied-ref", untied_in, untied_out)
    return steps, untied


def hosted_ids(data) -> dict[str, str]:
    """Name -> the id the page's pickers hold, for the models TIEVIZ_MODELS lists now."""
    from tieviz.checkpoint_analysis.host_models import host_models

    return {model.name: model.id for model in host_models(data)}


def test_a_host_listed_model_needs_no_upload_and_no_typed_path(open_app, tmp_path, monkeypatch, host_folder):
    steps, untied = host_folder
    monkeypatch.setenv("TIEVIZ_MODELS", f"{steps}:{untied}:{tmp_path / 'missing'}")
    at = open_app(tmp_path / "data", PAGE)
    at.radio(key="ckpt_source").set_value("host").run()
    picker = at.selectbox(key="ckpt_host")
    names = ["tied-run/step100", "tied-run/step200", "tied-run/step300", "untied-ref"]
    assert picker.options == names  # what visitors see: names, never paths
    assert not at.text_input  # nowhere to type a server path
    picker.set_value(hosted_ids(tmp_path)["tied-run/step300"]).run()
    assert not at.exception and not errors(at), errors(at)
    assert metrics(at)["Tied"] == "yes" and metrics(at)["Vocabulary"] == "128"
    assert not list((tmp_path / "data" / "uploads").glob("*/ck-*"))  # read in place, nothing staged


def test_a_series_of_step_checkpoints_draws_the_bias_over_training(
    open_app, tmp_path, monkeypatch, host_folder
):
    import json

    steps, untied = host_folder
    monkeypatch.setenv("TIEVIZ_MODELS", f"{steps}:{untied}")
    at = open_app(tmp_path / "data", PAGE)
    at.radio(key="ckpt_source").set_value("host").run()
    ids = hosted_ids(tmp_path)
    at.selectbox(key="ckpt_host").set_value(ids["tied-run/step100"]).run()
    at.multiselect(key="ckpt_series_tied").set_value(
        [ids[f"tied-run/step{s}"] for s in (300, 100, 200)]
    ).run()
    at.selectbox(key="ckpt_series_untied").set_value(ids["untied-ref"]).run()
    at.button(key="ckpt-series-run").click().run()
    assert not at.exception and not errors(at), errors(at)
    (chart,) = [c for c in at.get("plotly_chart") if c.key == "chart-ckpt-series"]
    bias = json.loads(chart.proto.spec)["data"][0]
    assert bias["x"] == [100, 200, 300]  # ordered by the step in each name
    assert bias["y"][0] < bias["y"][1] < bias["y"][2] and bias["y"][2] > 0, bias["y"]


def test_the_staging_cap_comes_from_the_configuration(open_app, tmp_path, monkeypatch, checkpoints):
    monkeypatch.setenv("TIEVIZ_UPLOAD_MAX_STAGED_MB", "0.01")
    at = open_app(tmp_path, PAGE)
    assert any("up to 0 MiB once unpacked" in c.value for c in at.caption)
    at = upload(at, as_files(checkpoints["gpt2", True]))
    shown = errors(at)
    assert len(shown) == 1 and "unpacks to more than the limit of 10 KiB" in shown[0], shown
    assert not at.metric and not list((tmp_path / "uploads").glob("*/ck-*"))


def test_a_comparison_already_asked_for_is_followed_without_another_click(open_app, tmp_path, checkpoints):
    """A rerun (a widget change, a return to the page) finds the pair's job and follows it to its chart."""
    from tieviz.checkpoints import uploads
    from tieviz.jobs import JobManager

    data = tmp_path / "data"
    at = upload(open_app(data, PAGE), as_files(checkpoints["gpt2", True]))
    at.file_uploader(key="ckpt_other_upload").set_value(as_files(checkpoints["llama", False])).run()
    assert "chart-ckpt-paper" not in charts(at)
    visitor = at.session_state["tieviz_visitor"]
    newest_first = uploads.list_uploads(data, visitor)
    untied, tied = (u.checkpoint for u in newest_first)
    queue = JobManager(data, concurrency=0)  # another session's queue-only manager on the same folder
    try:
        (text_job,) = [j for j in queue.jobs(kind=None) if j.config["task"] == "text"]
        task = {
            "task": "compare",
            "a": str(tied),
            "b": str(untied),
            "tokens": V,
            "frequency": str(queue.result_dir(text_job.id)),
            "run": "",
            "d_tied": 16,
            "d_untied": 16,
            "vocab": V,
        }
        queue.submit_checkpoint(task, visitor)  # as if asked for before the page reran
    finally:
        queue.shutdown()
    at.run()
    assert not at.exception and not errors(at), errors(at)
    assert "chart-ckpt-paper" in charts(at)


def widget_path(at, key: str) -> tuple[int, ...]:
    """Where the widget with `key` sits in the page's element tree: the indices from the main block down."""

    def walk(node, path):
        if getattr(node, "key", None) == key:
            return path
        for index, child in getattr(node, "children", {}).items():
            found = walk(child, (*path, index))
            if found is not None:
                return found
        return None

    found = walk(at.main, ())
    assert found is not None, f"no widget {key!r} on the page"
    return found


def test_the_page_lays_out_alike_on_the_run_that_reads_an_upload_and_the_next(
    open_app, tmp_path, checkpoints
):
    """A progress bar shown only while a job ran moved every element below it on the next run; the browser
    then remounted those widgets and dropped a file being uploaded into the second uploader (seen in CI)."""
    at = upload(open_app(tmp_path, PAGE), as_files(checkpoints["gpt2", True]))
    staged = {key: widget_path(at, key) for key in ("ckpt_other_upload", "ckpt_text", "ckpt_n")}
    at.run()
    assert not at.exception and not errors(at)
    assert {key: widget_path(at, key) for key in staged} == staged
    at.file_uploader(key="ckpt_other_upload").set_value(as_files(checkpoints["llama", False])).run()
    compare = widget_path(at, "ckpt-compare")
    at.run()
    assert widget_path(at, "ckpt-compare") == compare
