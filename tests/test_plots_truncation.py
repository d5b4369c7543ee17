"""Tests of bptt.plots.truncation: the grid of which steps each loss reaches."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bptt.plots.truncation import (draw_truncation_reach, plot_truncation_reach,  # noqa: E402
                                   truncation_reach_widget)
from test_truncation import expected_reach  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# --- the grid ---------------------------------------------------------------------------


@pytest.mark.parametrize("T,k", [(12, 4), (7, 3), (5, None), (6, 6), (1, 1)])
def test_plot_truncation_reach_one_cell_per_pair_and_the_depths(T, k):
    reach = expected_reach(T, k)
    fig = plot_truncation_reach(reach, k=k)
    ax = fig.axes[0]
    reached = [p for p in ax.patches if p.get_gid() == "reached"]
    dropped = [p for p in ax.patches if p.get_gid() == "dropped"]
    assert len(reached) == reach.sum()
    assert len(dropped) == T * (T + 1) // 2 - reach.sum()     # the rest of full BPTT
    # Each reached cell sits at (s, t) of a true entry.
    cells = {(round(p.get_x() + 0.5), round(p.get_y() + 0.5)) for p in reached}
    assert cells == {(s + 1, t + 1) for t, s in zip(*np.nonzero(reach))}
    depths = [int(txt.get_text()) for txt in ax.texts if txt.get_gid() == "depth"]
    assert depths == list(reach.sum(axis=1))
    dashed = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    n_cuts = 0 if k is None or k >= T else len(range(k, T, k))
    assert len(dashed) == 2 * n_cuts
    title = ax.get_title()
    assert (f"BPTT({k}; {k})" in title) == (k is not None and k < T)
    assert f"T = {T}" in title and ax.get_xlabel() and ax.get_ylabel()


def test_plot_truncation_reach_value_error():
    with pytest.raises(ValueError, match="must be a boolean array of shape"):
        plot_truncation_reach(np.ones((3, 3)))
    with pytest.raises(ValueError, match="must be a boolean array of shape"):
        plot_truncation_reach(np.ones((2, 3), dtype=bool))


def test_plot_truncation_reach_type_error():
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        plot_truncation_reach(np.ones((2, 2), dtype=bool), ax="axes")


def test_draw_truncation_reach_draws_the_measured_reach():
    fig = draw_truncation_reach(3, 8, seed=2)
    reached = [p for p in fig.axes[0].patches if p.get_gid() == "reached"]
    assert len(reached) == expected_reach(8, 3).sum()


def test_truncation_widget_has_a_k_slider_over_1_to_T():
    import ipywidgets as widgets

    w = truncation_reach_widget(T=9)
    assert isinstance(w, widgets.interactive)
    (slider,) = [c for c in w.children if isinstance(c, widgets.IntSlider)]
    assert (slider.min, slider.max, slider.value, slider.description) == (1, 9, 4, "k")
    assert truncation_reach_widget(T=2).children[0].value == 2
