r"""Figures of the chapter "Vanishing and exploding gradients".

Drawing only: every number shown is computed by :mod:`bptt.dynamics` (Jacobian
products, gradient norms against time lag, the one-unit loss surface) or by
:func:`bptt.train.train` (loss and gradient-norm histories).

* :func:`plot_norm_panels`: measured norms next to their bounds, one panel per case.
* :func:`plot_lag_norms`: :math:`\|\partial L_T/\partial h_{T-\tau}\|` against
  :math:`\tau`, one line per spectral radius, one panel per input scale.
* :func:`draw_lag_norms`: the widget callback (one radius, one input scale); also
  the frames of the slider that the HTML book shows instead of the live widget
  (:func:`bptt.plots.frames.frame_slider`).
* :func:`lag_norm_widget`: sliders for the radius and the input scale.
* :func:`plot_loss_cliff`: the one-unit RNN's loss surface, its cliff and two descents.
* :func:`plot_training_runs`: loss and gradient norm of training runs, step by step.

Every figure is one column of panels, at most :data:`WIDTH` inches wide, so
that its text stays legible when a phone shrinks it to the screen's width.
"""
from __future__ import annotations

import functools
from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..dynamics import lag_norm_experiment
from ..one_unit import one_unit_loss, one_unit_wall
from ..validate import check_array, check_positive_float, check_positive_int

__all__ = ["plot_norm_panels", "plot_lag_norms", "draw_lag_norms", "lag_norm_widget",
           "plot_loss_cliff", "plot_training_runs"]

#: Width of every figure, in inches: a column of panels rather than a row, so
#: that a phone (about 360 CSS pixels) shrinks it by less than a half.
WIDTH = 5.6

#: Line styles of the three kinds of curve in :func:`plot_norm_panels`.
CURVE_STYLES = {
    "measured": dict(linestyle="-", linewidth=1.8),
    "bound": dict(linestyle="--", linewidth=1.2, color="#444444"),
    "rate": dict(linestyle=":", linewidth=1.4, color="#444444"),
}
#: Colour of the cliff (the line :func:`bptt.one_unit.one_unit_wall`) in
#: :func:`plot_loss_cliff`: magenta shows on both the dark and the bright side.
CLIFF_COLOUR = "#e7298a"
#: Radii drawn in grey behind the chosen one by :func:`draw_lag_norms`.
REFERENCE_RADII = (0.5, 1.0, 1.5, 3.0)
#: Fixed y range of the lag plots, so that frames and slider positions compare.
LAG_YLIM = (1e-24, 1e12)
_FLOOR = LAG_YLIM[0] / 10     # norms below the axis (or exactly 0) are drawn here


def _check_str(name: str, value) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    return value


def _positive_curve(name: str, values) -> np.ndarray:
    """A 1-D float array of finite values >= 0, for a log axis."""
    values = check_array(name, values, ("n",))
    if np.any(values < 0):
        raise ValueError(f"{name} must be >= 0 (it is drawn on a log axis), "
                         f"got a minimum of {values.min()}")
    return values


def _log_safe(values: np.ndarray) -> np.ndarray:
    """Values below the plotting floor (including exact zeros) are drawn at the floor."""
    return np.maximum(values, _FLOOR)


# --------------------------------------------------------------------------
# Measured norms and bounds
# --------------------------------------------------------------------------

