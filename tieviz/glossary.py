"""The words the dashboard uses, each defined once: the Glossary page lists them, pages show them inline.

Keys are short ids (`definition("cka")`); each entry is the term as written and one or two plain sentences.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    """A glossary entry: the word as the dashboard writes it, and its definition."""

    word: str
    meaning: str
    said: tuple[str, ...] = ()  # how the pages write it, when not as `word` (case is ignored)

    @property
    def phrases(self) -> tuple[str, ...]:
        """What counts as a page using this term: `said`, else the word without its parenthesis."""
        return self.said or (self.word.split(" (")[0],)


_TERMS: dict[str, Term] = {
    "tying": Term(
        "Weight tying",
        "Using one matrix both to embed input tokens and, transposed, to score the next token at the "
        "output (W_U = W_Eᵀ).",
    ),
    "embedding": Term(
        "Embedding matrix W_E",
        "The vocabulary × width matrix whose row for a token is the vector the model starts from.",
        ("W_E",),
    ),
    "unembedding": Term(
        "Unembedding matrix W_U",
        "The matrix that turns the model's last vector into one score (logit) per vocabulary token.",
        ("W_U",),
    ),
    "logit": Term(
        "Logit", "An unnormalised score for a next token; softmax turns logits into probabilities."
    ),
    "direct_path": Term(
        "Direct path",
        "What the model predicts with every transformer block skipped: embed the token, then unembed it "
        "(W_E W_U, or W_E W_Eᵀ when tied).",
    ),
    "bigram": Term("Bigram", "An ordered pair of neighbouring tokens, such as “New York”."),
    "asymmetry": Term(
        "Asymmetry",
        "‖A − Aᵀ‖ / ‖A‖: how much a matrix changes when mirrored across its diagonal; 0 means symmetric.",
    ),
    "z_score": Term(
        "z-score",
        "A value minus the mean, divided by the standard deviation: how many spreads above or below "
        "average it is, which lets matrices in different units share one colour scale.",
        ("z-scored", "z-score"),
    ),
    "layer_norm": Term(
        "Final layer norm",
        "The normalisation applied to the last hidden vector before the unembedding; it rescales each "
        "vector, which breaks the tied path's exact symmetry a little.",
    ),
    "gradient_paths": Term(
        "Input and output paths",
        "A tied matrix gets two gradients each step: through the embedding lookup (input path) and "
        "through the output projection (output path). tieviz splits them exactly.",
        ("input path", "output path"),
    ),
    "alpha": Term(
        "α-scaled model",
        "A tied model trained with its input-path gradient multiplied by α before every update: the "
        "causal test. If the output path causes the bias, a larger input gradient should shrink it.",
    ),
    "bias": Term(
        "Bias (output − input)",
        "A similarity to the untied output matrix minus the same similarity to the untied input matrix; "
        "above 0 means the tied matrix is shaped more like an output matrix.",
    ),
    "residual_stream": Term(
        "Residual stream",
        "The vector each position carries through the network; every layer reads it and adds its own "
        "output to it.",
        ("residual",),
    ),
    "logit_lens": Term(
        "Logit lens",
        "Reading a prediction from the middle of the network by sending the residual stream straight "
        "through the final norm and the unembedding.",
    ),
    "tuned_lens": Term(
        "Tuned lens",
        "The logit lens with a small learned affine translator per layer first, so that each layer's "
        "prediction is read fairly (Belrose et al. 2023).",
    ),
    "kl": Term(
        "KL divergence",
        "How far one probability distribution is from another; here, from a layer's prediction to the "
        "model's final prediction (0 = identical).",
    ),
    "cross_entropy": Term(
        "Cross-entropy",
        "The average surprise of the true next token under a prediction; the training loss.",
    ),
    "nats_bits": Term(
        "Nats and bits",
        "Units of information: natural-log units (nats) or base-2 units (bits); 1 nat = 1.443 bits.",
        ("nats", "bits"),
    ),
    "perplexity": Term(
        "Perplexity",
        "e to the cross-entropy in nats: roughly how many tokens the model is choosing between.",
    ),
    "seed": Term(
        "Seed",
        "The number a random draw starts from: it fixes a model's initial weights and the order it reads "
        "the text in. Training again with other seeds shows which results are luck.",
    ),
    "interval": Term(
        "95 % interval",
        "The range that holds the true mean over seeds 95 times in 100 (a t interval over the seeds' "
        "values). An interval that includes 0 means no effect was detected with these seeds, not that "
        "there is none.",
    ),
    "chance_floor": Term(
        "Chance floor",
        "The score the tied matrix gets against the untied matrix with its rows shuffled, so that no row "
        "matches its token: what a measure gives with no real correspondence. Few tokens or a narrow "
        "width raise it.",
    ),
    "baseline": Term(
        "Same-recipe baseline",
        "The score between the untied output matrices of two seeds: how alike two output matrices "
        "trained the same way get. A tied-to-output score near it is as close as training allows.",
    ),
    "arm": Term(
        "Arm",
        "One of the three models an experiment trains alike: tied, untied (the reference, from its own "
        "initial weights) and α-scaled.",
    ),
    "verdict": Term(
        "Verdict",
        "A claim's outcome read from its 95 % interval: agrees (the interval is on the paper's side of 0), "
        "no clear effect (it includes 0), or disagrees. With one seed there is no interval, and it says so.",
    ),
    "sweep": Term(
        "Sweep",
        "One experiment per value of one setting (α, width, depth or steps), to see how the bias moves "
        "along it.",
    ),
    "checkpoint": Term(
        "Checkpoint",
        "Saved model weights: tieviz keeps the embedding matrices at a few steps of every run, and "
        "reads uploaded Hugging Face checkpoints.",
    ),
    "pca_umap": Term(
        "PCA and UMAP",
        "Two ways to draw many-dimensional vectors in 2-D: PCA keeps the directions of largest spread, "
        "UMAP keeps neighbourhoods.",
        ("PCA", "UMAP"),
    ),
}


def _with_measures(terms: dict[str, Term]) -> dict[str, Term]:
    """The terms, with every registered measure's own entry (tieviz.analysis.measures) after the bias."""
    from tieviz.analysis.measures import REGISTRY

    measures = {m.key: Term(m.word, m.meaning) for m in REGISTRY}
    keys = list(terms)
    before = keys[: keys.index("bias")]
    return {k: terms[k] for k in before} | measures | {k: terms[k] for k in keys[len(before) :]}


TERMS: dict[str, Term] = _with_measures(_TERMS)


def definition(key: str) -> str:
    """'Word: meaning.' for a glossary key (raises KeyError for an unknown key, a programming error)."""
    term = TERMS[key]
    return f"{term.word}: {term.meaning}"
