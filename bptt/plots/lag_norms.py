r"""The gradient norm against the time lag: one figure family, for chapters 3 and 5.

A loss at the last step, carried back :math:`\tau` steps, leaves the gradient
:math:`\|\partial L_T / \partial h_{T-\tau}\|` (chapter 3 writes it
:math:`\|\bar h_{T-\tau}\|`), which shrinks or grows roughly geometrically with
the lag. The numbers come from :func:`bptt.dynamics.lag_norm_experiment` (one
random :math:`W_{hh}` rescaled to each spectral radius) and, for the Jacobian
products and their bound, from :mod:`bptt.dynamics`; this module only draws.

* :func:`plot_lag_norms`: one line per spectral radius, one panel per setting.
* :func:`plot_norm_panels`: measured norms beside the curves that bound or
  explain them, one panel per case.
* :func:`draw_lag_norms`: one radius at a time, optionally with the bound
  :math:`\sigma_{\max}^\tau`, the rate :math:`\rho^\tau` and grey reference
  radii: the widget's callback, and the frames of the slider that the HTML
  book shows instead (:func:`bptt.plots.frames.frame_slider`).
* :func:`lag_norm_widget`: sliders over the radius and any of the input
  scale, the kind of :math:`W_{hh}` and the length.

Every figure has the same look: radii below 1 in blues, the others in reds
(:func:`radius_colours`); a log y axis with ticks at powers of ten, 1 among
them, and a grey line at 1; the lag on the x axis; :data:`~bptt.plots.style.WIDTH`
inches wide.
"""
from __future__ import annotations

import functools
from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..dynamics import lag_norm_experiment
from .prose import sci
from .style import WIDTH

__all__ = ["LAG_YLIM", "REFERENCE_RADII", "LAG_YLABEL", "CURVE_STYLES", "radius_colours",
           "plot_lag_norms", "plot_norm_panels", "draw_lag_norms", "lag_norm_widget"]

#: Fixed y range of the widget and its frames, so that moving a slider moves
#: the curve rather than the axis.
LAG_YLIM = (1e-30, 1e12)
#: Radii drawn in grey behind the chosen one by :func:`draw_lag_norms`.
REFERENCE_RADII = (0.5, 1.0, 1.5, 3.0)
#: The x label of every lag plot, and the default y label of the gradient's.
LAG_XLABEL = r"steps back from the loss, $\tau = T - t$"
LAG_YLABEL = r"$\|\partial L_T / \partial h_{T-\tau}\|_2$"
#: Line styles of the three kinds of curve: what was measured, the bound
#: :math:`\sigma_{\max}^\tau` (dashed) and a rate such as :math:`\rho^\tau` (dotted).
CURVE_STYLES = {
    "measured": dict(linestyle="-", linewidth=1.8),
    "bound": dict(linestyle="--", linewidth=1.2, color="#444444"),
    "rate": dict(linestyle=":", linewidth=1.4, color="#444444"),
}
_REFERENCE = dict(color="#bbbbbb", linewidth=1.0, zorder=1)
_ONE = dict(color="#888888", linewidth=0.8, zorder=1)        # the line at 1


def _below_one(rho: float) -> bool:
    """Whether a measured radius is below 1 by more than rounding (a matrix rescaled
    to 1 may measure 0.9999999999999998)."""
    return rho < 1 - 1e-9


def radius_colours(radii: Sequence[float]) -> list:
    """One colour per radius, in order: radii below 1 in blues, the others in reds.

    The shades deepen along each group, in the order given, from light to
    dark. A radius within rounding of 1 counts as 1.
    """
    below = [_below_one(r) for r in radii]
    shades = {}
    for is_below, cmap in ((True, "Blues"), (False, "Reds")):
        n = below.count(is_below)
        levels = np.linspace(0.45, 0.9, n) if n > 1 else [0.7]
        shades[is_below] = iter(plt.get_cmap(cmap)(levels))
    return [next(shades[is_below]) for is_below in below]


def _on_log_axis(values, ylim) -> np.ndarray:
    """Values to draw on a log axis: below a fixed axis, just under it; 0 left out."""
    values = np.asarray(values, dtype=float)
    if ylim is not None:
        return np.maximum(values, ylim[0] / 10)
    return np.where(values > 0, values, np.nan)


