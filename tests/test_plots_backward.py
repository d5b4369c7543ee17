"""Tests of bptt.plots.backward: what each figure draws.

The curves of the norm of dL/dh_t must be exactly the numbers of the core
function that computes them, ``bptt.dynamics.lag_norm_experiment`` (tested
against autograd in ``test_dynamics.py``), and obey the bound of the chapter,
``||hbar_{T-tau}|| <= ||W_hh||_2^tau ||hbar_T||``.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch  # noqa: E402

from bptt.dynamics import lag_norm_experiment  # noqa: E402
from bptt.plots.backward import (DEFAULT_RADII, INPUT_SCALE, NORM_YLIM,  # noqa: E402
                                 draw_backward_step, draw_hbar_norms, draw_truncation_reach,
                                 hbar_norms_widget, plot_hbar_norms, plot_rel_errors,
                                 plot_truncation_reach, truncation_reach,
                                 truncation_reach_widget)

SMALL = dict(H=5, D=3, B=2)       # every size different, and fast


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def experiment_norms(radius, T, input_scale=INPUT_SCALE, seed=0):
    """The core's norms of dL/dh_{T-tau} by lag, for the SMALL problem."""
    return lag_norm_experiment(radius, input_scale, T=T, seed=seed, **SMALL)["norm"]


def sci(value):
    """The mantissa and exponent a title should show, computed with the math module."""
    import math
    exponent = math.floor(math.log10(value))
    mantissa = value / 10 ** exponent
    if round(mantissa, 1) >= 10:       # 9.96 -> 1.0 x 10^(e+1)
        mantissa, exponent = mantissa / 10, exponent + 1
    return f"{mantissa:.1f}", exponent


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


@pytest.mark.parametrize("errors,exc,match", [
    ({}, TypeError, "non-empty dict"),
    ([0.1], TypeError, "non-empty dict"),
    ({"x": 1.5}, ValueError, r"in \[0, 1\]"),
    ({"x": -1e-3}, ValueError, r"in \[0, 1\]"),
    ({"x": float("nan")}, ValueError, r"in \[0, 1\]"),
    ({1: 0.1}, TypeError, "str keys"),
])
def test_rel_errors_rejects_bad_input(errors, exc, match):
    with pytest.raises(exc, match=match):
        plot_rel_errors(errors)


def test_rel_errors_rejects_a_bad_tolerance():
    with pytest.raises(ValueError, match="tol must be a finite number > 0"):
        plot_rel_errors({"x": 0.1}, tol=0.0)


# --- plot_hbar_norms ------------------------------------------------------------------


@pytest.mark.parametrize("radii", [(0.5,), DEFAULT_RADII, (1.0, 0.7)])
def test_plot_hbar_norms_one_normalised_line_per_radius(radii):
    norms = {r: experiment_norms(r, 8 + i) for i, r in enumerate(radii)}
    fig = plot_hbar_norms(norms)
    ax = fig.axes[0]
    lines = [ln for ln in ax.get_lines() if ln.get_linestyle() == "-"]
    assert len(lines) == len(radii)
    for line, (r, n) in zip(lines, norms.items()):
        # x is the lag, 0 at the loss; y the norm relative to the one at h_T.
        np.testing.assert_array_equal(line.get_xdata(), np.arange(len(n)))
        np.testing.assert_allclose(line.get_ydata(), n / n[0], rtol=1e-15)
        assert line.get_ydata()[0] == 1.0
        # Radii below 1 in blues (blue channel largest), the others in reds.
        rgb = to_rgba(line.get_color())[:3]
        assert (rgb[2] > rgb[0]) == (r < 1)
        assert f"{r:g}" in line.get_label()
    assert ax.get_yscale() == "log"
    ticks = np.log10(ax.get_yticks())
    np.testing.assert_array_equal(ticks, np.round(ticks))
    assert 0 in ticks and len(ticks) <= 8
    # Every curve fits in the axis: the ticks did not cut the limits short.
    low, high = ax.get_ylim()
    assert all(low <= np.min(n / n[0]) and np.max(n / n[0]) <= high for n in norms.values())
    assert "T - t" in ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    assert len(ax.get_legend().get_texts()) == len(radii)


def test_plot_hbar_norms_draws_into_a_given_axes_with_limits_and_title():
    fig, ax = plt.subplots()
    out = plot_hbar_norms({0.9: experiment_norms(0.9, 5)}, ax=ax, ylim=(1e-6, 10.0),
                          title="mine")
    assert out is fig
    assert ax.get_ylim() == pytest.approx((1e-6, 10.0)) and ax.get_title() == "mine"


@pytest.mark.parametrize("norms,exc,match", [
    ({}, TypeError, "non-empty dict"),
    ({0.5: np.array([1.0, 0.0, 1.0])}, ValueError, "must be > 0"),
    ({0.5: np.array([1.0])}, ValueError, "at least 2 entries"),
    ({0.5: np.ones((2, 2))}, ValueError, "1 dimensions"),
    ({-1.0: np.ones(3)}, ValueError, "finite number > 0"),
    ({0.5: [1.0, 2.0]}, TypeError, "numpy array"),
])
def test_plot_hbar_norms_rejects_bad_input(norms, exc, match):
    with pytest.raises(exc, match=match):
        plot_hbar_norms(norms)