def plot_norm_panels(panels: Sequence[Mapping], *, figsize=None,
                     ylabel: str | None = None, ncols: int = 1,
                     legend_loc: str = "best") -> Figure:
    r"""Side-by-side log plots of norms against lag, each with the curves that bound or explain it.

    Parameters
    ----------
    panels : sequence of dict
        One panel each, with ``"title"`` (str) and ``"curves"``: a list of dicts
        with ``"label"`` (str), ``"lag"`` (ndarray (n,)), ``"value"`` (ndarray
        (n,), >= 0) and ``"kind"``, one of ``"measured"`` (solid),
        ``"bound"`` (dashed, e.g. :math:`\sigma_{\max}^\tau` from
        :func:`bptt.dynamics.jacobian_bound`) or ``"rate"`` (dotted, e.g.
        :math:`\rho^\tau`).
    figsize : (float, float), optional
        By default :data:`WIDTH` wide and 2.4 inches per row.
    ylabel : str, optional
        Label of every panel's y axis; a norm of the Jacobian product by default.
    ncols : int
        Panels per row, filled row by row; 1 (a column) by default.
    legend_loc : str
        Where each panel's legend goes, as matplotlib's ``loc`` (``"best"``
        by default; ``"best"`` does not avoid curves drawn past the y limits
        set afterwards).

    Returns
    -------
    Figure
        ``len(panels)`` axes, in the order given, with one line per curve (data
        ``(lag, value)``, values below :data:`LAG_YLIM` drawn at its floor), log y
        axes and a legend each.
    """
    if isinstance(panels, Mapping) or not isinstance(panels, Sequence) or not panels:
        raise TypeError("panels must be a non-empty list of dicts with 'title' and 'curves'")
    ncols = check_positive_int("ncols", ncols)
    nrows = -(-len(panels) // ncols)
    if figsize is None:
        figsize = (WIDTH, 2.4 * nrows)
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False)
    for ax in axes.ravel()[len(panels):]:
        ax.remove()                              # an incomplete last row
    for p, (panel, ax) in enumerate(zip(panels, axes.ravel())):
        if not isinstance(panel, Mapping) or "curves" not in panel or "title" not in panel:
            raise TypeError(f"panels[{p}] must be a dict with 'title' and 'curves'")
        ax.set_title(_check_str(f"panels[{p}]['title']", panel["title"]))
        for c, curve in enumerate(panel["curves"]):
            where = f"panels[{p}]['curves'][{c}]"
            kind = curve.get("kind")
            if kind not in CURVE_STYLES:
                raise ValueError(f"{where}['kind'] must be one of {list(CURVE_STYLES)}, "
                                 f"got {kind!r}")
            lag = np.asarray(curve["lag"])
            value = _positive_curve(f"{where}['value']", curve["value"])
            if lag.shape != value.shape:
                raise ValueError(f"{where}: lag and value must have the same shape, got "
                                 f"{lag.shape} and {value.shape}")
            ax.plot(lag, _log_safe(value), label=_check_str(f"{where}['label']", curve["label"]),
                    **CURVE_STYLES[kind])
        ax.set_yscale("log")
        ax.set_xlabel(r"lag $\tau = t - k$")
        ax.set_ylabel(ylabel or r"$\|\partial h_t / \partial h_{t-\tau}\|_2$")
        ax.legend(fontsize=8, loc=_check_str("legend_loc", legend_loc))
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------
# Gradient norm against time lag, for several spectral radii
# --------------------------------------------------------------------------

#: Colour of the chosen radius in :func:`draw_lag_norms`.
_HIGHLIGHT = "#d62728"


def _draw_lag_curve(ax, result: Mapping, **style):
    return ax.plot(result["lag"], _log_safe(result["norm"]), **style)[0]


def _decorate_lag_axes(ax, T: int, title: str | None = None):
    ax.set_yscale("log")
    ax.set_ylim(*LAG_YLIM)
    ax.set_yticks(10.0 ** np.arange(np.log10(LAG_YLIM[0]), np.log10(LAG_YLIM[1]) + 1, 6))
    ax.set_xlim(0, T)
    ax.set_xlabel(r"lag $\tau$ (steps back from $T$)")
    ax.set_ylabel(r"$\|\partial L_T / \partial h_{T-\tau}\|_2$")
    ax.axhline(1.0, color="#888888", linewidth=0.8)
    if title is not None:
        ax.set_title(title)


def plot_lag_norms(panels: Mapping[str, Sequence[Mapping]], *, figsize=None) -> Figure:
    r"""Gradient norm against time lag, one line per spectral radius, one panel per setting.

    Parameters
    ----------
    panels : dict of str to list of dict
        Panel title to a list of results of :func:`bptt.dynamics.lag_norm_experiment`
        (one per spectral radius, in the order to draw).
    figsize : (float, float), optional
        By default :data:`WIDTH` wide and 2.6 inches per panel.

    Returns
    -------
    Figure
        One axes per panel, one above the other, each with one line
        ``(result["lag"], result["norm"])`` per result, labelled by
        :math:`\rho(W_{hh})`, coloured by radius; log y axis over
        :data:`LAG_YLIM` and a grey line at 1; one legend, above the panels.
    """
    if not isinstance(panels, Mapping) or not panels:
        raise TypeError("panels must be a non-empty dict: title -> list of "
                        "lag_norm_experiment results")
    if figsize is None:
        figsize = (WIDTH, 0.5 + 2.6 * len(panels))
    fig, axes = plt.subplots(len(panels), 1, figsize=figsize, squeeze=False, sharex=True)
    for (title, results), ax in zip(panels.items(), axes[:, 0]):
        colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.9, len(results)))
        for result, colour in zip(results, colours):
            _draw_lag_curve(ax, result, color=colour, linewidth=1.6,
                            label=rf"$\rho = {result['rho']:.2g}$")
        _decorate_lag_axes(ax, int(results[0]["lag"][-1]), _check_str("panel title", title))
    for ax in axes[:-1, 0]:
        ax.set_xlabel("")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=min(len(labels), 6), fontsize=8,
               frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / figsize[1]))
    return fig


