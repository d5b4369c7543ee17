"""Figures and widgets of the book, one module per concept.

Every figure of a chapter is drawn by a function here, so that it is reusable,
tested (``tests/test_plots_*.py``) and never duplicated in a notebook. The
functions only draw: the numbers they show are computed by the core modules
(:mod:`bptt.rnn`, :mod:`bptt.losses`, ...), which the tests check.
"""
from .style import use_book_style

__all__ = ["use_book_style"]
