r"""Show an animation or a widget with a still image beside it, for print.

A notebook output may carry the same thing in several MIME types, and each
reader picks the richest it can show. The HTML book shows an animation's
player (``text/html``) or a live widget (a widget view); the PDF, built by
LaTeX, can show neither and would print their text repr instead
(``<IPython.core.display.HTML object>``, ``interactive(children=...)``). The
functions here add an ``image/png`` to the same output, which the LaTeX
builder prefers to text, so that animations and widgets print as figures.

* :func:`show_animation`: a ``FuncAnimation``'s player, and a grid of a few of
  its frames as the still.
* :func:`show_widget`: a widget, a figure of your choosing as the still
  (typically the widget's plot at its initial values) and, for the HTML book,
  which has no kernel to redraw the figure, a slider over pre-rendered frames
  (:func:`bptt.plots.frames.frame_slider`).

The HTML book prefers ``text/html`` to a widget view (``_config.yml`` sets
that priority), so it shows the frames; JupyterLab with a kernel shows the
live widget.

Use either as the last expression of a cell, and give the cell the figure
metadata every figure of the book has (``mystnb.figure.caption``,
``mystnb.figure.name`` and ``mystnb.image.alt``)::

    fig, ax = plt.subplots()
    t = np.linspace(0, 2 * np.pi, 100)
    (line,) = ax.plot(t, np.sin(t))
    anim = FuncAnimation(fig, lambda k: line.set_ydata(np.sin(t + k / 4)), frames=8)
    plt.close(fig)    # or the notebook also shows the figure as a still of its own
    show_animation(anim, alt="A sine wave moving left, one frame per phase.")

nbval skips ``image/png`` when it compares outputs, so the still never makes a
notebook test flaky.
"""
from __future__ import annotations

import base64
import html
import io
import re

import matplotlib.image as mpimg
from PIL import Image
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import AbstractMovieWriter, Animation
from matplotlib.figure import Figure

from ..validate import check_positive_int

__all__ = ["RichOutput", "animation_frames", "palette_png", "palette_frames", "show_animation",
           "show_widget"]

PNG = "image/png"
HTML = "text/html"
TEXT = "text/plain"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

_GUTTER = 8          # white pixels between the stills of the grid
# matplotlib's player links Font Awesome 4 from a CDN; the book's theme ships
# Font Awesome, whose classes the player's buttons use, so the link only tells
# a third party who reads the page (and fails offline).
_CDN_LINK = re.compile(r'<link rel="stylesheet"\s+href="https?://[^"]*font-awesome[^"]*">\s*')
_ANIM_IMG = re.compile(r'<img id="(_anim_img[0-9a-f]+)">')
_ANIM_IMG_WITH_ALT = re.compile(r'<img id="_anim_img[0-9a-f]+" alt="[^"]+">')
# A frame in to_jshtml()'s output: a base64 PNG in a JavaScript string, whose
# lines matplotlib continues with a backslash.
_JS_FRAME = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=\\\n]+)")


# The player's frame slider has no label (its buttons and radio buttons do):
# a screen reader would announce a nameless slider.
_ANIM_SLIDER = re.compile(r'<input id="_anim_slider([0-9a-f]+)" type="range" class="anim-slider"')


def _accessible_player(player: str) -> str:
    """Give the player's frame slider an accessible name."""
    return _ANIM_SLIDER.sub(
        lambda m: f'<input id="_anim_slider{m.group(1)}" type="range" class="anim-slider" '
                  f'aria-label="Animation frame"', player)


def _check_colors(colors) -> int:
    """The size of a PNG palette, in ``[2, 256]``."""
    colors = check_positive_int("colors", colors)
    if not 2 <= colors <= 256:
        raise ValueError(f"colors must be in [2, 256] (a PNG palette), got {colors}")
    return colors


def _check_alt(alt) -> str:
    """Alternative text, for screen readers: a non-empty description of the image."""
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError(f"alt must be a non-empty description of the image, got {alt!r}")
    return alt.strip()


