"""Tests of bptt.plots.lag_norms: the gradient norm against the lag, chapters 3 and 5.

The curves drawn must be exactly the numbers of the core function that
computes them, ``bptt.dynamics.lag_norm_experiment`` (tested against autograd
in ``test_dynamics.py``), and obey the bound of the chapters,
``||dL_T/dh_{T-tau}|| <= sigma_max^tau ||dL_T/dh_T||``.
"""
from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

from bptt.dynamics import lag_norm_experiment  # noqa: E402
from bptt.plots.lag_norms import (LAG_YLIM, REFERENCE_RADII, draw_lag_norms,  # noqa: E402
                                  lag_norm_widget, plot_lag_norms, plot_norm_panels,
                                  radius_colours)
from bptt.plots.style import WIDTH  # noqa: E402

SMALL = dict(B=3, H=6, D=2)       # every size different, and fast
FLOOR = LAG_YLIM[0] / 10          # where a fixed axis draws what falls below it


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def experiment(rho, input_scale=1.0, T=12, **kw):
    return lag_norm_experiment(rho, input_scale, T=T, **{**SMALL, **kw})


def is_blue(colour):
    r, _, b, _ = to_rgba(colour)
    return b > r


def assert_decade_ticks(ax):
    """Ticks at powers of ten, 1 among them when it is in range, at most 8."""
    ticks = np.log10(ax.get_yticks())
    np.testing.assert_array_equal(ticks, np.round(ticks))
    low, high = np.log10(ax.get_ylim())
    assert len(ticks) <= 8 and (0 in ticks or not low <= 0 <= high)


def curve(label, values, kind):
    values = np.asarray(values, dtype=float)
    return {"label": label, "lag": np.arange(len(values)), "value": values, "kind": kind}


# ------------------------------------------------------------ radius_colours

def test_radii_below_1_are_blue_the_others_red_deeper_along_each_group():
    radii = [0.5, 0.9, 1.0 - 1e-15, 1.1, 3.0]        # a rescaled 1.0 may measure just below
    colours = radius_colours(radii)
    assert [is_blue(c) for c in colours] == [True, True, False, False, False]
    # Later radii of a group are darker (smaller sum of the channels).
    assert sum(colours[1][:3]) < sum(colours[0][:3])
    assert sum(colours[4][:3]) < sum(colours[3][:3]) < sum(colours[2][:3])


# ------------------------------------------------------------ plot_lag_norms

@pytest.mark.parametrize("scales", [(0.1,), (0.1, 1.0)])
@pytest.mark.parametrize("ylim", [None, LAG_YLIM])
def test_plot_lag_norms_draws_the_experiment(scales, ylim):
    radii = (0.5, 1.0, 2.0)
    panels = {f"scale {s}": [experiment(r, s) for r in radii] for s in scales}
    fig = plot_lag_norms(panels, ylim=ylim)
    assert len(fig.axes) == len(scales)
    assert fig.get_figwidth() == pytest.approx(WIDTH)
    assert len({round(ax.get_position().x0, 3) for ax in fig.axes}) == 1   # one column
    for (title, results), ax in zip(panels.items(), fig.axes):
        assert ax.get_title() == title and ax.get_yscale() == "log"
        lines = [ln for ln in ax.get_lines() if ln.get_label().startswith("$")]
        assert len(lines) == len(radii)
        for ln, res in zip(lines, results):
            want = res["norm"] if ylim is None else np.maximum(res["norm"], FLOOR)
            np.testing.assert_allclose(ln.get_ydata(), want)
            np.testing.assert_array_equal(ln.get_xdata(), np.arange(13))
            assert is_blue(ln.get_color()) == (res["rho"] < 1 - 1e-9)
        assert_decade_ticks(ax)
        assert ax.get_xlim() == (0, 12)
        if ylim is not None:
            assert ax.get_ylim() == pytest.approx(ylim)
        else:                          # the data fit: the ticks did not cut the limits short
            low, high = ax.get_ylim()
            assert all(low <= r["norm"].min() and r["norm"].max() <= high for r in results)
        ones = [ln for ln in ax.get_lines() if list(ln.get_ydata()) == [1.0, 1.0]]
        assert len(ones) == 1                                   # the grey line at 1
    assert "tau" in fig.axes[-1].get_xlabel() and fig.axes[0].get_ylabel()
    # One legend: inside a single panel, above several.
    legends = fig.legends if len(scales) > 1 else [fig.axes[0].get_legend()]
    assert len(fig.legends) == (len(scales) > 1) and legends[0] is not None
    assert [t.get_text() for t in legends[0].get_texts()] == [
        rf"$\rho = {r:.2g}$" for r in radii]
    if len(scales) == 1:
        assert fig.get_figheight() == pytest.approx(3.6)


