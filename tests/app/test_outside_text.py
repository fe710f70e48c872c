"""Text from outside (file names, configs, tensor and zip entry names, URL parameters) is never live Markdown.

Every page is walked with hostile names where a stranger can put them; every string the page hands to an
element that renders Markdown (titles, captions, alerts, metrics, status and expander labels, radio
options, widget labels and help) is rendered as CommonMark, and any link or image to the stranger's host,
any bare URL GitHub's autolinks would turn live, and any raw HTML tag fails the test.
"""

from __future__ import annotations

import json
import re

import markdown_it
import pytest
from google.protobuf.json_format import MessageToDict
from safetensors.torch import load_file, save_file

from tests.app.conftest import PAGES
from tests.checkpoints.tiny import build_model, save_checkpoint, zip_bytes

HOSTILE = "[x](https://evil.example) ![x](https://evil.example/a.png) <b>bold</b> www.evil.example"
PLAIN_ELEMENTS = {"text", "code", "plotly_chart", "arrow_data_frame", "json", "dataframe", "empty"}
_MD = markdown_it.MarkdownIt("commonmark")
# GitHub's autolinks are found in the text after Markdown escapes are undone (Streamlit links them in text
# nodes): "https://" or "www." followed by the stranger's host, in what the reader sees, is a live link.
_AUTOLINK = re.compile(r"(https?://|www\.)[^\s]*evil", re.IGNORECASE)
URL_KEYS = ("maps_tokens", "maps_measure", "maps_method", "train_preset", "causal_measure", "lens_metric")


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _nodes(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _nodes(child)


def _unescaped(markdown: str) -> str:
    """A Markdown string with its backslash escapes undone, as the renderer's text nodes hold it."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


def live_markup(at) -> list[str]:
    """Strings on the page that would render a link, image, autolink or HTML tag of the stranger."""
    found = []
    for node in _nodes(at._tree):
        proto = getattr(node, "proto", None)
        if proto is None or getattr(node, "type", None) in PLAIN_ELEMENTS:
            continue
        for text in _strings(MessageToDict(proto)):
            html = _MD.render(text)
            if "evil.example" in html and ("<a " in html or "<img" in html):
                found.append(text)
            elif "<b>bold" in html or _AUTOLINK.search(_unescaped(text)):
                found.append(text)
    return found


def _hostile_checkpoint(root, architecture: str = HOSTILE):
    """A tiny GPT-2 whose config names a hostile architecture."""
    folder = save_checkpoint(build_model("gpt2", True), root / "ckpt")
    config = json.loads((folder / "config.json").read_text())
    config["architectures"] = [architecture]
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.mark.parametrize("page", PAGES)
def test_every_page_with_hostile_url_parameters(open_app, toy_data, page):
    at = open_app(toy_data[0], page, query=dict.fromkeys(URL_KEYS, HOSTILE))
    assert not at.exception
    assert not live_markup(at)


@pytest.mark.parametrize("case", ["zip file name", "config architectures"])
def test_hostile_names_of_an_accepted_upload_are_text(open_app, tmp_path, case):
    folder = _hostile_checkpoint(tmp_path, HOSTILE if case == "config architectures" else "GPT2LMHeadModel")
    archive = zip_bytes({f"ckpt/{p.name}": p.read_bytes() for p in folder.iterdir()})
    name = f"{HOSTILE}.zip" if case == "zip file name" else "model.zip"
    at = open_app(tmp_path / "data", "pages/checkpoints.py")
    at.file_uploader(key="ckpt_upload").set_value((name, archive, "application/zip")).run()
    assert not at.exception
    shown = at.subheader if case == "zip file name" else at.metric  # the name, or the architecture
    assert any("evil" in element.value for element in shown)
    assert not live_markup(at)


@pytest.mark.parametrize("case", ["zip entry", "tensor name"])
def test_hostile_names_in_refusals_are_text(open_app, tmp_path, case):
    folder = _hostile_checkpoint(tmp_path)
    files = {p.name: p.read_bytes() for p in folder.iterdir()}
    if case == "zip entry":
        files[f"../{HOSTILE}/config.json"] = b"{}"
    else:  # two tensors that could be the embedding: the refusal names both
        tensors = load_file(folder / "model.safetensors")
        key = next(k for k in tensors if k.endswith("wte.weight"))
        tensors[f"{HOSTILE}.wte.weight"] = tensors[key].clone()
        buffer = tmp_path / "twice.safetensors"
        save_file(tensors, buffer)
        files["model.safetensors"] = buffer.read_bytes()
    at = open_app(tmp_path / "data", "pages/checkpoints.py")
    at.file_uploader(key="ckpt_upload").set_value(("model.zip", zip_bytes(files), "application/zip")).run()
    assert not at.exception
    assert any("evil" in e.value for e in at.error)  # refused, quoting the name
    assert not live_markup(at)


def test_a_hostile_text_file_name_on_the_train_page_is_text(open_app, tmp_path):
    at = open_app(tmp_path, "pages/train.py")
    at.toggle(key="train_advanced").set_value(True).run()
    at.selectbox(key="adv-toy-corpus").set_value("file").run()
    at.file_uploader(key="train_upload").set_value((f"{HOSTILE}.txt", b"one two three\n" * 50, "text/plain"))
    at.run()
    assert not at.exception
    assert any("150 words" in c.value for c in at.caption)
    assert not live_markup(at)


def test_a_hostile_text_file_name_on_the_checkpoints_page_is_text(open_app, tmp_path):
    folder = save_checkpoint(build_model("gpt2", True), tmp_path / "plain")
    files = [(p.name, p.read_bytes(), "application/octet-stream") for p in folder.iterdir()]
    at = open_app(tmp_path / "data", "pages/checkpoints.py")
    at.file_uploader(key="ckpt_upload").set_value(files).run()
    at.radio(key="ckpt_text").set_value("file").run()
    at.file_uploader(key="ckpt_text_upload").set_value(
        (f"{HOSTILE}.txt", b"caf\xe9\n" * 9, "text/plain")
    ).run()
    assert not at.exception
    assert any("evil" in e.value for e in at.error)  # "… is not UTF-8 text", naming the file
    assert not live_markup(at)
