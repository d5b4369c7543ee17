r"""Figures and widgets of the chapter "Deriving backpropagation through time".

* :func:`draw_backward_step`: the gradients that meet at one step of the
  unrolled graph, :math:`\bar h_t = W_{hy}^\top \partial L/\partial y_t + W_{hh}^\top \delta_{t+1}`
  and :math:`\delta_t = (1 - h_t \odot h_t) \odot \bar h_t`, drawn on the graph.
* :func:`plot_rel_errors`: the relative error of several candidate gradients
  against finite differences, on a log scale, with the tolerance.
* :func:`plot_hbar_norms`: how the norm of the total derivative
  :math:`\bar h_t = \partial L/\partial h_t` changes going back in time, one
  line per spectral radius of :math:`W_{hh}`.
* :func:`draw_hbar_norms` (the widget's callback) and :func:`hbar_norms_widget`:
  the same for one radius and one length, interactively.
* :func:`truncation_reach`, :func:`plot_truncation_reach`,
  :func:`draw_truncation_reach` (the widget's callback) and
  :func:`truncation_reach_widget`: which steps the loss of each step sends
  gradient to under truncated BPTT, ``rnn_backward(..., truncate=k)``, the
  scheme BPTT(k; k) of Williams and Peng (chapter "Checking BPTT").

The curves are computed by :func:`bptt.dynamics.lag_norm_experiment`, which
carries a loss at the last step back with
:func:`bptt.dynamics.gradient_norm_by_lag` (the recursion of
:func:`bptt.rnn.rnn_backward` with no loss before step T). The reach of
truncated BPTT is measured with :func:`bptt.rnn.rnn_backward` itself. Nothing
here computes a derivative of its own: the functions only draw (and divide each
curve by its first value).
"""
from __future__ import annotations

from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, Rectangle

from ..dynamics import lag_norm_experiment
from ..rnn import init_rnn, rnn_backward, rnn_forward
from ..validate import check_array, check_positive_float, check_positive_int

__all__ = ["DEFAULT_RADII", "INPUT_SCALE", "NORM_YLIM", "draw_backward_step",
           "plot_rel_errors", "plot_hbar_norms", "draw_hbar_norms", "hbar_norms_widget",
           "truncation_reach", "plot_truncation_reach",
           "draw_truncation_reach", "truncation_reach_widget"]

# Colours: forward computation in grey, gradients flowing back in red, the
# tanh derivative (a local factor) in blue.
_FWD, _BACK, _LOCAL = "0.55", "tab:red", "tab:blue"


def _check_ax(ax) -> Axes:
    """Check that ``ax`` is a matplotlib Axes or None, and return it."""
    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def _new_axes(ax, figsize) -> tuple[Figure, Axes]:
    """The figure and axes to draw on: ``ax``'s own, or a new figure of ``figsize``."""
    if _check_ax(ax) is None:
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
                        f"got {type(errors).__name__} {errors!r}")
    names = list(errors)
    values = np.array([errors[n] for n in names], dtype=float)
    if not all(isinstance(n, str) for n in names):
        raise TypeError(f"errors must have str keys, got {names}")
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


# --- the norm of dL/dh_t going back in time ------------------------------------------

#: Spectral radii of ``W_hh`` compared in the chapter's figure: two below 1, two above.
DEFAULT_RADII = (0.5, 0.9, 1.5, 3.0)
#: Input scale of the chapter's experiments (``input_scale`` of
#: :func:`bptt.dynamics.lag_norm_experiment`): inputs of moderate size, so that
#: the tanh works neither in its linear range nor deep in saturation.
INPUT_SCALE = 0.5
#: Fixed y-limits of the widget and its frames, so that moving the slider
#: moves the curve rather than the axis.
NORM_YLIM = (1e-30, 1e12)


def _sci(value: float) -> str:
    r"""``value`` as mathtext with two significant digits, e.g. ``1.9 \times 10^{-8}``."""
    mantissa, exponent = f"{value:.1e}".split("e")
    return rf"{mantissa} \times 10^{{{int(exponent)}}}"


