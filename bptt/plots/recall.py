r"""Figures of the recall sweep, chapter "Truncated BPTT on streams".

Drawing only: the runs are results of :func:`bptt.recall.recall_run`, the
counts come from :func:`bptt.recall.success_counts`, the variance
measurements from ``chapters/data/recall_sweep.py`` (the ``"variance"`` of
:func:`bptt.recall.stored_recall_sweep`).

* :func:`plot_recall_grid` / :func:`recall_grid_alt`: seeds solved per lag L
  and truncation length k, a grid of "n/N".
* :func:`plot_artbp_estimator` / :func:`artbp_estimator_alt`: (a) error of the
  mean of n draws, (b) variance against c, (c) variance against T.
* :func:`plot_equal_compute` / :func:`equal_compute_alt`: seeds solved by
  truncation and by ARTBP with c = 1/k, side by side.

One column, :data:`~bptt.plots.style.WIDTH` inches wide, as every figure of the book.
"""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..recall import success_counts
from .style import WIDTH

__all__ = ["METHOD_COLOURS", "METHOD_LABELS", "plot_recall_grid", "recall_grid_alt",
           "plot_artbp_estimator", "artbp_estimator_alt", "plot_equal_compute",
           "equal_compute_alt"]

#: One colour per method (matplotlib's first two default colours).
METHOD_COLOURS = {"tbptt": "#1f77b4", "artbp": "#ff7f0e"}
#: How the figures name each method.
METHOD_LABELS = {"tbptt": "truncated BPTT", "artbp": "ARTBP, c = 1/k"}


def _check_runs(runs) -> list:
    """Refuse what is not a non-empty list of run dicts with the keys the figures read."""
    keys = {"method", "L", "k", "seed", "solved"}
    if not isinstance(runs, Sequence) or not runs or not all(
            isinstance(r, dict) and keys <= r.keys() for r in runs):
        raise TypeError(f"runs must be a non-empty list of recall_run results (keys "
                        f"{sorted(keys)}), got {type(runs).__name__}")
    return list(runs)


def _grid(runs, method: str):
    """Sorted Ls, ks, and the counts ``{(L, k): (solved, runs)}`` of ``method``."""
    counts = success_counts(runs, method)
    if not counts:
        raise ValueError(f"runs hold no run of method {method!r}")
    return sorted({L for L, _ in counts}), sorted({k for _, k in counts}), counts


def plot_recall_grid(runs, *, method: str = "tbptt") -> Figure:
    """Seeds solved per lag L (rows) and truncation length k (columns), as a shaded grid.

    Each cell is shaded by the fraction solved and labelled "n/N"; the cells
    with k <= L (no loss reaches its input) are outlined with a dashed edge.
    """
    runs = _check_runs(runs)
    Ls, ks, counts = _grid(runs, method)
    frac = np.full((len(Ls), len(ks)), np.nan)
    for (L, k), (n, total) in counts.items():
        frac[Ls.index(L), ks.index(k)] = n / total
    fig, ax = plt.subplots(figsize=(WIDTH, 0.9 + 0.55 * len(Ls)))
    ax.imshow(frac, cmap="Blues", vmin=0, vmax=1.4, aspect="auto")
    for (L, k), (n, total) in counts.items():
        i, j = Ls.index(L), ks.index(k)
        ax.text(j, i, f"{n}/{total}", ha="center", va="center", fontsize=9,
                color="white" if n / total > 0.6 else "black")
        if k <= L:
            ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, linestyle="--",
                                       edgecolor="grey", linewidth=0.8))
    ax.set_xticks(range(len(ks)), [str(k) for k in ks])
    ax.set_yticks(range(len(Ls)), [str(L) for L in Ls])
    ax.set_xlabel("truncation length k")
    ax.set_ylabel("lag L")
    ax.set_title(f"seeds solved, {METHOD_LABELS.get(method, method)} (dashed: k ≤ L)")
    fig.tight_layout()
    return fig


def recall_grid_alt(runs, *, method: str = "tbptt") -> str:
    """The alternative text of :func:`plot_recall_grid`: every cell's count, row by row."""
    runs = _check_runs(runs)
    Ls, ks, counts = _grid(runs, method)
    rows = "; ".join(f"L = {L}: " + ", ".join(
        f"k = {k} {counts[L, k][0]} of {counts[L, k][1]}" for k in ks if (L, k) in counts)
        for L in Ls)
    return (f"A grid of seeds that solved the recall task with "
            f"{METHOD_LABELS.get(method, method)}, one row per lag L and one column per "
            f"truncation length k, darker for more. {rows}.")


def _check_variance(variance) -> dict:
    """Refuse what is not the sweep's ``variance`` dict."""
    if not isinstance(variance, dict) or not {"mean", "vs_c", "vs_T"} <= variance.keys():
        raise TypeError(f"variance must be the sweep's 'variance' dict (keys mean, vs_c, "
                        f"vs_T), got {type(variance).__name__}")
    return variance


