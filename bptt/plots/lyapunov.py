r"""Figures of the long-run regime of the hidden state: where it settles and how chaotic it is.

Drawing only: every number shown is computed by :func:`bptt.lyapunov.regimes_by_radius`
(the largest Lyapunov exponent, the regime and the long-run mean :math:`|h|` of
``init_rnn`` networks rescaled to several spectral radii).

* :func:`plot_regimes_by_radius`: the exponent and the mean :math:`|h|` against
  :math:`\rho(W_{hh})`, one colour per hidden size, one marker per regime.
"""
from __future__ import annotations

from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..lyapunov import REGIMES

__all__ = ["REGIME_MARKERS", "plot_regimes_by_radius"]

#: Marker of each regime of :data:`bptt.lyapunov.REGIMES` (hollow: the state settles).
REGIME_MARKERS = {"zero": "o", "fixed point": "s", "cycle": "^", "aperiodic": "D",
                  "chaotic": "x"}
_KEYS = ("sizes", "radii", "seeds", "regime", "exponent", "mean_abs_h")


def _check_sweep(sweep) -> None:
    """A result of :func:`bptt.lyapunov.regimes_by_radius`, with consistent shapes."""
    if not isinstance(sweep, Mapping) or any(key not in sweep for key in _KEYS):
        raise TypeError(f"sweep must be the dict returned by bptt.lyapunov.regimes_by_radius, "
                        f"with keys {list(_KEYS)}")
    shape = (len(sweep["sizes"]), len(sweep["radii"]), len(sweep["seeds"]))
    for key in ("regime", "exponent", "mean_abs_h"):
        got = np.shape(sweep[key])
        if len(got) != 4 or got[:3] != shape:
            want = "(" + ", ".join(map(str, shape)) + ", ?)"
            raise ValueError(f"sweep['{key}'] must have shape (len(sizes), len(radii), "
                             f"len(seeds), n_starts) = {want}, got {got}")
    unknown = {str(r) for r in np.unique(sweep["regime"])} - set(REGIMES)
    if unknown:
        raise ValueError(f"sweep['regime'] must hold labels of bptt.lyapunov.REGIMES, "
                         f"got {sorted(unknown)}")


def plot_regimes_by_radius(sweep: Mapping, *, figsize=None) -> Figure:
    r"""The largest Lyapunov exponent and the long-run mean :math:`|h|` against the spectral radius.

    Parameters
    ----------
    sweep : dict
        The result of :func:`bptt.lyapunov.regimes_by_radius`: ``sizes (S,)``,
        ``radii (R,)``, ``seeds (N,)`` and ``regime``, ``exponent``,
        ``mean_abs_h`` of shape ``(S, R, N, n_starts)``.
    figsize : (float, float), optional
        (8.5, 3.4) by default.

    Returns
    -------
    Figure
        Two axes sharing the x axis :math:`\rho`. Left: one point per run at
        ``(radius, exponent)``, with a grey line at 0 (above it, nearby states
        separate: chaos, and exploding Jacobian products). Right: one point per
        run at ``(radius, mean_abs_h)``. Colour: the hidden size; marker: the
        regime (:data:`REGIME_MARKERS`). Each size draws one collection per
        regime present, in the order of :data:`bptt.lyapunov.REGIMES`, and
        points of different sizes are nudged sideways by 1 % of the radius
        range so that they do not hide each other.
    """
    _check_sweep(sweep)
    radii = np.asarray(sweep["radii"], dtype=float)
    sizes = list(sweep["sizes"])
    fig, (ax_lam, ax_h) = plt.subplots(1, 2, figsize=figsize or (8.5, 3.4), sharex=True)
    colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.8, len(sizes)))
    span = np.ptp(radii) if radii.size > 1 else 1.0
    for i, (H, colour) in enumerate(zip(sizes, colours)):
        # the same x for every seed and start of one radius, nudged per size
        x = np.broadcast_to((radii + 0.01 * span * (i - (len(sizes) - 1) / 2))[:, None, None],
                            sweep["regime"][i].shape)
        for regime in REGIMES:
            where = sweep["regime"][i] == regime
            if not where.any():
                continue
            style = dict(marker=REGIME_MARKERS[regime], s=18, linewidths=1.0)
            if regime == "chaotic":        # "x" has no face: colour its lines
                style["c"] = [colour]
            else:                          # hollow: the state settles or drifts
                style.update(facecolors="none", edgecolors=colour)
            ax_lam.scatter(x[where], sweep["exponent"][i][where], **style)
            ax_h.scatter(x[where], sweep["mean_abs_h"][i][where], **style)
    ax_lam.axhline(0.0, color="#888888", linewidth=0.8)
    ax_lam.set_ylabel(r"largest Lyapunov exponent $\lambda$")
    ax_h.set_ylabel(r"long-run mean $|h|$")
    ax_h.set_ylim(0.0, 1.0)
    for ax in (ax_lam, ax_h):
        ax.set_xlabel(r"spectral radius $\rho(W_{hh})$")
    size_handles = [Line2D([], [], color=c, marker="o", linestyle="", label=f"H = {H}")
                    for H, c in zip(sizes, colours)]
    regime_handles = [Line2D([], [], color="#444444", marker=REGIME_MARKERS[r], linestyle="",
                             markerfacecolor="none" if r != "chaotic" else None, label=r)
                      for r in REGIMES if (np.asarray(sweep["regime"]) == r).any()]
    ax_h.legend(handles=size_handles + regime_handles, loc="center left",
                bbox_to_anchor=(1.0, 0.5), fontsize=8)
    fig.tight_layout()
    return fig