def _lag_title(res: Mapping, input_scale: float) -> str:
    return (rf"$\rho = {res['rho']:.2f}$, $\sigma_{{\max}} = {res['sigma_max']:.2f}$, "
            f"input scale {input_scale:.2g}\nmean tanh slope {res['slope']:.2f}")


@functools.lru_cache(maxsize=256)
def _experiment(rho: float, input_scale: float, kind: str, T: int, seed: int) -> dict:
    """:func:`bptt.dynamics.lag_norm_experiment`, remembered: a slider's frames and the
    grey reference lines ask for the same experiments many times. Read-only."""
    return lag_norm_experiment(rho, input_scale, kind=kind, T=T, seed=seed)


def draw_lag_norms(rho: float, input_scale: float = 1.0, *, kind: str = "gaussian",
                   T: int = 100, seed: int = 0,
                   reference_radii: Sequence[float] = REFERENCE_RADII) -> Figure:
    r"""The widget callback: gradient norm against lag for one radius, over grey references.

    Parameters
    ----------
    rho : float
        Spectral radius of :math:`W_{hh}`, > 0.
    input_scale : float
        Input scale, > 0 (see :func:`bptt.dynamics.lag_norm_experiment`).
    kind : {"gaussian", "orthogonal"}
        How :math:`W_{hh}` is drawn.
    T : int
        Sequence length.
    seed : int
        Seed of the experiment (the same network, rescaled, for every radius).
    reference_radii : sequence of float
        Radii drawn as thin grey lines for comparison, at the same input scale.

    Returns
    -------
    Figure
        One axes: ``len(reference_radii)`` grey lines, the dashed bound
        :math:`\sigma_{\max}^\tau`, the dotted rate :math:`\rho^\tau`, then the
        line of ``lag_norm_experiment(rho, input_scale, kind=kind, T=T, seed=seed)``
        in colour, and a title with :math:`\rho`, :math:`\sigma_{\max}`, the
        input scale and the mean tanh slope.

    Notes
    -----
    The experiments are remembered (a bounded cache keyed by the arguments), so
    drawing many frames recomputes each reference radius only once.
    """
    rho = check_positive_float("rho", rho)
    input_scale = check_positive_float("input_scale", input_scale)
    T = check_positive_int("T", T)
    if kind not in ("gaussian", "orthogonal"):
        raise ValueError(f"kind must be 'gaussian' or 'orthogonal', got {kind!r}")
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__} {seed!r}")
    fig, ax = plt.subplots(figsize=(WIDTH, 3.6))
    for r in reference_radii:
        ref = _experiment(check_positive_float("reference radius", r), input_scale, kind, T,
                          int(seed))
        line = _draw_lag_curve(ax, ref, color="#bbbbbb", linewidth=1.0)
        ax.annotate(rf"$\rho={r:g}$", (T, max(ref["norm"][-1], LAG_YLIM[0])), fontsize=7,
                    color="#888888", xytext=(2, 0), textcoords="offset points", va="center")
        line.set_zorder(1)
    res = _experiment(rho, input_scale, kind, T, int(seed))
    lag = res["lag"].astype(float)
    ax.plot(lag, res["sigma_max"] ** lag, **CURVE_STYLES["bound"],
            label=r"bound $\sigma_{\max}^\tau$")
    ax.plot(lag, res["rho"] ** lag, **CURVE_STYLES["rate"], label=r"$\rho^\tau$")
    _draw_lag_curve(ax, res, color=_HIGHLIGHT, linewidth=2.2, label="measured")
    _decorate_lag_axes(ax, T, _lag_title(res, input_scale))
    ax.title.set_fontsize(9)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    return fig