def plot_artbp_estimator(variance) -> Figure:
    r"""The estimator: (a) error of the mean of n draws, (b) variance against c, (c) against T.

    (a) log-log, measured relative error of the mean of the first n draws and
    the prediction :math:`\sqrt{v/n}`; (b), (c) log y, the relative variance of
    the weights' gradient and of :math:`h_0`'s, predicted (lines) and measured
    (markers).
    """
    v = _check_variance(variance)
    fig, axes = plt.subplots(3, 1, figsize=(WIDTH, 8.0))
    m = v["mean"]
    axes[0].loglog(m["counts"], m["error"], "o-", label="measured")
    axes[0].loglog(m["counts"], m["predicted"], "k--", label=r"$\sqrt{v/n}$")
    axes[0].set_xlabel("draws averaged, n")
    axes[0].set_ylabel("‖mean − g‖ / ‖g‖")
    axes[0].set_title("(a) the mean of n draws against the full gradient")
    axes[0].legend(fontsize=8)
    for ax, rows, x_key, label in ((axes[1], v["vs_c"], "c", "truncation probability c"),
                                   (axes[2], v["vs_T"], "T", "sequence length T")):
        xs = [r[x_key] for r in rows]
        for name, colour, what in (("params", "#1f77b4", "weights"), ("h0", "#d62728", "h₀")):
            ax.semilogy(xs, [r[f"{name}_predicted"] for r in rows], "-", color=colour,
                        label=f"{what}, predicted")
            ax.semilogy(xs, [r[f"{name}_measured"] for r in rows], "o", color=colour,
                        label=f"{what}, measured")
        ax.set_xlabel(label)
        ax.set_ylabel("relative variance")
        ax.legend(fontsize=7)
    axes[1].set_title(f"(b) variance against c, T = {v['vs_c'][0]['T']}")
    axes[2].set_title(f"(c) variance against T, c = {v['vs_T'][0]['c']}")
    fig.tight_layout()
    return fig


def artbp_estimator_alt(variance) -> str:
    """The alternative text of :func:`plot_artbp_estimator`, with the numbers it shows."""
    v = _check_variance(variance)
    m = v["mean"]
    c_rows = ", ".join(f"c = {r['c']}: weights {r['params_predicted']:.3g}, h0 "
                       f"{r['h0_predicted']:.3g}" for r in v["vs_c"])
    T_rows = ", ".join(f"T = {r['T']}: weights {r['params_predicted']:.3g}, h0 "
                       f"{r['h0_predicted']:.3g}" for r in v["vs_T"])
    return ("Three panels. (a) Log-log: the relative error of the mean of n ARTBP draws "
            f"falls from {m['error'][0]:.3g} at n = {m['counts'][0]} to {m['error'][-1]:.3g} "
            f"at n = {m['counts'][-1]}, beside the line sqrt(v/n). (b) Relative variance "
            f"against the truncation probability, predicted: {c_rows}. (c) Against the "
            f"length: {T_rows}. Measured values are markers beside the predicted lines.")


def plot_equal_compute(runs) -> Figure:
    """Seeds solved by truncated BPTT and by ARTBP with c = 1/k, per (L, k), side by side."""
    runs = _check_runs(runs)
    _, _, artbp = _grid(runs, "artbp")
    tbptt = success_counts(runs, "tbptt")
    cells = list(artbp)
    fig, ax = plt.subplots(figsize=(WIDTH, 3.2))
    width = 0.4
    xs = np.arange(len(cells))
    n_max = 1
    for shift, (method, counts) in zip((-width / 2, width / 2),
                                       (("tbptt", tbptt), ("artbp", artbp))):
        got = [counts.get(cell, (0, 0)) for cell in cells]
        bars = ax.bar(xs + shift, [n for n, _ in got], width, color=METHOD_COLOURS[method],
                      label=METHOD_LABELS[method])
        ax.bar_label(bars, [f"{n}/{t}" for n, t in got], fontsize=7)
        n_max = max(n_max, *(t for _, t in got))
    ax.set_xticks(xs, [f"L={L}\nk={k}" for L, k in cells], fontsize=8)
    ax.set_ylim(0, n_max + 0.9)
    ax.set_yticks(range(n_max + 1))
    ax.set_ylabel("seeds solved")
    ax.set_title("equal compute: every step forward once and backward once")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def equal_compute_alt(runs) -> str:
    """The alternative text of :func:`plot_equal_compute`: both counts for every cell."""
    runs = _check_runs(runs)
    _, _, artbp = _grid(runs, "artbp")
    tbptt = success_counts(runs, "tbptt")
    cells = "; ".join(f"L = {L}, k = {k}: truncated {tbptt.get((L, k), (0, 0))[0]} of "
                      f"{tbptt.get((L, k), (0, 0))[1]}, ARTBP {n} of {t}"
                      for (L, k), (n, t) in artbp.items())
    return ("Paired bars of the seeds that solved the recall task, truncated BPTT against "
            f"ARTBP with c = 1/k at the same compute. {cells}.")
