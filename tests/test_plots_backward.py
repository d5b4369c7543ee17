"""Tests of bptt.plots.backward: what each figure draws, checked against independent numbers.

The norms of dL/dh_t are recomputed with the autograd reference RNN of
``autograd_rnn.py`` (which never calls the package's backward pass), and the
spectral radius with ``numpy.linalg.eigvals``.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import autograd.numpy as anp  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.animation import FuncAnimation  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch  # noqa: E402

from autograd_rnn import as_args, autograd_dh  # noqa: E402
from bptt.plots.backward import (DEFAULT_RADII, NORM_YLIM, animate_hbar_norms,  # noqa: E402
                                 draw_backward_step, draw_hbar_norms, hbar_norms,
                                 hbar_norms_widget, plot_hbar_norms, plot_rel_errors,
                                 radius_problem)

SMALL = dict(H=5, D=3, O=2, B=2)       # every size different, and fast


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def reference_norms(params, x, target):
    """||dL/dh_t|| for t = 0..T by autograd, for the mean squared error at the last step."""
    T, B = x.shape[:2]
    O = target.shape[2]

    def loss(y):
        return anp.sum((y[-1] - target[-1]) ** 2) / (B * O)

    H = params["W_hh"].shape[0]
    dh = autograd_dh(as_args(params, x, np.zeros((B, H))), loss)
    return np.linalg.norm(dh.reshape(T + 1, -1), axis=1)


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


# --- radius_problem and hbar_norms -------------------------------------------------------


@pytest.mark.parametrize("radius", [0.3, 1.0, 2.5])
def test_radius_problem_has_the_requested_spectral_radius_and_shapes(radius):
    params, x, target = radius_problem(radius, 7, **SMALL)
    assert np.max(np.abs(np.linalg.eigvals(params["W_hh"]))) == pytest.approx(radius, rel=1e-10)
    assert x.shape == (7, SMALL["B"], SMALL["D"]) and target.shape == (7, SMALL["B"], SMALL["O"])
    assert params["W_hy"].shape == (SMALL["O"], SMALL["H"])


def test_radius_problem_inputs_of_a_shorter_sequence_are_a_prefix():
    _, x_long, t_long = radius_problem(0.9, 12, **SMALL)
    _, x_short, t_short = radius_problem(0.9, 5, **SMALL)
    np.testing.assert_array_equal(x_short, x_long[:5])
    np.testing.assert_array_equal(t_short, t_long[:5])


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(radius=0.0, T=5), ValueError, "radius must be a finite number > 0"),
    (dict(radius="1", T=5), TypeError, "radius must be a positive number"),
    (dict(radius=1.0, T=0), ValueError, "T must be >= 1"),
    (dict(radius=1.0, T=2.5), TypeError, "T must be a positive int"),
    (dict(radius=1.0, T=5, input_scale=-1.0), ValueError, "input_scale"),
])
def test_radius_problem_rejects_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        radius_problem(**kwargs)


@pytest.mark.parametrize("radius,T", [(0.5, 1), (0.9, 6), (2.0, 9)])
def test_hbar_norms_equal_autograd_total_derivatives(radius, T):
    params, x, target = radius_problem(radius, T, **SMALL)
    norms = hbar_norms(params, x, target)
    assert norms.shape == (T + 1,)
    np.testing.assert_allclose(norms, reference_norms(params, x, target), rtol=1e-10)


def test_hbar_norms_last_step_is_the_immediate_derivative():
    # With the loss on step T only, hbar_T = W_hy^T dL/dy_T, dL/dy_T = 2 (y_T - target_T) / (B O).
    params, x, target = radius_problem(1.2, 4, **SMALL)
    h = np.zeros((SMALL["B"], SMALL["H"]))
    for t in range(4):
        h = np.tanh(h @ params["W_hh"].T + x[t] @ params["W_xh"].T + params["b_h"])
    y_T = h @ params["W_hy"].T + params["b_y"]
    dy_T = 2 * (y_T - target[-1]) / (SMALL["B"] * SMALL["O"])
    assert hbar_norms(params, x, target)[-1] == pytest.approx(
        np.linalg.norm(dy_T @ params["W_hy"]), rel=1e-12)


# --- plot_hbar_norms, draw_hbar_norms ------------------------------------------------------


@pytest.mark.parametrize("radii", [(0.5,), DEFAULT_RADII, (1.0, 0.7)])
def test_plot_hbar_norms_one_normalised_line_per_radius(radii):
    norms = {r: hbar_norms(*radius_problem(r, 8 + i, **SMALL)) for i, r in enumerate(radii)}
    fig = plot_hbar_norms(norms)
    ax = fig.axes[0]
    lines = [ln for ln in ax.get_lines() if ln.get_linestyle() == "-"]
    assert len(lines) == len(radii)
    for line, (r, n) in zip(lines, norms.items()):
        T = len(n) - 1
        np.testing.assert_array_equal(line.get_xdata(), T - np.arange(T + 1))
        np.testing.assert_allclose(line.get_ydata(), n / n[-1], rtol=1e-15)
        # Contractive radii in blues (blue channel largest), expansive in reds.
        rgb = to_rgba(line.get_color())[:3]
        assert (rgb[2] > rgb[0]) == (r < 1)
        assert f"{r:g}" in line.get_label()
    assert ax.get_yscale() == "log"
    assert "T - t" in ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    assert len(ax.get_legend().get_texts()) == len(radii)


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


@pytest.mark.parametrize("radius", [0.4, 1.0, 2.2])
@pytest.mark.parametrize("T", [1, 7, 15])
def test_widget_callback_draws_the_core_norms_on_fixed_limits(radius, T):
    fig = draw_hbar_norms(radius, T, **SMALL)
    ax = fig.axes[0]
    (line,) = [ln for ln in ax.get_lines() if ln.get_linestyle() == "-"]
    expected = reference_norms(*radius_problem(radius, T, **SMALL))
    np.testing.assert_allclose(line.get_ydata(), expected / expected[-1], rtol=1e-10)
    assert ax.get_ylim() == pytest.approx(NORM_YLIM)
    assert f"{expected[0] / expected[-1]:.1e}" in ax.get_title()


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


# --- animate_hbar_norms -------------------------------------------------------------------


@pytest.mark.parametrize("radii", [(0.5,), (0.5, 1.5, 3.0)])
def test_animation_has_one_frame_per_radius_with_the_core_norms(radii):
    anim = animate_hbar_norms(radii=radii, T=6, **SMALL)
    assert isinstance(anim, FuncAnimation)
    assert anim.frame_norms.shape == (len(radii), 7)
    fig = anim._fig
    assert fig.number not in plt.get_fignums()          # closed: not shown twice
    (line,) = fig.axes[0].get_lines()[:1]
    for i, r in enumerate(radii):
        expected = reference_norms(*radius_problem(r, 6, **SMALL))
        np.testing.assert_allclose(anim.frame_norms[i], expected, rtol=1e-10)
        anim._func(i)                                    # draw frame i
        np.testing.assert_allclose(line.get_ydata(), expected / expected[-1], rtol=1e-10)
        assert f"{r:g}" in fig.axes[0].get_title()
    assert len(list(anim.new_frame_seq())) == len(radii)
    anim._draw_was_started = True                        # drawn by hand: no "never rendered" warning


def test_animation_rejects_no_radii_and_bad_radii():
    with pytest.raises(ValueError, match="at least one radius"):
        animate_hbar_norms(radii=(), T=4, **SMALL)
    with pytest.raises(ValueError, match=r"radii\[1\] must be a finite number > 0"):
        animate_hbar_norms(radii=(0.5, 0.0), T=4, **SMALL)
