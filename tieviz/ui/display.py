"""Showing things on a page: figures with their caption and downloads, empty states, links between pages."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import streamlit as st

from tieviz.system.browser import chromium_path
from tieviz.ui.app_shell import TRAIN_PAGE
from tieviz.ui.lesson import next_link
from tieviz.ui.picker import PICKER_KEY
from tieviz.ui.presenter import narrow_screen, presenting

if TYPE_CHECKING:
    import pandas as pd

    from tieviz.analysis.verdicts import Verdict
    from tieviz.figures.base import CaptionedFigure
    from tieviz.ui.picker import Experiment

EMPTY_MESSAGE = "No experiment yet: train the toy preset"  # then its time here, from the timing model


def _data_bytes(data: Any) -> tuple[Callable[[], bytes], str, str]:
    """(deferred bytes, extension, mime) for a DataFrame (CSV) or anything JSON can hold."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return (lambda: data.to_csv(index=False).encode()), "csv", "text/csv"
    return (lambda: json.dumps(data, indent=2, default=_jsonable).encode()), "json", "application/json"


def _jsonable(value: Any) -> Any:
    if hasattr(value, "to_dict"):  # a summary's record (tieviz.experiments.summary_record.Record)
        return value.to_dict()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def show_figure(
    captioned: CaptionedFigure, data: dict | pd.DataFrame | None = None, key: str | None = None
) -> None:
    """The chart, its "how to read this" caption, and downloads of the figure (HTML, PNG) and its data.

    Files are produced only when a button is clicked, so a page with many figures renders fast.
    The HTML file embeds plotly.js, so it opens offline. `key` (default: the figure's name) makes the
    chart findable as `chart-<key>` and the buttons as `dl-html-<key>`, `dl-png-<key>`, `dl-data-<key>`.
    """
    from tieviz.figures.base import for_screen  # Plotly loads with the first figure, not with the app

    key = key or captioned.name
    figure = for_screen(captioned.figure, presenting(), narrow_screen())
    st.plotly_chart(
        figure,
        key=f"chart-{key}",
        theme=None,
        width="stretch",
        config={"toImageButtonOptions": {"filename": captioned.file_name("png").removesuffix(".png")}},
    )
    st.caption(captioned.caption)
    row = st.container(horizontal=True, key=f"downloads-{key}", gap="small")
    row.download_button(
        "HTML",
        data=lambda: figure.to_html(include_plotlyjs=True, full_html=True).encode(),
        file_name=captioned.file_name("html"),
        mime="text/html",
        key=f"dl-html-{key}",
        help="The interactive figure as one HTML file that opens offline",
        icon=":material/download:",
        on_click="ignore",
    )
    if chromium_path() is not None:  # kaleido draws PNGs with it and downloads nothing here
        row.download_button(
            "PNG",
            data=lambda: figure.to_image(format="png", scale=2),
            file_name=captioned.file_name("png"),
            mime="image/png",
            key=f"dl-png-{key}",
            help="The figure as a PNG image (drawn on the server when clicked; takes a few seconds)",
            icon=":material/image:",
            on_click="ignore",
        )
    else:
        row.button(
            "PNG",
            key=f"dl-png-{key}",
            disabled=True,
            help="PNG export needs Chrome or Chromium on the server (kaleido draws with it); use HTML",
        )
    if data is not None:
        produce, extension, mime = _data_bytes(data)
        row.download_button(
            extension.upper(),
            data=produce,
            file_name=captioned.file_name(extension),
            mime=mime,
            key=f"dl-data-{key}",
            help="The numbers behind the figure",
            icon=":material/table:",
            on_click="ignore",
        )


def empty_state(what: str = "") -> None:
    """A friendly "train something first" notice with a link to the Train page, instead of an error."""
    from tieviz.ui.training import preset_duration

    st.info(f"{EMPTY_MESSAGE} ({preset_duration('toy')} here). {what}".strip(), icon=":material/info:")
    st.page_link(TRAIN_PAGE, label="Go to Train", icon=":material/play_arrow:")
    next_link()  # pages stop after the empty state; the lesson still goes on


def link_to(page: str, label: str, experiment: Experiment | None) -> None:
    """A link to another page that keeps the selected experiment."""
    params = {PICKER_KEY: experiment.key} if experiment is not None else None
    st.page_link(page, label=label, icon=":material/arrow_forward:", query_params=params)


def show_verdict(verdict: Verdict) -> None:
    """A verdict in its answer's colour: green as in the paper, amber the opposite, blue no clear effect."""
    if verdict.agrees is True:
        st.success(verdict.text, icon=":material/check_circle:")
    elif verdict.agrees is False:
        st.warning(verdict.text, icon=":material/warning:")
    else:
        st.info(verdict.text, icon=":material/info:")


def define(*keys: str) -> None:
    """Short definitions of glossary terms, shown small where a page first uses them."""
    from tieviz.glossary import TERMS

    st.caption("  \n".join(f"**{TERMS[k].word}**: {TERMS[k].meaning}" for k in keys))


def live_chart(figure: Any, key: str, where: Any = st) -> None:
    """A chart with no caption or downloads (the Train page's live curves, half a page wide each), laid out
    like every figure, with titles wrapped for its narrow column."""
    from tieviz.figures.base import for_screen

    where.plotly_chart(for_screen(figure, presenting(), narrow=True), key=key, theme=None)