def _decade_ticks(ylim: tuple[float, float]) -> np.ndarray:
    """Powers of ten within ``ylim``, every k-th decade so that there are at most 8 ticks."""
    lo, hi = np.log10(ylim[0]), np.log10(ylim[1])
    step = max(1, int(np.ceil((np.floor(hi) - np.ceil(lo) + 1) / 8)))
    # Multiples of step, so that 10^0 = 1 is a tick whenever it is in range.
    return 10.0 ** (step * np.arange(np.ceil(lo / step), np.floor(hi / step) + 1))


def _check_norms(name: str, norms) -> np.ndarray:
    """Check a 1-D float array of at least 2 positive norms (lag 0..T) and return it."""
    norms = check_array(name, norms, ("T+1",))
    if norms.shape[0] < 2:
        raise ValueError(f"{name} must have at least 2 entries (lags 0..T with T >= 1), "
                         f"got shape {norms.shape}")
    if np.any(norms <= 0):
        raise ValueError(f"{name} must be > 0 everywhere (a log scale cannot show 0), "
                         f"got a minimum of {norms.min()}")
    return norms


def plot_hbar_norms(norms: Mapping[float, np.ndarray], ax: Axes | None = None,
                    ylim: tuple[float, float] | None = None, title: str | None = None) -> Figure:
    r"""Plot :math:`\|\bar h_{T-\tau}\| / \|\bar h_T\|` against the lag :math:`\tau = T - t`.

    Parameters
    ----------
    norms : mapping of float to ndarray of shape (T+1,)
        Spectral radius of ``W_hh`` and the norms of the total derivative
        :math:`\bar h_t = \partial L/\partial h_t` indexed by the *lag*, how
        many steps back from the loss: ``norms[tau]`` is
        :math:`\|\bar h_{T-\tau}\|`, so ``norms[0]`` belongs to :math:`h_T`
        (for example ``lag_norm_experiment(...)["norm"]`` of
        :mod:`bptt.dynamics`). The curves may have different T.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.
    ylim : (float, float), optional
        Limits of the (log) y axis; automatic when omitted.
    title : str, optional
        The axes title; a default one when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        One line per radius, in the order given: x is the lag (0 at the loss,
        T at :math:`h_0`), y is ``norms / norms[0]``, on a log scale. Radii
        below 1 are drawn in blues, the others in reds.
    """
    if not isinstance(norms, Mapping) or not norms:
        raise TypeError(f"norms must be a non-empty dict of radius to norms, "
                        f"got {type(norms).__name__}")
    fig, ax = _new_axes(ax, None)
    blues, reds = plt.get_cmap("Blues"), plt.get_cmap("Reds")
    radii = [check_positive_float("radius (a key of norms)", r) for r in norms]
    n_in = max(1, sum(r < 1 for r in radii))
    n_out = max(1, sum(r >= 1 for r in radii))
    i_in = i_out = 0
    for r, key in zip(radii, norms):
        values = _check_norms(f"norms[{key!r}]", norms[key])
        if r < 1:
            colour, i_in = blues(0.45 + 0.5 * i_in / n_in), i_in + 1
        else:
            colour, i_out = reds(0.45 + 0.5 * i_out / n_out), i_out + 1
        ax.plot(np.arange(values.shape[0]), values / values[0], color=colour, lw=1.8,
                label=rf"$\rho(W_{{hh}}) = {r:g}$")
    ax.set_yscale("log")
    if ylim is not None:
        ax.set_ylim(*ylim)
    limits = ax.get_ylim()
    ax.set_yticks(_decade_ticks(limits))   # powers of ten, 1 among them
    ax.set_ylim(*limits)
    ax.axhline(1.0, color="0.4", lw=0.8, ls=":")
    ax.set_xlabel(r"steps back from the loss, $T - t$")
    ax.set_ylabel(r"$\|\bar h_t\| \,/\, \|\bar h_T\|$")
    ax.set_title(title if title is not None else
                 r"Norm of $\bar h_t = \partial L/\partial h_t$ going back in time")
    ax.legend(loc="best", fontsize=9)
    return fig