def palette_png(png: bytes, colors: int = 64) -> str:
    """A PNG re-encoded as a palette PNG of at most ``colors`` colours, base64.

    The one encoder of every stored frame: an animation player's
    (:func:`palette_frames`) and a frame slider's
    (:func:`bptt.plots.frames.frame_slider`). A figure of a few flat colours
    and their anti-aliased shades looks the same with 64 colours, and weighs
    several times less than as 32-bit RGBA.
    """
    frame = Image.open(io.BytesIO(png)).convert("RGBA")
    # Composite on white first: quantising keeps no alpha, and a transparent
    # pixel must not turn black.
    opaque = Image.alpha_composite(Image.new("RGBA", frame.size, "white"), frame).convert("RGB")
    out = io.BytesIO()
    opaque.quantize(colors=colors, method=Image.Quantize.MEDIANCUT).save(
        out, format="png", optimize=True)
    return base64.b64encode(out.getvalue()).decode("ascii")


def palette_frames(player: str, colors: int = 64) -> str:
    """Store every frame of a ``to_jshtml()`` player as a palette PNG.

    Parameters
    ----------
    player : str
        The HTML of ``anim.to_jshtml()``.
    colors : int
        Most colours kept per frame, in ``[2, 256]``.

    Returns
    -------
    str
        The same player, each frame an 8-bit palette PNG (:func:`palette_png`)
        instead of a 32-bit RGBA one: several times lighter, and so are the
        notebook and the page.
    """
    colors = _check_colors(colors)
    out, n = _JS_FRAME.subn(
        lambda m: "data:image/png;base64," + palette_png(
            base64.b64decode(m.group(1).replace("\\\n", "")), colors), player)
    if n == 0:   # matplotlib changed its template: say so rather than keep big frames
        raise RuntimeError("found no PNG frame in the player: is it the output of to_jshtml()?")
    return out


class RichOutput:
    """An output with several representations; Jupyter shows the best it can.

    Parameters
    ----------
    bundle : dict of str to object
        MIME type to data, as in a notebook output's ``data``; ``image/png``
        is a base64 string.
    """

    def __init__(self, bundle: dict):
        self.bundle = dict(bundle)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        # IPython calls this and publishes every MIME type it returns.
        return dict(self.bundle)

    def __repr__(self) -> str:
        return self.bundle.get(TEXT, f"RichOutput({sorted(self.bundle)})")


class _FrameGrabber(AbstractMovieWriter):
    """A movie writer that keeps each frame as an RGBA array instead of a file.

    It is how an animation's frames are drawn through matplotlib's public API
    (:meth:`Animation.save`), whatever the backend.
    """

    def __init__(self):
        super().__init__()
        self.frames: list[np.ndarray] = []

    def setup(self, fig, outfile, dpi=None):
        # Required by the abstract base; there is no file to open.
        super().setup(fig, outfile, dpi=dpi)

    def grab_frame(self, **savefig_kwargs):
        buf = io.BytesIO()
        self.fig.savefig(buf, format="png", dpi=self.dpi, **savefig_kwargs)
        buf.seek(0)
        self.frames.append(mpimg.imread(buf, format="png"))

    def finish(self):
        pass


def _check_animation(anim) -> Animation:
    if not isinstance(anim, Animation):
        raise TypeError(f"anim must be a matplotlib.animation.Animation, "
                        f"got {type(anim).__name__}")
    return anim


def animation_frames(anim: Animation) -> list[np.ndarray]:
    """Draw every frame of an animation.

    Parameters
    ----------
    anim : matplotlib.animation.Animation
        For example a ``FuncAnimation``; its figure may be closed.

    Returns
    -------
    list of numpy.ndarray
        One float RGBA image per frame, each of shape ``(height, width, 4)``
        with values in [0, 1], in the animation's order.
    """
    anim = _check_animation(anim)
    grabber = _FrameGrabber()
    # The file name is never opened: the grabber keeps the frames in memory.
    anim.save("frames.unused", writer=grabber)
    return grabber.frames


def _still_indices(n_frames: int, stills: int) -> list[int]:
    """``stills`` frame indices evenly spread from the first frame to the last."""
    picks = np.linspace(0, n_frames - 1, min(stills, n_frames))
    return sorted(set(int(round(p)) for p in picks))


