"""The lesson path, presenter mode and the glossary, driven through app.py like a visitor would."""

from __future__ import annotations

import json

import pytest

from tests.app.conftest import errors
from tieviz.glossary import TERMS
from tieviz.ui.lesson import LESSON, TOOLS, next_step
from tieviz.ui.presenter import PRESENTER_CSS

NEXT = "Next: "


def next_links(at) -> list:
    return [p.proto for p in at.get("page_link") if p.proto.label.startswith(NEXT)]


def script_of(url_path: str) -> str:
    """The page script behind a link's url path ("" is the default page, the Overview)."""
    return f"pages/{url_path or 'overview'}.py"


@pytest.mark.parametrize("trained", [False, True], ids=["fresh", "trained"])
def test_following_next_from_the_overview_walks_the_lesson_in_order(open_app, tmp_path, toy_data, trained):
    data = toy_data[0] if trained else tmp_path
    at = open_app(data)
    visited = ["pages/overview.py"]
    while links := next_links(at):
        assert not at.exception and not errors(at), visited
        [link] = links  # exactly one "Next" per page
        visited.append(script_of(link.page))
        at.switch_page(visited[-1])
        at.run()
    assert visited == [step.path for step in LESSON]
    assert len(visited) >= 6


def test_the_order_is_defined_once_and_tools_sit_apart():
    assert next_step("pages/overview.py").path == "pages/why_tie.py"
    assert next_step(LESSON[-1].path) is None
    assert next_step("pages/train.py") is None  # a tool is not a step of the argument
    assert "pages/train.py" not in [s.path for s in LESSON]
    assert {"pages/train.py", "pages/glossary.py"} <= {s.path for s in TOOLS}


def first_chart(at) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def test_presenter_mode_from_the_url_enlarges_chart_text(open_app, tmp_path):
    plain = first_chart(open_app(tmp_path, "pages/why_tie.py"))
    at = open_app(tmp_path, "pages/why_tie.py", {"present": "1"})
    assert not at.exception
    assert at.sidebar.toggle(key="present").value is True
    shown = first_chart(at)
    assert plain["layout"]["xaxis"]["tickfont"]["size"] < 18
    for axis in ("xaxis", "yaxis"):
        assert shown["layout"][axis]["tickfont"]["size"] >= 18
    assert shown["layout"]["font"]["size"] >= 18
    assert shown["layout"]["legend"]["orientation"] == "h"
    # Not only the charts: the page's own text (captions, definitions, tables) is scaled too.
    styles = [h.proto.body for h in at.get("html")]
    assert PRESENTER_CSS in styles
    assert PRESENTER_CSS not in [h.proto.body for h in open_app(tmp_path, "pages/why_tie.py").get("html")]


def test_the_sidebar_toggle_sets_presenter_mode_and_the_url(open_app, tmp_path):
    at = open_app(tmp_path, "pages/why_tie.py")
    assert "present" not in at.query_params
    at.sidebar.toggle(key="present").set_value(True).run()
    assert at.query_params["present"] == "1"
    assert first_chart(at)["layout"]["xaxis"]["tickfont"]["size"] >= 18
    at.sidebar.toggle(key="present").set_value(False).run()
    assert "present" not in at.query_params
    assert first_chart(at)["layout"]["xaxis"]["tickfont"]["size"] < 18


def test_the_glossary_lists_every_term_and_finds_one(open_app, tmp_path):
    at = open_app(tmp_path, "pages/glossary.py")
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    for term in TERMS.values():
        assert term.word in text
    at.text_input(key="glossary_find").set_value("lens").run()
    found = " ".join(m.value for m in at.markdown)
    assert "Logit lens" in found and "Tuned lens" in found and "Perplexity" not in found


def test_the_calculator_bars_follow_the_entered_width(open_app, tmp_path):
    at = open_app(tmp_path, "pages/why_tie.py")

    def bars():
        spec = json.loads(at.get_by_key("chart-tying_savings").proto.spec)
        return spec["data"][0]["y"], spec["layout"]["yaxis"]["range"]

    wide, wide_range = bars()
    at.number_input(key="calc_width").set_value(1024).run()
    narrow, narrow_range = bars()
    assert narrow == pytest.approx([w / 4 for w in wide])  # V x d shrinks with the width
    assert narrow_range == wide_range  # on the same axis, so the bars visibly shrink


# Page -> glossary terms it must define where it first uses them.
DEFINED = {
    "pages/overview.py": ("tying", "lin_cos", "bias"),
    "pages/why_tie.py": ("perplexity",),
    "pages/bigrams.py": ("direct_path", "z_score"),
    "pages/gradients.py": ("gradient_paths",),
    "pages/maps.py": ("cka", "mknn", "lin_cos", "proc_cos"),
    "pages/causal.py": ("alpha",),
    "pages/lens.py": ("residual_stream", "logit_lens", "tuned_lens", "nats_bits"),
}


@pytest.mark.parametrize("page", sorted(DEFINED))
def test_pages_define_their_terms_inline(open_app, tmp_path, page):
    at = open_app(tmp_path, page)
    captions = " ".join(c.value for c in at.caption)
    for key in DEFINED[page]:
        assert f"**{TERMS[key].word}**: {TERMS[key].meaning}" in captions
    assert "centred kernel alignment" in TERMS["cka"].word  # CKA is spelled out wherever it is defined


def rendered_text(at) -> str:
    """Every text an AppTest run put on screen: markdown, captions, labels, help, tables, chart specs."""
    from google.protobuf import text_format

    parts, stack = [], [at._tree]
    while stack:
        node = stack.pop()
        if (proto := getattr(node, "proto", None)) is not None:
            parts.append(text_format.MessageToString(proto, as_utf8=True))
        stack.extend(getattr(node, "children", {}).values())
    return " ".join(parts).lower()


def test_every_glossary_term_is_used_by_the_pages_and_every_page_term_is_defined(open_app, toy_data):
    """Each defined term against the pages: the glossary defines no word the lesson never says, and the
    words every lesson page leans on (seeds, intervals, floors, baselines) have an entry."""
    from tieviz.ui.lesson import LESSON, TOOLS

    data, _ = toy_data
    text = {
        s.path: rendered_text(open_app(data, s.path)) for s in (*LESSON, *TOOLS) if "glossary" not in s.path
    }
    everything = " ".join(text.values())
    unused = [key for key, term in TERMS.items() if not any(p.lower() in everything for p in term.phrases)]
    assert unused == [], f"glossary terms no page uses: {unused}"
    for key in ("seed", "interval", "chance_floor", "baseline"):
        assert key in TERMS
        users = [page for page, words in text.items() if TERMS[key].phrases[0].lower() in words]
        assert len(users) >= 2, f"{TERMS[key].word} is used on {users}"


def test_every_page_script_is_in_the_lesson_and_so_under_test():
    """The page tests take their pages from the lesson; a script left out of it would go untested."""
    from pathlib import Path

    from tests.app.conftest import PAGES

    root = Path(__file__).resolve().parents[2]
    assert sorted(PAGES) == sorted(f"pages/{p.name}" for p in (root / "pages").glob("*.py"))
