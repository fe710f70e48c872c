"""One rule for text from outside: shown as text, never as Markdown or HTML.

Streamlit renders Markdown (with GitHub's autolinks) in titles, captions, alerts, metric labels, status
labels and radio options. A file name, a config's `architectures`, a tensor or zip entry name, a token
or a URL parameter is someone else's text: rendered as Markdown, `[x](https://…) ![x](https://….png)`
puts their link and their image on the page, and the browser fetches from their host. So every such
string goes through `plain` before it meets Markdown, and every refusal or note that may quote one goes
through `plain` whole.
"""

from __future__ import annotations

import re

# Any ASCII punctuation may be backslash-escaped in CommonMark, and an escaped one is always literal. These
# are the ones that can start a link, an image, emphasis, an HTML tag or entity, LaTeX (`\$`), a Streamlit
# colour or icon (`\:red\[`), a table or a heading. Full stops, quotes, hyphens and slashes stay as they
# are, so "config.json" still reads (and searches) as itself.
_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()<>#+!|~$:@&=^])")
# GitHub's autolinks ("https://…", "www.…", "a@b.c") are found in the text *after* escapes are undone
# (Streamlit's renderer links them in text nodes), so escaping cannot stop them: an invisible word joiner
# inside each marker does, and the reader sees the same characters.
_JOINER = "\u2060"
_AUTOLINK_MARKERS = re.compile(r"(?i)(:)(//)|(www)(\.)|(@)()")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c]+")


def plain(text: object) -> str:
    """`text` escaped so that any Markdown element shows it literally, on one line.

    Line breaks become spaces: a label is one line, and a break could start a new Markdown block.
    """
    one_line = _LINE_BREAKS.sub(" ", str(text))
    unlinked = _AUTOLINK_MARKERS.sub(lambda m: _JOINER.join(g for g in m.groups() if g is not None), one_line)
    return _PUNCTUATION.sub(r"\\\1", unlinked)
