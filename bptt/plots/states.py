r"""Figures of the chapter "The forward pass": hidden-state trajectories.

The hidden states :math:`h_0, \dots, h_T` of one sequence are ``h[:, b, :]``,
an array ``(T+1, H)``: one curve per hidden unit against the step ``t``.
How those curves behave once the input stops depends on the spectral
radius :math:`\rho(W_{hh})`: they die out (:math:`\rho < 1`), linger
(:math:`\rho \approx 1`) or, above 1, settle at a fixed point away from 0,
on a cycle, or never settle (chaos), depending on the network's size and draw
(:mod:`bptt.lyapunov` measures which).

Drawing only: the states come from :func:`bptt.rnn.rnn_forward` and the
rescaled recurrent matrices from :func:`bptt.spectral.with_spectral_radius`.
Where the state goes in the long run is drawn by :mod:`bptt.plots.regimes`.

* :func:`plot_hidden_trajectories`: the curves of one sequence.
* :func:`plot_trajectories_by_radius`: one panel per spectral radius.
* :func:`plot_state_norms`: :math:`\|h_t\|_2` against t on a log scale, one curve per radius.
* :func:`draw_trajectories`: the widget callback (rescale, run, draw).
* :func:`trajectory_widget`: sliders for the radius and the input scale.
"""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..rnn import rnn_forward
from ..spectral import with_spectral_radius
from ..validate import check_array, check_axes, check_positive_float

__all__ = ["plot_hidden_trajectories", "plot_trajectories_by_radius", "plot_state_norms",
           "draw_trajectories", "trajectory_widget"]

_YLIM = (-1.1, 1.1)                 # tanh states live in [-1, 1]
_SHADE_COLOUR = "#999999"
_SAT_STYLE = dict(color="#555555", linestyle=":", linewidth=1.0)


def _check_radii(radii, n: int) -> list[float]:
    """One radius per panel or curve: ``zip`` would otherwise drop the extra ones silently."""
    radii = list(radii)
    if len(radii) != n:
        raise ValueError(f"radii must have one entry per array, {n}, got {len(radii)}")
    return radii


def _new_axes(ax, figsize=None):
    if check_axes(ax) is None:
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
    h = check_array("h", h, ("T+1", "B", "H"))
    fig, ax = _new_axes(ax)
    steps = np.arange(h.shape[0])
    for i in range(h.shape[2]):
        ax.plot(steps, h[:, batch_index, i], linewidth=1.4, label=f"unit {i + 1}")
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
    radii = _check_radii(radii, len(hs))
    n = len(hs)
    ncols = n if ncols is None else min(ncols, n)
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
    norms = check_array("norms", norms, ("R", "T+1"))
    radii = _check_radii(radii, norms.shape[0])
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


# --------------------------------------------------------------------------
# Interactive: a widget for a live kernel
# --------------------------------------------------------------------------

def _run(params: dict, x: np.ndarray, rho: float, input_scale: float, h0) -> np.ndarray:
    """The states of the network whose ``W_hh`` has radius ``rho``, on ``input_scale * x``."""
    new = with_spectral_radius(params, rho)
    _, h = rnn_forward(new, x * x.dtype.type(input_scale), h0)
    return h


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
    h = _run(params, x, rho, check_positive_float("input_scale", input_scale), h0)
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

    sliders = {}
    for name, value, (lo, hi), step in (("rho", rho, rho_range, 0.05),
                                        ("input_scale", input_scale, input_range, 0.1)):
        if not 0 < lo <= value <= hi:
            raise ValueError(f"{name} must lie in its slider's range [{lo}, {hi}] with "
                             f"0 < {lo}, got {value}")
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
