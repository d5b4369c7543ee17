r"""What BPTT keeps for the backward pass, against T (chapter "Unrolling a recurrent network").

The backward pass needs the inputs :math:`x_t` and every state
:math:`h_0, \dots, h_T`: memory that grows with the length, beside the
parameters' fixed size. The chapter counts the bytes; :func:`plot_memory`
stacks them against T.
"""
from __future__ import annotations

from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..validate import check_axes

__all__ = ["plot_memory"]


def plot_memory(T, stored: Mapping[str, np.ndarray], parameter_bytes: float,
                ax: Axes | None = None, unit: float = 1e6, unit_name: str = "MB") -> Figure:
    r"""Memory kept for the backward pass against T, with the parameters' memory for scale.

    Parameters
    ----------
    T : ndarray of int, shape (n,)
        Numbers of steps, increasing.
    stored : dict of str to ndarray, each shape (n,)
        Bytes of each array kept for the backward pass at each T, e.g.
        ``{"h (T+1, B, H)": ..., "x (T, B, D)": ...}``; stacked in the plot.
    parameter_bytes : float
        Bytes of all the parameters (independent of T): a horizontal line.
    ax : matplotlib Axes, optional
        Where to draw; by default a new figure.
    unit, unit_name : float, str
        The y-axis shows bytes / ``unit`` labelled ``unit_name``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    T = np.asarray(T)
    if not isinstance(stored, Mapping) or not stored:
        raise TypeError(f"stored must be a non-empty dict of name -> bytes, got "
                        f"{type(stored).__name__}")
    series = {}
    for name, values in stored.items():
        values = np.asarray(values, dtype=float)
        if values.shape != T.shape:
            raise ValueError(f"stored[{name!r}] must have shape (n,) = {T.shape} like T, "
                             f"got {values.shape}")
        series[name] = values / unit
    if check_axes(ax) is None:
        _, ax = plt.subplots(layout="constrained")
    fig = ax.figure

    colours = ["#D55E00", "#0072B2", "#009E73", "#CC79A7"]
    ax.stackplot(T, *series.values(), labels=list(series), colors=colours[:len(series)],
                 alpha=0.75)
    ax.plot(T, np.full(T.shape, parameter_bytes / unit), color="black", linestyle="--",
            label="parameters (any T)")
    ax.set_xlim(T[0], T[-1])
    ax.set_ylim(0, None)
    ax.set_xlabel("number of steps T")
    ax.set_ylabel(f"memory ({unit_name})")
    ax.set_title("What BPTT keeps, against the parameters")
    ax.legend(loc="upper left")
    return fig