def _decade_ticks(ylim) -> np.ndarray:
    """Powers of ten within ``ylim``, every k-th decade so that there are at most 8 ticks."""
    lo, hi = np.ceil(np.log10(ylim[0])), np.floor(np.log10(ylim[1]))
    step = max(1, int(np.ceil((hi - lo) / 7)))
    # Multiples of step, so that 10^0 = 1 is a tick whenever it is in range.
    return 10.0 ** (step * np.arange(np.ceil(lo / step), np.floor(hi / step) + 1))


def _log_axis(ax, ylim, xmax, xlabel: str, ylabel: str) -> None:
    """The shared look: log y over ``ylim`` (or the data's), decade ticks, a line at 1."""
    ax.set_yscale("log")
    ax.axhline(1.0, **_ONE)
    if ylim is not None:
        ax.set_ylim(*ylim)
    limits = ax.get_ylim()
    ax.set_yticks(_decade_ticks(limits))
    ax.set_ylim(*limits)
    ax.set_xlim(0, xmax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)


def plot_lag_norms(panels: Mapping[str, Sequence[Mapping]], *, ylim=None,
                   ylabel: str = LAG_YLABEL, figsize=None) -> Figure:
    r"""Gradient norm against the lag, one line per spectral radius, one panel per setting.

    Parameters
    ----------
    panels : dict of str to list of dict
        Panel title to the results of :func:`bptt.dynamics.lag_norm_experiment`
        to draw in it (one per spectral radius, in order).
    ylim : (float, float), optional
        Limits of every panel's y axis; by default the data's, shared by the panels.
    ylabel : str
        The y label: :data:`LAG_YLABEL` by default.
    figsize : (float, float), optional
        By default :data:`~bptt.plots.style.WIDTH` wide and 2.6 inches per panel
        (3.6 for one).

    Returns
    -------
    Figure
        One axes per panel, one above the other, each with one line
        ``(result["lag"], result["norm"])`` per result, labelled and coloured by
        :math:`\rho(W_{hh})` (:func:`radius_colours`); log y axes and a grey
        line at 1; one legend, inside a single panel or above several.
    """
    if not isinstance(panels, Mapping) or not panels:
        raise TypeError("panels must be a non-empty dict: title -> list of "
                        "lag_norm_experiment results")
    if figsize is None:
        figsize = (WIDTH, max(3.6, 0.5 + 2.6 * len(panels)))
    fig, axes = plt.subplots(len(panels), 1, figsize=figsize, squeeze=False, sharex=True,
                             sharey=True)
    for (title, results), ax in zip(panels.items(), axes[:, 0]):
        for result, colour in zip(results, radius_colours([r["rho"] for r in results])):
            ax.plot(result["lag"], _on_log_axis(result["norm"], ylim), color=colour,
                    label=rf"$\rho = {result['rho']:.2g}$", **CURVE_STYLES["measured"])
        ax.set_title(title)
    T = max(int(r["lag"][-1]) for results in panels.values() for r in results)
    for ax in axes[:, 0]:
        _log_axis(ax, ylim, T, LAG_XLABEL if ax is axes[-1, 0] else "", ylabel)
    if len(panels) == 1:
        axes[0, 0].legend(loc="best", fontsize=9)
        fig.tight_layout()
        return fig
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=min(len(labels), 6), fontsize=8,
               frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / figsize[1]))
    return fig


