"""tieviz dashboard: `streamlit run app.py`. Routing, page config and the shared sidebar only."""

import streamlit as st

from tieviz import ui

st.set_page_config(page_title="tieviz", page_icon=":material/link:", layout="wide")

# One entry per page, in menu order; append new pages here.
PAGES = [
    st.Page("pages/overview.py", title="Overview", icon=":material/home:", default=True),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/bigrams.py", title="Bigram symmetry", icon=":material/grid_on:"),
    st.Page("pages/maps.py", title="Embedding maps", icon=":material/scatter_plot:"),
    st.Page("pages/gradients.py", title="Gradients", icon=":material/trending_down:"),
    st.Page("pages/lens.py", title="Tuned lens", icon=":material/layers:"),
    st.Page("pages/checkpoints.py", title="Checkpoints", icon=":material/upload_file:"),
    st.Page("pages/sweeps.py", title="Sweeps", icon=":material/stacked_line_chart:"),
]

ui.warm_imports()
page = st.navigation(PAGES)
with st.sidebar:
    st.markdown("## tieviz")
    st.caption("What weight tying does to token embeddings")
experiment = ui.experiment_picker()
with ui.inside_app(experiment):  # pages read the picked experiment back with ui.selected_experiment()
    page.run()
