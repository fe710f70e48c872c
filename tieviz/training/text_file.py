"""A user's text file read in bounded memory: checked, hashed, counted and cut into document pieces.

A corpus is documents separated by a blank line ("\\n\\n"). The file is never held whole: a 50 MB text on
one line once took 7.5 GB when read and encoded at once. Pieces are cut just after an ASCII blank, where
the word-level tokenizer (NFKC, lower case, split on whitespace and punctuation) would split anyway, so
tokenizing the pieces gives the very ids that tokenizing the whole documents gave.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

MAX_CORPUS_BYTES = 200 * 2**20  # a word-level toy trainer has no use for more
CHUNK_BYTES = 2**20  # read at a time
PIECE_CHARS = 2**16  # longest piece handed to the tokenizer (it buffers a few hundred at once)
MAX_CARRY_CHARS = 2**23  # a "word" longer than this (no blank in 8 Mi characters) is cut where it stands
BLANKS = " \n\t\r"


class CorpusError(ValueError):
    """A corpus that cannot be used, with one sentence saying why."""


@dataclass(frozen=True)
class TextFileInfo:
    sha256: str  # of the file's bytes
    words: int  # blank-separated words, as str.split() counts them


def _checked(path: str | Path) -> Path:
    """The path of a regular file within the size limit, or CorpusError naming it (never its folder)."""
    path = Path(path)
    if path.is_dir():
        raise CorpusError(f"corpus {path.name} is a folder; give a UTF-8 text file")
    if not path.is_file():
        raise CorpusError(f"corpus file {path.name} does not exist")
    size = path.stat().st_size
    if size > MAX_CORPUS_BYTES:
        raise CorpusError(
            f"corpus file {path.name} is {size / 2**20:.0f} MiB; the limit is {MAX_CORPUS_BYTES // 2**20} MiB"
        )
    return path


def decoded_chunks(path: str | Path, chunk_bytes: int | None = None) -> Iterator[tuple[bytes, str]]:
    """(raw bytes, their text) of the file, chunk by chunk; CorpusError when it is not UTF-8 or is blank."""
    path = _checked(path)
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    decoder = codecs.getincrementaldecoder("utf-8")()
    consumed, blank = 0, True
    with path.open("rb") as handle:
        while True:
            raw = handle.read(chunk_bytes)
            pending = len(decoder.getstate()[0])
            try:
                text = decoder.decode(raw, final=not raw)
            except UnicodeDecodeError as err:
                offset = consumed - pending + err.start
                reason = f"corpus file {path.name} is not UTF-8 text (bad byte at offset {offset})"
                raise CorpusError(reason) from None
            consumed += len(raw)
            blank = blank and not text.strip()
            if text or raw:
                yield raw, text
            if not raw:
                break
    if blank:
        raise CorpusError(f"corpus file {path.name} is empty")


def scan_text_file(path: str | Path) -> TextFileInfo:
    """Checks the whole file (UTF-8, not blank, not too big) and returns its digest and word count."""
    digest, words, joined = hashlib.sha256(), 0, False
    for raw, text in decoded_chunks(path):
        digest.update(raw)
        if not text:
            continue
        words += len(text.split()) - (joined and not text[0].isspace())  # a word across the cut
        joined = not text[-1].isspace()
    return TextFileInfo(digest.hexdigest(), words)


def document_pieces(chunks: Iterable[str], piece_chars: int | None = None) -> Iterator[tuple[str, bool]]:
    """(piece, ends a document) for the text's documents as `text.split("\\n\\n")` gives them.

    Blank documents are yielded too (see `kept_documents`). A piece ends just after an ASCII blank, so no
    word, no "\\n\\n" and no character is cut (except inside a run of MAX_CARRY_CHARS without a blank).
    """
    piece_chars = piece_chars or PIECE_CHARS
    buffer = ""
    for chunk in chunks:
        buffer += chunk
        *complete, buffer = buffer.split("\n\n")
        for document in complete:
            yield from _cut(document, piece_chars, final=True)
        if len(buffer) > piece_chars:
            head, buffer = _split_at_blank(buffer)
            if head:
                yield from _cut(head, piece_chars, final=False)
    yield from _cut(buffer, piece_chars, final=True)


def _split_at_blank(text: str) -> tuple[str, str]:
    """(head, rest): head ends with the last ASCII blank that leaves `rest` non-empty.

    `rest` keeps the last character so that a "\n" there can still meet the next chunk's "\n".
    """
    cut = max(text.rfind(blank, 0, len(text) - 1) for blank in BLANKS) + 1
    if cut == 0:
        return ("", text) if len(text) <= MAX_CARRY_CHARS else (text[:-1], text[-1:])
    return text[:cut], text[cut:]


def _cut(text: str, piece_chars: int, final: bool) -> Iterator[tuple[str, bool]]:
    """`text` in pieces of about `piece_chars`, each ending after a blank; the last one carries `final`."""
    start = 0
    while len(text) - start > piece_chars:
        cut = max(text.rfind(blank, start, start + piece_chars) for blank in BLANKS) + 1
        if cut <= start:  # no blank within reach: run on to the end of this word
            after = [i for blank in BLANKS if (i := text.find(blank, start + piece_chars)) >= 0]
            if not after:
                break
            cut = min(after) + 1
        if cut >= len(text):
            break
        yield text[start:cut], False
        start = cut
    yield text[start:], final


def kept_documents(pieces: Iterable[tuple[str, bool]]) -> Iterator[tuple[str, bool]]:
    """The pieces of documents with something besides whitespace (`doc.strip()`), the others dropped."""
    held: list[str] = []  # leading pieces of a document not yet known to be kept
    kept = False
    for piece, ends in pieces:
        if kept:
            yield piece, ends
        elif piece.strip():
            kept = True
            for earlier in held:
                yield earlier, False
            held.clear()
            yield piece, ends
        else:
            held.append(piece)
        if ends:
            held.clear()
            kept = False
