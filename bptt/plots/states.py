r"""Figures of the chapter "The forward pass": hidden-state trajectories.

The hidden states :math:`h_0, \dots, h_T` of one sequence are ``h[:, b, :]``,
an array ``(T+1, H)``: one curve per hidden unit against the step ``t``.
How those curves behave once the input stops depends on the spectral
radius :math:`\rho(W_{hh})`: they die out (:math:`\rho < 1`), linger
(:math:`\rho \approx 1`) or, above 1, settle at a fixed point away from 0,
on a cycle, or never settle (chaos), depending on the network's size and draw
(:mod:`bptt.lyapunov` measures which).

Drawing only: the states come from :func:`bptt.rnn.rnn_forward`, the
rescaled recurrent matrices from :func:`bptt.spectral.with_spectral_radius`
and the long-run regimes from :func:`bptt.lyapunov.regimes_by_radius`.

* :func:`plot_hidden_trajectories`: the curves of one sequence.
* :func:`plot_trajectories_by_radius`: one panel per spectral radius.
* :func:`plot_state_norms`: :math:`\|h_t\|_2` against t on a log scale, one curve per radius.
* :func:`plot_long_run_regimes`: where the state goes with no input, and its
  largest Lyapunov exponent, against the radius, for several sizes and seeds
  (the results of :func:`bptt.lyapunov.regimes_by_radius`).
* :func:`draw_trajectories`: the widget callback (rescale, run, draw).
* :func:`trajectory_widget`: sliders for the radius and the input scale.
"""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..rnn import rnn_forward
from ..spectral import with_spectral_radius
from ..rnn import check_rnn_params
from ..validate import check_array, check_positive_float, check_positive_int

__all__ = ["plot_hidden_trajectories", "plot_trajectories_by_radius", "plot_state_norms",
           "plot_long_run_regimes",
           "draw_trajectories", "trajectory_widget"]

_YLIM = (-1.1, 1.1)                 # tanh states live in [-1, 1]
_SHADE_COLOUR = "#999999"
_SAT_STYLE = dict(color="#555555", linestyle=":", linewidth=1.0)


# --------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------

def _check_ax(ax) -> None:
    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")