def _grid(images: list[np.ndarray], ncols: int) -> np.ndarray:
    """Tile equally sized RGBA images row by row on white, with a gutter."""
    h, w = images[0].shape[:2]
    ncols = min(ncols, len(images))
    nrows = -(-len(images) // ncols)
    out = np.ones((nrows * h + (nrows - 1) * _GUTTER, ncols * w + (ncols - 1) * _GUTTER, 4))
    for k, img in enumerate(images):
        r, c = divmod(k, ncols)
        y, x = r * (h + _GUTTER), c * (w + _GUTTER)
        out[y:y + h, x:x + w] = img
    return out


def _png_base64(rgba: np.ndarray) -> str:
    buf = io.BytesIO()
    mpimg.imsave(buf, rgba, format="png")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def show_animation(anim: Animation, *, alt: str, stills: int = 4, ncols: int = 2,
                   player: str | None = None) -> RichOutput:
    r"""The animation's player for the web, a grid of its frames for print.

    Parameters
    ----------
    anim : matplotlib.animation.Animation
        The animation; its figure may be closed (close it, or the notebook
        also shows it as a still image of its own).
    alt : str
        Alternative text of the player's image, for screen readers.
    stills : int
        How many frames the print version shows, evenly spread from the
        first to the last (all of them if the animation has fewer).
    ncols : int
        Frames per row of the print version.
    player : str, optional
        A player already made from ``anim`` (for example
        ``palette_frames(anim.to_jshtml())``, with light frames); by
        default ``anim.to_jshtml()``. Its image gets ``alt`` unless it has
        alternative text already.

    Returns
    -------
    RichOutput
        ``text/html``: ``anim.to_jshtml()`` with ``alt`` on its image;
        ``image/png``: the grid of stills, base64; ``text/plain``: a one-line
        description naming the number of frames.

    Notes
    -----
    Frame :math:`k` of the ``stills`` shown is frame
    :math:`\mathrm{round}\big(k (N-1) / (\text{stills}-1)\big)` of the :math:`N`
    frames, so the first and the last frame are always among them.
    """
    anim = _check_animation(anim)
    alt = _check_alt(alt)
    stills = check_positive_int("stills", stills)
    ncols = check_positive_int("ncols", ncols)
    frames = animation_frames(anim)
    if not frames:
        raise ValueError("anim has no frames to show")
    picked = [frames[i] for i in _still_indices(len(frames), stills)]
    if player is None:
        player = anim.to_jshtml()
    player = _accessible_player(_CDN_LINK.sub("", player))
    player, n_subs = _ANIM_IMG.subn(
        lambda m: f'<img id="{m.group(1)}" alt="{html.escape(alt, quote=True)}">', player)
    if n_subs == 0 and len(_ANIM_IMG_WITH_ALT.findall(player)) == 1:
        n_subs = 1    # the player came with its alternative text
    if n_subs != 1:   # matplotlib changed its template: say so rather than lose the alt text
        raise RuntimeError("could not find the image of the animation player to give it alt text")
    return RichOutput({
        HTML: player,
        PNG: _png_base64(_grid(picked, ncols)),
        TEXT: f"Animation of {len(frames)} frames: {alt}",
    })


def show_widget(widget, still: Figure, *, frames: str | None = None) -> RichOutput:
    """A live widget for the notebook, pre-rendered frames for the web, a figure for print.

    Parameters
    ----------
    widget : ipywidgets.DOMWidget
        The widget, for example an ``ipywidgets.interactive`` that has not
        been displayed yet (not ``interact``, which displays at once).
    still : matplotlib.figure.Figure
        What the printed book shows instead, for example the widget's plot at
        its initial values. It is closed here, so that the notebook does not
        also show it on its own.
    frames : str, optional
        What the HTML book shows instead of the live widget: the output of
        :func:`bptt.plots.frames.frame_slider` over the widget's parameters.
        Without it the HTML book would show a slider that moves and changes
        nothing.

    Returns
    -------
    RichOutput
        The widget's own representations (its view, which Jupyter renders
        with a kernel, and its ``text/plain``), ``image/png``: the still,
        base64, and ``text/html``: ``frames``, if given.
    """
    bundle = getattr(widget, "_repr_mimebundle_", None)
    bundle = bundle() if callable(bundle) else None
    if not isinstance(bundle, dict) or WIDGET_VIEW not in bundle:
        raise TypeError(f"widget must be an ipywidgets widget with a view, "
                        f"got {type(widget).__name__}")
    if not isinstance(still, Figure):
        raise TypeError(f"still must be a matplotlib Figure, got {type(still).__name__}")
    buf = io.BytesIO()
    still.savefig(buf, format="png")
    plt.close(still)
    bundle[PNG] = base64.b64encode(buf.getvalue()).decode("ascii")
    if frames is not None:
        if not isinstance(frames, str) or 'class="bptt-frames"' not in frames:
            raise TypeError("frames must be the HTML of bptt.plots.frames.frame_slider")
        bundle[HTML] = frames
    return RichOutput(bundle)
