r"""Sliders over pre-rendered frames: a widget's figure that works with no kernel.

A live ``ipywidgets`` slider needs a running Python kernel to redraw its
figure. In the published book there is none, and a slider that moves but
changes nothing is worse than no slider. :func:`frame_slider` draws the
figure once for every combination of a few parameter values, while the
notebook runs, and returns a small HTML page fragment: one ``<input
type="range">`` per parameter and an image that shows the frame for the
current values. It needs nothing but the browser, works offline, and says
where the live version runs. :func:`bptt.plots.display.show_widget` puts it
beside the live widget: JupyterLab with a kernel shows the widget, the HTML
book shows the frames, the PDF a still.

Frames are palette PNGs (:func:`bptt.plots.display.palette_png`, the encoder
of an animation's frames too): a few flat colours, so each frame weighs a few
tens of kilobytes.
"""
from __future__ import annotations

import html
import io
import itertools
import json

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .display import _check_alt, _check_colors, palette_png

__all__ = ["frame_slider", "LIVE_NOTE"]

LIVE_NOTE = ("Pre-computed frames: move a slider to step through them. Run this notebook "
             "(<code>make lab</code>, Binder or Colab) for the live widget.")

# The script finds its own figure (document.currentScript), so a page may hold
# several sliders without any element id.
_SCRIPT = """<script>
(function () {
  var root = document.currentScript.parentElement;
  var frames = JSON.parse(root.querySelector("script.bptt-frame-data").textContent);
  var img = root.querySelector("img.bptt-frame");
  var inputs = root.querySelectorAll("input.bptt-slider");
  function show() {
    var index = 0;
    inputs.forEach(function (input, k) {
      index = index * frames.sizes[k] + Number(input.value);
      input.nextElementSibling.textContent = frames.labels[k][Number(input.value)];
    });
    img.src = "data:image/png;base64," + frames.png[index];
  }
  inputs.forEach(function (input) { input.addEventListener("input", show); });
  show();
})();
</script>"""


def _png_base64(fig: Figure, dpi, colors: int) -> str:
    """The figure as a base64 palette PNG on white; the figure is closed."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return palette_png(buf.getvalue(), colors)


def frame_slider(draw, values: dict, *, alt: str, initial: dict | None = None,
                 labels: dict | None = None, dpi=None, colors: int = 64,
                 max_frames: int = 60) -> str:
    r"""An HTML slider over pre-rendered frames of ``draw``.

    Parameters
    ----------
    draw : callable
        ``draw(**{name: value, ...}) -> matplotlib.figure.Figure``: the widget's
        figure for one combination of values (the figure is closed here).
    values : dict of str to sequence
        For each parameter, in the order of the sliders, the values to
        pre-render. Every combination is drawn: keep the product small.
    alt : str
        Alternative text of the image, for screen readers.
    initial : dict of str to value, optional
        The values shown first (each must be in ``values``); by default the
        first of each.
    labels : dict of str to str, optional
        The accessible name and visible label of each slider; by default the
        parameter's name.
    dpi : float, optional
        Resolution of the frames; by default ``savefig.dpi``.
    colors : int
        Most colours kept per frame, in ``[2, 256]``.
    max_frames : int
        A guard against drawing a huge product by mistake.

    Returns
    -------
    str
        An HTML fragment (the notebook cell supplies the caption): the image,
        one labelled ``<input type="range">`` per parameter with the current
        value beside it, a note saying where the live widget runs, and a short
        script that swaps the frames.

    Notes
    -----
    Frame :math:`(i_1, \dots, i_n)` (value :math:`i_k` of parameter
    :math:`k`) is stored at the row-major index
    :math:`(\dots(i_1 s_2 + i_2) s_3 + \dots) s_n + i_n`, where :math:`s_k` is
    the number of values of parameter :math:`k`, the order of
    ``itertools.product``.
    """
    values = {name: list(vals) for name, vals in values.items()}
    alt, colors = _check_alt(alt), _check_colors(colors)
    n_frames = 1
    for vals in values.values():
        n_frames *= len(vals)
    if not values or not 1 <= n_frames <= max_frames:
        raise ValueError(f"values make {n_frames} frames: give at least one parameter and "
                         f"one value of each, and at most max_frames={max_frames} frames")
    initial = dict(initial or {})
    if set(initial) - set(values):
        raise ValueError(f"initial names parameters not in values: "
                         f"{sorted(set(initial) - set(values))}")
    labels = {name: name for name in values} | dict(labels or {})
    start = {}
    for name, vals in values.items():
        if name in initial and initial[name] not in vals:
            raise ValueError(f"initial[{name!r}] = {initial[name]!r} is not one of "
                             f"values[{name!r}] = {vals}")
        start[name] = vals.index(initial[name]) if name in initial else 0

    names = list(values)
    png = []
    for combo in itertools.product(*values.values()):
        fig = draw(**dict(zip(names, combo)))
        if not isinstance(fig, Figure):
            raise TypeError(f"draw must return a matplotlib Figure, got {type(fig).__name__}")
        png.append(_png_base64(fig, dpi, colors))

    data = {"sizes": [len(values[n]) for n in names],
            "labels": [[f"{v:g}" if isinstance(v, float) else str(v) for v in values[n]]
                       for n in names],
            "png": png}
    controls = "".join(
        f'<label class="bptt-control"><span>{html.escape(labels[n])}</span>'
        f'<input class="bptt-slider" type="range" min="0" max="{len(values[n]) - 1}" '
        f'step="1" value="{start[n]}" aria-label="{html.escape(labels[n], quote=True)}">'
        f'<output></output></label>'
        for n in names)
    first = 0
    for n in names:
        first = first * len(values[n]) + start[n]
    return (
        '<div class="bptt-frames">'
        f'<img class="bptt-frame" alt="{html.escape(alt, quote=True)}" '
        f'src="data:image/png;base64,{png[first]}">'
        f'<div class="bptt-controls">{controls}</div>'
        f'<p class="bptt-live-note">{LIVE_NOTE}</p>'
        # JSON inside a script element: "</" must not end the element early.
        '<script type="application/json" class="bptt-frame-data">'
        + json.dumps(data).replace("</", "<\\/") + "</script>"
        + _SCRIPT + "</div>")