def _check_index(name: str, value, size: int, letter: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if not 0 <= value < size:
        raise ValueError(f"{name} must be in [0, {letter}) = [0, {size}), got {value}")
    return int(value)


def _check_shade(shade):
    """``None`` or a pair ``(t_start, t_end)`` of finite numbers with ``t_start <= t_end``."""
    if shade is None:
        return None
    if not isinstance(shade, (tuple, list)) or len(shade) != 2:
        raise TypeError(f"shade must be None or a pair (t_start, t_end), got {shade!r}")
    for v in shade:
        is_number = isinstance(v, (int, float, np.integer, np.floating)) \
            and not isinstance(v, (bool, np.bool_))
        if not is_number or not np.isfinite(v):
            raise TypeError(f"shade must hold two finite numbers, got {shade!r}")
    if shade[0] > shade[1]:
        raise ValueError(f"shade must have t_start <= t_end, got {tuple(shade)}")
    return float(shade[0]), float(shade[1])


def _check_title(title):
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None, got {type(title).__name__}")
    return title


def _check_radii(radii, n: int | None = None) -> list[float]:
    if isinstance(radii, (str, bytes)) or not isinstance(radii, (Sequence, np.ndarray)):
        raise TypeError(f"radii must be a sequence of positive numbers, got {type(radii).__name__}")
    out = [check_positive_float(f"radii[{i}]", r) for i, r in enumerate(radii)]
    if not out:
        raise ValueError("radii must hold at least one spectral radius, got none")
    if n is not None and len(out) != n:
        raise ValueError(f"radii must have one entry per array, {n}, got {len(out)}")
    return out


def _new_axes(ax, figsize=None):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    return ax.figure, ax


def _decorate(ax: Axes, T: int, shade, title) -> None:
    """Saturation lines, the shaded input window, limits, labels and title."""
    for level in (-1.0, 1.0):
        ax.axhline(level, **_SAT_STYLE)
    if shade is not None:
        ax.axvspan(shade[0], shade[1], color=_SHADE_COLOUR, alpha=0.2, linewidth=0)
    ax.set_xlim(0, T)
    ax.set_ylim(*_YLIM)
    ax.set_xlabel("step $t$")
    if title is not None:
        ax.set_title(title)


# --------------------------------------------------------------------------
# Static figures
# --------------------------------------------------------------------------

def plot_hidden_trajectories(h: np.ndarray, *, ax: Axes | None = None, batch_index: int = 0,
                             title: str | None = None, shade=None) -> Figure:
    r"""Draw the hidden state of one sequence against time, one line per hidden unit.

    Parameters
    ----------
    h : ndarray, shape (T+1, B, H)
        Hidden states as returned by :func:`bptt.rnn.rnn_forward`, ``h[0] = h0``.
    ax : matplotlib Axes, optional
        Where to draw; a new figure is made when ``None``.
    batch_index : int
        Which sequence ``b`` of the batch to draw, in ``[0, B)``.
    title : str, optional
        Axes title.
    shade : (float, float), optional
        A window of steps to shade, e.g. where the input is on.

    Returns
    -------
    Figure
        The figure holding ``ax``. The axes get H lines, line ``i`` being
        ``(t, h[t, batch_index, i])`` for ``t = 0..T``, dotted lines at
        :math:`\pm 1` (where tanh saturates) and the y-label :math:`h_t`.
    """
    _check_ax(ax)
    h = check_array("h", h, ("T+1", "B", "H"))
    b = _check_index("batch_index", batch_index, h.shape[1], "B")
    shade = _check_shade(shade)
    title = _check_title(title)
    fig, ax = _new_axes(ax)
    steps = np.arange(h.shape[0])
    for i in range(h.shape[2]):
        ax.plot(steps, h[:, b, i], linewidth=1.4, label=f"unit {i + 1}")
    _decorate(ax, h.shape[0] - 1, shade, title)
    ax.set_ylabel("$h_t$ (one line per unit)")
    return fig


def plot_trajectories_by_radius(hs: Sequence[np.ndarray], radii: Sequence[float], *,
                                batch_index: int = 0, shade=None, ncols: int | None = None,
                                figsize: tuple[float, float] | None = None) -> Figure:
    r"""One panel of hidden-state trajectories per spectral radius of :math:`W_{hh}`.

    Parameters
    ----------
    hs : sequence of ndarray, each of shape (T+1, B, H)
        The hidden states of the same inputs run through networks that differ
        only in the spectral radius of ``W_hh`` (see
        :func:`bptt.spectral.with_spectral_radius`); one panel each.
    radii : sequence of float
        The spectral radius of each network, > 0, ``len(radii) == len(hs)``.
    batch_index : int
        Which sequence of the batch to draw.
    shade : (float, float), optional
        A window of steps to shade in every panel (where the input is on).
    ncols : int, optional
        Panels per row; by default all in one row. ``ncols=1`` stacks them,
        which keeps the text legible when the figure is shown on a phone.
    figsize : (float, float), optional
        Figure size in inches; by default 2.8 inches wide per column and 2.9
        inches tall for one row (5.0 wide and 2.1 tall per panel when stacked).

    Returns
    -------
    Figure
        With ``len(hs)`` axes in rows of ``ncols``, sharing both axes, panel k
        drawn by :func:`plot_hidden_trajectories` from ``hs[k]`` and titled
        with :math:`\rho(W_{hh})`; only the first column keeps its y-label and
        only the bottom panel of each column its x-label.
    """
    if isinstance(hs, np.ndarray) or not isinstance(hs, Sequence):
        raise TypeError(f"hs must be a list of hidden-state arrays (T+1, B, H), "
                        f"got {type(hs).__name__}")
    radii = _check_radii(radii, len(hs))
    n = len(hs)
    ncols = n if ncols is None else min(check_positive_int("ncols", ncols), n)
    nrows = -(-n // ncols)
    if figsize is None:
        figsize = (2.8 * ncols, 2.9) if nrows == 1 else (max(2.8 * ncols, 5.0), 2.1 * nrows)
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, sharex=True, sharey=True,
                             squeeze=False)
    for k, (h, rho) in enumerate(zip(hs, radii)):
        row, col = divmod(k, ncols)
        ax = axes[row, col]
        plot_hidden_trajectories(h, ax=ax, batch_index=batch_index, shade=shade,
                                 title=rf"$\rho(W_{{hh}}) = {rho:g}$")
        if col > 0:
            ax.set_ylabel("")
        if k + ncols < n:                 # another panel below this one
            ax.set_xlabel("")
    for k in range(n, nrows * ncols):     # an incomplete last row
        axes.flat[k].set_visible(False)
    fig.tight_layout()
    return fig


def plot_state_norms(norms: np.ndarray, radii: Sequence[float], *, ax: Axes | None = None,
                     shade=None) -> Figure:
    r"""The size of the hidden state, :math:`\|h_t\|_2`, against t on a log scale.

    Parameters
    ----------
    norms : ndarray, shape (R, T+1)
        ``norms[k, t]`` is :math:`\|h_t\|_2` for the network with spectral
        radius ``radii[k]``, e.g. ``np.linalg.norm(h[:, b], axis=-1)``. Must be
        >= 0. Step 0 (often ``h_0 = 0``) is not drawn: the log of 0 is undefined.
    radii : sequence of float, length R
        The spectral radii, > 0, used for the legend and the colours.
    ax : matplotlib Axes, optional
        Where to draw; a new figure is made when ``None``.
    shade : (float, float), optional
        A window of steps to shade (where the input is on).

    Returns
    -------
    Figure
        R lines, line k being ``(t, norms[k, t])`` for ``t = 1..T``, coloured
        from small (dark) to large (light) radius, with a log y axis.
    """
    _check_ax(ax)
    norms = check_array("norms", norms, ("R", "T+1"))
    if np.any(norms < 0):
        raise ValueError(f"norms must be >= 0, got a minimum of {norms.min()}")
    radii = _check_radii(radii, norms.shape[0])
    shade = _check_shade(shade)
    fig, ax = _new_axes(ax)
    T = norms.shape[1] - 1
    steps = np.arange(1, T + 1)
    colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, len(radii)))
    if shade is not None:
        ax.axvspan(shade[0], shade[1], color=_SHADE_COLOUR, alpha=0.2, linewidth=0)
    for k, rho in enumerate(radii):
        ax.plot(steps, norms[k, 1:], color=colours[k], linewidth=1.6,
                label=rf"$\rho = {rho:g}$")
    ax.set_yscale("log")
    ax.set_xlim(0, T)
    ax.set_xlabel("step $t$")
    ax.set_ylabel(r"$\|h_t\|_2$")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9)
    ax.set_title("size of the hidden state")
    return fig


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
    """The arrays of a :func:`bptt.lyapunov.regimes_by_radius` result, checked."""
    if not isinstance(sweep, dict):
        raise TypeError(f"sweep must be the dict returned by bptt.lyapunov.regimes_by_radius, "
                        f"got {type(sweep).__name__}")
    missing = [key for key in _SWEEP_KEYS if key not in sweep]
    if missing:
        raise ValueError(f"sweep lacks {missing}: pass the dict returned by "
                         f"bptt.lyapunov.regimes_by_radius")
    sizes = [check_positive_int(f"sizes[{i}]", int(H)) for i, H in enumerate(sweep["sizes"])]
    radii = _check_radii(list(sweep["radii"]))
    if len(sizes) > len(_SIZE_COLOURS):
        raise ValueError(f"sweep must hold at most {len(_SIZE_COLOURS)} sizes, got {len(sizes)}")
    shape = (len(sizes), len(radii))
    regime = np.asarray(sweep["regime"])
    if regime.ndim != 4 or regime.shape[:2] != shape:
        raise ValueError(f"sweep['regime'] must have shape (sizes, radii, seeds, starts) = "
                         f"({shape[0]}, {shape[1]}, ?, ?), got {regime.shape}")
    unknown = sorted(set(regime.ravel().tolist()) - set(_REGIME_STYLE))
    if unknown:
        raise ValueError(f"sweep['regime'] holds unknown regimes {unknown}; expected some of "
                         f"{list(_REGIME_STYLE)}")
    exponent = check_array("sweep['exponent']", sweep["exponent"],
                           ("sizes", "radii", "seeds", "starts"), regime.shape)
    mean_abs = check_array("sweep['mean_abs_h']", sweep["mean_abs_h"],
                           ("sizes", "radii", "seeds", "starts"), regime.shape)
    return sizes, radii, regime, exponent, mean_abs


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