# --- draw_hbar_norms (the widget's callback) and the widget ------------------------------------


@pytest.mark.parametrize("radius", [0.4, 1.0, 2.2])
@pytest.mark.parametrize("T", [1, 7, 15])
@pytest.mark.parametrize("input_scale", [INPUT_SCALE, 2.0])
def test_widget_callback_draws_the_core_norms_on_fixed_limits(radius, T, input_scale):
    fig = draw_hbar_norms(radius, T, input_scale=input_scale, seed=1, **SMALL)
    ax = fig.axes[0]
    (line,) = [ln for ln in ax.get_lines() if ln.get_linestyle() == "-"]
    expected = experiment_norms(radius, T, input_scale, seed=1)
    np.testing.assert_allclose(line.get_ydata(), expected / expected[0], rtol=1e-12)
    np.testing.assert_array_equal(line.get_xdata(), np.arange(T + 1))
    # The bound ||hbar_{T-tau}|| <= ||W_hh||_2^tau ||hbar_T|| holds sequence by sequence,
    # hence for their geometric mean: a curve above it would be drawn wrong.
    sigma = lag_norm_experiment(radius, input_scale, T=T, seed=1, **SMALL)["sigma_max"]
    assert np.all(line.get_ydata() <= sigma ** np.arange(T + 1) * (1 + 1e-12))
    assert ax.get_ylim() == pytest.approx(NORM_YLIM)
    # Ticks at powers of ten, 1 among them, few enough to read.
    ticks = np.log10(ax.get_yticks())
    np.testing.assert_array_equal(ticks, np.round(ticks))
    assert 0 in ticks and len(ticks) <= 8
    mantissa, exponent = sci(expected[-1] / expected[0])
    assert rf"{mantissa} \times 10^{{{exponent}}}" in ax.get_title()
    assert f"T = {T}" in ax.get_title()


def test_widget_callback_depends_on_the_input_scale():
    small = draw_hbar_norms(1.5, 10, input_scale=0.05, **SMALL).axes[0].get_lines()[0]
    large = draw_hbar_norms(1.5, 10, input_scale=5.0, **SMALL).axes[0].get_lines()[0]
    # Larger inputs saturate the tanh, so the gradient that reaches h_0 is smaller.
    assert large.get_ydata()[-1] < small.get_ydata()[-1]


def test_widget_has_the_two_sliders_and_checks_its_ranges():
    import ipywidgets as widgets

    w = hbar_norms_widget(radius_range=(0.2, 2.0, 0.2), T_range=(4, 20, 4), **SMALL)
    assert isinstance(w, widgets.interactive)
    sliders = {c.description: c for c in w.children if isinstance(c, widgets.widgets.ValueWidget)
               and c.description}
    assert (sliders["radius"].min, sliders["radius"].max) == (0.2, 2.0)
    assert (sliders["T"].min, sliders["T"].max, sliders["T"].step) == (4, 20, 4)
    assert sliders["radius"].value == pytest.approx(0.9)
    assert 4 <= sliders["T"].value <= 20 and (sliders["T"].value - 4) % 4 == 0
    with pytest.raises(ValueError, match="min <= max"):
        hbar_norms_widget(radius_range=(2.0, 1.0, 0.1))
    with pytest.raises(ValueError, match=r"T_range\[0\] must be >= 1"):
        hbar_norms_widget(T_range=(0, 10, 1))


# --- the reach of truncated BPTT ----------------------------------------------------------


def expected_reach(T, k):
    """BPTT(k; k): the loss at step t reaches back to the first step of its chunk."""
    reach = np.zeros((T, T), dtype=bool)
    for t in range(1, T + 1):
        first = 1 if k is None else k * ((t - 1) // k) + 1
        reach[t - 1, first - 1:t] = True
    return reach


@pytest.mark.parametrize("T", [1, 2, 7, 12])
@pytest.mark.parametrize("k", [None, 1, 2, 3, 5, 12, 20])
@pytest.mark.parametrize("seed", [0, 3])
def test_truncation_reach_is_bptt_k_k(T, k, seed):
    reach = truncation_reach(T, k, seed=seed)
    assert reach.dtype == bool and reach.shape == (T, T)
    np.testing.assert_array_equal(reach, expected_reach(T, k))
    # The depth of step t: ((t-1) mod k) + 1 steps, 1 at a chunk's start, k at its end.
    depth = reach.sum(axis=1)
    t = np.arange(1, T + 1)
    np.testing.assert_array_equal(depth, t if k is None else (t - 1) % k + 1)


def test_truncation_reach_rejects_bad_arguments():
    with pytest.raises(ValueError, match="T must be"):
        truncation_reach(0, 2)
    with pytest.raises(ValueError, match="k must be"):
        truncation_reach(5, 0)


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


@pytest.mark.parametrize("reach,exc,match", [
    (np.ones((3, 3)), TypeError, "boolean"),
    ([[True]], TypeError, "boolean"),
    (np.ones((2, 3), dtype=bool), ValueError, r"shape \(T, T\)"),
    (np.ones(3, dtype=bool), ValueError, r"shape \(T, T\)"),
])
def test_plot_truncation_reach_rejects_bad_input(reach, exc, match):
    with pytest.raises(exc, match=match):
        plot_truncation_reach(reach)


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