def test_plot_lag_norms_takes_a_y_label_and_a_size():
    fig = plot_lag_norms({"t": [experiment(0.9)]}, ylabel="mine", figsize=(4.0, 3.0))
    assert fig.axes[0].get_ylabel() == "mine"
    assert tuple(fig.get_size_inches()) == pytest.approx((4.0, 3.0))


# ------------------------------------------------------------ plot_norm_panels

@pytest.mark.parametrize("n_panels", [1, 3])
def test_norm_panels_draw_every_curve(n_panels):
    panels = [{"title": f"case {p}",
               "curves": [curve("measured", 0.5 ** np.arange(6), "measured"),
                          curve("bound", 2.0 ** np.arange(6), "bound"),
                          curve("rate", np.zeros(6), "rate")]}
              for p in range(n_panels)]
    fig = plot_norm_panels(panels, ylim=(1e-3, 1e3))
    assert len(fig.axes) == n_panels
    for p, ax in enumerate(fig.axes):
        assert ax.get_title() == f"case {p}"
        assert ax.get_yscale() == "log" and ax.get_ylim() == pytest.approx((1e-3, 1e3))
        lines = [ln for ln in ax.get_lines() if ln.get_label() in ("measured", "bound", "rate")]
        assert [ln.get_label() for ln in lines] == ["measured", "bound", "rate"]
        np.testing.assert_allclose(lines[0].get_ydata(), 0.5 ** np.arange(6))
        np.testing.assert_allclose(lines[1].get_ydata(), 2.0 ** np.arange(6))
        np.testing.assert_allclose(lines[2].get_ydata(), 1e-4)      # zeros: under the axis
        assert lines[1].get_linestyle() == "--" and lines[2].get_linestyle() == ":"
        assert ax.get_xlabel() and ax.get_ylabel()
        assert_decade_ticks(ax)


def test_norm_panels_leave_out_zeros_on_an_automatic_axis():
    fig = plot_norm_panels([{"title": "t", "curves": [curve("m", [1.0, 0.0, 0.5], "measured")]}])
    (line,) = [ln for ln in fig.axes[0].get_lines() if ln.get_label() == "m"]
    assert np.isnan(line.get_ydata()[1]) and line.get_ydata()[2] == 0.5


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


# ------------------------------------------------------------ draw_lag_norms

@pytest.mark.parametrize("rho, input_scale, kind, T", [
    (0.5, 0.01, "gaussian", 15), (1.0, 1.0, "orthogonal", 1),
    (2.5, 0.1, "gaussian", 7), (2.5, 3.0, "orthogonal", 15)])
def test_draw_lag_norms_with_references_and_bound(rho, input_scale, kind, T):
    fig = draw_lag_norms(rho, input_scale, kind=kind, T=T, seed=3, **SMALL)
    ax = fig.axes[0]
    res = experiment(rho, input_scale, T=T, kind=kind, seed=3)
    lines = ax.get_lines()
    measured = [ln for ln in lines if ln.get_label() == "measured"][0]
    np.testing.assert_allclose(measured.get_ydata(), np.maximum(res["norm"], FLOOR))
    assert measured.get_color() == ("tab:blue" if rho < 1 else "tab:red")
    # The bound ||dL_T/dh_{T-tau}|| <= sigma_max^tau holds sequence by sequence, hence
    # for their geometric mean: a curve above it would be drawn wrong.
    bound = [ln for ln in lines if ln.get_label().startswith("bound")][0]
    np.testing.assert_allclose(bound.get_ydata(), res["sigma_max"] ** np.arange(T + 1))
    assert np.all(res["norm"] <= bound.get_ydata() * (1 + 1e-12))
    rate = [ln for ln in lines if ln.get_label() == r"$\rho^\tau$"][0]
    np.testing.assert_allclose(rate.get_ydata(), res["rho"] ** np.arange(T + 1.0))
    assert rate.get_linestyle() == ":"
    # grey references, the bound, the rate, the measured line and the line at 1
    assert len(lines) == len(REFERENCE_RADII) + 4
    for r, grey in zip(REFERENCE_RADII, lines):
        ref = experiment(r, input_scale, T=T, kind=kind, seed=3)
        np.testing.assert_allclose(grey.get_ydata(), np.maximum(ref["norm"], FLOOR))
    assert [t.get_text() for t in ax.texts] == [rf"$\rho={r:g}$" for r in REFERENCE_RADII]
    title = ax.get_title()
    assert f"{res['rho']:.2f}" in title and f"input scale {input_scale:.2g}" in title
    assert f"T = {T}" in title and f"{res['slope']:.2f}" in title
    mantissa, exponent = f"{res['norm'][-1]:.1e}".split("e")   # the norm at lag T
    assert f"{mantissa} × 10" in title
    assert ax.get_ylim() == pytest.approx(LAG_YLIM)
    assert_decade_ticks(ax)
    assert ax.get_legend() is not None