def plot_norm_panels(panels: Sequence[Mapping], *, ylim=None, figsize=None,
                     ylabel: str = r"$\|\partial h_t / \partial h_{t-\tau}\|_2$",
                     ncols: int = 1, legend_loc: str = "best") -> Figure:
    r"""Log plots of norms against the lag, each with the curves that bound or explain it.

    Parameters
    ----------
    panels : sequence of dict
        One panel each, with ``"title"`` (str) and ``"curves"``: a list of dicts
        with ``"label"`` (str), ``"lag"`` (ndarray (n,)), ``"value"`` (ndarray
        (n,), >= 0) and ``"kind"``, one of :data:`CURVE_STYLES`: ``"measured"``
        (solid), ``"bound"`` (dashed, e.g. :math:`\sigma_{\max}^\tau` from
        :func:`bptt.dynamics.jacobian_bound`) or ``"rate"`` (dotted, e.g.
        :math:`\rho^\tau`).
    ylim : (float, float), optional
        Limits of every panel's y axis (values below are drawn just under
        it); by default each panel's data.
    figsize : (float, float), optional
        By default :data:`~bptt.plots.style.WIDTH` wide and 2.4 inches per row.
    ylabel : str
        Label of every panel's y axis; a norm of the Jacobian product by default.
    ncols : int
        Panels per row, filled row by row; 1 (a column) by default.
    legend_loc : str
        Where each panel's legend goes, as matplotlib's ``loc``.

    Returns
    -------
    Figure
        ``len(panels)`` axes, in the order given, with one line per curve
        (data ``(lag, value)``), log y axes, a grey line at 1 and a legend each.
    """
    if isinstance(panels, Mapping) or not isinstance(panels, Sequence) or not panels:
        raise TypeError("panels must be a non-empty list of dicts with 'title' and 'curves'")
    nrows = -(-len(panels) // ncols)
    if figsize is None:
        figsize = (WIDTH, 2.4 * nrows)
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False)
    for ax in axes.ravel()[len(panels):]:
        ax.remove()                              # an incomplete last row
    for panel, ax in zip(panels, axes.ravel()):
        lags = [0]
        for curve in panel["curves"]:
            if curve["kind"] not in CURVE_STYLES:
                raise ValueError(f"a curve's 'kind' must be one of {list(CURVE_STYLES)}, "
                                 f"got {curve['kind']!r}")
            ax.plot(curve["lag"], _on_log_axis(curve["value"], ylim), label=curve["label"],
                    **CURVE_STYLES[curve["kind"]])
            lags.append(np.max(curve["lag"]))
        ax.set_title(panel["title"])
        _log_axis(ax, ylim, max(lags), r"lag $\tau = t - k$", ylabel)
        ax.legend(fontsize=8, loc=legend_loc)
    fig.tight_layout()
    return fig


@functools.lru_cache(maxsize=256)
def _experiment(rho: float, input_scale: float, T: int, kind: str, seed: int,
                sizes: tuple) -> dict:
    """:func:`bptt.dynamics.lag_norm_experiment`, remembered: a slider's frames and the
    grey reference lines ask for the same experiments many times. Read-only."""
    return lag_norm_experiment(rho, input_scale, T=T, kind=kind, seed=seed, **dict(sizes))


def draw_lag_norms(rho: float, input_scale: float = 1.0, *, T: int = 100,
                   kind: str = "gaussian", seed: int = 0,
                   reference_radii: Sequence[float] = REFERENCE_RADII, bound: bool = True,
                   ylim=LAG_YLIM, ylabel: str = LAG_YLABEL, **sizes) -> Figure:
    r"""The widget's callback: the gradient norm against the lag for one spectral radius.

    Parameters
    ----------
    rho : float
        Spectral radius of :math:`W_{hh}`, > 0.
    input_scale : float
        Input scale, > 0.
    T : int
        Sequence length.
    kind : {"gaussian", "orthogonal"}
        How :math:`W_{hh}` is drawn.
    seed : int
        Seed of the experiment (the same network, rescaled, for every radius).
    reference_radii : sequence of float
        Radii drawn as thin grey lines for comparison, at the same input scale;
        ``()`` for none.
    bound : bool
        Also draw the bound :math:`\sigma_{\max}^\tau` (dashed) and the rate
        :math:`\rho^\tau` (dotted), with a legend.
    ylim : (float, float) or None
        Limits of the y axis; fixed (:data:`LAG_YLIM`) by default, so that
        frames compare. ``None``: the data's.
    ylabel : str
        The y label.
    **sizes
        ``B``, ``H``, ``D`` of the experiment.

    Returns
    -------
    Figure
        One axes: the reference lines in grey, each labelled at its end; the
        bound and the rate if asked; then the line of
        ``lag_norm_experiment(rho, input_scale, T=T, kind=kind, seed=seed, **sizes)``,
        blue if the radius is below 1, red otherwise; and a title with
        :math:`\rho`, :math:`\sigma_{\max}`, the input scale, T, the mean tanh
        slope and the norm at lag T.

    Notes
    -----
    Every argument is passed to :func:`bptt.dynamics.lag_norm_experiment`, which
    checks it. The experiments are remembered (a bounded cache keyed by the
    arguments), so drawing many frames computes each reference radius once.
    """
    sizes = tuple(sorted(sizes.items()))
    fig, ax = plt.subplots(figsize=(WIDTH, 3.6))
    for r in reference_radii:
        ref = _experiment(r, input_scale, T, kind, seed, sizes)
        ax.plot(ref["lag"], _on_log_axis(ref["norm"], ylim), **_REFERENCE)
        end = ref["norm"][-1] if ylim is None else max(ref["norm"][-1], ylim[0])
        ax.annotate(rf"$\rho={r:g}$", (T, end), fontsize=7, color="#888888", xytext=(2, 0),
                    textcoords="offset points", va="center")
    res = _experiment(rho, input_scale, T, kind, seed, sizes)
    lag = res["lag"].astype(float)
    if bound:
        ax.plot(lag, res["sigma_max"] ** lag, label=r"bound $\sigma_{\max}^\tau$",
                **CURVE_STYLES["bound"])
        ax.plot(lag, res["rho"] ** lag, label=r"$\rho^\tau$", **CURVE_STYLES["rate"])
    colour = "tab:blue" if _below_one(res["rho"]) else "tab:red"
    ax.plot(lag, _on_log_axis(res["norm"], ylim), color=colour, linewidth=2.2,
            label="measured")
    _log_axis(ax, ylim, T, LAG_XLABEL, ylabel)
    ax.set_title(rf"$\rho = {res['rho']:.2f}$, $\sigma_{{\max}} = {res['sigma_max']:.2f}$, "
                 rf"input scale {input_scale:.2g}, $T = {T}$" "\n"
                 f"mean tanh slope {res['slope']:.2f}, norm at lag T: "
                 f"{sci(res['norm'][-1], space=' ')}", fontsize=9)
    if bound:
        ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    return fig


