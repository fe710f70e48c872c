"""Loading a whole model or its tokenizer from a checkpoint, never running code from the checkpoint."""

from __future__ import annotations

import operator
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, overload

from tieviz.checkpoints.errors import CheckpointError
from tieviz.checkpoints.reader import has_tokenizer_files, inspect_checkpoint, read_config


def _refuse_unloadable(config: dict[str, Any]) -> None:
    """Settings transformers would fail on deep inside model building, refused first with a clear line."""
    if config.get("quantization_config") is not None:
        raise CheckpointError(
            "config.json has a quantization_config; the tuned lens loads full-precision models only."
        )


def _plain(exc: BaseException, path: Path) -> str:
    """An exception as "Type: message", without the server's folder names."""
    text = (
        " ".join(str(exc).split())[:300].replace(str(path.resolve()), path.name).replace(str(path), path.name)
    )
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def load_full_model(path: Path, max_params: int = 200_000_000):
    """The full causal LM for analyses that need it (tuned lens), refused above ``max_params``.

    Only directories: the files must outlive the model. ``trust_remote_code=False`` and
    ``local_files_only=True`` mean nothing is downloaded or executed; attention runs as plain PyTorch
    ("eager") whatever config.json asks for, since flash-attention kernels may not be installed.
    """
    path = Path(path)
    if not path.is_dir():
        raise CheckpointError("A full model can only be loaded from a checkpoint directory.")
    summary = inspect_checkpoint(path)
    if summary.n_params > max_params:
        raise CheckpointError(
            f"The model has {summary.n_params:,} parameters, "
            f"more than the {max_params:,} allowed for a full load."
        )
    _refuse_unloadable(read_config(path))
    from transformers import AutoConfig, AutoModelForCausalLM

    from tieviz.training.model import quiet_transformers

    quiet_transformers()
    try:
        config = AutoConfig.from_pretrained(path, trust_remote_code=False, local_files_only=True)
        config._attn_implementation = "eager"  # config.json's own choice would win over the argument alone
        model = AutoModelForCausalLM.from_pretrained(
            path, config=config, trust_remote_code=False, local_files_only=True, attn_implementation="eager"
        )
    except Exception as exc:  # noqa: BLE001 - whatever a user's config makes transformers raise
        raise CheckpointError(
            f"transformers could not build the model from config.json ({_plain(exc, path)})."
        ) from exc
    return model.eval()


class TokenLabels(Sequence[str]):
    """A readable label per token id [V], decoded on first use and kept.

    Lazy because the figures show a few hundred rows: a list for every id costs memory that grows with
    the vocabulary a config claims, which an upload controls. The label is the decoded token when the
    checkpoint has a tokenizer (else its raw token), and "tok<i>" for ids the tokenizer does not cover.
    """

    def __init__(self, vocab_size: int, tokenizer: Any = None) -> None:
        self._size = vocab_size
        self._tokenizer = tokenizer
        self._known = min(vocab_size, len(tokenizer)) if tokenizer is not None else 0
        self._cache: dict[int, str] = {}

    def __len__(self) -> int:
        return self._size

    @property
    def tokenizer(self) -> Any:
        """The checkpoint's tokenizer, or None when it has none (labels are then "tok<i>")."""
        return self._tokenizer

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._size))]
        i = operator.index(index)
        i = i + self._size if i < 0 else i
        if not 0 <= i < self._size:
            raise IndexError(f"token id {index} is outside the vocabulary of {self._size}")
        if i not in self._cache:
            self._cache[i] = self._label(i)
        return self._cache[i]

    def _label(self, i: int) -> str:
        if i >= self._known:
            return f"tok{i}"
        from tieviz.checkpoints.tokenizer import tokenizer_call

        try:
            text = tokenizer_call("decoding", lambda: self._tokenizer.decode([i]))
            token = tokenizer_call("decoding", lambda: self._tokenizer.convert_ids_to_tokens(i))
        except Exception:  # noqa: BLE001 - one undecodable id (or a panic) keeps its placeholder
            return f"tok{i}"
        if text.strip():
            return text
        return str(token) if token else f"tok{i}"


def load_tokenizer_labels(path: Path, vocab_size: int) -> TokenLabels:
    """Labels for every token id, read lazily from the checkpoint's tokenizer (or "tok<i>" without one)."""
    path = Path(path)
    if not has_tokenizer_files(path):
        return TokenLabels(vocab_size)
    from tieviz.checkpoints.tokenizer import load_tokenizer

    try:
        tokenizer = load_tokenizer(path)
    except CheckpointError as exc:  # a broken or refused tokenizer should not block the analysis
        warnings.warn(f"{exc} Using tok<i> labels.", stacklevel=2)
        return TokenLabels(vocab_size)
    return TokenLabels(vocab_size, tokenizer)
