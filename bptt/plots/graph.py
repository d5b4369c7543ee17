r"""The graph of an RNN unrolled over ``T`` steps, as plain data (no matplotlib).

The graph has one node per quantity of the forward pass, :math:`x_t`,
:math:`h_t`, :math:`y_t` and the losses :math:`L_t`, and one edge per use of a
parameter: :math:`W_{xh}` carries :math:`x_t` into :math:`h_t`, :math:`W_{hh}`
carries :math:`h_{t-1}` into :math:`h_t` and :math:`W_{hy}` carries
:math:`h_t` into :math:`y_t`. :func:`unrolled_graph` builds it: what the
figures of :mod:`bptt.plots.unrolled` draw, and what the tests check against
:func:`bptt.rnn.rnn_forward`. The kinds of graph are

``"many-to-many"``
    an input and a loss at every step (e.g. next-character prediction);
``"many-to-one"``
    an input at every step, one output and loss at step ``T`` (e.g.
    classifying a sequence, the adding problem);
``"one-to-many"``
    one input at step 1, an output and loss at every step (e.g. generating a
    sequence from one vector);
``"encoder-decoder"``
    inputs at steps ``1 .. ceil(T/2)``, outputs and losses at the remaining
    steps (e.g. the copy task). Drawn here with *one* set of weights reading
    and then writing; the encoder-decoder of Cho et al. (2014) uses two RNNs.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..validate import check_flag, check_positive_int

__all__ = ["KINDS", "Node", "Edge", "unrolled_graph"]

#: The graph shapes :func:`unrolled_graph` knows.
KINDS = ("many-to-many", "many-to-one", "one-to-many", "encoder-decoder")

# Where a node sits, in data units (the figures keep an equal aspect).
DX = 1.5                                           # distance between steps
ROW = {"x": 0.0, "h": 1.4, "y": 2.8, "L": 4.0}     # height of each kind of node


@dataclass(frozen=True)
class Node:
    """A node of the unrolled graph.

    Attributes
    ----------
    role : str
        ``"x"``, ``"h"``, ``"y"`` or ``"L"``.
    t : int
        The step: 1..T, or 0 for :math:`h_0`.
    """

    role: str
    t: int

    @property
    def name(self) -> str:
        """Short identifier such as ``"h3"``."""
        return f"{self.role}{self.t}"

    @property
    def label(self) -> str:
        """The mathtext label, e.g. ``$h_{3}$``."""
        return f"${self.role}_{{{self.t}}}$"

    @property
    def xy(self) -> tuple[float, float]:
        """Centre of the node in data coordinates."""
        return (self.t * DX, ROW[self.role])


@dataclass(frozen=True)
class Edge:
    """A directed edge ``src -> dst`` of the unrolled graph.

    Attributes
    ----------
    src, dst : Node
    weight : str or None
        The parameter matrix the edge multiplies by (``"W_xh"``, ``"W_hh"``,
        ``"W_hy"``), or None for the edge from an output to its loss.
    feedback : bool
        True for an output fed back as the next step's input (it then enters
        through :math:`W_{xh}`).
    """

    src: Node
    dst: Node
    weight: str | None
    feedback: bool = False


def check_kind(kind) -> str:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {list(KINDS)}, got {kind!r}")
    return kind


def _input_output_steps(T: int, kind: str) -> tuple[list[int], list[int]]:
    """The steps that have an input x_t and the steps that have an output y_t."""
    every = list(range(1, T + 1))
    if kind == "many-to-many":
        return every, every
    if kind == "many-to-one":
        return every, [T]
    if kind == "one-to-many":
        return [1], every
    n_in = (T + 1) // 2            # encoder-decoder: read the first half, write the rest
    return every[:n_in], every[n_in:]


def unrolled_graph(T: int, kind: str = "many-to-many", show_loss: bool = True,
                   output_feedback: bool = False) -> tuple[list[Node], list[Edge]]:
    r"""The nodes and edges of an RNN unrolled over ``T`` steps.

    Parameters
    ----------
    T : int
        Number of steps, >= 1 (>= 2 for ``"encoder-decoder"``).
    kind : str
        One of :data:`KINDS`: which steps have an input and which an output.
    show_loss : bool
        Include a loss node :math:`L_t` after every output :math:`y_t`.
    output_feedback : bool
        Feed each output :math:`y_t` back as the input of step ``t+1`` wherever
        that step has no input of its own (generation). Only for
        ``"one-to-many"`` and ``"encoder-decoder"``, whose later steps have no input.

    Returns
    -------
    nodes : list of Node
        :math:`h_0, \dots, h_T` (always), then :math:`x_t`, :math:`y_t` and
        :math:`L_t` for the steps that have them.
    edges : list of Edge
        :math:`h_{t-1} \to h_t` (``W_hh``) for every t; :math:`x_t \to h_t`
        (``W_xh``); :math:`h_t \to y_t` (``W_hy``); :math:`y_t \to L_t`
        (no weight); and, with ``output_feedback``, :math:`y_t \to h_{t+1}`
        (``W_xh``, ``feedback=True``).

    Notes
    -----
    The graph is that of :math:`a_t = W_{hh} h_{t-1} + W_{xh} x_t + b_h`,
    :math:`h_t = \tanh(a_t)`, :math:`y_t = W_{hy} h_t + b_y`: a step without
    an input is one with :math:`x_t = 0`, which adds nothing to :math:`a_t`.
    """
    T = check_positive_int("T", T)
    kind = check_kind(kind)
    show_loss = check_flag("show_loss", show_loss)
    output_feedback = check_flag("output_feedback", output_feedback)
    if kind == "encoder-decoder" and T < 2:
        raise ValueError(f"T must be >= 2 for kind='encoder-decoder' (steps to read and "
                         f"steps to write), got {T}")
    if output_feedback and kind not in ("one-to-many", "encoder-decoder"):
        raise ValueError("output_feedback needs steps without an input, so kind must be "
                         f"'one-to-many' or 'encoder-decoder', got {kind!r}")
    ins, outs = _input_output_steps(T, kind)

    h = [Node("h", t) for t in range(T + 1)]
    xs = {t: Node("x", t) for t in ins}
    ys = {t: Node("y", t) for t in outs}
    losses = {t: Node("L", t) for t in outs} if show_loss else {}
    nodes = h + list(xs.values()) + list(ys.values()) + list(losses.values())

    edges = [Edge(h[t - 1], h[t], "W_hh") for t in range(1, T + 1)]
    edges += [Edge(xs[t], h[t], "W_xh") for t in ins]
    edges += [Edge(h[t], ys[t], "W_hy") for t in outs]
    edges += [Edge(ys[t], losses[t], None) for t in losses]
    if output_feedback:
        # y_t becomes x_{t+1}: it enters step t+1 through W_xh, like any input.
        edges += [Edge(ys[t], h[t + 1], "W_xh", feedback=True)
                  for t in outs if t < T and t + 1 not in xs]
    return nodes, edges
