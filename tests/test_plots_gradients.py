"""Tests of bptt.plots.gradients: what is drawn, checked against the core computations."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import base64                     # noqa: E402
import re                         # noqa: E402

import matplotlib.pyplot as plt   # noqa: E402
from matplotlib.colors import to_hex   # noqa: E402
import numpy as np                # noqa: E402
import pytest                     # noqa: E402
from matplotlib.animation import FuncAnimation   # noqa: E402

from bptt.dynamics import (lag_norm_experiment, one_unit_descent,  # noqa: E402
                           one_unit_loss, one_unit_wall)
from bptt.plots.gradients import (CLIFF_COLOUR, LAG_YLIM, REFERENCE_RADII,  # noqa: E402
                                  animate_lag_norms,
                                  draw_lag_norms, lag_norm_widget, plot_lag_norms,
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
        assert ax.get_xlabel()
    assert fig.axes[0].get_ylabel()


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
    for (title, results), ax in zip(panels.items(), fig.axes):
        assert ax.get_title() == title and ax.get_yscale() == "log"
        lines = [ln for ln in ax.get_lines() if ln.get_label().startswith("$")]
        assert len(lines) == len(radii)
        for ln, res in zip(lines, results):
            np.testing.assert_allclose(ln.get_ydata(), np.maximum(res["norm"], FLOOR))
            np.testing.assert_array_equal(ln.get_xdata(), np.arange(SMALL["T"] + 1))
    assert fig.axes[-1].get_legend() is not None


@pytest.mark.parametrize("rho, input_scale, kind", [
    (0.5, 0.01, "gaussian"), (1.0, 1.0, "orthogonal"),
    (2.5, 0.1, "gaussian"), (2.5, 3.0, "orthogonal")])
def test_draw_lag_norms(rho, input_scale, kind):
    fig = draw_lag_norms(rho, input_scale, kind=kind, T=15)
    ax = fig.axes[0]
    res = lag_norm_experiment(rho, input_scale, kind=kind, T=15)
    lines = ax.get_lines()
    # grey references, the bound, the measured line and the line at 1
    measured = [ln for ln in lines if ln.get_label() == "measured"][0]
    np.testing.assert_allclose(measured.get_ydata(), np.maximum(res["norm"], FLOOR))
    bound = [ln for ln in lines if ln.get_label().startswith("bound")][0]
    np.testing.assert_allclose(bound.get_ydata(), res["sigma_max"] ** np.arange(16))
    assert len(lines) == len(REFERENCE_RADII) + 3
    assert f"{res['rho']:.2f}" in ax.get_title() and "input scale" in ax.get_title()
    assert ax.get_ylim() == pytest.approx(LAG_YLIM)


def test_lag_norm_widget_builds_and_redraws():
    w = lag_norm_widget(rho=1.5, input_scale=0.1, T=10)
    names = [c.description for c in w.children[:3]]
    assert names == ["ρ(W_hh)", "input scale", "W_hh"]
    assert w.children[0].value == 1.5
    w.children[0].value = 2.0         # moving the slider calls draw_lag_norms again
    fig = w.result
    res = lag_norm_experiment(2.0, 0.1, T=10)
    measured = [ln for ln in fig.axes[0].get_lines() if ln.get_label() == "measured"][0]
    np.testing.assert_allclose(measured.get_ydata(), np.maximum(res["norm"], FLOOR))


def test_lag_norm_widget_refuses_values_outside_the_sliders():
    with pytest.raises(ValueError, match=r"rho must lie in the slider's range \[0.3, 3\], got 5.0"):
        lag_norm_widget(rho=5.0)
    with pytest.raises(ValueError, match="kind must be"):
        lag_norm_widget(kind="uniform")


def test_animation_frames_show_the_experiments():
    radii = [0.5, 1.0, 2.0]
    anim = animate_lag_norms(radii, input_scales=(0.1, 1.0), T=10)
    assert isinstance(anim, FuncAnimation)
    fig = anim._fig
    ax = fig.axes[0]
    for k, rho in enumerate(radii):
        anim._func(k)
        lines = ax.get_lines()
        for s, line in zip((0.1, 1.0), lines[:2]):
            want = lag_norm_experiment(rho, s, T=10)["norm"]
            np.testing.assert_allclose(line.get_ydata(), np.maximum(want, FLOOR))
        np.testing.assert_allclose(lines[2].get_ydata(), rho ** np.arange(11.0))
        assert f"{rho:.2f}" in ax.get_title()
    assert "animation" in anim.to_jshtml(fps=2)


def _first_frame_size(html: str) -> tuple[int, int]:
    """Width and height of the first PNG frame embedded by ``to_jshtml``."""
    frame = re.search(r'"data:image/png;base64,([^"]+)"', html).group(1)
    png = base64.b64decode(frame.replace("\\\n", "").replace("\\n", ""))
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


@pytest.mark.parametrize("figsize, dpi", [((4.0, 2.0), 50), ((3.0, 1.5), 72)])
def test_animation_frames_drawn_at_the_figure_dpi_only_when_asked(figsize, dpi):
    # The docstring's claim: to_jshtml draws at savefig.dpi (100 in the book
    # style), and at the figure's dpi only when savefig.dpi is "figure".
    def html():
        # A new animation each time: to_jshtml caches its first result.
        anim = animate_lag_norms([0.5, 2.0], input_scales=(1.0,), T=5, figsize=figsize,
                                 dpi=dpi)
        return anim.to_jshtml()

    with plt.rc_context({"savefig.dpi": 100}):
        assert _first_frame_size(html()) == (round(figsize[0] * 100), round(figsize[1] * 100))
        with plt.rc_context({"savefig.dpi": "figure"}):
            assert _first_frame_size(html()) == (round(figsize[0] * dpi), round(figsize[1] * dpi))


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
    for ax, key in ((ax_loss, "loss"), (ax_grad, "grad_norm")):
        assert ax.get_yscale() == "log" and ax.get_title() and ax.get_xlabel()
        runs = [ln for ln in ax.get_lines() if ln.get_label() in hists]
        assert [ln.get_label() for ln in runs] == ["a", "b"]
        for ln in runs:
            np.testing.assert_array_equal(ln.get_ydata(), hists[ln.get_label()][key])
        crosses = [ln for ln in ax.get_lines() if ln.get_marker() == "x"]
        assert len(crosses) == 1                       # only the stopped run
        assert crosses[0].get_ydata()[0] == hists["b"][key][1]   # its last finite value
    with pytest.raises(TypeError, match="non-empty dict"):
        plot_training_runs({})
