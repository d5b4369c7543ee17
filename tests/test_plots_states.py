"""Tests for bptt.plots.states: what is drawn equals what the core package computes."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from bptt import init_rnn, rnn_forward  # noqa: E402
from bptt.plots.states import (draw_trajectories, plot_hidden_trajectories,  # noqa: E402
                               plot_state_norms, plot_trajectories_by_radius, trajectory_widget)
from bptt.spectral import with_spectral_radius  # noqa: E402


@pytest.fixture(autouse=True)
def default_style_and_close_figures():
    """Matplotlib's default style whatever an earlier test left in rcParams,
    and no figure left open after a test."""
    with plt.style.context("default"):
        yield
    plt.close("all")


def states(T, B, H, seed=0):
    """Hidden states of a real forward pass, shape (T+1, B, H), with a nonzero h0."""
    params = init_rnn(2, H, 1, seed=seed)
    rng = np.random.default_rng(seed)
    _, h = rnn_forward(params, rng.standard_normal((T, B, 2)), 0.5 * rng.standard_normal((B, H)))
    return h


def pulse_problem(T=30, H=5, seed=0):
    """Parameters and a pulse input (on for steps 1..3, then off), as in the chapter."""
    params = init_rnn(1, H, 1, seed=seed)
    x = np.zeros((T, 1, 1))
    x[:3] = 1.0
    return params, x


def unit_lines(ax, H):
    """The H lines of the hidden units (drawn first, before the saturation lines)."""
    return ax.get_lines()[:H]


# --- plot_hidden_trajectories -----------------------------------------------------


@pytest.mark.parametrize("T,B,H,b", [(1, 1, 1, 0), (5, 2, 3, 1), (12, 3, 4, 2)])
@pytest.mark.parametrize("shade,title", [(None, None), ((0.5, 3.5), "my title")])
def test_hidden_trajectories_draws_one_line_per_unit(T, B, H, b, shade, title):
    h = states(T, B, H)
    fig = plot_hidden_trajectories(h, batch_index=b, shade=shade, title=title)
    assert isinstance(fig, Figure)
    ax, = fig.axes
    lines = ax.get_lines()
    assert len(lines) == H + 2                          # H units and the two lines at +-1
    for i, line in enumerate(unit_lines(ax, H)):
        np.testing.assert_array_equal(line.get_xdata(), np.arange(T + 1))
        np.testing.assert_array_equal(line.get_ydata(), h[:, b, i])
    assert sorted(line.get_ydata()[0] for line in lines[H:]) == [-1.0, 1.0]
    assert len(ax.patches) == (0 if shade is None else 1)
    assert ax.get_title() == (title or "")
    assert ax.get_xlabel() == "step $t$"
    assert "h_t" in ax.get_ylabel()
    assert ax.get_xlim() == (0, T)
    lo, hi = ax.get_ylim()
    assert lo < -1 and hi > 1


def test_hidden_trajectories_draws_into_given_axes():
    fig, (ax1, ax2) = plt.subplots(1, 2)
    h = states(4, 1, 3)
    assert plot_hidden_trajectories(h, ax=ax2) is fig
    assert len(ax1.get_lines()) == 0 and len(ax2.get_lines()) == 3 + 2


def test_hidden_trajectories_errors():
    with pytest.raises(TypeError, match="h must be a numpy array"):
        plot_hidden_trajectories([[0.0]])
    with pytest.raises(ValueError, match="h must have 3 dimensions"):
        plot_hidden_trajectories(np.zeros((3, 2)))


# --- plot_trajectories_by_radius --------------------------------------------------


@pytest.mark.parametrize("radii", [[1.0], [0.5, 1.0, 3.0], [0.2, 0.9, 1.1, 2.0]])
def test_trajectories_by_radius_one_panel_per_radius(radii):
    params, x = pulse_problem(T=20, H=4)
    hs = [rnn_forward(with_spectral_radius(params, r), x)[1] for r in radii]
    fig = plot_trajectories_by_radius(hs, radii, shade=(0.5, 3.5))
    assert len(fig.axes) == len(radii)
    for ax, h, rho in zip(fig.axes, hs, radii):
        assert ax.get_title() == rf"$\rho(W_{{hh}}) = {rho:g}$"
        assert len(ax.patches) == 1
        for i, line in enumerate(unit_lines(ax, 4)):
            np.testing.assert_array_equal(line.get_ydata(), h[:, 0, i])
    assert "h_t" in fig.axes[0].get_ylabel()
    assert all(ax.get_ylabel() == "" for ax in fig.axes[1:])
    assert fig.get_size_inches()[0] == pytest.approx(2.8 * len(radii))


def test_trajectories_by_radius_needs_one_radius_per_array():
    h = states(3, 1, 2)
    with pytest.raises(ValueError, match="radii must have one entry per array, 2, got 1"):
        plot_trajectories_by_radius([h, h], [1.0])


@pytest.mark.parametrize("ncols", [1, 2])
def test_trajectories_by_radius_in_rows_of_ncols(ncols):
    params, x = pulse_problem(T=15, H=3)
    radii = [0.5, 1.0, 3.0]
    hs = [rnn_forward(with_spectral_radius(params, r), x)[1] for r in radii]
    fig = plot_trajectories_by_radius(hs, radii, ncols=ncols)
    nrows = -(-3 // ncols)
    assert len(fig.axes) == nrows * ncols
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 3                             # a spare panel is hidden
    for k, (ax, h, rho) in enumerate(zip(fig.axes, hs, radii)):
        row, col = divmod(k, ncols)
        assert ax.get_title() == rf"$\rho(W_{{hh}}) = {rho:g}$"
        for i, line in enumerate(unit_lines(ax, 3)):
            np.testing.assert_array_equal(line.get_ydata(), h[:, 0, i])
        assert ("h_t" in ax.get_ylabel()) == (col == 0)  # y-label: first column only
        # x-label: only on the lowest panel of each column
        assert (ax.get_xlabel() == "step $t$") == (k + ncols >= 3)
    if ncols == 1:
        assert tuple(fig.get_size_inches()) == pytest.approx((5.0, 2.1 * 3))


def test_trajectories_by_radius_ncols_larger_than_panels_is_one_row():
    h = states(3, 1, 2)
    fig = plot_trajectories_by_radius([h, h], [0.5, 2.0], ncols=5)
    assert len(fig.axes) == 2
    assert fig.get_size_inches()[0] == pytest.approx(2.8 * 2)


# --- plot_state_norms -------------------------------------------------------------


@pytest.mark.parametrize("R,T", [(1, 1), (3, 10), (7, 40)])
def test_state_norms_one_log_line_per_radius(R, T):
    norms = np.abs(np.random.default_rng(R).standard_normal((R, T + 1))) + 1e-3
    radii = list(np.linspace(0.5, 3.0, R))
    fig = plot_state_norms(norms, radii, shade=(0.5, 3.5))
    ax, = fig.axes
    lines = ax.get_lines()
    assert len(lines) == R
    for k, line in enumerate(lines):
        np.testing.assert_array_equal(line.get_xdata(), np.arange(1, T + 1))
        np.testing.assert_array_equal(line.get_ydata(), norms[k, 1:])   # step 0 left out
    assert ax.get_yscale() == "log"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [rf"$\rho = {r:g}$" for r in radii]
    assert ax.get_title() and ax.get_xlabel() == "step $t$" and "h_t" in ax.get_ylabel()
    assert len(ax.patches) == 1


def test_state_norms_of_real_runs_fall_at_rate_rho():
    # What the figure is for: after the pulse, ||h_t|| shrinks by about rho per step when rho < 1.
    params, x = pulse_problem(T=40, H=8)
    radii = [0.5, 0.8]
    norms = np.array([np.linalg.norm(rnn_forward(with_spectral_radius(params, r), x)[1][:, 0],
                                     axis=-1) for r in radii])
    fig = plot_state_norms(norms, radii)
    for line, rho in zip(fig.axes[0].get_lines(), radii):
        y = line.get_ydata()
        assert (y[-1] / y[-11]) ** 0.1 == pytest.approx(rho, rel=0.02)


def test_state_norms_errors():
    with pytest.raises(ValueError, match="radii must have one entry per array, 2, got 1"):
        plot_state_norms(np.ones((2, 3)), [1.0])


# --- draw_trajectories (the widget callback) --------------------------------------


@pytest.mark.parametrize("rho", [0.3, 1.0, 2.5])
@pytest.mark.parametrize("input_scale", [0.5, 1.0, 4.0])
def test_draw_trajectories_plots_the_forward_pass_of_the_rescaled_network(rho, input_scale):
    params, x = pulse_problem(T=25, H=5)
    before = {k: v.copy() for k, v in params.items()}
    fig = draw_trajectories(params, x, rho, input_scale, shade=(0.5, 3.5))
    ax, = fig.axes
    _, h = rnn_forward(with_spectral_radius(params, rho), input_scale * x)
    for i, line in enumerate(unit_lines(ax, 5)):
        np.testing.assert_allclose(line.get_ydata(), h[:, 0, i], rtol=0, atol=1e-15)
    assert f"{rho:.2f}" in ax.get_title() and f"{input_scale:.2g}" in ax.get_title()
    for k in params:                                     # the callback must not modify params
        np.testing.assert_array_equal(params[k], before[k])


def test_draw_trajectories_shows_the_three_regimes():
    # Independent of the plotting code, for this 8-unit network (seed 0, the
    # chapter's): small radius forgets, large radius saturates. Other networks
    # need not saturate above 1 (see bptt.lyapunov and its tests).
    params, x = pulse_problem(T=40, H=8)
    end_small = [line.get_ydata()[-1] for line in
                 unit_lines(draw_trajectories(params, x, 0.5).axes[0], 8)]
    end_large = [line.get_ydata()[-1] for line in
                 unit_lines(draw_trajectories(params, x, 3.0).axes[0], 8)]
    assert np.max(np.abs(end_small)) < 1e-6
    assert np.median(np.abs(end_large)) > 0.9


def test_draw_trajectories_figsize():
    params, x = pulse_problem(T=6, H=2)
    fig = draw_trajectories(params, x, 1.0, figsize=(5.2, 2.8))
    assert tuple(fig.get_size_inches()) == pytest.approx((5.2, 2.8))


def test_draw_trajectories_keeps_float32():
    params = init_rnn(1, 3, 1, dtype=np.float32)
    x = np.ones((4, 2, 1), dtype=np.float32)
    fig = draw_trajectories(params, x, 1.5, 2.0, batch_index=1)
    _, h = rnn_forward(with_spectral_radius(params, 1.5), np.float32(2.0) * x)
    np.testing.assert_array_equal(fig.axes[0].get_lines()[0].get_ydata(), h[:, 1, 0])


def test_draw_trajectories_errors():
    params, x = pulse_problem(T=6, H=5)
    with pytest.raises(ValueError, match="input_scale must be a finite number > 0"):
        draw_trajectories(params, x, 1.0, -1.0)
    with pytest.raises(TypeError, match="x must have dtype float64"):     # checked by the core
        draw_trajectories(params, x.astype(np.float32), 1.0)


# --- trajectory_widget ------------------------------------------------------------


def test_widget_has_two_sliders_and_redraws():
    params, x = pulse_problem(T=10, H=3)
    w = trajectory_widget(params, x, rho=1.0, input_scale=2.0, rho_range=(0.2, 3.0),
                          input_range=(0.5, 5.0), shade=(0.5, 3.5))
    rho_slider, scale_slider = w.children[:2]
    assert (rho_slider.min, rho_slider.max, rho_slider.value) == (0.2, 3.0, 1.0)
    assert (scale_slider.min, scale_slider.max, scale_slider.value) == (0.5, 5.0, 2.0)
    assert not rho_slider.continuous_update
    # Plain-text labels: static pages show saved widgets without MathJax.
    assert (rho_slider.description, scale_slider.description) == ("ρ(W_hh)", "input scale")
    assert isinstance(w.result, Figure)                  # drawn once on construction
    assert "1.00" in w.result.axes[0].get_title()
    rho_slider.value = 2.5                               # what a reader's drag does
    assert "2.50" in w.result.axes[0].get_title()
    _, h = rnn_forward(with_spectral_radius(params, 2.5), 2.0 * x)
    for i, line in enumerate(unit_lines(w.result.axes[0], 3)):
        np.testing.assert_allclose(line.get_ydata(), h[:, 0, i], rtol=0, atol=1e-15)


def test_widget_refuses_a_start_off_its_slider():
    params, x = pulse_problem(T=5, H=3)
    with pytest.raises(ValueError, match="rho must lie in its slider's range"):
        trajectory_widget(params, x, rho=5.0)
