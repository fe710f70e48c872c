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
# are the ones that can start a link, an image, emphasis, an HTML tag or entity, an autolink (`https\:`,
# `a\@b`), LaTeX (`\$`), a Streamlit colour or icon (`\:red\[`), a table or a heading. Full stops,
# quotes, hyphens and slashes stay as they are, so "config.json" still reads (and searches) as itself.
_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()<>#+!|~$:@&=^])")
_WWW = re.compile(r"(?i)(www)\.")  # GitHub's bare-domain autolink starts at "www."
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c]+")


def plain(text: object) -> str:
    """`text` escaped so that any Markdown element shows it literally, on one line.

    Line breaks become spaces: a label is one line, and a break could start a new Markdown block.
    """
    escaped = _PUNCTUATION.sub(r"\\\1", _LINE_BREAKS.sub(" ", str(text)))
    return _WWW.sub(r"\1\\.", escaped)
