"""load_full_model and load_tokenizer_labels: local files only, with a size limit and label fallbacks."""

from __future__ import annotations

import pytest
import torch
from tokenizers import Tokenizer, models
from transformers import PreTrainedTokenizerFast

from tests.checkpoints.tiny import V
from tieviz.checkpoints import CheckpointError, load_full_model, load_tokenizer_labels


def test_full_model_loads_and_matches_the_saved_one(family_checkpoints):
    path, model = family_checkpoints["llama", False]
    loaded = load_full_model(path)
    ids = torch.arange(8).unsqueeze(0)
    with torch.no_grad():
        torch.testing.assert_close(loaded(ids).logits, model(ids).logits)


def test_full_model_over_the_limit_is_refused(family_checkpoints):
    path, _ = family_checkpoints["llama", False]
    with pytest.raises(CheckpointError, match="more than the 1,000 allowed"):
        load_full_model(path, max_params=1000)


def test_labels_without_tokenizer_are_numbered(family_checkpoints):
    assert list(load_tokenizer_labels(family_checkpoints["gpt2", True][0], 5)) == [
        "tok0",
        "tok1",
        "tok2",
        "tok3",
        "tok4",
    ]


def test_labels_come_from_tokenizer_files(copy_checkpoint):
    path = copy_checkpoint("gpt2", True)
    vocab = {f"w{i}": i for i in range(V - 4)} | {"[UNK]": V - 4}
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    )
    tokenizer.save_pretrained(path)
    labels = load_tokenizer_labels(path, V + 2)
    assert labels[5] == "w5" and labels[V - 4] == "[UNK]"
    assert labels[V + 1] == f"tok{V + 1}"  # ids beyond the tokenizer keep numbered labels
    assert len(labels) == V + 2


def test_labels_are_made_for_the_rows_shown_not_for_the_whole_claimed_vocabulary(copy_checkpoint):
    """A config can claim any vocabulary; labels cost memory only for the ids that are looked at."""
    import tracemalloc

    path = copy_checkpoint("gpt2", True)
    tracemalloc.start()
    labels = load_tokenizer_labels(path, 2_000_000)
    shown = [labels[i] for i in (0, 7, 1_999_999)]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert shown == ["tok0", "tok7", "tok1999999"] and len(labels) == 2_000_000
    assert labels[-1] == "tok1999999" and labels[2:4] == ["tok2", "tok3"]
    assert peak < 8 * 2**20, f"{peak / 2**20:.0f} MiB for three labels"
