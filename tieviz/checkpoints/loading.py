"""Loading a whole model or its tokenizer from a checkpoint, never running code from the checkpoint."""

from __future__ import annotations

import warnings
from pathlib import Path

from tieviz.checkpoints.errors import CheckpointError
from tieviz.checkpoints.reader import has_tokenizer_files, inspect_checkpoint


def load_full_model(path: Path, max_params: int = 200_000_000):
    """The full causal LM for analyses that need it (tuned lens), refused above ``max_params``.

    Only directories: the files must outlive the model. ``trust_remote_code=False`` and
    ``local_files_only=True`` mean nothing is downloaded or executed.
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
    from transformers import AutoModelForCausalLM

    from tieviz.model import quiet_transformers

    quiet_transformers()
    try:
        model = AutoModelForCausalLM.from_pretrained(path, trust_remote_code=False, local_files_only=True)
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise CheckpointError(
            f"transformers could not load the model ({type(exc).__name__}: {exc})."
        ) from exc
    return model.eval()


def load_tokenizer_labels(path: Path, vocab_size: int) -> list[str]:
    """A readable label per token id: the decoded token when tokenizer files exist, else "tok<i>".

    Ids the tokenizer does not cover (padded vocabularies) keep their "tok<i>" label.
    """
    labels = [f"tok{i}" for i in range(vocab_size)]
    path = Path(path)
    if not has_tokenizer_files(path):
        return labels
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True, trust_remote_code=False)
    except Exception as exc:  # noqa: BLE001 - a broken tokenizer should not block the analysis
        warnings.warn(f"Tokenizer files could not be loaded ({exc}); using tok<i> labels.", stacklevel=2)
        return labels
    known = min(vocab_size, len(tokenizer))
    decoded = tokenizer.batch_decode([[i] for i in range(known)])
    raw = tokenizer.convert_ids_to_tokens(list(range(known)))
    for i, (text, token) in enumerate(zip(decoded, raw, strict=True)):
        if text.strip():
            labels[i] = text
        elif token:
            labels[i] = str(token)
    return labels
