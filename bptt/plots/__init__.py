"""Figures and widgets of the book, one module per concept.

Every figure of a chapter is drawn by a function here, so that it is reusable,
tested (``tests/test_plots_*.py``) and never duplicated in a notebook. The
functions only draw: the numbers they show are computed by the core modules
(:mod:`bptt.rnn`, :mod:`bptt.losses`, ...), which the tests check.
"""
from .style import use_book_style

__all__ = ["use_book_style"]


def __getattr__(name: str):
    """Load a figure module on first use, so ``bptt.plots.display`` works after ``import bptt``."""
    import importlib
    import pkgutil
    if name in {m.name for m in pkgutil.iter_modules(__path__)}:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
