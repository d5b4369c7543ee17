r"""Figures of the adding-problem sweep, chapter "LSTM and GRU".

Drawing only: every run is a result of :func:`bptt.adding.adding_run`, the
counts come from :func:`bptt.adding.success_counts`, the threshold and the
baseline from :data:`bptt.adding.SOLVED_FRACTION` and
:data:`bptt.adding.BASELINE_MSE`.

* :func:`plot_adding_sweep`: (a) seeds solved per model and length, (b) the
  learning curves of every run at one length.
* :func:`adding_alt`: the figure's alternative text, written from the same runs,
  so the description cannot drift from the picture.

One column of panels, :data:`~bptt.plots.style.WIDTH` inches wide, as every figure of the book.
"""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..adding import BASELINE_MSE, SOLVED_FRACTION, success_counts
from .style import WIDTH

__all__ = ["MODEL_COLOURS", "MODEL_LABELS", "plot_adding_sweep", "adding_alt"]

#: One colour per model, those of chapter 6's other figures
#: (:func:`bptt.plots.gated.cell_curves` draws RNN, LSTM, GRU in the first
#: three colours of matplotlib's default cycle).
MODEL_COLOURS = {"rnn": "#1f77b4", "lstm": "#ff7f0e", "gru": "#2ca02c"}
#: How the figure names each model.
MODEL_LABELS = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


def _check_runs(runs) -> list:
    """Refuse what is not a non-empty list of run dicts with the keys the figure reads."""
    keys = {"model", "T", "seed", "steps", "test_mse", "solved"}
    if not isinstance(runs, Sequence) or not runs or not all(
            isinstance(r, dict) and keys <= r.keys() for r in runs):
        raise TypeError(f"runs must be a non-empty list of adding_run results (keys "
                        f"{sorted(keys)}), got {type(runs).__name__}")
    return list(runs)


def plot_adding_sweep(runs, *, T_curves: int | None = None) -> Figure:
    r"""Seeds solved per model and length, and the learning curves at one length.

    Parameters
    ----------
    runs : list of dict
        Results of :func:`bptt.adding.adding_run`, e.g. the sweep JSON's ``"runs"``.
    T_curves : int, optional
        The length whose learning curves panel (b) draws; the longest by default.

    Returns
    -------
    Figure
        Two axes, one above the other: (a) one bar per model and T, its height
        the number of seeds solved, labelled "n/N"; (b) the test MSE against the
        training step (log y), one line per run of length ``T_curves``, coloured
        by model, with the threshold :math:`0.1 \times 1/6` dashed and the
        baseline 1/6 dotted.
    """
    runs = _check_runs(runs)
    counts = success_counts(runs)
    Ts = sorted({r["T"] for r in runs})
    T_curves = max(Ts) if T_curves is None else T_curves
    if T_curves not in Ts:
        raise ValueError(f"T_curves must be one of the runs' lengths {Ts}, got {T_curves}")
    fig, (ax_bar, ax_curve) = plt.subplots(2, 1, figsize=(WIDTH, 6.4))
    _draw_counts(ax_bar, counts, Ts)
    _draw_curves(ax_curve, [r for r in runs if r["T"] == T_curves], T_curves)
    fig.tight_layout()
    return fig


def _draw_counts(ax, counts: dict, Ts: list) -> None:
    """Grouped bars: for each T, one bar per model, height = seeds solved."""
    width = 0.8 / len(counts)
    n_max = 1
    for k, (model, by_T) in enumerate(counts.items()):
        xs = np.arange(len(Ts)) + (k - (len(counts) - 1) / 2) * width
        solved = [by_T.get(T, (0, 0))[0] for T in Ts]
        bars = ax.bar(xs, solved, width, color=MODEL_COLOURS.get(model, "grey"),
                      label=MODEL_LABELS.get(model, model))
        ax.bar_label(bars, [f"{by_T[T][0]}/{by_T[T][1]}" if T in by_T else "" for T in Ts],
                     fontsize=7)
        n_max = max(n_max, *(by_T[T][1] for T in by_T))
    ax.set_xticks(np.arange(len(Ts)), [f"T = {T}" for T in Ts])
    ax.set_ylim(0, n_max + 0.8)
    ax.set_yticks(range(n_max + 1))
    ax.set_ylabel("seeds solved")
    ax.set_title("(a) runs that solved the adding problem")
    ax.legend(fontsize=8, loc="upper right", ncols=len(counts))


def _draw_curves(ax, runs: list, T: int) -> None:
    """Test MSE against the step, one line per run; threshold dashed, baseline dotted."""
    labelled = set()
    for r in runs:
        model = r["model"]
        label = None if model in labelled else MODEL_LABELS.get(model, model)
        labelled.add(model)
        ax.plot(r["steps"], r["test_mse"], color=MODEL_COLOURS.get(model, "grey"),
                linewidth=1.0, alpha=0.8, label=label)
    ax.axhline(BASELINE_MSE, color="black", linestyle=":", linewidth=1.0,
               label="baseline 1/6")
    ax.axhline(SOLVED_FRACTION * BASELINE_MSE, color="black", linestyle="--", linewidth=1.0,
               label="solved below")
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("test MSE")
    ax.set_title(f"(b) learning curves, T = {T}, every seed")
    ax.legend(fontsize=7, loc="lower left")


def adding_alt(runs, *, T_curves: int | None = None) -> str:
    """The alternative text of :func:`plot_adding_sweep` for the same runs.

    It names every bar's count ("LSTM 5 of 5") and, for the curves, which
    models end below the threshold in how many runs, so that a screen reader
    hears the numbers the picture shows.
    """
    runs = _check_runs(runs)
    counts = success_counts(runs)
    Ts = sorted({r["T"] for r in runs})
    T_curves = max(Ts) if T_curves is None else T_curves
    bars = "; ".join(
        f"T = {T}: " + ", ".join(f"{MODEL_LABELS.get(m, m)} {by_T[T][0]} of {by_T[T][1]}"
                                 for m, by_T in counts.items() if T in by_T)
        for T in Ts)
    return ("Two panels, one above the other. Top: bars of the number of seeds that "
            f"solved the adding problem, per sequence length and model. {bars}. Bottom: "
            f"log-scale test error against training step at T = {T_curves}, one line per "
            "seed, with the baseline 1/6 dotted and the solving threshold dashed; "
            + ", ".join(f"{MODEL_LABELS.get(m, m)} ends below the threshold in "
                        f"{by_T[T_curves][0]} of {by_T[T_curves][1]} runs"
                        for m, by_T in counts.items() if T_curves in by_T) + ".")