# --------------------------------------------------------------------------
# Interactive: a widget for a live kernel
# --------------------------------------------------------------------------

def _run(params: dict, x: np.ndarray, rho: float, input_scale: float, h0) -> np.ndarray:
    """The states of the network whose ``W_hh`` has radius ``rho``, on ``input_scale * x``."""
    new = with_spectral_radius(params, rho)
    _, h = rnn_forward(new, x * x.dtype.type(input_scale), h0)
    return h


def _check_inputs(params: dict, x):
    D, _, _ = check_rnn_params(params)
    return check_array("x", x, ("T", "B", "D"), (None, None, D), params["W_hh"].dtype)


def _title(rho: float, input_scale: float) -> str:
    return rf"$\rho(W_{{hh}}) = {rho:.2f}$, input scale {input_scale:.2g}"


def draw_trajectories(params: dict, x: np.ndarray, rho: float, input_scale: float = 1.0, *,
                      h0: np.ndarray | None = None, batch_index: int = 0,
                      shade=None, figsize: tuple[float, float] | None = None) -> Figure:
    r"""The widget callback: rescale :math:`W_{hh}` to radius ``rho``, run, draw the states.

    Parameters
    ----------
    params : dict
        RNN parameters (see :func:`bptt.rnn.init_rnn`); ``W_hh`` must have a
        spectral radius > 0. Not modified.
    x : ndarray, shape (T, B, D)
        Inputs, multiplied by ``input_scale`` before the run.
    rho : float
        Spectral radius given to ``W_hh``, > 0.
    input_scale : float
        Factor applied to every input, > 0.
    h0 : ndarray, shape (B, H), optional
        Initial hidden state; zeros when ``None``.
    batch_index : int
        Which sequence to draw.
    shade : (float, float), optional
        A window of steps to shade (where the input is on).
    figsize : (float, float), optional
        Figure size in inches; by default ``rcParams["figure.figsize"]``.

    Returns
    -------
    Figure
        :func:`plot_hidden_trajectories` of the states
        ``rnn_forward(with_spectral_radius(params, rho), input_scale * x, h0)[1]``,
        titled with ``rho`` and ``input_scale``.
    """
    x = _check_inputs(params, x)
    rho = check_positive_float("rho", rho)
    input_scale = check_positive_float("input_scale", input_scale)
    h = _run(params, x, rho, input_scale, h0)
    _, ax = plt.subplots(figsize=figsize)
    fig = plot_hidden_trajectories(h, ax=ax, batch_index=batch_index, shade=shade,
                                   title=_title(rho, input_scale))
    fig.tight_layout()
    return fig


