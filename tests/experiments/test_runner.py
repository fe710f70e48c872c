"""Resolving an experiment before it is hashed (tieviz/experiments/runner.py)."""

import hashlib

from tieviz.config import preset
from tieviz.experiments.runner import resolve


def test_a_file_corpus_is_keyed_by_the_sha256_of_its_bytes(tmp_path):
    """The hash comes from the one read that also checks the text; it must equal the file's own sha256."""
    corpus = tmp_path / "corpus.txt"
    raw = "\ufeffcafé au lait, naïve façade\r\nline two\n".encode()  # a BOM, accents and CRLF survive
    corpus.write_bytes(raw)
    resolved = resolve(preset("toy", corpus="file", path=str(corpus), device="cpu"))
    assert resolved.data.content_hash == hashlib.sha256(raw).hexdigest()
    corpus.write_bytes(raw + b"more")
    assert resolve(preset("toy", corpus="file", path=str(corpus), device="cpu")).key() != resolved.key()
