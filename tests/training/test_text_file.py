"""Streamed corpora: the same token ids as reading the whole file, in bounded memory
(tieviz/training/text_file.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

from tieviz.config import DataConfig
from tieviz.training import corpus as data
from tieviz.training import text_file as textfile
from tieviz.training.text_file import CorpusError, document_pieces, kept_documents, scan_text_file

WORDS = "alpha beta gamma delta épée naïve Straße ΟΔΟΣ x1 foo-bar don't".split()


def whole_file_ids(path, vocab_size: int) -> tuple[dict[str, int], np.ndarray]:
    """The encoding as tieviz did it before streaming: whole file, split on blank lines, EOS after each."""
    text = path.read_bytes().decode("utf-8")
    documents = [doc for doc in text.split("\n\n") if doc.strip()]
    tokenizer = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.WordLevelTrainer(vocab_size=vocab_size, special_tokens=["[UNK]", "[EOS]"])
    tokenizer.train_from_iterator(documents, trainer=trainer)
    eos = tokenizer.token_to_id("[EOS]")
    ids: list[int] = []
    for encoding in tokenizer.encode_batch(documents):
        ids.extend(encoding.ids)
        ids.append(eos)
    return tokenizer.get_vocab(), np.asarray(ids)


def awkward_text(seed: int) -> bytes:
    """CRLF and LF paragraphs, blank and whitespace-only documents, a BOM, multi-byte characters."""
    rng = np.random.default_rng(seed)
    paragraphs = []
    for _ in range(60):
        words = rng.choice(WORDS, size=int(rng.integers(1, 40)))
        separators = rng.choice([" ", "  ", "\t", "\n", "\r\n", " \u00a0"], size=len(words))
        paragraphs.append("".join(w + s for w, s in zip(words, separators, strict=True)))
    breaks = rng.choice(["\n\n", "\r\n\r\n", "\n\n\n", "\n\n\n\n", "\n \n\n"], size=len(paragraphs))
    return ("\ufeff" + "".join(p + b for p, b in zip(paragraphs, breaks, strict=True))).encode("utf-8")


@pytest.mark.parametrize(("chunk_bytes", "piece_chars"), [(7, 5), (13, 64), (4096, 16), (2**20, 2**16)])
def test_streamed_ids_equal_the_whole_file_ids(tmp_path, monkeypatch, chunk_bytes, piece_chars):
    """Tiny chunks cut words, multi-byte characters, CRLF and blank lines at every kind of place."""
    monkeypatch.setattr(textfile, "CHUNK_BYTES", chunk_bytes)
    monkeypatch.setattr(textfile, "PIECE_CHARS", piece_chars)
    monkeypatch.setattr(data, "ENCODE_BATCH_CHARS", 50)
    path = tmp_path / "awkward.txt"
    path.write_bytes(awkward_text(chunk_bytes) * 8)
    vocab, expected = whole_file_ids(path, vocab_size=12)
    corpus = data.build_corpus(DataConfig(corpus="file", path=str(path), vocab_size=12), seq_len=4)
    assert corpus.tokenizer.get_vocab() == vocab
    assert corpus.train_ids.dtype == np.int32
    np.testing.assert_array_equal(corpus.all_ids, expected)


def test_a_word_cut_by_the_chunk_boundary_stays_one_word():
    pieces = list(document_pieces(["one twen", "ty three\n", "\nfour five"], piece_chars=4))
    documents, current = [], ""
    for piece, ends in pieces:
        current += piece
        if ends:
            documents.append(current)
            current = ""
    assert documents == ["one twenty three", "four five"]
    assert len(pieces) > 2 and all(piece[-1] == " " for piece, ends in pieces if not ends)


def test_whitespace_only_documents_are_dropped_whole():
    pieces = [(" ", False), ("\t", True), ("  ", False), ("a ", False), ("b", True)]
    assert list(kept_documents(pieces)) == [("  ", False), ("a ", False), ("b", True)]


def test_scan_counts_words_across_chunks_and_hashes_the_bytes(tmp_path, monkeypatch):
    import hashlib

    monkeypatch.setattr(textfile, "CHUNK_BYTES", 3)
    raw = "un deux\ttrois  quatre\r\ncinq é".encode()
    (tmp_path / "t.txt").write_bytes(raw)
    info = scan_text_file(tmp_path / "t.txt")
    assert info.words == 6 and info.sha256 == hashlib.sha256(raw).hexdigest()


def test_a_bad_byte_is_reported_at_its_offset_in_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(textfile, "CHUNK_BYTES", 4)
    (tmp_path / "t.txt").write_bytes(b"abcdef\xc3\xa9gh\xffij")
    with pytest.raises(CorpusError, match="offset 10"):
        scan_text_file(tmp_path / "t.txt")


def test_a_folder_is_called_a_folder(tmp_path):
    with pytest.raises(CorpusError, match="is a folder"):
        scan_text_file(tmp_path)


def test_a_one_line_corpus_trains_in_bounded_memory(tmp_path):
    """8 MB on one line: read and encoded at once, it took 2.5 GB at 16 MB; streamed, well under 200 MB."""
    path = tmp_path / "one-line.txt"
    rng = np.random.default_rng(0)
    words = np.array([f"w{i}" for i in range(3000)])
    with path.open("w") as handle:
        for _ in range(16):
            handle.write(" ".join(words[rng.integers(0, 3000, 100_000)]) + " ")
    assert path.stat().st_size > 8e6 and b"\n" not in path.read_bytes()[:1000]
    code = textwrap.dedent(
        f"""
        import resource
        from tieviz.config import DataConfig
        from tieviz.training.corpus import build_corpus
        import transformers.tokenization_utils_fast  # noqa: loaded before the baseline
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        corpus = build_corpus(DataConfig(corpus="file", path={str(path)!r}, vocab_size=500), seq_len=64)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(len(corpus.all_ids), (after - before) // 1024)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    n_tokens, grew_mb = map(int, done.stdout.split())
    assert n_tokens == 1_600_001
    assert grew_mb < 200, f"building the corpus grew the process by {grew_mb} MB"