def draw_hbar_norms(radius: float = 0.9, T: int = 50, *, input_scale: float = INPUT_SCALE,
                    **experiment) -> Figure:
    r"""The widget's callback: the curve of :func:`plot_hbar_norms` for one radius and length.

    Parameters
    ----------
    radius : float
        Spectral radius of ``W_hh``, > 0.
    T : int
        Sequence length.
    input_scale : float
        Size of the inputs, see :func:`bptt.dynamics.lag_norm_experiment`.
    **experiment
        Passed to :func:`bptt.dynamics.lag_norm_experiment` (``B``, ``H``,
        ``D``, ``kind``, ``seed``).

    Returns
    -------
    matplotlib.figure.Figure
        The curve ``lag_norm_experiment(radius, input_scale, T=T, ...)["norm"]``,
        normalised, on the fixed y-limits :data:`NORM_YLIM`, with the title
        giving :math:`\|\bar h_0\| / \|\bar h_T\|`.
    """
    norms = lag_norm_experiment(radius, input_scale, T=T, **experiment)["norm"]
    ratio = norms[-1] / norms[0]
    return plot_hbar_norms({radius: norms}, ylim=NORM_YLIM,
                           title=rf"$\rho = {radius:g}$, $T = {T}$: "
                                 rf"$\|\bar h_0\|/\|\bar h_T\| = {_sci(ratio)}$")


def hbar_norms_widget(radius_range=(0.1, 3.0, 0.1), T_range=(5, 100, 5), *,
                      input_scale: float = INPUT_SCALE, **experiment):
    r"""Sliders over the spectral radius and the length, redrawing :func:`draw_hbar_norms`.

    Parameters
    ----------
    radius_range : (float, float, float)
        ``(min, max, step)`` of the radius slider.
    T_range : (int, int, int)
        ``(min, max, step)`` of the length slider.
    input_scale : float
        Size of the inputs, see :func:`bptt.dynamics.lag_norm_experiment`.
    **experiment
        Passed to :func:`bptt.dynamics.lag_norm_experiment`.

    Returns
    -------
    ipywidgets.interactive
        Starts at radius 0.9 (clipped into range) and the middle of ``T_range``.
    """
    import ipywidgets as widgets

    r_min, r_max, r_step = (check_positive_float(f"radius_range[{i}]", v)
                            for i, v in enumerate(radius_range))
    t_min, t_max, t_step = (check_positive_int(f"T_range[{i}]", v)
                            for i, v in enumerate(T_range))
    if r_min > r_max or t_min > t_max:
        raise ValueError(f"ranges must have min <= max, got radius_range={radius_range}, "
                         f"T_range={T_range}")

    def show(radius, T):
        fig = draw_hbar_norms(radius, T, input_scale=input_scale, **experiment)
        plt.show()
        return fig

    radius = widgets.FloatSlider(value=min(max(0.9, r_min), r_max), min=r_min, max=r_max,
                                 step=r_step, description="radius", continuous_update=False)
    T = widgets.IntSlider(value=t_min + (t_max - t_min) // (2 * t_step) * t_step, min=t_min,
                          max=t_max, step=t_step, description="T", continuous_update=False)
    return widgets.interactive(show, radius=radius, T=T)


# --- the reach of truncated BPTT ---------------------------------------------------------


def truncation_reach(T: int, k: int | None, *, seed: int = 0) -> np.ndarray:
    r"""Which steps the loss of each step sends gradient to, measured with ``rnn_backward``.

    A small random RNN (``D = 2``, ``H = 3``, ``O = 2``, one sequence) is run
    for ``T`` steps. For each step t, a loss at step t alone (``dy`` nonzero at
    index ``t-1`` only) is carried back by
    ``rnn_backward(..., truncate=k)``, and the steps s whose input gets a
    nonzero gradient :math:`\partial L_t / \partial x_s` are recorded: they
    are the steps whose copy :math:`\theta^{(s)}` of the parameters the loss
    at step t reaches. A detached state passes exactly zero back, so the
    answer is exact, not a threshold.

    Parameters
    ----------
    T : int
        Number of steps.
    k : int or None
        ``truncate`` of :func:`bptt.rnn.rnn_backward`; ``None`` is full BPTT.
    seed : int
        Seed of the weights, inputs and output gradients.

    Returns
    -------
    ndarray of bool, shape (T, T)
        ``reach[t-1, s-1]`` is true when the loss at step t sends gradient to
        step s. Full BPTT gives the lower triangle :math:`s \le t`; with
        ``truncate=k``, BPTT(k; k), the loss at step t reaches back to the
        first step of its chunk only, :math:`((t-1) \bmod k) + 1` steps.
    """
    T = check_positive_int("T", T)
    k = check_positive_int("k", k, allow_none=True)
    rng = np.random.default_rng(seed)
    params = init_rnn(2, 3, 2, seed=seed)
    x = rng.standard_normal((T, 1, 2))
    _, h = rnn_forward(params, x)
    reach = np.zeros((T, T), dtype=bool)
    for t in range(1, T + 1):
        dy = np.zeros((T, 1, 2))
        dy[t - 1] = rng.standard_normal((1, 2))      # a loss at step t only
        dx = rnn_backward(params, x, h, dy, truncate=k)["x"]   # (T, 1, D)
        reach[t - 1] = np.any(dx[:, 0] != 0, axis=-1)
    return reach


def _check_reach(reach) -> np.ndarray:
    """Check a square boolean array of at least one step and return it."""
    if not isinstance(reach, np.ndarray) or reach.dtype != bool:
        raise TypeError(f"reach must be a boolean numpy array of shape (T, T), "
                        f"got {type(reach).__name__}"
                        + (f" of dtype {reach.dtype}" if isinstance(reach, np.ndarray) else ""))
    if reach.ndim != 2 or reach.shape[0] != reach.shape[1] or reach.shape[0] < 1:
        raise ValueError(f"reach must have shape (T, T) with T >= 1, got {reach.shape}")
    return reach


def plot_truncation_reach(reach: np.ndarray, k: int | None = None,
                          ax: Axes | None = None) -> Figure:
    r"""A grid: row t is the loss at step t, column s the step it sends gradient to.

    Parameters
    ----------
    reach : ndarray of bool, shape (T, T)
        ``reach[t-1, s-1]``: the loss at step t reaches step s (for example
        :func:`truncation_reach`).
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
    reach = _check_reach(reach)
    T = reach.shape[0]
    if k is not None:
        k = check_positive_int("k", k)
    fig, ax = _new_axes(ax, (5.0, 5.0))

    for t in range(1, T + 1):
        for s in range(1, T + 1):
            if reach[t - 1, s - 1]:
                colour, gid = _BACK, "reached"
            elif s <= t:
                colour, gid = "0.86", "dropped"
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
    ax.legend(handles=[Rectangle((0, 0), 1, 1, fc=_BACK, label="gets gradient"),
                       Rectangle((0, 0), 1, 1, fc="0.86", label="cut off by truncation")],
              # in the empty corner above the diagonal, clear of the counts
              loc="upper right", bbox_to_anchor=(T + 0.5, -0.6),
              bbox_transform=ax.transData, fontsize=8, framealpha=1.0)
    return fig


def draw_truncation_reach(k: int, T: int = 12, *, seed: int = 0) -> Figure:
    r"""The widget's callback: :func:`plot_truncation_reach` of :func:`truncation_reach`.

    Parameters
    ----------
    k : int
        ``truncate`` of :func:`bptt.rnn.rnn_backward` (``k >= T`` is full BPTT).
    T : int
        Number of steps.
    seed : int
        Passed to :func:`truncation_reach`.

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
        Passed to :func:`truncation_reach`.

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
