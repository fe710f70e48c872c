"""Reading users' Hugging Face checkpoints safely: staging uploads, finding W_E and W_U, deciding tying."""

from tieviz.checkpoints.archive import stage_upload
from tieviz.checkpoints.errors import CheckpointError
from tieviz.checkpoints.family_lookup import FAMILIES, Family
from tieviz.checkpoints.loading import load_full_model, load_tokenizer_labels
from tieviz.checkpoints.reader import CheckpointSummary, EmbeddingPair, inspect_checkpoint, read_embeddings
from tieviz.checkpoints.report import main_inspect

__all__ = [
    "FAMILIES",
    "CheckpointError",
    "CheckpointSummary",
    "EmbeddingPair",
    "Family",
    "inspect_checkpoint",
    "load_full_model",
    "load_tokenizer_labels",
    "main_inspect",
    "read_embeddings",
    "stage_upload",
]
