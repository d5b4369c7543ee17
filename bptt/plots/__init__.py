"""Figures and widgets of the book, one module per figure family.

Every figure of a chapter is drawn by a function here, so that it is reusable,
tested (``tests/test_plots_*.py``) and never duplicated in a notebook. The
functions only draw: the numbers they show are computed by the core modules
(:mod:`bptt.rnn`, :mod:`bptt.dynamics`, ...), which the tests check.

- :mod:`~bptt.plots.graph`, :mod:`~bptt.plots.unrolled`, :mod:`~bptt.plots.memory`:
  the unrolled graph (as data, and drawn) and what BPTT keeps (chapter 1)
- :mod:`~bptt.plots.states`, :mod:`~bptt.plots.regimes`: hidden-state
  trajectories and where they go in the long run (2)
- :mod:`~bptt.plots.backward`: one step of BPTT on the graph, the gradient check's errors (3, 4)
- :mod:`~bptt.plots.lag_norms`: the gradient norm against the lag (3, 5)
- :mod:`~bptt.plots.truncation`: which steps each loss reaches under truncation (4)
- :mod:`~bptt.plots.clipping`: the loss cliff and training runs with clipping (5)
- :mod:`~bptt.plots.gated`: RNN, LSTM and GRU gradient norms against the lag, and the widget (6)
- :mod:`~bptt.plots.adding`: the adding-problem sweep, seeds solved and learning curves (6)
- :mod:`~bptt.plots.streams`: each truncation scheme's paths, its bias, cost and memory (7)
- :mod:`~bptt.plots.charlm`: streams of a text, loss curves, temperature, samples, units (8)
- :mod:`~bptt.plots.recall`: the recall sweep's (L, k) grid, ARTBP's mean and variance (7)
- :mod:`~bptt.plots.display`, :mod:`~bptt.plots.frames`: the one display pipeline
  (an animation's player, a widget with its frame slider and a still for print)
- :mod:`~bptt.plots.style`, :mod:`~bptt.plots.prose`: the book's style, the values the prose quotes
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
