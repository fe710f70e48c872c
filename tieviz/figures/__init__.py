"""Plotly figures built from analysis results. The only part of tieviz that imports Plotly."""

from tieviz.figures.base import CaptionedFigure

__all__ = ["CaptionedFigure"]
