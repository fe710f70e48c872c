"""tieviz dashboard: `streamlit run app.py`. Routing, page config and the shared sidebar only."""

import streamlit as st

from tieviz import ui

# The order of the pages (the lesson, then the tools) is defined once, in tieviz.ui.lesson.
page = st.navigation(ui.navigation_sections())
ui.page_config()  # favicon from an emoji (no font host), sidebar collapsed in presenter mode
ui.warm_imports()
ui.visitor()  # this session's id, kept in the session; a ?visitor= from an old link is dropped unread
with st.sidebar:
    st.markdown("## tieviz")
    st.caption("What weight tying does to token embeddings")
ui.presenter_toggle()
ui.start_examples_once()  # a fresh install trains the toy and the default example without a click
experiment = ui.experiment_picker()
ui.results_opener()  # opens a finished training's results on the Overview (asked for by the Train page)
ui.begin_page(page.title)
with ui.inside_app(experiment):  # pages read the picked experiment back with ui.selected_experiment()
    page.run()
ui.next_link()  # pages that stop early (no experiment yet) show it from ui.empty_state
