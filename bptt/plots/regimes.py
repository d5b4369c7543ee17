r"""Where the hidden state goes with no input (chapter "The forward pass").

Above :math:`\rho(W_{hh}) = 1` the state of a tanh RNN with no input settles
at a fixed point away from 0, on a cycle, or never settles (chaos), depending
on the network's size and draw. :func:`bptt.lyapunov.regimes_by_radius`
measures which, with the largest Lyapunov exponent; :func:`plot_long_run_regimes`
draws its result against the radius, for several sizes and seeds.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

__all__ = ["plot_long_run_regimes"]

# The long-run regimes of bptt.lyapunov.long_run_regime: a marker each, and a
# colour per hidden size (colour-blind safe, and distinct in grey).
_REGIME_STYLE = {
    "zero": ("o", "fixed point 0"),
    "fixed point": ("s", "other fixed point"),
    "cycle": ("^", "cycle"),
    "aperiodic": ("D", "no period, not chaotic"),
    "chaotic": ("X", "chaotic"),
}
_SIZE_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e")
_SWEEP_KEYS = ("sizes", "radii", "regime", "exponent", "mean_abs_h")


def _check_sweep(sweep) -> tuple[list[int], list[float], np.ndarray, np.ndarray, np.ndarray]:
    """The arrays of a :func:`bptt.lyapunov.regimes_by_radius` result."""
    missing = [key for key in _SWEEP_KEYS if key not in sweep]
    if missing:
        raise ValueError(f"sweep lacks {missing}: pass the dict returned by "
                         f"bptt.lyapunov.regimes_by_radius")
    sizes, radii = [int(H) for H in sweep["sizes"]], [float(r) for r in sweep["radii"]]
    if len(sizes) > len(_SIZE_COLOURS):
        raise ValueError(f"sweep must hold at most {len(_SIZE_COLOURS)} sizes, got {len(sizes)}")
    regime = np.asarray(sweep["regime"])
    unknown = sorted(set(regime.ravel().tolist()) - set(_REGIME_STYLE))
    if unknown:
        raise ValueError(f"sweep['regime'] holds unknown regimes {unknown}; expected some of "
                         f"{list(_REGIME_STYLE)}")
    return sizes, radii, regime, np.asarray(sweep["exponent"]), np.asarray(sweep["mean_abs_h"])


def plot_long_run_regimes(sweep: dict, *,
                          figsize: tuple[float, float] = (4.4, 6.2)) -> Figure:
    r"""Where the state goes with no input, against :math:`\rho(W_{hh})`, for several sizes.

    Parameters
    ----------
    sweep : dict
        The result of :func:`bptt.lyapunov.regimes_by_radius`: ``sizes`` (S),
        ``radii`` (R), and ``regime``, ``exponent`` and ``mean_abs_h``, each of
        shape ``(S, R, seeds, starts)``.
    figsize : (float, float)
        Figure size in inches; the default stays legible on a phone.

    Returns
    -------
    Figure
        Two panels sharing a categorical x axis, one column per radius (tick
        labels ``f"{rho:g}"``), the sizes side by side within a column:

        * top, the long-run mean :math:`|h_{t,i}|` of every run;
        * bottom, its largest Lyapunov exponent :math:`\lambda_{\max}`, with
          a line at 0 and, for every radius <= 1, a dashed segment at
          :math:`\log \rho`, the exponent at the fixed point 0 (labelled in
          this panel's legend).

        One marker per run (per seed and start), a colour per size and a
        marker shape per regime; in each panel, a thin line per size joins
        the medians over the runs. The sizes are labelled in the top panel's
        legend (``H = 8``, ...), the regimes that occur in a legend below.

    Notes
    -----
    Each run is one ``PathCollection`` point: for size i, its collections
    hold, regime by regime in the order of :data:`bptt.lyapunov.REGIMES`,
    the runs of that regime, at x = column + offset of the size + a small
    spread of the run (so that equal values stay visible).
    """
    sizes, radii, regime, exponent, mean_abs = _check_sweep(sweep)
    S, R = len(sizes), len(radii)
    runs = regime.shape[2] * regime.shape[3]
    fig, (ax_h, ax_l) = plt.subplots(2, 1, figsize=figsize, sharex=True)
    column = np.arange(R)
    width = 0.8 / S                                   # of one size within a column
    spread = (np.arange(runs) - (runs - 1) / 2) * (0.5 * width / max(runs, 1))
    for i, H in enumerate(sizes):
        colour = _SIZE_COLOURS[i]
        x = column + (i - (S - 1) / 2) * width        # (R,): this size's place in each column
        xs = x[:, None] + spread[None, :]             # (R, runs)
        kinds = regime[i].reshape(R, runs)
        for ax, values in ((ax_h, mean_abs[i]), (ax_l, exponent[i])):
            values = values.reshape(R, runs)
            ax.plot(x, np.median(values, axis=1), color=colour, linewidth=1.0, alpha=0.7,
                    label=f"$H = {H}$")
            for name, (marker, _) in _REGIME_STYLE.items():
                chosen = kinds == name
                if chosen.any():
                    ax.scatter(xs[chosen], values[chosen], marker=marker, s=26, color=colour,
                               edgecolors="white", linewidths=0.4, zorder=3)
    at_zero = []
    for j, rho in enumerate(radii):
        if rho <= 1:
            at_zero += ax_l.plot([j - 0.45, j + 0.45], [np.log(rho)] * 2, color="black",
                                 linestyle="--", linewidth=1.0, zorder=4,
                                 label=r"$\log \rho$: the exponent at 0")
    ax_l.axhline(0.0, color="#555555", linewidth=0.8)
    ax_h.set_ylim(-0.03, 1.0)
    ax_h.set_ylabel(r"long-run mean $|h_{t,i}|$")
    ax_l.set_ylabel(r"$\lambda_{\max}$ (per step)")
    ax_l.set_xticks(column, [f"{rho:g}" for rho in radii])
    ax_l.set_xlabel(r"spectral radius $\rho(W_{hh})$")
    ax_h.legend(loc="upper left", fontsize=9)
    if at_zero:
        ax_l.legend(handles=at_zero[:1], loc="upper left", fontsize=9)
    present = [name for name in _REGIME_STYLE if np.any(regime == name)]
    proxies = [Line2D([], [], marker=_REGIME_STYLE[name][0], color="#555555", linestyle="none",
                      markersize=6, label=_REGIME_STYLE[name][1]) for name in present]
    ncol = min(2, len(proxies))
    fig.legend(handles=proxies, loc="lower center", ncol=ncol, fontsize=9,
               title="long-run regime (marker)", title_fontsize=9)
    rows = -(-len(proxies) // ncol)
    fig.tight_layout(rect=(0, 0.04 + 0.04 * rows, 1, 1))
    return fig
