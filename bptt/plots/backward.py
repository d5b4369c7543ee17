r"""Figures of the backward pass and its check (chapters "Deriving BPTT" and "Checking BPTT").

* :func:`draw_backward_step`: the gradients that meet at one step of the
  unrolled graph, :math:`\bar h_t = W_{hy}^\top \partial L/\partial y_t + W_{hh}^\top \delta_{t+1}`
  and :math:`\delta_t = (1 - h_t \odot h_t) \odot \bar h_t`, drawn on the graph.
* :func:`plot_rel_errors`: the relative error of several candidate gradients
  against finite differences (:func:`bptt.gradcheck.rel_error`), on a log
  scale, with the tolerance.

How the norm of :math:`\bar h_t` changes going back in time is drawn by
:mod:`bptt.plots.lag_norms`; the reach of truncated BPTT by
:mod:`bptt.plots.truncation`.
"""
from __future__ import annotations

from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch

from ..validate import check_axes, check_positive_float

__all__ = ["draw_backward_step", "plot_rel_errors"]

# Colours: forward computation in grey, gradients flowing back in red, the
# tanh derivative (a local factor) in blue.
_FWD, _BACK, _LOCAL = "0.55", "tab:red", "tab:blue"


def _new_axes(ax, figsize) -> tuple[Figure, Axes]:
    """The figure and axes to draw on: ``ax``'s own, or a new figure of ``figsize``."""
    if check_axes(ax) is None:
        fig, ax = plt.subplots(figsize=figsize)
    return ax.figure, ax


# --- the backward step on the graph ------------------------------------------------

#: Node positions of :func:`draw_backward_step`, in data units, and their labels.
_NODES = {
    "h_prev": ((0.0, 0.0), r"$h_{t-1}$"),
    "a_t": ((3.0, 0.0), r"$a_t$"),
    "h_t": ((6.6, 0.0), r"$h_t$"),
    "y_t": ((6.6, 2.3), r"$y_t$"),
    "L_t": ((6.6, 3.7), r"$L_t$"),
    "a_next": ((9.8, 0.0), r"$a_{t+1}$"),
    "h_next": ((12.6, 0.0), r"$h_{t+1}$"),
}
_RADIUS = 0.5
#: Forward edges (computation), drawn thin and grey, with the label above/left.
_FORWARD_EDGES = [("h_prev", "a_t", r"$W_{hh}$"), ("a_t", "h_t", r"$\tanh$"),
                  ("h_t", "y_t", r"$W_{hy}$"), ("y_t", "L_t", ""),
                  ("h_t", "a_next", r"$W_{hh}$"), ("a_next", "h_next", r"$\tanh$")]
#: Backward edges: (from, to, label, colour). What flows back along each edge.
_BACKWARD_EDGES = [
    ("y_t", "h_t", r"$W_{hy}^{\top}\,\partial L / \partial y_t$", _BACK),
    ("a_next", "h_t", r"$W_{hh}^{\top}\,\delta_{t+1}$", _BACK),
    ("h_t", "a_t", r"$(1 - h_t \odot h_t)\,\odot\,\bar h_t$", _LOCAL),
    ("a_t", "h_prev", r"$W_{hh}^{\top}\,\delta_t$", _BACK),
]
#: What is known at each node once the backward pass has reached it.
_GRADIENT_LABELS = {"h_t": r"$\bar h_t$", "a_t": r"$\delta_t$", "a_next": r"$\delta_{t+1}$",
                    "y_t": r"$\dfrac{\partial L}{\partial y_t}$", "h_prev": r"$\bar h_{t-1}$"}