def lag_norm_widget(*, rho: float = 1.0, input_scale: float = 1.0, kind: str = "gaussian",
                    T: int = 100, seed: int = 0):
    r"""Sliders for the spectral radius and the input scale, and the gradient norms they give.

    Parameters
    ----------
    rho : float
        Starting radius, in [0.3, 3].
    input_scale : float
        Starting input scale, in [0.01, 10] (a logarithmic slider).
    kind : {"gaussian", "orthogonal"}
        Starting choice of the recurrent matrix (a drop-down).
    T : int
        Sequence length.
    seed : int
        Seed of the experiment (see :func:`draw_lag_norms`).

    Returns
    -------
    ipywidgets.interactive
        ``rho`` (``FloatSlider``), ``input_scale`` (``FloatLogSlider``) and
        ``kind`` (``Dropdown``), and an output area showing
        :func:`draw_lag_norms`; ``.result`` holds the last Figure drawn.
    """
    import ipywidgets as widgets   # only needed here

    rho = check_positive_float("rho", rho)
    input_scale = check_positive_float("input_scale", input_scale)
    if not 0.3 <= rho <= 3.0:
        raise ValueError(f"rho must lie in the slider's range [0.3, 3], got {rho}")
    if not 0.01 <= input_scale <= 10.0:
        raise ValueError(f"input_scale must lie in the slider's range [0.01, 10], "
                         f"got {input_scale}")
    if kind not in ("gaussian", "orthogonal"):
        raise ValueError(f"kind must be 'gaussian' or 'orthogonal', got {kind!r}")
    T = check_positive_int("T", T)
    sliders = {
        "rho": widgets.FloatSlider(value=rho, min=0.3, max=3.0, step=0.05,
                                   description="ρ(W_hh)", continuous_update=False,
                                   style={"description_width": "initial"}),
        "input_scale": widgets.FloatLogSlider(value=input_scale, base=10, min=-2, max=1,
                                              step=0.1, description="input scale",
                                              continuous_update=False,
                                              style={"description_width": "initial"}),
        "kind": widgets.Dropdown(options=["gaussian", "orthogonal"], value=kind,
                                 description="W_hh", style={"description_width": "initial"}),
    }

    def update(rho, input_scale, kind):
        return draw_lag_norms(rho, input_scale, kind=kind, T=T, seed=seed)

    return widgets.interactive(update, **sliders)


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
        (``pcolormesh``) with the wall :func:`bptt.one_unit.one_unit_wall` dashed
        and the paths; (b) the loss along :math:`b = b_{\text{slice}}`, one line
        per T; (c) :math:`|\partial L/\partial w|` along it on a log axis, one
        line per T, and one dot per T at the exact value on the cliff.
    """
    T = check_positive_int("T", T)
    n = check_positive_int("n", n)
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
    w_wall = w[w * (1 - h0 ** 2) > 1]           # where h0 is an unstable fixed point
    ax.plot(w_wall, one_unit_wall(w_wall, h0=h0), color=CLIFF_COLOUR, linestyle="--",
            linewidth=1.6, label="cliff")
    ax.axhline(b_slice, color="#cccccc", linewidth=0.8, linestyle=":")
    for (label, path), colour in zip((paths or {}).items(), ("#e41a1c", "white")):
        path = check_array(f"paths[{label!r}]", np.asarray(path, dtype=float), ("n", "2"),
                           (None, 2))
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
        Ls, gw, _ = one_unit_loss(ws, b_slice, T=check_positive_int("slice_T", Ts), h0=h0,
                                  target=target)
        axes[1].plot(ws, Ls, color=colour, linewidth=1.4, label=f"T = {Ts}")
        axes[2].plot(ws, np.maximum(np.abs(gw), 1e-12), color=colour, linewidth=1.2,
                     label=f"T = {Ts}")
    w_c = (np.arctanh(h0) - b_slice) / h0      # where the slice crosses the cliff
    # On the cliff itself the gradient is exact but no grid point lands there: mark it.
    for Ts, colour in zip(slice_T, colours):
        g_c = one_unit_loss(w_c, b_slice, T=Ts, h0=h0, target=target)[1]
        axes[2].plot(w_c, abs(float(g_c)), "o", color=colour, markersize=5,
                     markeredgecolor="black", markeredgewidth=0.5)
    for a in axes[1:]:
        a.axvline(w_c, color=CLIFF_COLOUR, linestyle="--", linewidth=1.0)
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
