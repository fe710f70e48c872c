"""Exceptions as one line for users (tieviz/error_lines.py)."""

from __future__ import annotations

from tieviz.error_lines import error_line, failure_reason
from tieviz.training.corpus import CorpusError
from tieviz.training.loop import TrainingDiverged


def test_failure_reason_is_the_users_sentence_or_the_type_and_message():
    assert failure_reason(
        TrainingDiverged("the loss became nan at step 2; try a lower learning rate\nmore")
    ) == ("the loss became nan at step 2; try a lower learning rate")
    assert failure_reason(CorpusError("the file is not UTF-8")) == "the file is not UTF-8"
    assert failure_reason(KeyError("alpha")) == "KeyError: 'alpha'"
    assert failure_reason(RuntimeError()) == "RuntimeError"


def test_error_line_is_the_first_non_blank_line_or_the_type():
    assert error_line(ValueError("\n  first line\nsecond")) == "first line"
    assert error_line(OSError()) == "OSError"
