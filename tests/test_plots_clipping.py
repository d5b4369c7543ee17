"""Tests of bptt.plots.clipping: the loss cliff and training runs, checked against the core."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt   # noqa: E402
from matplotlib.colors import to_hex   # noqa: E402
import numpy as np                # noqa: E402
import pytest                     # noqa: E402

from bptt.one_unit import one_unit_cliff, one_unit_descent, one_unit_loss  # noqa: E402
from bptt.plots.clipping import CLIFF_COLOUR, plot_loss_cliff, plot_training_runs  # noqa: E402
from bptt.plots.style import WIDTH  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


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
    np.testing.assert_allclose(wall.get_xdata(), one_unit_cliff(wall.get_ydata(), h0=0.5))
    drawn = wall.get_xdata()[np.isfinite(wall.get_xdata())]
    assert drawn.size and np.all(drawn * 0.75 > 1)     # only where h0 is unstable
    assert to_hex(wall.get_color()) == CLIFF_COLOUR
    # The slice b = -0.5 crosses the cliff; b = 0 crosses the wall where h0 is
    # stable (w (1 - h0^2) < 1): no cliff there, so nothing is marked.
    w_c = (np.arctanh(0.5) - b_slice) / 0.5
    crosses = w_c * 0.75 > 1
    for ax in (ax_loss, ax_grad):                      # the cliff crossing, same colour
        marks = [ln for ln in ax.get_lines() if to_hex(ln.get_color()) == CLIFF_COLOUR]
        assert len(marks) == int(crosses)
        if crosses:
            assert marks[0].get_xdata()[0] == pytest.approx(w_c)
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
    assert len(dots) == (len(slice_T) if crosses else 0)
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
