"""Glossary: every term the dashboard uses, defined in a sentence or two (from tieviz.glossary)."""

import streamlit as st

from tieviz import ui
from tieviz.glossary import TERMS

ui.require_app()

st.title("Glossary")
st.markdown(
    "The words the lesson uses, in plain language. Each page also defines them where they first appear."
)
query = st.text_input("Find a term", key="glossary_find", placeholder="e.g. lens")
shown = [t for t in TERMS.values() if query.lower() in f"{t.word} {t.meaning}".lower()]
if not shown:
    st.info(f"No term mentions “{ui.plain(query)}”.")
for term in sorted(shown, key=lambda t: t.word.lower()):
    st.markdown(f"**{term.word}**  \n{term.meaning}")
