r"""Gated cells against the vanilla RNN: the gradient norm against the lag (chapter 6).

The numbers come from :func:`bptt.gated_dynamics.gated_lag_norm_experiment`
(chapter 5's problem: the same inputs, sizes and loss at the last step, for an
RNN, an LSTM and a GRU); this module only draws them, with the look of
:mod:`bptt.plots.lag_norms` (:func:`~bptt.plots.lag_norms.plot_norm_panels`).

* :func:`cell_curves`: the curves of one setting (RNN, LSTM, GRU, and the
  direct paths alone), ready for ``plot_norm_panels``.
* :func:`draw_gated_lag_norms`: one panel for one bias of the keeping gate
  and one input scale: the widget's callback, and the frames of the slider
  the HTML book shows instead (:func:`bptt.plots.frames.frame_slider`).
* :func:`gated_lag_norm_widget`: sliders over that bias and the input scale.
"""
from __future__ import annotations

import functools

from matplotlib.figure import Figure

from ..gated_dynamics import gated_lag_norm_experiment
from .lag_norms import LAG_YLIM, plot_norm_panels
from .style import WIDTH

__all__ = ["CELL_LABELS", "cell_curves", "draw_gated_lag_norms", "gated_lag_norm_widget"]

#: How each cell is named in the legends.
CELL_LABELS = {"rnn": r"tanh RNN, $\rho = 1$", "lstm": r"LSTM, $\bar h$",
               "gru": r"GRU, $\bar h$"}
_YLABEL = r"$\|\partial L_T / \partial h_{T-\tau}\|_2$"


@functools.lru_cache(maxsize=128)
def _experiment(cell: str, keep_bias: float, input_scale: float, seed: int,
                sizes: tuple) -> dict:
    """:func:`gated_lag_norm_experiment`, remembered (frames repeat the RNN's curve). Read-only."""
    return gated_lag_norm_experiment(cell, keep_bias, input_scale, seed=seed, **dict(sizes))


def cell_curves(keep_bias: float, input_scale: float = 1.0, *, seed: int = 0,
                direct_paths: bool = True, **sizes) -> list:
    r"""The curves of one setting, as :func:`~bptt.plots.lag_norms.plot_norm_panels` takes them.

    Parameters
    ----------
    keep_bias : float
        Bias of the LSTM's forget gate and of the GRU's update gate.
    input_scale : float
        Multiplies every model's ``W_xh``.
    seed : int
        Seed of the experiment (chapter 5's seed gives its inputs and loss).
    direct_paths : bool
        Also the gain of the direct paths alone, the products of the keeping
        gates (dotted), and the LSTM's cell gradient (dashed).
    **sizes
        ``T``, ``B``, ``H``, ``D``.

    Returns
    -------
    list of dict
        ``label``, ``lag``, ``value``, ``kind`` for each curve: the RNN, the
        LSTM and the GRU measured, then (with ``direct_paths``) the LSTM's
        :math:`\|\partial L_T/\partial c_{T-\tau}\|` and the products of
        :math:`f` and of :math:`z`.
    """
    sizes = tuple(sorted(sizes.items()))
    res = {cell: _experiment(cell, float(keep_bias), float(input_scale), seed, sizes)
           for cell in ("rnn", "lstm", "gru")}
    curves = [{"label": CELL_LABELS[cell], "lag": r["lag"], "value": r["norm"],
               "kind": "measured"} for cell, r in res.items()]
    if direct_paths:
        curves += [
            {"label": r"LSTM, $\bar c$", "lag": res["lstm"]["lag"],
             "value": res["lstm"]["cell_norm"], "kind": "bound"},
            {"label": r"$\prod f$ (LSTM direct path)", "lag": res["lstm"]["lag"],
             "value": res["lstm"]["keep_product"], "kind": "rate"},
        ]
    return curves


def draw_gated_lag_norms(keep_bias: float = 1.0, input_scale: float = 1.0, *, seed: int = 0,
                         ylim=LAG_YLIM, **sizes) -> Figure:
    r"""The widget's callback: RNN, LSTM and GRU gradient norms for one setting.

    Parameters
    ----------
    keep_bias, input_scale, seed, **sizes
        See :func:`cell_curves`.
    ylim : (float, float) or None
        Limits of the y axis; fixed by default, so that frames compare.

    Returns
    -------
    Figure
        One panel, titled with the bias and the input scale, of the curves of
        :func:`cell_curves`.
    """
    curves = cell_curves(keep_bias, input_scale, seed=seed, **sizes)
    title = rf"keeping-gate bias $b = {keep_bias:g}$, input scale ${input_scale:g}$"
    return plot_norm_panels([{"title": title, "curves": curves}], ylim=ylim,
                            figsize=(WIDTH, 3.8), ylabel=_YLABEL, legend_loc="lower left")


def gated_lag_norm_widget(*, keep_bias: float = 1.0, input_scale: float = 1.0, **options):
    r"""Sliders over the keeping-gate bias (-2 to 6) and the input scale (0.01 to 10).

    Parameters
    ----------
    keep_bias, input_scale
        The values drawn first.
    **options
        Passed to :func:`draw_gated_lag_norms` (``seed``, ``ylim``, ``T``, ``B``, ``H``, ``D``).

    Returns
    -------
    ipywidgets.interactive
        ``.result`` holds the last Figure drawn.
    """
    import ipywidgets as widgets

    if not -2.0 <= keep_bias <= 6.0:
        raise ValueError(f"keep_bias must lie in the slider's range [-2, 6], got {keep_bias}")
    if not 0.01 <= input_scale <= 10.0:
        raise ValueError(f"input_scale must lie in the slider's range [0.01, 10], "
                         f"got {input_scale}")
    style = {"description_width": "initial"}
    bias = widgets.FloatSlider(value=keep_bias, min=-2.0, max=6.0, step=0.5,
                               description="keeping-gate bias", continuous_update=False,
                               style=style)
    scale = widgets.FloatLogSlider(value=input_scale, base=10, min=-2, max=1, step=0.1,
                                   description="input scale", continuous_update=False,
                                   style=style)

    def update(keep_bias, input_scale):
        return draw_gated_lag_norms(keep_bias, input_scale, **options)

    return widgets.interactive(update, keep_bias=bias, input_scale=scale)
