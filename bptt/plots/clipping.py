r"""Figures of exploding gradients and clipping, chapter "Vanishing and exploding gradients".

Drawing only: the loss surface, its cliff and the descents come from
:mod:`bptt.one_unit`, the loss and gradient-norm histories from
:func:`bptt.train.train`.

* :func:`plot_loss_cliff`: the one-unit RNN's loss surface, its cliff and two descents.
* :func:`plot_training_runs`: loss and gradient norm of training runs, step by step.

Every figure is one column of panels, :data:`~bptt.plots.style.WIDTH` inches
wide, so that its text stays legible when a phone shrinks it to the screen's width.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..one_unit import one_unit_cliff, one_unit_loss
from .style import WIDTH

__all__ = ["CLIFF_COLOUR", "plot_loss_cliff", "plot_training_runs"]

#: Colour of the cliff (:func:`bptt.one_unit.one_unit_cliff`) in
#: :func:`plot_loss_cliff`: magenta shows on both the dark and the bright side.
CLIFF_COLOUR = "#e7298a"


# --------------------------------------------------------------------------
# The one-unit RNN: the loss cliff
# --------------------------------------------------------------------------

def plot_loss_cliff(*, T: int = 50, h0: float = 0.5, target: float = 0.7,
                    w_range=(-1.0, 4.0), b_range=(-2.0, 2.0), b_slice: float = -0.5,
                    slice_T: Sequence[int] = (5, 10, 20, 50),
                    paths: Mapping[str, np.ndarray] | None = None, n: int = 241) -> Figure:
    r"""The loss surface of the one-unit RNN :math:`h_t = \tanh(w h_{t-1} + b)`, and its cliff.

    Parameters
    ----------
    T, h0, target
        The model and loss of :func:`bptt.one_unit.one_unit_loss` for the map.
    w_range, b_range : (float, float)
        Extent of the map.
    b_slice : float
        The bias of the slice drawn in the other two panels.
    slice_T : sequence of int
        Sequence lengths of the slice curves.
    paths : dict of str to ndarray (n_k, 2), optional
        Descent paths :math:`(w, b)` to draw on the map, e.g. the ``"path"`` of
        :func:`bptt.one_unit.one_unit_descent`; the first is drawn red, the
        second white. A path leaving the map is annotated with its end point.
    n : int
        Grid points per axis of the map, and ``8 n`` along the slice.

    Returns
    -------
    Figure
        Three axes, one above the other (and a colour bar): (a) the loss map
        (``pcolormesh``) with the cliff :func:`bptt.one_unit.one_unit_cliff`
        dashed and the paths; (b) the loss along :math:`b = b_{\text{slice}}`,
        one line per T; (c) :math:`|\partial L/\partial w|` along it on a log
        axis, one line per T. Where the slice crosses the cliff, (b) and (c)
        mark it with a dashed line and (c) with one dot per T at the exact value.
    """
    w = np.linspace(*w_range, n)
    b = np.linspace(*b_range, n)
    W, Bm = np.meshgrid(w, b)
    loss, _, _ = one_unit_loss(W, Bm, T=T, h0=h0, target=target)

    fig, named = plt.subplot_mosaic([["map"], ["loss"], ["grad"]], figsize=(WIDTH, 9.4),
                                    gridspec_kw={"height_ratios": [1.7, 1, 1]})
    axes = [named["map"], named["loss"], named["grad"]]
    ax = axes[0]
    mesh = ax.pcolormesh(W, Bm, loss, shading="auto", cmap="viridis", rasterized=True)
    fig.colorbar(mesh, ax=ax, label=f"loss $L$ (T = {T})")
    ax.plot(one_unit_cliff(b, h0=h0), b, color=CLIFF_COLOUR, linestyle="--", linewidth=1.6,
            label="cliff")
    ax.axhline(b_slice, color="#cccccc", linewidth=0.8, linestyle=":")
    for (label, path), colour in zip((paths or {}).items(), ("#e41a1c", "white")):
        path = np.asarray(path, dtype=float)
        ax.plot(path[:, 0], path[:, 1], ".-", color=colour, markersize=3, linewidth=1.0,
                label=label)
        end = path[-1]
        if not (w_range[0] <= end[0] <= w_range[1] and b_range[0] <= end[1] <= b_range[1]):
            ax.annotate(f"{label}: ends off the map\nat $(w, b) = ({end[0]:.1f}, {end[1]:.1f})$",
                        xy=(0.97, 0.97), xycoords="axes fraction", va="top", ha="right",
                        fontsize=7, color="black",
                        bbox=dict(boxstyle="round", facecolor="white", alpha=0.85))
    if paths:
        start = np.asarray(next(iter(paths.values())), dtype=float)[0]
        ax.plot(start[0], start[1], "o", color="white", markersize=6, markeredgecolor="black")
    ax.set_xlim(*w_range)
    ax.set_ylim(*b_range)
    ax.set_xlabel("recurrent weight $w$")
    ax.set_ylabel("bias $b$")
    ax.set_title("(a) loss surface")
    ax.legend(loc="lower left", fontsize=7, facecolor="#dddddd", framealpha=0.8, frameon=True)

    ws = np.linspace(*w_range, 8 * n)
    colours = plt.get_cmap("magma")(np.linspace(0.15, 0.75, len(slice_T)))
    for Ts, colour in zip(slice_T, colours):
        Ls, gw, _ = one_unit_loss(ws, b_slice, T=Ts, h0=h0, target=target)
        axes[1].plot(ws, Ls, color=colour, linewidth=1.4, label=f"T = {Ts}")
        axes[2].plot(ws, np.maximum(np.abs(gw), 1e-12), color=colour, linewidth=1.2,
                     label=f"T = {Ts}")
    w_c = float(one_unit_cliff(b_slice, h0=h0))     # where the slice crosses the cliff
    if np.isfinite(w_c):
        # On the cliff itself the gradient is exact but no grid point lands there: mark it.
        for Ts, colour in zip(slice_T, colours):
            g_c = one_unit_loss(w_c, b_slice, T=Ts, h0=h0, target=target)[1]
            axes[2].plot(w_c, abs(float(g_c)), "o", color=colour, markersize=5,
                         markeredgecolor="black", markeredgewidth=0.5)
        for a in axes[1:]:
            a.axvline(w_c, color=CLIFF_COLOUR, linestyle="--", linewidth=1.0)
    for a in axes[1:]:
        a.set_xlim(*w_range)
    axes[1].set_xlabel("recurrent weight $w$")
    axes[2].set_xlabel("recurrent weight $w$")
    axes[1].set_ylabel("loss $L$")
    axes[1].set_title(f"(b) loss along $b = {b_slice:g}$")
    axes[1].legend(fontsize=7, loc="upper left")
    axes[2].set_yscale("log")
    axes[2].set_ylabel(r"$|\partial L / \partial w|$")
    axes[2].set_title(f"(c) gradient along $b = {b_slice:g}$")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------
# Training runs
# --------------------------------------------------------------------------

def plot_training_runs(histories: Mapping[str, Mapping], *, figsize=(WIDTH, 5.4)) -> Figure:
    r"""Loss and gradient norm against the training step, one line per run.

    Parameters
    ----------
    histories : dict of str to dict
        Run label to the ``history`` returned by :func:`bptt.train.train`
        (``"loss"`` and ``"grad_norm"``, arrays of one length; ``"stopped"``).
    figsize : (float, float)
        Figure size in inches.

    Returns
    -------
    Figure
        Two axes with log y, one above the other: (a) ``history["loss"]`` and
        (b) ``history["grad_norm"]`` (:math:`\|\nabla L\|`, before clipping)
        against the step, one line per run in the order given; a run that was
        stopped ends with a cross.
    """
    if not isinstance(histories, Mapping) or not histories:
        raise TypeError("histories must be a non-empty dict: label -> history from "
                        "bptt.train.train")
    fig, axes = plt.subplots(2, 1, figsize=figsize, sharex=True)
    colours = ("#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00")
    for k, (label, hist) in enumerate(histories.items()):
        colour = colours[k % len(colours)]
        for ax, key in zip(axes, ("loss", "grad_norm")):
            values = np.asarray(hist[key], dtype=float)
            steps = np.arange(len(values))
            ax.plot(steps, values, color=colour, linewidth=1.0, alpha=0.9, label=label)
            if hist.get("stopped"):
                finite = np.flatnonzero(np.isfinite(values))
                if finite.size:
                    i = finite[-1]
                    ax.plot(steps[i], values[i], "x", color=colour, markersize=8, mew=2)
    for ax, title, ylabel in zip(axes, ("(a) training loss", "(b) gradient norm before clipping"),
                                 ("loss", r"$\|\nabla L\|$")):
        ax.set_yscale("log")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
    axes[1].set_xlabel("training step")          # the axis is shared
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig
