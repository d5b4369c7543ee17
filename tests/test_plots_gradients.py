"""Tests of bptt.plots.gradients: what is drawn, checked against the core computations."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt   # noqa: E402
from matplotlib.colors import to_hex   # noqa: E402
import numpy as np                # noqa: E402
import pytest                     # noqa: E402

from bptt.dynamics import lag_norm_experiment  # noqa: E402
from bptt.one_unit import one_unit_descent, one_unit_loss, one_unit_wall  # noqa: E402
from bptt.plots.gradients import (CLIFF_COLOUR, LAG_YLIM, REFERENCE_RADII,  # noqa: E402
                                  WIDTH, draw_lag_norms, lag_norm_widget, plot_lag_norms,
                                  plot_loss_cliff, plot_norm_panels, plot_training_runs)

FLOOR = LAG_YLIM[0] / 10


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def curve(label, values, kind):
    values = np.asarray(values, dtype=float)
    return {"label": label, "lag": np.arange(len(values)), "value": values, "kind": kind}


# ------------------------------------------------------------ plot_norm_panels

@pytest.mark.parametrize("n_panels", [1, 3])
def test_norm_panels_draw_every_curve(n_panels):
    panels = [{"title": f"case {p}",
               "curves": [curve("measured", 0.5 ** np.arange(6), "measured"),
                          curve("bound", 2.0 ** np.arange(6), "bound"),
                          curve("rate", np.zeros(6), "rate")]}
              for p in range(n_panels)]
    fig = plot_norm_panels(panels)
    assert len(fig.axes) == n_panels
    for p, ax in enumerate(fig.axes):
        assert ax.get_title() == f"case {p}"
        assert ax.get_yscale() == "log"
        lines = ax.get_lines()
        assert [ln.get_label() for ln in lines] == ["measured", "bound", "rate"]
        np.testing.assert_allclose(lines[0].get_ydata(), 0.5 ** np.arange(6))
        np.testing.assert_allclose(lines[1].get_ydata(), 2.0 ** np.arange(6))
        np.testing.assert_allclose(lines[2].get_ydata(), FLOOR)      # zeros go to the floor
        assert lines[1].get_linestyle() == "--" and lines[2].get_linestyle() == ":"
        assert ax.get_xlabel() and ax.get_ylabel()


@pytest.mark.parametrize("ncols, n_panels, rows", [(1, 3, 3), (2, 3, 2), (3, 3, 1)])
def test_norm_panels_layout(ncols, n_panels, rows):
    panels = [{"title": f"case {p}", "curves": [curve("m", [1.0, 0.5], "measured")]}
              for p in range(n_panels)]
    fig = plot_norm_panels(panels, ncols=ncols, legend_loc="lower left")
    assert [ax.get_title() for ax in fig.axes] == [f"case {p}" for p in range(n_panels)]
    assert all(ax.get_legend()._loc == 3 for ax in fig.axes)        # "lower left"
    rows_used = {round(ax.get_position().y0, 3) for ax in fig.axes}
    assert len(rows_used) == rows
    if ncols == 1:
        assert fig.get_figwidth() == pytest.approx(WIDTH)   # a column, phone-sized


def test_norm_panels_refuse_bad_curves():
    with pytest.raises(ValueError, match=r"\['kind'\] must be one of"):
        plot_norm_panels([{"title": "t", "curves": [curve("x", [1.0], "other")]}])
    with pytest.raises(ValueError, match="must be >= 0"):
        plot_norm_panels([{"title": "t", "curves": [curve("x", [-1.0], "bound")]}])
    with pytest.raises(TypeError, match="non-empty list"):
        plot_norm_panels([])


# ------------------------------------------------------------ lag norms

SMALL = dict(T=12, B=3, H=6, D=2)


@pytest.mark.parametrize("scales", [(0.1,), (0.1, 1.0)])
def test_plot_lag_norms_draws_the_experiment(scales):
    radii = (0.5, 1.0, 2.0)
    panels = {f"scale {s}": [lag_norm_experiment(r, s, **SMALL) for r in radii] for s in scales}
    fig = plot_lag_norms(panels)
    assert len(fig.axes) == len(scales)
    assert fig.get_figwidth() == pytest.approx(WIDTH)
    assert len({round(ax.get_position().x0, 3) for ax in fig.axes}) == 1   # one column
    for (title, results), ax in zip(panels.items(), fig.axes):
        assert ax.get_title() == title and ax.get_yscale() == "log"
        lines = [ln for ln in ax.get_lines() if ln.get_label().startswith("$")]
        assert len(lines) == len(radii)
        for ln, res in zip(lines, results):
            np.testing.assert_allclose(ln.get_ydata(), np.maximum(res["norm"], FLOOR))
            np.testing.assert_array_equal(ln.get_xdata(), np.arange(SMALL["T"] + 1))
    assert len(fig.legends) == 1
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        rf"$\rho = {r:.2g}$" for r in radii]


@pytest.mark.parametrize("rho, input_scale, kind", [
    (0.5, 0.01, "gaussian"), (1.0, 1.0, "orthogonal"),
    (2.5, 0.1, "gaussian"), (2.5, 3.0, "orthogonal")])
def test_draw_lag_norms(rho, input_scale, kind):
    fig = draw_lag_norms(rho, input_scale, kind=kind, T=15, seed=3)
    ax = fig.axes[0]
    res = lag_norm_experiment(rho, input_scale, kind=kind, T=15, seed=3)
    lines = ax.get_lines()
    # grey references, the bound, the rate, the measured line and the line at 1
    measured = [ln for ln in lines if ln.get_label() == "measured"][0]
    np.testing.assert_allclose(measured.get_ydata(), np.maximum(res["norm"], FLOOR))
    bound = [ln for ln in lines if ln.get_label().startswith("bound")][0]
    np.testing.assert_allclose(bound.get_ydata(), res["sigma_max"] ** np.arange(16))
    rate = [ln for ln in lines if ln.get_label() == r"$\rho^\tau$"][0]
    np.testing.assert_allclose(rate.get_ydata(), res["rho"] ** np.arange(16.0))
    assert rate.get_linestyle() == ":"
    assert len(lines) == len(REFERENCE_RADII) + 4
    for r, grey in zip(REFERENCE_RADII, lines):
        ref = lag_norm_experiment(r, input_scale, kind=kind, T=15, seed=3)
        np.testing.assert_allclose(grey.get_ydata(), np.maximum(ref["norm"], FLOOR))
    assert f"{res['rho']:.2f}" in ax.get_title() and "input scale" in ax.get_title()
    assert ax.get_ylim() == pytest.approx(LAG_YLIM)


def test_draw_lag_norms_repeats_give_equal_figures_and_bad_input_is_refused():
    # The experiments are cached: a second call draws the same data.
    a = draw_lag_norms(1.5, 0.1, T=10, seed=1).axes[0].get_lines()
    b = draw_lag_norms(1.5, 0.1, T=10, seed=1).axes[0].get_lines()
    for la, lb in zip(a, b):
        np.testing.assert_array_equal(la.get_ydata(), lb.get_ydata())
    with pytest.raises(ValueError, match="kind must be"):
        draw_lag_norms(1.0, kind="uniform")
    with pytest.raises(TypeError, match="seed must be an int"):
        draw_lag_norms(1.0, seed=1.5)


def test_lag_norm_widget_builds_and_redraws():
    w = lag_norm_widget(rho=1.5, input_scale=0.1, T=10, seed=2)
    names = [c.description for c in w.children[:3]]
    assert names == ["ρ(W_hh)", "input scale", "W_hh"]
    assert w.children[0].value == 1.5
    w.children[0].value = 2.0         # moving the slider calls draw_lag_norms again
    fig = w.result
    res = lag_norm_experiment(2.0, 0.1, T=10, seed=2)
    measured = [ln for ln in fig.axes[0].get_lines() if ln.get_label() == "measured"][0]
    np.testing.assert_allclose(measured.get_ydata(), np.maximum(res["norm"], FLOOR))


def test_lag_norm_widget_refuses_values_outside_the_sliders():
    with pytest.raises(ValueError, match=r"rho must lie in the slider's range \[0.3, 3\], got 5.0"):
        lag_norm_widget(rho=5.0)
    with pytest.raises(ValueError, match="kind must be"):
        lag_norm_widget(kind="uniform")


# ------------------------------------------------------------ the cliff

@pytest.mark.parametrize("b_slice", [-0.5, 0.0])
def test_loss_cliff_draws_the_loss_and_gradient(b_slice):
    slice_T = (5, 10)
    paths = {"no clipping": one_unit_descent(2.5, -0.5, lr=0.5, n_steps=40, T=10)["path"],
             "clipped": one_unit_descent(2.5, -0.5, lr=0.5, n_steps=40, T=10,
                                         clip_norm=0.5)["path"]}
    fig = plot_loss_cliff(T=10, b_slice=b_slice, slice_T=slice_T, paths=paths, n=21)
    by_title = {a.get_title()[:3]: a for a in fig.axes}
    ax_map, ax_loss, ax_grad = by_title["(a)"], by_title["(b)"], by_title["(c)"]
    mesh = ax_map.collections[0]
    W, B = np.meshgrid(np.linspace(-1, 4, 21), np.linspace(-2, 2, 21))
    np.testing.assert_allclose(np.asarray(mesh.get_array()).ravel(),
                               one_unit_loss(W, B, T=10)[0].ravel())
    wall = [ln for ln in ax_map.get_lines() if ln.get_label() == "cliff"][0]
    np.testing.assert_allclose(wall.get_ydata(), one_unit_wall(wall.get_xdata(), h0=0.5))
    assert np.all(wall.get_xdata() * 0.75 > 1)         # only where h0 is unstable
    assert to_hex(wall.get_color()) == CLIFF_COLOUR
    for ax in (ax_loss, ax_grad):                      # the cliff crossing, same colour
        marks = [ln for ln in ax.get_lines() if to_hex(ln.get_color()) == CLIFF_COLOUR]
        assert len(marks) == 1
        assert marks[0].get_xdata()[0] == pytest.approx((np.arctanh(0.5) - b_slice) / 0.5)
    drawn = {ln.get_label(): ln for ln in ax_map.get_lines()}
    np.testing.assert_allclose(drawn["clipped"].get_xydata(), paths["clipped"])
    ws = np.linspace(-1, 4, 8 * 21)
    loss_lines = [ln for ln in ax_loss.get_lines() if ln.get_label().startswith("T = ")]
    grad_lines = [ln for ln in ax_grad.get_lines() if ln.get_label().startswith("T = ")]
    assert len(loss_lines) == len(grad_lines) == len(slice_T)
    for Ts, ll, gl in zip(slice_T, loss_lines, grad_lines):
        L, gw, _ = one_unit_loss(ws, b_slice, T=Ts)
        np.testing.assert_allclose(ll.get_ydata(), L)
        np.testing.assert_allclose(gl.get_ydata(), np.maximum(np.abs(gw), 1e-12))
    dots = [ln for ln in ax_grad.get_lines() if ln.get_marker() == "o"]
    w_c = (np.arctanh(0.5) - b_slice) / 0.5
    for Ts, dot in zip(slice_T, dots):
        assert dot.get_ydata()[0] == pytest.approx(abs(float(one_unit_loss(w_c, b_slice, T=Ts)[1])))
    assert ax_grad.get_yscale() == "log"
    assert all(a.get_title() for a in (ax_map, ax_loss, ax_grad))
    # One column: (a) above (b) above (c), phone-sized.
    tops = [a.get_position().y0 for a in (ax_map, ax_loss, ax_grad)]
    assert tops[0] > tops[1] > tops[2]
    assert fig.get_figwidth() == pytest.approx(WIDTH)


def test_loss_cliff_annotates_a_path_that_leaves_the_map():
    path = np.array([[2.0, 0.0], [1.0, 0.5], [-6.0, 9.0]])
    fig = plot_loss_cliff(T=5, slice_T=(5,), paths={"jump": path}, n=11)
    ax_map = [a for a in fig.axes if a.get_title().startswith("(a)")][0]
    texts = [t.get_text() for t in ax_map.texts]
    assert any("ends off the map" in t and "(-6.0, 9.0)" in t for t in texts)


# ------------------------------------------------------------ training runs

def test_training_runs():
    hists = {"a": {"loss": np.array([1.0, 0.5, 0.2]), "grad_norm": np.array([3.0, 2.0, 1.0]),
                   "stopped": None},
             "b": {"loss": np.array([1.0, 50.0, np.nan]),
                   "grad_norm": np.array([3.0, 900.0, np.nan]),
                   "stopped": "loss nan at step 2"}}
    fig = plot_training_runs(hists)
    ax_loss, ax_grad = fig.axes
    assert ax_loss.get_position().y0 > ax_grad.get_position().y0     # one column
    assert ax_grad.get_ylabel() == r"$\|\nabla L\|$"
    assert ax_grad.get_xlabel() == "training step"
    for ax, key in ((ax_loss, "loss"), (ax_grad, "grad_norm")):
        assert ax.get_yscale() == "log" and ax.get_title() and ax.get_ylabel()
        runs = [ln for ln in ax.get_lines() if ln.get_label() in hists]
        assert [ln.get_label() for ln in runs] == ["a", "b"]
        for ln in runs:
            np.testing.assert_array_equal(ln.get_ydata(), hists[ln.get_label()][key])
        crosses = [ln for ln in ax.get_lines() if ln.get_marker() == "x"]
        assert len(crosses) == 1                       # only the stopped run
        assert crosses[0].get_ydata()[0] == hists["b"][key][1]   # its last finite value
    with pytest.raises(TypeError, match="non-empty dict"):
        plot_training_runs({})
