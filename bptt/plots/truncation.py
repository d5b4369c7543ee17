r"""Figures of truncated BPTT (chapter "Checking BPTT"): which steps each loss reaches.

Under ``rnn_backward(..., truncate=k)``, the scheme BPTT(k; k) of Williams and
Peng, the loss at step t sends gradient back only to the first step of its
chunk. :func:`bptt.truncation.truncation_reach` measures that with the
backward pass itself; the functions here draw it.

* :func:`plot_truncation_reach`: a grid, the loss at step t against the steps it reaches.
* :func:`draw_truncation_reach`: the widget's callback, and the frames of its slider.
* :func:`truncation_reach_widget`: a slider over the truncation length k.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..truncation import truncation_reach
from ..validate import check_axes, check_positive_int

__all__ = ["plot_truncation_reach", "draw_truncation_reach", "truncation_reach_widget"]

_REACHED, _DROPPED = "tab:red", "0.86"     # gets gradient; cut off by truncation


def plot_truncation_reach(reach: np.ndarray, k: int | None = None,
                          ax: Axes | None = None) -> Figure:
    r"""A grid: row t is the loss at step t, column s the step it sends gradient to.

    Parameters
    ----------
    reach : ndarray of bool, shape (T, T)
        ``reach[t-1, s-1]``: the loss at step t reaches step s (for example
        :func:`bptt.truncation.truncation_reach`).
    k : int, optional
        The truncation length, to draw the chunk boundaries and name the
        scheme in the title; ``None`` for full BPTT.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        Reached cells in red (patch gid ``"reached"``), cells that full BPTT
        would reach but truncation does not in light grey (gid ``"dropped"``),
        and at the end of each row the number of steps reached (text gid
        ``"depth"``). Steps run down the rows and along the columns from 1.
    """
    reach = np.asarray(reach)
    if reach.dtype != bool or reach.ndim != 2 or reach.shape[0] != reach.shape[1]:
        raise ValueError(f"reach must be a boolean array of shape (T, T), "
                         f"got {reach.dtype} of shape {reach.shape}")
    T = reach.shape[0]
    if check_axes(ax) is None:
        _, ax = plt.subplots(figsize=(5.0, 5.0))
    fig = ax.figure

    for t in range(1, T + 1):
        for s in range(1, T + 1):
            if reach[t - 1, s - 1]:
                colour, gid = _REACHED, "reached"
            elif s <= t:
                colour, gid = _DROPPED, "dropped"
            else:
                continue
            ax.add_patch(Rectangle((s - 0.5, t - 0.5), 1, 1, fc=colour, ec="white", lw=1.0,
                                   gid=gid))
        ax.text(T + 0.9, t, str(int(reach[t - 1].sum())), ha="left", va="center",
                fontsize=9, gid="depth")
    if k is not None and k < T:
        for edge in range(k, T, k):      # h_k, h_2k, ... are detached
            ax.axvline(edge + 0.5, color="0.3", lw=1.0, ls="--")
            ax.axhline(edge + 0.5, color="0.3", lw=1.0, ls="--")
    ax.text(T + 0.9, 0.1, "steps\nreached", ha="left", va="bottom", fontsize=8)
    ax.set_xlim(0.5, T + 2.2)
    ax.set_ylim(T + 0.5, -0.6)
    ticks = np.arange(1, T + 1) if T <= 16 else np.arange(1, T + 1, max(1, T // 8))
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    ax.set_aspect("equal")
    ax.grid(False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel(r"step $s$ that gets gradient")
    ax.set_ylabel(r"loss at step $t$")
    scheme = "full BPTT" if k is None or k >= T else f"truncate={k}: BPTT({k}; {k})"
    ax.set_title(f"{scheme}, T = {T}", fontsize=11)
    ax.legend(handles=[Rectangle((0, 0), 1, 1, fc=_REACHED, label="gets gradient"),
                       Rectangle((0, 0), 1, 1, fc=_DROPPED, label="cut off by truncation")],
              # in the empty corner above the diagonal, clear of the counts
              loc="upper right", bbox_to_anchor=(T + 0.5, -0.6),
              bbox_transform=ax.transData, fontsize=8, framealpha=1.0)
    return fig


def draw_truncation_reach(k: int, T: int = 12, *, seed: int = 0) -> Figure:
    r"""The widget's callback: :func:`plot_truncation_reach` of the measured reach.

    Parameters
    ----------
    k : int
        ``truncate`` of :func:`bptt.rnn.rnn_backward` (``k >= T`` is full BPTT).
    T : int
        Number of steps.
    seed : int
        Passed to :func:`bptt.truncation.truncation_reach`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    return plot_truncation_reach(truncation_reach(T, k, seed=seed), k=k)


def truncation_reach_widget(T: int = 12, *, seed: int = 0):
    r"""A slider over the truncation length k, redrawing :func:`draw_truncation_reach`.

    Parameters
    ----------
    T : int
        Number of steps; the slider runs over k = 1, ..., T.
    seed : int
        Passed to :func:`bptt.truncation.truncation_reach`.

    Returns
    -------
    ipywidgets.interactive
        Starts at ``k = min(4, T)``.
    """
    import ipywidgets as widgets

    T = check_positive_int("T", T)

    def show(k):
        fig = draw_truncation_reach(k, T, seed=seed)
        plt.show()
        return fig

    k = widgets.IntSlider(value=min(4, T), min=1, max=T, step=1, description="k",
                          continuous_update=False)
    return widgets.interactive(show, k=k)