@pytest.mark.parametrize("rho", [0.4, 1.0, 2.2])
@pytest.mark.parametrize("T", [1, 7, 15])
@pytest.mark.parametrize("input_scale", [0.5, 2.0])
def test_draw_lag_norms_alone_draws_the_core_norms(rho, T, input_scale):
    fig = draw_lag_norms(rho, input_scale, T=T, seed=1, reference_radii=(), bound=False,
                         ylim=None, ylabel="ratio", **SMALL)
    ax = fig.axes[0]
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == "measured"]
    np.testing.assert_allclose(line.get_ydata(),
                               experiment(rho, input_scale, T=T, seed=1)["norm"])
    np.testing.assert_array_equal(line.get_xdata(), np.arange(T + 1))
    assert len(ax.get_lines()) == 2 and not ax.texts      # the curve and the line at 1
    assert ax.get_legend() is None and ax.get_ylabel() == "ratio"
    assert_decade_ticks(ax)


def test_draw_lag_norms_depends_on_the_input_scale_and_repeats_exactly():
    def last(scale):
        fig = draw_lag_norms(1.5, scale, T=10, reference_radii=(), bound=False, **SMALL)
        return [ln for ln in fig.axes[0].get_lines() if ln.get_label() == "measured"][0]

    # Larger inputs saturate the tanh, so the gradient that reaches h_0 is smaller.
    assert last(5.0).get_ydata()[-1] < last(0.05).get_ydata()[-1]
    # The experiments are cached: a second call draws the same data.
    np.testing.assert_array_equal(last(0.05).get_ydata(), last(0.05).get_ydata())


# ------------------------------------------------------------ lag_norm_widget

def measured_line(fig):
    return [ln for ln in fig.axes[0].get_lines() if ln.get_label() == "measured"][0]


def test_lag_norm_widget_default_controls_redraw():
    w = lag_norm_widget(rho=1.5, input_scale=0.1, T=10, seed=2, **SMALL)
    names = [c.description for c in w.children[:3]]
    assert names == ["ρ(W_hh)", "input scale", "W_hh"]
    assert w.children[0].value == 1.5 and not w.children[0].continuous_update
    w.children[0].value = 2.0         # moving the slider calls draw_lag_norms again
    np.testing.assert_allclose(measured_line(w.result).get_ydata(),
                               np.maximum(experiment(2.0, 0.1, T=10, seed=2)["norm"], FLOOR))
    w.children[2].value = "orthogonal"
    np.testing.assert_allclose(
        measured_line(w.result).get_ydata(),
        np.maximum(experiment(2.0, 0.1, T=10, seed=2, kind="orthogonal")["norm"], FLOOR))


def test_lag_norm_widget_over_radius_and_length_passes_its_options():
    w = lag_norm_widget(rho=0.9, input_scale=0.5, T=20, sliders=("rho", "T"),
                        reference_radii=(), bound=False, ylim=None, seed=1, **SMALL)
    rho, T = w.children[:2]
    assert (rho.description, T.description) == ("ρ(W_hh)", "T")
    assert (T.min, T.max, T.step, T.value) == (5, 200, 5, 20)
    T.value = 35
    fig = w.result
    np.testing.assert_allclose(measured_line(fig).get_ydata(),
                               experiment(0.9, 0.5, T=35, seed=1)["norm"])
    assert len(fig.axes[0].get_lines()) == 2      # no references, no bound: as asked


def test_lag_norm_widget_refuses_an_unknown_control_or_a_start_off_its_slider():
    with pytest.raises(ValueError, match="must lie in its slider's range"):
        lag_norm_widget(rho=5.0)
    with pytest.raises(ValueError, match="sliders must name controls"):
        lag_norm_widget(sliders=("radius",))


# ------------------------------------------------------------ bad input

def test_type_errors():
    with pytest.raises(TypeError, match="panels must be a non-empty dict"):
        plot_lag_norms([])
    with pytest.raises(TypeError, match="panels must be a non-empty list"):
        plot_norm_panels({})


def test_value_errors():
    with pytest.raises(ValueError, match="'kind' must be one of"):
        plot_norm_panels([{"title": "t", "curves": [curve("x", [1.0], "other")]}])
    with pytest.raises(ValueError, match="kind must be"):      # checked by the core
        draw_lag_norms(1.0, kind="uniform", T=5, **SMALL)


def test_sci_in_title_rounds_like_the_prose():
    # The title's number is bptt.plots.prose.sci's: 9.96e-5 shows as 1.0 x 10^-4.
    fig = draw_lag_norms(0.4, 0.5, T=15, seed=1, reference_radii=(), bound=False, **SMALL)
    value = experiment(0.4, 0.5, T=15, seed=1)["norm"][-1]
    exponent = math.floor(math.log10(value))
    mantissa = value / 10 ** exponent
    if round(mantissa, 1) >= 10:
        mantissa, exponent = mantissa / 10, exponent + 1
    assert f"{mantissa:.1f} × 10" in fig.axes[0].get_title()
