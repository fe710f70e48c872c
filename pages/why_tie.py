"""Why tie at all? The parameters tying saves, as a share of a 1B, 7B and 70B model."""

import streamlit as st

from tieviz import ui
from tieviz.analysis.teaching import standard_savings_table
from tieviz.figures.teaching import savings_figure

ui.require_app()

st.title("Why tie at all? The parameters it saves")
st.markdown(
    "A language model needs one vocabulary × width matrix to turn tokens into vectors (the **embedding** "
    "`W_E`) and another to turn its last vector back into a score for every possible next token (the "
    "**unembedding** `W_U`). *Weight tying* uses one matrix for both (`W_U = W_E`ᵀ). That removes a whole "
    "vocabulary × width matrix, and Press & Wolf (2017) and Inan et al. (2017) found it can also improve "
    "perplexity for small models. Enter a vocabulary and a width to see what share of a 1B, 7B and 70B "
    "model that matrix is: large for small models, which is why small models tie."
)
ui.define("perplexity")

ui.url_state("calc_vocab", 50_000, int)
ui.url_state("calc_width", 4096, int)
left, right = st.columns(2)
vocab = left.number_input("Vocabulary size", min_value=1, max_value=2_000_000, step=1000, key="calc_vocab")
width = right.number_input(
    "Embedding width (d_model)", min_value=1, max_value=65_536, step=128, key="calc_width"
)
ui.keep_in_url("calc_vocab", "calc_width")
rows = standard_savings_table(int(vocab), int(width))
st.metric("Parameters saved by tying", f"{rows[0].saved_params:,}")
ui.show_figure(
    savings_figure(rows),
    [{"model": r.label, "saved_params": r.saved_params, "share": r.share} for r in rows],
)
st.markdown(
    "The rest of this lesson asks what the saving costs: one matrix now has to serve two jobs, and the "
    "next pages show which job wins."
)
