"""tieviz: see, measure and teach what weight tying does to a language model's embeddings."""

__version__ = "0.1.0"
