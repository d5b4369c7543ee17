r"""Figures of the chapter "Truncated BPTT on streams" (drawing only).

The numbers come from the core: :func:`bptt.tbptt.update_windows` (which
states each update goes back through), :mod:`bptt.truncation_bias` (how far a
truncated gradient is from the full one) and :mod:`bptt.truncation_cost`
(memory and backward steps).

* :func:`plot_scheme_paths`: the chain of states, one row per backward pass, for
  full BPTT, BPTT(k; k) and BPTT(k2; k1): the gradient paths each keeps.
* :func:`plot_bias_curves`: cosine and relative error against k, per spectral radius.
* :func:`draw_bias_explorer`, :func:`bias_explorer_widget`: the (k, rho) explorer.
* :func:`plot_stream_costs`: measured peak memory against T, backward steps against k2/k1.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, Rectangle

from ..rnn import RNN
from ..spectral import with_spectral_radius
from ..tbptt import update_windows
from ..truncation_bias import bias_problem, gradient_agreement, truncation_bias
from ..validate import check_positive_int
from .lag_norms import radius_colours
from .style import WIDTH
from .unrolled import WEIGHT_COLOURS

__all__ = ["scheme_name", "plot_scheme_paths", "plot_bias_curves", "draw_bias_explorer",
           "bias_explorer_widget", "plot_stream_costs", "EXPLORER_KS", "EXPLORER_RHOS"]

_KEPT = WEIGHT_COLOURS["W_hh"]      # a backward edge the pass goes through
_IDLE = "0.82"                      # an edge it does not use
_LOSS = "#CC79A7"                   # a loss the pass carries back
_R = 0.28                           # radius of a state

#: The values of the explorer's sliders and of its frames.
EXPLORER_KS = (1, 2, 4, 8, 16, 32, 64)
EXPLORER_RHOS = (0.5, 0.9, 1.0, 1.2, 1.5)
_RECURRENT = ("W_xh", "W_hh", "b_h")   # the parameters truncation changes


def scheme_name(k1: int | None, k2: int | None) -> str:
    """``"full BPTT"``, ``"BPTT(4; 4)"``: the book's name of a scheme."""
    return "full BPTT" if k1 is None else f"BPTT({k2}; {k1})"


def _passes(T: int, k1, k2) -> list[tuple[int, int, int]]:
    """``(w, s, t)`` of each backward pass: detached at h_w, losses s+1..t, from t."""
    return [(0, 0, T)] if k1 is None else update_windows(T, k1, k2)


def plot_scheme_paths(T: int = 12, schemes: Sequence = ((None, None), (4, 4), (3, 6))) -> Figure:
    r"""The unrolled chain of states, one row per backward pass, for each scheme.

    Parameters
    ----------
    T : int
        Steps drawn.
    schemes : sequence of (k1, k2)
        ``(None, None)`` for full BPTT, ``(k, k)`` for ``truncate=k``,
        ``(k1, k2)`` for BPTT(k2; k1); one panel each.

    Returns
    -------
    Figure
        One axes; per scheme a title (:func:`scheme_name`) and one row per
        backward pass, labelled with the step t of the update. In a row: the states :math:`h_0 .. h_T` (gid
        ``"state"``; faded after the update's step, not yet computed), the
        edges :math:`h_{t-1} \leftarrow h_t` the pass carries gradient through
        (gid ``"kept"``, in the colour of :math:`W_{hh}`), the others in grey,
        the detached state crossed out (gid ``"cut"``) and the losses the pass
        carries back as squares above their step (gid ``"loss"``).
    """
    T = check_positive_int("T", T)
    rows = [(k1, k2, _passes(T, k1, k2)) for k1, k2 in schemes]
    n_rows = sum(len(p) for _, _, p in rows)
    height = n_rows + 1.1 * len(rows) + 0.6          # data units: a row is 1, a title 1.1
    fig, ax = plt.subplots(figsize=(WIDTH, WIDTH * height / (T + 3.0)), layout="constrained")
    y = 0.0
    for k1, k2, passes in rows:
        label = scheme_name(k1, k2)
        if k1 is not None and k1 == k2:
            label += f" (truncate={k1})"
        ax.text(-2.3, y, label, ha="left", va="center", fontsize=10, fontweight="bold")
        y -= 1.1
        for w, s, t in passes:
            for step in range(1, T + 1):
                kept = w < step <= t
                ax.add_patch(FancyArrowPatch((step - _R, y), (step - 1 + _R, y),
                                             arrowstyle="-|>", mutation_scale=9,
                                             color=_KEPT if kept else _IDLE,
                                             lw=2.2 if kept else 1.0,
                                             gid="kept" if kept else "idle"))
            for step in range(T + 1):
                ax.add_patch(Circle((step, y), _R, fc="#FBE3C8" if step <= t else "white",
                                    ec="0.2" if step <= t else "0.75", lw=0.8, gid="state"))
            if w > 0:      # h_w is a constant: the pass stops there
                for sign in (1, -1):
                    ax.plot([w - 0.3, w + 0.3], [y - 0.3 * sign, y + 0.3 * sign],
                            color="black", lw=1.6, gid="cut")
            for step in range(s + 1, t + 1):
                ax.add_patch(Rectangle((step - 0.13, y + 0.33), 0.26, 0.2, color=_LOSS,
                                       gid="loss"))
            ax.text(-0.5, y, f"t = {t}", ha="right", va="center", fontsize=8)
            y -= 1.0
    ax.text(T + 0.5, y + 0.35, r"arrows: $\bar h$ carried back;  squares: losses;  "
            r"$\times$: detached state", ha="right", va="center", fontsize=8, color="0.3")
    ax.set_xlim(-2.4, T + 0.6)
    ax.set_ylim(y, 0.5)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig


def plot_bias_curves(ks, curves: Mapping[str, Mapping], *, rhos: Sequence[float] = ()) -> Figure:
    r"""Cosine similarity and relative error of the truncated gradient against k.

    Parameters
    ----------
    ks : sequence of int
        Truncation lengths (x axis, log scale).
    curves : dict of str to dict
        Label to ``{"cosine": (n,), "rel_error": (n,)}``; the first
        ``len(rhos)`` are RNN curves coloured by their spectral radius, the
        rest (e.g. an LSTM) drawn in black, dashed.
    rhos : sequence of float
        The spectral radii of the first curves, for their colours.

    Returns
    -------
    Figure
        Two panels side by side, the cosine (top) and the relative error.
    """
    ks = np.asarray(ks)
    fig, (ax_c, ax_e) = plt.subplots(2, 1, figsize=(WIDTH, 5.2), sharex=True,
                                     layout="constrained")
    colours = list(radius_colours(list(rhos))) if rhos else []
    for i, (label, c) in enumerate(curves.items()):
        style = dict(color=colours[i], marker="o", ms=3) if i < len(colours) else \
            dict(color="black", ls="--", marker="s", ms=3)
        ax_c.plot(ks, c["cosine"], label=label, **style)
        ax_e.plot(ks, c["rel_error"], label=label, **style)
    ax_c.set_ylabel("cosine with full gradient")
    ax_e.set_ylabel("relative error")
    ax_e.set_xlabel("truncation length k (BPTT(k; k))")
    ax_e.set_xscale("log", base=2)
    ax_e.set_xticks(ks, [str(k) for k in ks])
    ax_e.set_ylim(0, None)
    ax_c.legend(loc="lower right", fontsize=8, ncol=2)
    return fig


def draw_bias_explorer(k: int, rho: float, *, T: int = 128, B: int = 16, H: int = 32,
                       seed: int = 0, ks: Sequence[int] = EXPLORER_KS) -> Figure:
    r"""The explorer's figure: the truncated gradient of :math:`W_{hh}` against the full one.

    Left: every entry of :math:`\partial L/\partial W_{hh}` under ``truncate=k``
    against full BPTT (on the diagonal when they agree). Right: the relative
    error against k for this spectral radius, the chosen k marked. The
    problem is :func:`bptt.truncation_bias.bias_problem` with the RNN's
    :math:`W_{hh}` rescaled to spectral radius ``rho``.
    """
    params, x, h, dy = bias_problem(RNN, T=T, B=B, H=H, seed=seed,
                                    prepare=lambda p: with_spectral_radius(p, rho))
    full = RNN.backward(params, x, h, dy)
    cut = RNN.backward(params, x, h, dy, truncate=int(k))
    cosine, err = gradient_agreement(cut, full, _RECURRENT)
    curve = truncation_bias(RNN, params, x, h, dy, ks, keys=_RECURRENT)
    fig, (ax_s, ax_k) = plt.subplots(1, 2, figsize=(WIDTH, 3.0), layout="constrained")
    a, b = full["W_hh"].ravel(), cut["W_hh"].ravel()
    lim = 1.05 * max(np.abs(a).max(), np.abs(b).max())
    ax_s.plot([-lim, lim], [-lim, lim], color="0.6", lw=0.8)
    ax_s.scatter(a, b, s=5, color=_KEPT, alpha=0.6, gid="entries")
    ax_s.set_xlim(-lim, lim)
    ax_s.set_ylim(-lim, lim)
    ax_s.set_aspect("equal")
    ax_s.ticklabel_format(style="sci", scilimits=(-2, 2))
    ax_s.set_xlabel(r"full BPTT, $\partial L/\partial W_{hh}$")
    ax_s.set_ylabel(f"truncate={k}")
    ax_s.set_title(f"cos = {cosine:.3f}, rel. err. = {err:.2f}", fontsize=9)
    ax_k.plot(curve["k"], curve["rel_error"], color="0.4", marker="o", ms=3)
    ax_k.plot([k], [err], marker="o", ms=9, mfc="none", mec=_LOSS, mew=2, gid="chosen")
    ax_k.set_xscale("log", base=2)
    ax_k.set_xticks(curve["k"], [str(v) for v in curve["k"]])
    ax_k.set_ylim(0, 1.0)
    ax_k.set_xlabel("k")
    ax_k.set_ylabel("relative error")
    ax_k.set_title(rf"$\rho(W_{{hh}}) = {rho:g}$", fontsize=9)
    return fig


def bias_explorer_widget(*, k: int = 8, rho: float = 1.0, **options):
    """Sliders over k (:data:`EXPLORER_KS`) and the spectral radius (0.5 to 1.5).

    ``options`` go to :func:`draw_bias_explorer`. Returns an
    ``ipywidgets.interactive`` whose ``.result`` is the last Figure drawn.
    """
    import ipywidgets as widgets

    if k not in EXPLORER_KS:
        raise ValueError(f"k must be one of the slider's values {EXPLORER_KS}, got {k}")
    if not 0.5 <= rho <= 1.5:
        raise ValueError(f"rho must lie in the slider's range [0.5, 1.5], got {rho}")
    style = {"description_width": "initial"}
    k_slider = widgets.SelectionSlider(options=list(EXPLORER_KS), value=k,
                                       description="truncation length k",
                                       continuous_update=False, style=style)
    rho_slider = widgets.FloatSlider(value=rho, min=0.5, max=1.5, step=0.05,
                                     description="spectral radius", continuous_update=False,
                                     style=style)

    def update(k, rho):
        return draw_bias_explorer(k, rho, **options)

    return widgets.interactive(update, k=k_slider, rho=rho_slider)


def plot_stream_costs(T_values, peaks: Mapping[str, Sequence[float]], ratios,
                      steps_per_step: Mapping[str, Sequence[float]]) -> Figure:
    r"""Measured peak memory against T, and backward steps per step against k2/k1.

    Parameters
    ----------
    T_values : sequence of int
        Sequence lengths (x of the top panel).
    peaks : dict of str to sequence
        Label to peak bytes at each T (:func:`bptt.truncation_cost.stream_peak_bytes`).
    ratios : sequence of float
        :math:`k_2/k_1` (x of the bottom panel).
    steps_per_step : dict of str to sequence
        Label to measured backward steps per time step at each ratio.

    Returns
    -------
    Figure
        Two panels, one above the other; the bottom one also draws the line
        :math:`k_2/k_1` dotted (gid ``"ratio"``).
    """
    fig, (ax_m, ax_c) = plt.subplots(2, 1, figsize=(WIDTH, 5.4), layout="constrained")
    colours = ["#D55E00", "#0072B2", "#009E73", "#CC79A7", "#E69F00"]
    for colour, (label, values) in zip(colours, peaks.items()):
        ax_m.plot(T_values, np.asarray(values) / 1e6, marker="o", ms=3, color=colour, label=label)
    ax_m.set_xlabel("sequence length T")
    ax_m.set_ylabel("peak memory (MB)")
    ax_m.set_ylim(0, None)
    ax_m.legend(loc="upper left", fontsize=8)
    ax_m.set_title("(a) memory of forward + backward, measured", fontsize=10, loc="left")
    ratios = np.asarray(ratios, dtype=float)
    ax_c.plot(ratios, ratios, color="0.5", ls=":", gid="ratio", label=r"$k_2/k_1$")
    for colour, (label, values) in zip(colours[1:], steps_per_step.items()):
        ax_c.plot(ratios, values, marker="o", ms=4, ls="none", color=colour, label=label)
    ax_c.set_xlabel(r"$k_2 / k_1$")
    ax_c.set_ylabel("backward steps per step")
    ax_c.legend(loc="upper left", fontsize=8)
    ax_c.set_title(r"(b) work of BPTT($k_2$; $k_1$), counted", fontsize=10, loc="left")
    return fig