def _sliders():
    """The controls :func:`lag_norm_widget` can show: name -> (make(value), range)."""
    import ipywidgets as widgets   # only needed here

    style = {"description_width": "initial"}
    return {
        "rho": (lambda v: widgets.FloatSlider(
            value=v, min=0.1, max=3.0, step=0.05, description="ρ(W_hh)",
            continuous_update=False, style=style), (0.1, 3.0)),
        "input_scale": (lambda v: widgets.FloatLogSlider(
            value=v, base=10, min=-2, max=1, step=0.1, description="input scale",
            continuous_update=False, style=style), (0.01, 10.0)),
        "kind": (lambda v: widgets.Dropdown(
            options=["gaussian", "orthogonal"], value=v, description="W_hh", style=style),
            None),
        "T": (lambda v: widgets.IntSlider(
            value=v, min=5, max=200, step=5, description="T", continuous_update=False,
            style=style), (5, 200)),
    }


def lag_norm_widget(*, rho: float = 1.0, input_scale: float = 1.0, kind: str = "gaussian",
                    T: int = 100, sliders: Sequence[str] = ("rho", "input_scale", "kind"),
                    **options):
    r"""Sliders over the spectral radius and more, and the gradient norms they give.

    Parameters
    ----------
    rho, input_scale, kind, T
        The values drawn first (a control's starting value, or a fixed value
        when it has no control); see :func:`draw_lag_norms`.
    sliders : sequence of str
        The controls to show, in order, from ``"rho"`` (0.1 to 3),
        ``"input_scale"`` (a logarithmic slider, 0.01 to 10), ``"kind"`` (a
        drop-down) and ``"T"`` (5 to 200).
    **options
        Passed to :func:`draw_lag_norms` (``seed``, ``reference_radii``,
        ``bound``, ``ylim``, ``ylabel``, ``B``, ``H``, ``D``).

    Returns
    -------
    ipywidgets.interactive
        The controls and an output area showing :func:`draw_lag_norms` for
        their values; ``.result`` holds the last Figure drawn.
    """
    import ipywidgets as widgets

    available = _sliders()
    values = dict(rho=rho, input_scale=input_scale, kind=kind, T=T)
    controls = {}
    for name in sliders:
        if name not in available:
            raise ValueError(f"sliders must name controls from {list(available)}, got {name!r}")
        make, bounds = available[name]
        if bounds is not None and not bounds[0] <= values[name] <= bounds[1]:
            raise ValueError(f"{name} must lie in its slider's range {list(bounds)}, "
                             f"got {values[name]}")
        controls[name] = make(values.pop(name))

    def update(**chosen):
        return draw_lag_norms(**values, **chosen, **options)

    return widgets.interactive(update, **controls)
