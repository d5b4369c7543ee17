"""Tests of bptt.plots.graph: the graph of the unrolled RNN, as data.

The graph is checked against the computation it claims to describe: an input
x_s (or h_0) has a path to an output y_t in the graph exactly when perturbing
it changes y_t in ``bptt.rnn_forward``.
"""
from __future__ import annotations

import numpy as np
import pytest

from bptt import init_rnn, rnn_forward
from bptt.plots.graph import KINDS, unrolled_graph


# Which steps have an input and which an output, written out by hand for T = 5
# (and T = 4 for the uneven split of the encoder-decoder).
HAND = {
    ("many-to-many", 5): ({1, 2, 3, 4, 5}, {1, 2, 3, 4, 5}),
    ("many-to-one", 5): ({1, 2, 3, 4, 5}, {5}),
    ("one-to-many", 5): ({1}, {1, 2, 3, 4, 5}),
    ("encoder-decoder", 5): ({1, 2, 3}, {4, 5}),
    ("encoder-decoder", 4): ({1, 2}, {3, 4}),
    ("many-to-many", 1): ({1}, {1}),
    ("many-to-one", 1): ({1}, {1}),
    ("one-to-many", 1): ({1}, {1}),
}


def cases(Ts=(1, 2, 5)):
    return [(T, k) for T in Ts for k in KINDS if not (k == "encoder-decoder" and T < 2)]


def steps(nodes, role):
    return {n.t for n in nodes if n.role == role}


def reachable(edges, start):
    """Names of the nodes reachable from ``start`` along the edges."""
    succ = {}
    for e in edges:
        succ.setdefault(e.src.name, []).append(e.dst.name)
    seen, todo = set(), [start]
    while todo:
        for nxt in succ.get(todo.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


# ------------------------------------------------------------ the graph itself

@pytest.mark.parametrize("kind, T", list(HAND))
def test_inputs_and_outputs_match_the_hand_table(kind, T):
    nodes, _ = unrolled_graph(T, kind)
    ins, outs = HAND[kind, T]
    assert steps(nodes, "x") == ins
    assert steps(nodes, "y") == outs
    assert steps(nodes, "L") == outs
    assert steps(nodes, "h") == set(range(T + 1))


@pytest.mark.parametrize("T, kind", cases())
@pytest.mark.parametrize("show_loss", [True, False])
def test_edges_are_the_rnn_equations(T, kind, show_loss):
    nodes, edges = unrolled_graph(T, kind, show_loss=show_loss)
    names = {n.name for n in nodes}
    assert len(names) == len(nodes), "duplicate nodes"
    assert all(e.src.name in names and e.dst.name in names for e in edges)
    by_weight = {w: [(e.src.name, e.dst.name) for e in edges if e.weight == w]
                 for w in ("W_xh", "W_hh", "W_hy", None)}
    # a_t = W_hh h_{t-1} + W_xh x_t + b_h: one W_hh edge per step, a W_xh edge per input.
    assert by_weight["W_hh"] == [(f"h{t - 1}", f"h{t}") for t in range(1, T + 1)]
    assert sorted(by_weight["W_xh"]) == sorted((f"x{t}", f"h{t}") for t in steps(nodes, "x"))
    assert sorted(by_weight["W_hy"]) == sorted((f"h{t}", f"y{t}") for t in steps(nodes, "y"))
    want_loss = [(f"y{t}", f"L{t}") for t in sorted(steps(nodes, "y"))] if show_loss else []
    assert sorted(by_weight[None]) == want_loss
    assert not steps(nodes, "L") or show_loss


@pytest.mark.parametrize("T, kind", cases(Ts=(2, 4)))
def test_paths_in_the_graph_are_the_dependencies_of_rnn_forward(T, kind):
    """x_s -> ... -> y_t in the graph  <=>  y_t changes when x_s does, in rnn_forward."""
    nodes, edges = unrolled_graph(T, kind)
    ins, outs = steps(nodes, "x"), steps(nodes, "y")
    D, H, O = 2, 3, 2
    params = init_rnn(D, H, O, seed=3)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((T, 1, D))
    x[[t - 1 for t in range(1, T + 1) if t not in ins]] = 0.0   # no input: x_t = 0
    h0 = rng.standard_normal((1, H))
    y, _ = rnn_forward(params, x, h0)
    sources = {f"x{s}": ("x", s) for s in ins} | {"h0": ("h0", 0)}
    for name, (what, s) in sources.items():
        x2, h02 = x.copy(), h0.copy()
        if what == "x":
            x2[s - 1] += 0.5
        else:
            h02 += 0.5
        changed = np.any(np.abs(rnn_forward(params, x2, h02)[0] - y) > 1e-12, axis=(1, 2))
        reach = reachable(edges, name)
        for t in outs:
            assert (f"y{t}" in reach) == bool(changed[t - 1]), (name, t)


@pytest.mark.parametrize("kind, T", [("one-to-many", 4), ("encoder-decoder", 5)])
def test_output_feedback_enters_the_next_step_through_W_xh(kind, T):
    nodes, edges = unrolled_graph(T, kind, output_feedback=True)
    ins, outs = steps(nodes, "x"), steps(nodes, "y")
    fb = sorted((e.src.name, e.dst.name, e.weight) for e in edges if e.feedback)
    want = sorted((f"y{t}", f"h{t + 1}", "W_xh") for t in outs if t < T and t + 1 not in ins)
    assert fb == want and fb, fb
    # Without feedback the same graph has none of these edges.
    assert not any(e.feedback for e in unrolled_graph(T, kind)[1])


def test_unrolled_graph_errors():
    with pytest.raises(ValueError, match="kind must be one of"):
        unrolled_graph(3, "one-to-one")
    with pytest.raises(TypeError, match="show_loss must be True or False"):
        unrolled_graph(3, show_loss=1)
