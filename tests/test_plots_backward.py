"""Tests of bptt.plots.backward: the backward step on the graph and the gradient check's bars."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch  # noqa: E402

from bptt.plots.backward import draw_backward_step, plot_rel_errors  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# --- draw_backward_step ---------------------------------------------------------------


def test_backward_step_draws_the_graph_and_the_four_backward_edges():
    fig = draw_backward_step()
    ax = fig.axes[0]
    nodes = {p.get_gid() for p in ax.patches if isinstance(p, Circle)}
    assert nodes == {f"node:{n}" for n in ("h_prev", "a_t", "h_t", "y_t", "L_t", "a_next",
                                           "h_next")}
    back = {p.get_gid() for p in ax.patches
            if isinstance(p, FancyArrowPatch) and str(p.get_gid()).startswith("back:")}
    assert back == {"back:y_t->h_t", "back:a_next->h_t", "back:h_t->a_t", "back:a_t->h_prev"}
    labels = {t.get_gid(): t.get_text() for t in ax.texts if t.get_gid()}
    # What flows back along each edge: the two terms of hbar_t, the tanh' of step t, W_hh^T delta_t.
    assert r"W_{hy}^{\top}" in labels["backlabel:y_t->h_t"]
    assert r"\delta_{t+1}" in labels["backlabel:a_next->h_t"]
    assert "1 - h_t" in labels["backlabel:h_t->a_t"]            # h_t, not h_{t+1}
    assert r"\delta_t" in labels["backlabel:a_t->h_prev"]
    assert labels["grad:h_t"] == r"$\bar h_t$" and labels["grad:a_t"] == r"$\delta_t$"
    assert ax.get_title()


def test_backward_step_draws_into_a_given_axes_and_rejects_other_objects():
    fig, ax = plt.subplots()
    assert draw_backward_step(ax) is fig
    assert len(ax.patches) >= 7
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        draw_backward_step(ax="not an axes")


# --- plot_rel_errors ----------------------------------------------------------------


@pytest.mark.parametrize("errors", [
    {"only": 0.5},
    {"correct": 3e-11, "wrong": 0.3},
    {"a": 1e-9, "b": 0.02, "c": 1.0, "zero": 0.0, "e": 2e-8},
])
@pytest.mark.parametrize("tol", [1e-7, 1e-3])
def test_rel_errors_one_bar_per_entry_with_its_value_and_colour(errors, tol):
    fig = plot_rel_errors(errors, tol=tol)
    ax = fig.axes[0]
    bars = ax.patches
    assert len(bars) == len(errors)
    floor = min(1e-16, tol / 10)
    # Top to bottom in the given order: the first entry has the largest y.
    order = np.argsort([-b.get_y() for b in bars])
    for bar, (name, value) in zip(np.array(bars)[order], errors.items()):
        assert bar.get_x() + bar.get_width() == pytest.approx(max(value, floor), rel=1e-12)
        expected = "tab:green" if value <= tol else "tab:red"
        assert bar.get_facecolor() == pytest.approx(to_rgba(expected))
    assert [t.get_text() for t in ax.get_yticklabels()] == list(errors)
    assert ax.get_xscale() == "log"
    tol_lines = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert len(tol_lines) == 1 and tol_lines[0].get_xdata()[0] == tol
    values = [t for t in ax.texts if t.get_gid() == "value"]
    assert len(values) == len(errors)
    assert ax.get_xlabel() and ax.get_title()


def test_rel_errors_type_error():
    with pytest.raises(TypeError, match="non-empty dict"):
        plot_rel_errors([0.1])


def test_rel_errors_value_error():
    with pytest.raises(ValueError, match="must hold relative errors in"):
        plot_rel_errors({"x": 1.5})
