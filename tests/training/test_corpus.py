"""Corpora: the toy language's known structure, its ground truth in token ids, and refused text files."""

from __future__ import annotations

import numpy as np
import pytest

from tieviz.config import DataConfig
from tieviz.training.corpus import (
    MIN_VOCAB,
    BatchSampler,
    CorpusError,
    build_corpus,
    toy_language,
)
from tieviz.training.text_file import decoded_chunks


def read_text_file(path) -> str:
    """A user's text file read whole through the checks training streams it with."""
    return "".join(text for _, text in decoded_chunks(path))


def stationary(transition: np.ndarray) -> np.ndarray:
    """The chain's long-run word frequencies: the left eigenvector for eigenvalue 1."""
    values, vectors = np.linalg.eig(transition.T)
    v = np.real(vectors[:, np.argmin(np.abs(values - 1))])
    return v / v.sum()


@pytest.fixture(scope="module")
def language():
    return toy_language(60)


def test_rows_are_distributions_and_the_language_is_reproducible(language):
    np.testing.assert_allclose(language.transition.sum(axis=1), 1.0)
    assert (language.transition > 0).all()
    assert len(set(language.words)) == 60
    again = toy_language(60)
    assert again.words == language.words and np.array_equal(again.transition, language.transition)
    assert toy_language(60, seed=1).words != language.words


def test_each_words_favourite_successor_rarely_leads_back(language):
    """P(b|a) high means P(a|b) low: the asymmetry the tied direct path cannot express."""
    t = language.transition
    favourite = t.argmax(axis=1)
    forward = t[np.arange(60), favourite]
    backward = t[favourite, np.arange(60)]
    assert np.median(forward / backward) > 10  # a frequent word can be both ways' favourite, hence the median
    assert np.linalg.norm(t - t.T) / np.linalg.norm(t) > 0.5


def test_frequencies_are_uneven_as_in_real_text(language):
    """A Zipf-like spread: the commonest word is many times the rarest, and ranks fall off steadily."""
    freq = np.sort(stationary(language.transition))[::-1]
    assert freq[0] / freq[-1] > 20
    assert freq[:6].sum() > 0.3  # the top tenth of the words carries a large share of the text


def test_sampled_text_follows_the_transition_matrix(language):
    words = language.sample(120_000, seed=3)
    index = {w: i for i, w in enumerate(language.words)}
    ids = np.array([index[w] for w in words])
    counts = np.zeros((60, 60))
    np.add.at(counts, (ids[:-1], ids[1:]), 1)
    common = counts.sum(axis=1) > 2000
    empirical = counts[common] / counts[common].sum(axis=1, keepdims=True)
    assert common.sum() >= 5
    np.testing.assert_allclose(empirical, language.transition[common], atol=0.03)


def test_too_few_words_is_refused():
    with pytest.raises(CorpusError, match="at least 8 words"):
        toy_language(5)


def test_toy_truth_is_the_transition_matrix_in_token_ids():
    cfg = DataConfig(corpus="toy", vocab_size=40, toy_vocab=38, toy_tokens=20_000)
    corpus = build_corpus(cfg, seq_len=16)
    language = toy_language(38)
    vocab = corpus.tokenizer.get_vocab()
    truth = corpus.truth_log_probs
    assert truth.shape == (40, 40)
    for a in (0, 7, 21):
        for b in (0, 3, 30):
            wa, wb = language.words[a], language.words[b]
            assert truth[vocab[wa], vocab[wb]] == pytest.approx(np.log(language.transition[a, b]))
    assert np.isneginf(truth[corpus.tokenizer.eos_token_id]).all()  # special tokens have no transitions
    assert len(corpus.val_ids) >= 4 * 17 and len(corpus.train_ids) + len(corpus.val_ids) == 20_001


def test_batches_are_fixed_by_the_seed():
    ids = np.arange(5_000)
    first, second = BatchSampler(ids, 8, 4, seed=0), BatchSampler(ids, 8, 4, seed=0)
    batches = [first.next() for _ in range(3)]
    assert all(np.array_equal(b, second.next()) for b in batches)
    assert batches[0].shape == (4, 9)  # seq_len + 1: inputs and their next tokens
    assert (np.diff(batches[0].numpy(), axis=1) == 1).all()  # contiguous windows of the stream
    assert not np.array_equal(BatchSampler(ids, 8, 4, seed=1).next(), batches[0])


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "is empty"), (b"  \n\t ", "is empty"), (b"caf\xe9 au lait", "not UTF-8 text")],
)
def test_unusable_text_files_are_refused_with_the_reason(tmp_path, content, reason):
    path = tmp_path / "corpus.txt"
    path.write_bytes(content)
    with pytest.raises(CorpusError, match=reason):
        read_text_file(path)


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        read_text_file(tmp_path / "nowhere.txt")


def test_too_few_words_for_the_smallest_vocabulary_says_so(tmp_path):
    path = tmp_path / "four.txt"
    path.write_text("red green blue gold " * 1000)
    with pytest.raises(CorpusError, match="only 4 distinct words") as refused:
        build_corpus(DataConfig(corpus="file", path=str(path), vocab_size=12), seq_len=8)
    assert f"smallest vocabulary is {MIN_VOCAB}" in str(refused.value) and "--vocab 6" not in str(
        refused.value
    )


def test_a_folder_given_as_a_corpus_is_called_a_folder(tmp_path):
    with pytest.raises(CorpusError, match="is a folder"):
        read_text_file(tmp_path)
