"""Docstrings and docs cite only what is in the repository: the design notes live in docs/science.md."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def sources() -> list[Path]:
    folders = ("tieviz", "pages", "tests", "benchmarks", "docs")
    return [ROOT / "app.py", ROOT / "README.md", *(p for f in folders for p in (ROOT / f).rglob("*.py"))]


def test_nothing_cites_notes_outside_the_repository():
    outside = re.compile(r"shared/(science|field-notes)|field-notes\.md|\.\./shared")
    citing = [
        str(p.relative_to(ROOT)) for p in sources() if p != Path(__file__) and outside.search(p.read_text())
    ]
    assert citing == []


def test_the_claims_docstrings_cite_are_sections_of_docs_science():
    notes = (ROOT / "docs" / "science.md").read_text()
    cited = {
        int(n) for p in sources() for n in re.findall(r"docs/science\.md,? \(?claim (\d)", p.read_text())
    }
    assert cited, "no docstring cites a claim"
    for number in cited:
        assert f"## Claim {number}:" in notes
