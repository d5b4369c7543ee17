"""Tests of bptt.plots.unrolled: the graph of the unrolled RNN and its figures.

The graph is checked against the computation it claims to describe: an input
x_s (or h_0) has a path to an output y_t in the drawn graph exactly when
perturbing it changes y_t in ``bptt.rnn_forward``. The figures are checked
through the gids every drawn patch and text carries.
"""
from __future__ import annotations

import base64
import io
import itertools
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from PIL import Image  # noqa: E402

from bptt import init_rnn, rnn_forward  # noqa: E402
from bptt.plots.unrolled import (KINDS, _boundary, _widget_figure,  # noqa: E402
                                 draw_graph_kinds, draw_unrolled_graph, plot_memory,
                                 unrolled_graph, unrolled_graph_frames, unrolled_graph_widget)

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


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


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


def gids(ax, prefix):
    arts = list(ax.patches) + list(ax.texts)
    return [a.get_gid() for a in arts if (a.get_gid() or "").startswith(prefix)]


def artist(ax, gid):
    found = [a for a in list(ax.patches) + list(ax.texts) if a.get_gid() == gid]
    assert len(found) == 1, f"{len(found)} artists with gid {gid!r}"
    return found[0]


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


@pytest.mark.parametrize("call, exc, match", [
    (lambda: unrolled_graph(0), ValueError, "T must be >= 1, got 0"),
    (lambda: unrolled_graph(2.0), TypeError, "T must be a positive int"),
    (lambda: unrolled_graph(3, "one-to-one"), ValueError, "kind must be one of .*'one-to-one'"),
    (lambda: unrolled_graph(1, "encoder-decoder"), ValueError, "T must be >= 2 for kind"),
    (lambda: unrolled_graph(3, show_loss=1), TypeError, "show_loss must be True or False"),
    (lambda: unrolled_graph(3, "many-to-many", output_feedback=True), ValueError,
     "output_feedback .* got 'many-to-many'"),
    (lambda: draw_unrolled_graph(3, highlight="W_yh"), ValueError, "highlight must be one of"),
    (lambda: draw_unrolled_graph(3, ax="left"), TypeError, "ax must be a matplotlib Axes"),
    (lambda: draw_unrolled_graph(4, reserve_steps=3), ValueError,
     "reserve_steps must be >= T = 4, got 3"),
    (lambda: draw_unrolled_graph(3, show_folded="yes"), TypeError, "show_folded must be True"),
    (lambda: draw_graph_kinds(3, kinds="many-to-one"), ValueError, "kinds must be a non-empty"),
    (lambda: draw_graph_kinds(3, kinds=["many"]), ValueError, "kind must be one of"),
    (lambda: unrolled_graph_widget(1), ValueError, "T_max must be >= 2, got 1"),
])
def test_bad_arguments_are_refused(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ------------------------------------------------------------------ drawing

@pytest.mark.parametrize("T, kind", cases(Ts=(1, 3, 6)))
@pytest.mark.parametrize("show_loss, show_folded", [(True, True), (False, False)])
def test_every_node_and_edge_is_drawn_once_with_its_label(T, kind, show_loss, show_folded):
    fig = draw_unrolled_graph(T, kind, show_loss=show_loss, show_folded=show_folded)
    ax = fig.axes[0]
    nodes, edges = unrolled_graph(T, kind, show_loss=show_loss)
    for n in nodes:
        gid = f"node:{n.role}:{n.t}"
        artist(ax, gid)
        assert artist(ax, gid + ":label").get_text() == f"${n.role}_{{{n.t}}}$"
    assert len([g for g in gids(ax, "node:") if not g.endswith(":label")]) == len(nodes)
    arrows = [g for g in gids(ax, "edge:") if not g.endswith(":label")]
    assert len(arrows) == len(edges)
    tex = {"W_xh": "$W_{xh}$", "W_hh": "$W_{hh}$", "W_hy": "$W_{hy}$"}
    for e in edges:
        name = e.weight or "None"
        artist(ax, f"edge:{name}:{e.dst.t}")
        if e.weight:
            assert artist(ax, f"edge:{name}:{e.dst.t}:label").get_text() == tex[e.weight]
    # the folded view is there exactly when asked for, with its W_hh loop and delay
    assert bool(gids(ax, "folded:")) == show_folded
    if show_folded:
        artist(ax, "folded:edge:W_hh")
        artist(ax, "folded:delay")
        assert bool(gids(ax, "folded:L")) == show_loss
    assert ax.get_title() == f"{kind}, unrolled over T = {T} step{'s' if T > 1 else ''}"
    assert not ax.axison


@pytest.mark.parametrize("weight", ["W_xh", "W_hh", "W_hy"])
def test_highlighting_a_matrix_marks_all_of_its_uses_and_only_them(weight):
    T = 4
    ax = draw_unrolled_graph(T, "many-to-many", highlight=weight).axes[0]
    _, edges = unrolled_graph(T, "many-to-many")
    widths = {e.weight: set() for e in edges}
    for e in edges:
        widths[e.weight].add(artist(ax, f"edge:{e.weight}:{e.dst.t}").get_linewidth())
    # one width for every use of the highlighted matrix, thicker than every other edge
    assert len(widths[weight]) == 1
    others = set().union(*(w for k, w in widths.items() if k != weight))
    assert min(widths[weight]) > max(others)
    lw_loop = artist(ax, "folded:edge:W_hh").get_linewidth()
    assert (lw_loop == max(widths[weight])) == (weight == "W_hh")


@pytest.mark.parametrize("T", [4])
@pytest.mark.parametrize("kind, feedback", [(k, False) for k in KINDS]
                         + [("one-to-many", True), ("encoder-decoder", True)])
def test_no_matrix_name_touches_an_arrow_or_another_name(kind, feedback, T):
    fig = draw_unrolled_graph(T, kind, output_feedback=feedback)
    ax = fig.axes[0]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    labels = [(t.get_gid(), t.get_window_extent(renderer)) for t in ax.texts
              if (t.get_gid() or "").startswith("edge:") and t.get_gid().endswith(":label")]
    assert labels
    for (g1, b1), (g2, b2) in itertools.combinations(labels, 2):
        assert not b1.overlaps(b2), (g1, g2)
    # every arrow is a straight segment between the boundaries of its two nodes
    _, edges = unrolled_graph(T, kind, output_feedback=feedback)
    for e in edges:
        start = _boundary(e.src.xy, e.src.role, e.dst.xy)
        end = _boundary(e.dst.xy, e.dst.role, e.src.xy)
        points = ax.transData.transform(np.linspace(start, end, 60))
        for gid, box in labels:
            assert not any(box.contains(*p) for p in points), (gid, e.src.name, e.dst.name)


def test_memory_highlight_outlines_exactly_x_and_h():
    T = 3
    ax = draw_unrolled_graph(T, "many-to-one", highlight="memory").axes[0]
    nodes, _ = unrolled_graph(T, "many-to-one")
    thick = {n.name for n in nodes
             if artist(ax, f"node:{n.role}:{n.t}").get_linewidth() > 2}
    assert thick == {f"h{t}" for t in range(T + 1)} | {f"x{t}" for t in range(1, T + 1)}
    assert "backward" in artist(ax, "memory-note").get_text()


def test_drawing_into_a_given_axes_returns_its_figure():
    fig, (a1, a2) = plt.subplots(1, 2)
    assert draw_unrolled_graph(2, ax=a2) is fig
    assert not a1.patches and a2.patches


@pytest.mark.parametrize("T", [2, 5])
def test_graph_kinds_one_panel_per_kind(T):
    fig = draw_graph_kinds(T)
    assert [ax.get_title() for ax in fig.axes] == list(KINDS)
    for kind, ax in zip(KINDS, fig.axes):
        nodes, _ = unrolled_graph(T, kind)
        assert len([g for g in gids(ax, "node:") if not g.endswith(":label")]) == len(nodes)
        assert not gids(ax, "folded:")


def test_graph_kinds_subset_in_one_row():
    fig = draw_graph_kinds(3, kinds=["many-to-one", "one-to-many"], ncols=3, show_loss=False)
    assert [ax.get_title() for ax in fig.axes] == ["many-to-one", "one-to-many"]
    assert not any(gids(ax, "node:L") for ax in fig.axes)


# ---------------------------------------------------- widget, its frames

def test_widget_redraws_the_graph_for_the_chosen_values(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda fig: shown.append(fig))
    w = unrolled_graph_widget(T_max=7)
    controls = {c.description: c for c in w.children[:-1]}
    assert (controls["T"].min, controls["T"].max) == (2, 7)
    assert list(controls["kind"].options) == list(KINDS)
    shown.clear()
    controls["T"].value = 6
    controls["kind"].value = "many-to-one"
    ax = shown[-1].axes[0]
    assert ax.get_title() == "many-to-one, unrolled over T = 6 steps"
    assert len(gids(ax, "node:y:")) == 2          # y_6 and its label only
    controls["highlight"].value = "memory"
    assert gids(shown[-1].axes[0], "memory-note")


def test_widget_draws_no_folded_view():
    """The widget's figure, and so every frame of its slider, is the unrolled graph alone."""
    ax = _widget_figure(3, "many-to-many", True, "none", 4).axes[0]
    assert not gids(ax, "folded:")
    assert gids(ax, "node:h:3")


def slider_data(html):
    """The JSON a frame slider embeds: sizes, labels and base64 frames."""
    import json
    found = re.search(r'<script type="application/json" class="bptt-frame-data">(.*?)</script>',
                      html, flags=re.S)
    return json.loads(found.group(1).replace("<\\/", "</"))


def test_frames_cover_every_combination_in_slider_order(monkeypatch):
    drawn = []
    real = _widget_figure

    def spy(T, kind, show_loss, highlight, reserve_steps):
        drawn.append((T, kind, show_loss, highlight, reserve_steps))
        return real(T, kind, show_loss, highlight, reserve_steps)

    monkeypatch.setattr("bptt.plots.unrolled._widget_figure", spy)
    html = unrolled_graph_frames([2, 3], ["many-to-one", "encoder-decoder"],
                                 ["none", "W_hh"], dpi=20, colors=8)
    data = slider_data(html)
    assert data["sizes"] == [2, 2, 2]
    assert data["labels"] == [["2", "3"], ["many-to-one", "encoder-decoder"], ["none", "W_hh"]]
    assert len(data["png"]) == 8
    # row-major over (T, kind, highlight), every frame laid out for the largest T
    assert drawn == [(T, k, True, hl, 3) for T in (2, 3)
                     for k in ("many-to-one", "encoder-decoder") for hl in ("none", "W_hh")]
    sizes = {Image.open(io.BytesIO(base64.b64decode(f))).size for f in data["png"]}
    assert len(sizes) == 1                     # the image does not jump between frames
    for label in ("steps T", "kind of task", "highlight"):
        assert f'aria-label="{label}"' in html
    assert 'alt="The unrolled graph' in html


def test_frames_show_the_graph_that_was_asked_for():
    html = unrolled_graph_frames([2, 4], ["many-to-many"], ["none"], dpi=30, colors=16)
    small, large = (Image.open(io.BytesIO(base64.b64decode(f))).convert("L")
                    for f in slider_data(html)["png"])
    assert small.size == large.size
    # below the title, in the right third: steps 3 and 4, drawn for T = 4 only
    w, h = small.size
    ink = [(np.asarray(im)[h // 5:, 2 * w // 3:] < 200).sum() for im in (small, large)]
    assert ink[0] == 0 and ink[1] > 50, ink


def test_frames_start_at_the_initial_values():
    html = unrolled_graph_frames([2, 3], ["many-to-many"], ["none", "W_hh"],
                                 initial={"T": 3, "highlight": "W_hh"}, dpi=20, colors=8)
    values = re.findall(r'<input class="bptt-slider"[^>]*value="(\d+)"', html)
    assert values == ["1", "0", "1"]
    data = slider_data(html)
    assert f'src="data:image/png;base64,{data["png"][3]}"' in html   # (T=3, W_hh)


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"initial": {"T": 9}}, ValueError, "is not one of"),
    ({"T_values": []}, ValueError, "non-empty increasing"),
    ({"T_values": [3, 2]}, ValueError, "non-empty increasing"),
    ({"T_values": [0, 2]}, ValueError, "T_values"),
    ({"T_values": [1, 2]}, ValueError, "encoder-decoder"),
    ({"kinds": ["one-to-one"]}, ValueError, "kind must be one of"),
    ({"highlights": [None]}, ValueError, "write 'none'"),
    ({"highlights": ["W_zz"]}, ValueError, "highlight must be one of"),
])
def test_frames_refuse_bad_values(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        unrolled_graph_frames(**kwargs)


# ------------------------------------------------------------- memory plot

def test_memory_plot_draws_the_given_numbers():
    T = np.array([1, 10, 100])
    h = (T + 1) * 2 * 3 * 8.0
    x = T * 2 * 4 * 8.0
    fig = plot_memory(T, {"h": h, "x": x}, 500.0, unit=1e3, unit_name="kB")
    ax = fig.axes[0]
    polys = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(polys) == 2
    # the top of the stack is the total, in the chosen unit
    top = polys[1].get_paths()[0].vertices
    for t, total in zip(T, (h + x) / 1e3):
        assert np.isclose(top[np.isclose(top[:, 0], t), 1].max(), total)
    (line,) = ax.lines
    np.testing.assert_allclose(line.get_ydata(), 0.5)
    assert ax.get_ylabel() == "memory (kB)" and ax.get_xlabel() == "number of steps T"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["h", "x", "parameters (any T)"]


@pytest.mark.parametrize("T, stored, pbytes, exc, match", [
    (np.array([1.0, 2.0]), {"h": np.ones(2)}, 1.0, ValueError, "T must be a 1-d integer"),
    (np.array([2, 1]), {"h": np.ones(2)}, 1.0, ValueError, "increasing"),
    (np.array([1, 2]), {}, 1.0, TypeError, "stored must be a non-empty dict"),
    (np.array([1, 2]), {"h": np.ones(3)}, 1.0, ValueError, r"stored\['h'\] must have shape"),
    (np.array([1, 2]), {"h": -np.ones(2)}, 1.0, ValueError, "finite byte counts"),
    (np.array([1, 2]), {"h": np.ones(2)}, np.nan, ValueError, "parameter_bytes must be"),
])
def test_memory_plot_refuses_bad_input(T, stored, pbytes, exc, match):
    with pytest.raises(exc, match=match):
        plot_memory(T, stored, pbytes)


def test_all_kinds_and_highlights_draw_without_error():
    for kind, hl in itertools.product(KINDS, (None, "W_xh", "W_hh", "W_hy", "memory")):
        fig = draw_unrolled_graph(3, kind, highlight=hl,
                                  output_feedback=kind in ("one-to-many", "encoder-decoder"))
        assert fig.axes[0].patches
        plt.close(fig)
