r"""Figures of the chapter "Unrolling a recurrent network": the computational graph.

:func:`draw_unrolled_graph` draws the nodes and edges that
:func:`bptt.plots.graph.unrolled_graph` lists, for one of its
:data:`~bptt.plots.graph.KINDS`. Every edge that is labelled with one matrix
uses *that same matrix*: the figures give each matrix one colour so that the
tying can be seen. :func:`unrolled_graph_widget` redraws the graph for values
chosen in a running notebook; :func:`unrolled_graph_frames` draws the same
figure in advance for a few values, as sliders over frames, for the book,
which has no kernel.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle
from matplotlib.path import Path

from ..validate import check_axes
from .frames import frame_slider
from .graph import DX, KINDS, ROW, check_kind, unrolled_graph

__all__ = ["HIGHLIGHTS", "draw_unrolled_graph", "draw_graph_kinds", "unrolled_graph_widget",
           "unrolled_graph_frames"]

#: What ``highlight`` may name: a shared matrix, or the arrays BPTT keeps.
HIGHLIGHTS = (None, "W_xh", "W_hh", "W_hy", "memory")

# Sizes in data units (the axes have an equal aspect, so circles stay round);
# where the nodes sit is bptt.plots.graph's DX and ROW.
_R = 0.36                                          # radius of an h node
_HW, _HH = 0.36, 0.25                              # half width, half height of a box
_FOLD_X = -2.9                                     # centre of the folded view
_INCH = 0.5                                        # inches per data unit of a new figure

# Okabe-Ito colours (safe for colour-blind readers): one per shared matrix.
WEIGHT_COLOURS = {"W_xh": "#0072B2", "W_hh": "#D55E00", "W_hy": "#009E73", None: "#555555"}
_FILL = {"x": "#DCEBF7", "h": "#FBE3C8", "y": "#D5EFE5", "L": "#F2DDEA"}
_WEIGHT_TEX = {"W_xh": r"$W_{xh}$", "W_hh": r"$W_{hh}$", "W_hy": r"$W_{hy}$"}
_FADED = "#C8C8C8"
_LABEL_PT = 10                                     # font size of the matrix names on edges


def _check_highlight(highlight):
    if highlight not in HIGHLIGHTS:
        raise ValueError(f"highlight must be one of {list(HIGHLIGHTS)}, got {highlight!r}")
    return highlight


# ------------------------------------------------------------------ drawing

def _boundary(centre, role: str, towards) -> np.ndarray:
    """The point where the ray from ``centre`` towards ``towards`` leaves the node."""
    c = np.asarray(centre, dtype=float)
    d = np.asarray(towards, dtype=float) - c
    d /= np.hypot(*d)
    if role == "h":
        return c + _R * d
    # A box: stop at whichever side the ray meets first.
    scale = min(_HW / abs(d[0]) if d[0] else np.inf, _HH / abs(d[1]) if d[1] else np.inf)
    return c + scale * d


def _draw_node(ax, role: str, xy, label: str, gid: str, stored: bool, faded: bool):
    edge = "black" if stored else "#444444"
    kw = dict(facecolor=_FILL[role], edgecolor=edge, linewidth=2.6 if stored else 1.0,
              alpha=0.45 if faded else 1.0, zorder=3)
    if role == "h":
        patch = Circle(xy, _R, **kw)
    else:
        patch = FancyBboxPatch((xy[0] - _HW, xy[1] - _HH), 2 * _HW, 2 * _HH,
                               boxstyle="round,pad=0,rounding_size=0.08", **kw)
    patch.set_gid(gid)
    ax.add_patch(patch)
    text = ax.text(*xy, label, ha="center", va="center", fontsize=11, zorder=4,
                   alpha=0.5 if faded else 1.0)
    text.set_gid(gid + ":label")


def _draw_edge(ax, start, end, weight, gid: str, highlight, dashed: bool = False,
               label_side: str = "right", label_at: float = 0.5):
    """An arrow, and its matrix name ``label_at`` of the way from start to end."""
    colour = WEIGHT_COLOURS[weight]
    lw = 1.4
    if highlight in ("W_xh", "W_hh", "W_hy"):
        if weight == highlight:
            lw = 2.6
        else:
            colour = _FADED
    arrow = FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color=colour,
                            linewidth=lw, linestyle="--" if dashed else "-",
                            shrinkA=0, shrinkB=0, zorder=2)
    arrow.set_gid(gid)
    ax.add_patch(arrow)
    if weight is None:
        return
    mid = (1 - label_at) * np.asarray(start) + label_at * np.asarray(end)
    if dashed:      # a diagonal going down to the right: label above it, to the right
        mid = mid + np.array([0.06, 0.04])
        ha, va = "left", "bottom"
    elif label_side == "above":
        mid = mid + np.array([0.0, 0.07])
        ha, va = "center", "bottom"
    else:
        mid = mid + np.array([0.07, 0.0])
        ha, va = "left", "center"
    text = ax.text(*mid, _WEIGHT_TEX[weight], ha=ha, va=va, fontsize=_LABEL_PT, color=colour,
                   zorder=4,
                   fontweight="bold" if lw > 2 else "normal")
    text.set_gid(gid + ":label")


def _draw_folded(ax, show_loss: bool, highlight):
    """The rolled-up graph: one cell whose W_hh edge loops back through a one-step delay."""
    x0 = _FOLD_X
    pos = {role: (x0, ROW[role]) for role in ("x", "h", "y", "L")}
    roles = ("x", "h", "y", "L") if show_loss else ("x", "h", "y")
    for role in roles:
        label = f"${role}_t$" if role != "h" else r"$h_t$"
        _draw_node(ax, role, pos[role], label, f"folded:{role}", stored=False, faded=False)
    pairs = [("x", "h", "W_xh"), ("h", "y", "W_hy")] + ([("y", "L", None)] if show_loss else [])
    for src, dst, weight in pairs:
        _draw_edge(ax, _boundary(pos[src], src, pos[dst]), _boundary(pos[dst], dst, pos[src]),
                   weight, f"folded:edge:{weight}", highlight)
    # The self-loop leaves h_t on its left and re-enters it: the value computed
    # now is used at the next step, which the small black square (a delay) marks.
    ang_out, ang_in = np.deg2rad(140), np.deg2rad(220)
    p0 = np.array([x0 + _R * np.cos(ang_out), ROW["h"] + _R * np.sin(ang_out)])
    p3 = np.array([x0 + _R * np.cos(ang_in), ROW["h"] + _R * np.sin(ang_in)])
    p1, p2 = p0 + np.array([-0.75, 0.5]), p3 + np.array([-0.75, -0.5])
    colour = WEIGHT_COLOURS["W_hh"] if highlight in (None, "W_hh", "memory") else _FADED
    loop = FancyArrowPatch(path=Path([p0, p1, p2, p3], [Path.MOVETO] + [Path.CURVE4] * 3),
                           arrowstyle="-|>", mutation_scale=12, color=colour,
                           linewidth=2.6 if highlight == "W_hh" else 1.4, zorder=2)
    loop.set_gid("folded:edge:W_hh")
    ax.add_patch(loop)
    # The point of the cubic Bezier at parameter 1/2: the leftmost point of the loop.
    far = (p0 + 3 * p1 + 3 * p2 + p3) / 8
    ax.add_patch(Rectangle((far[0] - 0.08, far[1] - 0.08), 0.16, 0.16, color="black",
                           zorder=3, gid="folded:delay"))
    text = ax.text(far[0] - 0.14, far[1] + 0.14, _WEIGHT_TEX["W_hh"], ha="right",
                   va="bottom", fontsize=_LABEL_PT, color=colour,
                   fontweight="bold" if highlight == "W_hh" else "normal")
    text.set_gid("folded:edge:W_hh:label")
    # "unroll": the arrow from the folded view to the unrolled one.
    ax.add_patch(FancyArrowPatch((x0 + 0.75, ROW["h"]), (-0.62, ROW["h"]),
                                 arrowstyle="simple,head_width=0.9,head_length=0.7",
                                 mutation_scale=14, color="#999999", zorder=1,
                                 gid="folded:unroll"))
    ax.text((x0 + 0.15) / 2, ROW["h"] + 0.28, "unroll", ha="center", va="bottom",
            fontsize=9, color="#555555", style="italic")


def _extent(steps: int, show_loss: bool, show_folded: bool, highlight) -> tuple:
    """``(left, right, bottom, top)`` in data units of a graph drawn for ``steps`` steps."""
    left = _FOLD_X - _R - 1.3 if show_folded else -0.7
    right = steps * DX + 1.0
    top = ROW["L" if show_loss else "y"] + 0.45
    bottom = ROW["x"] - (0.75 if highlight == "memory" else 0.4)
    return left, right, bottom, top


def draw_unrolled_graph(T: int, kind: str = "many-to-many", ax: Axes | None = None,
                        show_loss: bool = True, highlight: str | None = None,
                        show_folded: bool = True, output_feedback: bool = False,
                        reserve_steps: int | None = None) -> Figure:
    r"""Draw the computational graph of an RNN unrolled over ``T`` steps.

    Parameters
    ----------
    T : int
        Number of steps, >= 1 (>= 2 for ``"encoder-decoder"``).
    kind : str
        One of :data:`~bptt.plots.graph.KINDS`.
    ax : matplotlib Axes, optional
        Where to draw; by default a new figure sized to the graph.
    show_loss : bool
        Draw the loss nodes :math:`L_t`.
    highlight : str or None
        One of :data:`HIGHLIGHTS`: a matrix name draws its edges thick and fades
        the others (the matrix is shared by all of them); ``"memory"`` draws a
        thick outline around what the backward pass needs from the forward
        pass, :math:`x_t` and :math:`h_0, \dots, h_T`.
    show_folded : bool
        Also draw the rolled-up graph, with its :math:`W_{hh}` loop, on the left.
    output_feedback : bool
        Feed outputs back as inputs, see :func:`bptt.plots.graph.unrolled_graph`.
    reserve_steps : int, optional
        Make the axes wide enough for this many steps (>= T), so that the frames
        of a slider over T line up. Default: T.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding ``ax``. Every patch and text carries a gid naming
        what it draws (``"node:h:3"``, ``"edge:W_hh:3"``, ...).
    """
    nodes, edges = unrolled_graph(T, kind, show_loss, output_feedback)
    highlight = _check_highlight(highlight)
    reserve = T if reserve_steps is None else reserve_steps
    if reserve < T:
        raise ValueError(f"reserve_steps must be >= T = {T}, got {reserve}")
    ax = check_axes(ax)

    left, right, bottom, top = _extent(reserve, show_loss, show_folded, highlight)
    if ax is None:
        fig = _graph_figure(right - left, top - bottom, 1, 1)
        ax = fig.axes[0]
    fig = ax.figure

    stored = {"x", "h"} if highlight == "memory" else set()
    for node in nodes:
        _draw_node(ax, node.role, node.xy, node.label, f"node:{node.role}:{node.t}",
                   stored=node.role in stored, faded=bool(stored) and node.role not in stored)
    fed_back = {e.src.t for e in edges if e.feedback}    # steps whose y_t is fed back
    for e in edges:
        a, b = e.src.xy, e.dst.xy
        start, end = _boundary(a, e.src.role, b), _boundary(b, e.dst.role, a)
        name = e.weight if not e.feedback else "feedback"
        # A fed-back output y_t -> h_{t+1} cuts diagonally through the middle of
        # the gap right of h_t -> y_t: both names then stand clear of it, one
        # low on h_t -> y_t, the other high on the diagonal.
        crowded = e.weight == "W_hy" and e.dst.t in fed_back
        _draw_edge(ax, start, end, e.weight, f"edge:{name}:{e.dst.t}", highlight,
                   dashed=e.feedback, label_side="above" if e.weight == "W_hh" else "right",
                   label_at=0.3 if crowded or e.feedback else 0.5)
    if show_folded:
        _draw_folded(ax, show_loss, highlight)
    if highlight == "memory":
        ax.text(right, bottom, "thick outline: kept for the backward pass",
                ha="right", va="bottom", fontsize=8, color="#333333", gid="memory-note")

    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"{kind}, unrolled over T = {T} step{'s' if T > 1 else ''}")
    return fig


def draw_graph_kinds(T: int = 4, kinds=KINDS, show_loss: bool = True,
                     ncols: int = 2) -> Figure:
    """The unrolled graphs of several kinds in a grid, for comparison.

    Parameters
    ----------
    T : int
        Number of steps of every graph (>= 2 when ``"encoder-decoder"`` is drawn).
    kinds : sequence of str
        Kinds from :data:`~bptt.plots.graph.KINDS`, one panel each, row by row.
    show_loss : bool
        Draw the loss nodes.
    ncols : int
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per kind, titled with the kind, and no folded view.
    """
    if isinstance(kinds, str) or not len(kinds):
        raise ValueError(f"kinds must be a non-empty list of kinds from {list(KINDS)}, "
                         f"got {kinds!r}")
    kinds = [check_kind(k) for k in kinds]
    ncols = min(ncols, len(kinds))
    nrows = -(-len(kinds) // ncols)
    top = ROW["L" if show_loss else "y"] + 0.45
    fig = _graph_figure(T * DX + 1.7, top - ROW["x"] + 0.4, nrows, ncols)
    for ax in fig.axes[len(kinds):]:
        ax.remove()
    for kind, ax in zip(kinds, fig.axes):
        draw_unrolled_graph(T, kind, ax=ax, show_loss=show_loss, show_folded=False)
        ax.set_title(kind)
    return fig


def _graph_figure(width: float, height: float, nrows: int, ncols: int) -> Figure:
    """A figure of nrows x ncols axes, each ``width`` x ``height`` data units plus a title.

    Placed by hand rather than by ``subplots``: with an equal aspect the default
    margins would leave wide empty bands around each graph.
    """
    title, gap = 0.4, 0.3        # inches above each panel, between panels
    w_in, h_in = width * _INCH, height * _INCH
    fig_w = ncols * w_in + (ncols - 1) * gap
    fig_h = nrows * (h_in + title)
    fig = plt.figure(figsize=(fig_w, fig_h))
    for i in range(nrows * ncols):
        r, c = divmod(i, ncols)
        x = c * (w_in + gap) / fig_w
        y = 1 - ((r + 1) * (h_in + title)) / fig_h
        fig.add_axes((x, y, w_in / fig_w, h_in / fig_h))
    return fig


def _widget_figure(T, kind, show_loss, highlight, reserve_steps):
    """The figure of the widget and of its frames: the unrolled graph, no folded view.

    ``highlight`` is one of :data:`HIGHLIGHTS` or ``"none"`` (a menu's word for None).
    """
    highlight = None if highlight == "none" else highlight
    return draw_unrolled_graph(T, kind, show_loss=show_loss, highlight=highlight,
                               show_folded=False, reserve_steps=reserve_steps)


def _show_graph(T, kind, show_loss, highlight):
    """Widget callback: draw the graph and display it (an interactive needs a display)."""
    from IPython.display import display

    fig = _widget_figure(T, kind, show_loss, highlight, max(T, 4))
    display(fig)
    plt.close(fig)


def unrolled_graph_widget(T_max: int = 10):
    """A slider over T and menus over the kind and the highlight, redrawing the graph.

    Parameters
    ----------
    T_max : int
        Largest T on the slider, >= 2.

    Returns
    -------
    ipywidgets.interactive
        Its callback draws with :func:`draw_unrolled_graph`.
    """
    import ipywidgets as widgets

    if T_max < 2:
        raise ValueError(f"T_max must be >= 2, got {T_max}")
    return widgets.interactive(
        _show_graph,
        T=widgets.IntSlider(value=min(4, T_max), min=2, max=T_max, description="T"),
        kind=widgets.Dropdown(options=list(KINDS), value="many-to-many", description="kind"),
        show_loss=widgets.Checkbox(value=True, description="losses L_t"),
        highlight=widgets.Dropdown(options=["none", "W_xh", "W_hh", "W_hy", "memory"],
                                   value="none", description="highlight"),
    )


def unrolled_graph_frames(T_values=(2, 3, 4, 5, 6), kinds=KINDS,
                          highlights=("none", "W_hh"), *, initial: dict | None = None,
                          dpi: float = 88, colors: int = 32) -> str:
    """The widget's figure for a few values of its controls, as sliders over frames.

    A live :func:`unrolled_graph_widget` needs a running kernel; the published
    book has none. This draws the same figure (losses shown) for every
    combination of the values given and returns
    :func:`bptt.plots.frames.frame_slider`'s HTML: one slider per control,
    working in any browser, offline. Keep the product of the numbers of values
    small (each frame is drawn once, and stored in the page).

    Parameters
    ----------
    T_values : sequence of int
        Numbers of steps, increasing, each >= 1 (>= 2 if ``"encoder-decoder"``
        is among ``kinds``). The graph is laid out for the largest, so that
        every frame has the same size.
    kinds : sequence of str
        Kinds from :data:`~bptt.plots.graph.KINDS`.
    highlights : sequence of str
        Each ``"none"`` or a name from :data:`HIGHLIGHTS`.
    initial : dict, optional
        The frame shown first, as values of ``"T"``, ``"kind"`` and
        ``"highlight"`` (each one of those given); by default the first of each.
    dpi : float
        Resolution of the frames.
    colors : int
        Colours of each frame's palette, in ``[2, 256]``.

    Returns
    -------
    str
        The HTML fragment.
    """
    T_values = list(T_values)
    if not T_values or any(b <= a for a, b in zip(T_values, T_values[1:])):
        raise ValueError(f"T_values must be a non-empty increasing sequence, got {T_values}")
    reserve = T_values[-1]

    def draw(T, kind, highlight):
        return _widget_figure(T, kind, True, highlight, reserve)

    return frame_slider(
        draw, {"T": T_values, "kind": kinds, "highlight": highlights},
        labels={"T": "steps T", "kind": "kind of task", "highlight": "highlight"},
        alt=("The unrolled graph for the chosen number of steps, kind of task and "
             "highlight: a chain of hidden states h_0 to h_T, with an input below the "
             "steps that read one and an output and its loss above the steps that have "
             "one. With W_hh highlighted, the arrows from each state to the next are "
             "thick and every other arrow is faded."),
        initial=initial, dpi=dpi, colors=colors)