def trajectory_widget(params: dict, x: np.ndarray, *, rho: float = 1.0,
                      input_scale: float = 1.0, rho_range: tuple[float, float] = (0.1, 3.0),
                      input_range: tuple[float, float] = (0.1, 5.0),
                      h0: np.ndarray | None = None, shade=None):
    r"""Sliders for :math:`\rho(W_{hh})` and the input scale, and the hidden states they give.

    Parameters
    ----------
    params : dict
        RNN parameters; ``W_hh`` must have a spectral radius > 0.
    x : ndarray, shape (T, B, D)
        Inputs (the first sequence of the batch is drawn).
    rho, input_scale : float
        Starting values of the two sliders, > 0 and inside their ranges.
    rho_range, input_range : (float, float)
        ``(min, max)`` of each slider, 0 < min < max.
    h0 : ndarray, shape (B, H), optional
        Initial hidden state; zeros when ``None``.
    shade : (float, float), optional
        A window of steps to shade (where the input is on).

    Returns
    -------
    ipywidgets.interactive
        Two ``FloatSlider`` s (``rho``, ``input_scale``) and an output area
        that shows :func:`draw_trajectories` for their values; ``.result``
        holds the last Figure drawn. Needs a live kernel to redraw.
    """
    import ipywidgets as widgets   # only needed here: the rest of the module works without it

    x = _check_inputs(params, x)
    shade = _check_shade(shade)
    sliders = {}
    for name, value, bounds, step in (("rho", rho, rho_range, 0.05),
                                      ("input_scale", input_scale, input_range, 0.1)):
        value = check_positive_float(name, value)
        if not isinstance(bounds, (tuple, list)) or len(bounds) != 2:
            raise TypeError(f"{name} range must be a pair (min, max), got {bounds!r}")
        lo = check_positive_float(f"{name} range min", bounds[0])
        hi = check_positive_float(f"{name} range max", bounds[1])
        if not lo < hi:
            raise ValueError(f"{name} range must have min < max, got {tuple(bounds)}")
        if not lo <= value <= hi:
            raise ValueError(f"{name} must lie in its range [{lo}, {hi}], got {value}")
        # Plain-text labels: a saved widget is shown without MathJax in static pages.
        label = "ρ(W_hh)" if name == "rho" else "input scale"
        sliders[name] = widgets.FloatSlider(value=value, min=lo, max=hi, step=step,
                                            description=label, continuous_update=False,
                                            readout_format=".2f",
                                            style={"description_width": "initial"})

    def update(rho, input_scale):
        # The figure is shown by the inline backend inside the widget's output
        # area; returning it also keeps it in ``.result`` for tests.
        return draw_trajectories(params, x, rho, input_scale, h0=h0, shade=shade)

    return widgets.interactive(update, **sliders)