def draw_backward_step(ax: Axes | None = None) -> Figure:
    r"""Draw one step of BPTT on the unrolled graph: where the gradients meet.

    The forward graph :math:`h_{t-1} \to a_t \to h_t \to (y_t, a_{t+1})` is
    drawn in grey. The gradients flowing back are drawn in red beside the
    edges they travel, and the tanh derivative in blue: :math:`\bar h_t` is
    the sum of what comes back from :math:`y_t` and from :math:`a_{t+1}`,
    and :math:`\delta_t` is :math:`\bar h_t` multiplied element-wise by
    :math:`1 - h_t \odot h_t`, the derivative of the tanh *of step t*.

    Parameters
    ----------
    ax : matplotlib Axes, optional
        Where to draw; a new figure of size (8.8, 3.5) when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        The figure. Node circles have gid ``"node:<name>"``, the gradient
        known at a node ``"grad:<name>"``, forward arrows ``"fwd:<from>-><to>"``,
        backward arrows ``"back:<from>-><to>"`` and their labels
        ``"backlabel:<from>-><to>"``.
    """
    fig, ax = _new_axes(ax, (8.8, 3.5))
    for name, ((x, y), label) in _NODES.items():
        ax.add_patch(Circle((x, y), _RADIUS, fc="white", ec="0.3", lw=1.2, gid=f"node:{name}"))
        ax.text(x, y, label, ha="center", va="center", fontsize=12)
        if name == "y_t":
            ax.text(x - 1.1, y, _GRADIENT_LABELS[name], ha="center", va="center",
                    fontsize=11, color=_BACK, gid=f"grad:{name}")
        elif name in _GRADIENT_LABELS:
            ax.text(x, y - 1.0, _GRADIENT_LABELS[name], ha="center", va="center",
                    fontsize=12, color=_BACK, gid=f"grad:{name}")

    def endpoints(src, dst):
        (x0, y0), (x1, y1) = _NODES[src][0], _NODES[dst][0]
        d = np.array([x1 - x0, y1 - y0], dtype=float)
        d /= np.hypot(*d)
        return np.array([x0, y0]) + _RADIUS * d, np.array([x1, y1]) - _RADIUS * d

    for src, dst, label in _FORWARD_EDGES:
        start, end = endpoints(src, dst)
        vertical = start[0] == end[0]
        # Forward arrows sit slightly above (or left of) the centre line, labels outside them.
        shift = np.array([-0.13, 0.0]) if vertical else np.array([0.0, 0.13])
        ax.add_patch(FancyArrowPatch(start + shift, end + shift, arrowstyle="-|>",
                                     mutation_scale=11, color=_FWD, lw=1.1,
                                     gid=f"fwd:{src}->{dst}"))
        if label:
            mid = (start + end) / 2
            pos = mid + (np.array([-0.5, 0.0]) if vertical else np.array([0.0, 0.42]))
            ax.text(*pos, label, ha="center", va="center", fontsize=10, color=_FWD)
    for src, dst, label, colour in _BACKWARD_EDGES:
        start, end = endpoints(src, dst)
        vertical = start[0] == end[0]
        # Backward arrows run on the other side of the edge: below, or right of it.
        shift = np.array([0.13, 0.0]) if vertical else np.array([0.0, -0.13])
        ax.add_patch(FancyArrowPatch(start + shift, end + shift, arrowstyle="-|>",
                                     mutation_scale=14, color=colour, lw=2.0,
                                     gid=f"back:{src}->{dst}"))
        mid = (start + end) / 2
        if vertical:
            pos, ha = mid + np.array([0.35, 0.0]), "left"
        else:
            pos, ha = mid + np.array([0.0, -0.55]), "center"
        ax.text(*pos, label, ha=ha, va="center", fontsize=11, color=colour,
                gid=f"backlabel:{src}->{dst}")
    ax.set_xlim(-0.7, 13.3)
    ax.set_ylim(-1.55, 4.4)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(r"One step of BPTT: $\bar h_t$ adds two gradients; "
                 r"$\delta_t$ is $\bar h_t$ times $\tanh'$ of step $t$")
    return fig


# --- relative errors of candidate gradients -----------------------------------------


def plot_rel_errors(errors: Mapping[str, float], tol: float = 1e-7,
                    ax: Axes | None = None) -> Figure:
    r"""Horizontal bars of relative errors against finite differences, log scale.

    Parameters
    ----------
    errors : mapping of str to float
        Name of each candidate gradient and its relative error
        (:func:`bptt.gradcheck.rel_error`), each in ``[0, 1]``. A zero error is
        drawn at the left edge of the axis (a log scale cannot show 0).
    tol : float
        The tolerance of the check, drawn as a vertical dashed line; bars at or
        below it are green (pass), above it red (fail).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        One bar per entry of ``errors``, top to bottom in their order, each
        labelled with its value (text gid ``"value"``).
    """
    if not isinstance(errors, Mapping) or not errors:
        raise TypeError(f"errors must be a non-empty dict of name to relative error, "
                        f"got {type(errors).__name__}")
    names = list(errors)
    values = np.array([errors[n] for n in names], dtype=float)
    if np.any(~np.isfinite(values)) or np.any(values < 0) or np.any(values > 1):
        raise ValueError(f"errors must hold relative errors in [0, 1], got {values.tolist()}")
    tol = check_positive_float("tol", tol)
    fig, ax = _new_axes(ax, (6.4, 0.45 * len(names) + 1.2))
    floor = min(1e-16, tol / 10)
    shown = np.maximum(values, floor)
    colours = ["tab:green" if v <= tol else "tab:red" for v in values]
    y = np.arange(len(names))[::-1]
    ax.barh(y, shown - floor, left=floor, color=colours, height=0.6)
    for yi, v, s in zip(y, values, shown):
        ax.text(s * 1.5, yi, f"{v:.0e}" if v < 1e-3 else f"{v:.2f}", va="center", fontsize=8,
                gid="value")
    ax.set_xscale("log")
    ax.set_xlim(floor, 30.0)
    ax.set_yticks(y, names)
    ax.axvline(tol, color="0.3", ls="--", lw=1, label=f"tolerance {tol:.0e}")
    ax.set_xlabel("relative error against centred finite differences")
    ax.set_title("Gradient check: which formulas survive")
    ax.legend(loc="upper right")
    ax.grid(axis="y", visible=False)
    return fig
