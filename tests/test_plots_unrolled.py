"""Tests of bptt.plots.unrolled: the figures of the unrolled graph, its widget and frames.

Every node and edge of ``bptt.plots.graph.unrolled_graph`` (tested in
``test_plots_graph.py``) must be drawn once; the figures are checked through
the gids every drawn patch and text carries.
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
from PIL import Image  # noqa: E402

from bptt.plots.graph import KINDS, unrolled_graph  # noqa: E402
from bptt.plots.unrolled import (_boundary, _widget_figure, draw_graph_kinds,  # noqa: E402
                                 draw_unrolled_graph, unrolled_graph_frames,
                                 unrolled_graph_widget)
from test_plots_graph import cases  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def gids(ax, prefix):
    arts = list(ax.patches) + list(ax.texts)
    return [a.get_gid() for a in arts if (a.get_gid() or "").startswith(prefix)]


def artist(ax, gid):
    found = [a for a in list(ax.patches) + list(ax.texts) if a.get_gid() == gid]
    assert len(found) == 1, f"{len(found)} artists with gid {gid!r}"
    return found[0]


# ------------------------------------------------------------------ drawing

def test_drawing_errors():
    with pytest.raises(ValueError, match="highlight must be one of"):
        draw_unrolled_graph(3, highlight="W_yh")
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        draw_unrolled_graph(3, ax="left")


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


def test_frames_refuse_values_out_of_order():
    with pytest.raises(ValueError, match="non-empty increasing"):
        unrolled_graph_frames(T_values=[3, 2])


def test_all_kinds_and_highlights_draw_without_error():
    for kind, hl in itertools.product(KINDS, (None, "W_xh", "W_hh", "W_hy", "memory")):
        fig = draw_unrolled_graph(3, kind, highlight=hl,
                                  output_feedback=kind in ("one-to-many", "encoder-decoder"))
        assert fig.axes[0].patches
        plt.close(fig)
