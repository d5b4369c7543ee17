"""Tests of bptt.plots.lyapunov: what is drawn equals what bptt.lyapunov computes."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt   # noqa: E402
import numpy as np                # noqa: E402
import pytest                     # noqa: E402

from bptt.lyapunov import REGIMES, regimes_by_radius   # noqa: E402
from bptt.plots.lyapunov import REGIME_MARKERS, plot_regimes_by_radius   # noqa: E402


@pytest.fixture(autouse=True)
def default_style_and_close_figures():
    with plt.style.context("default"):
        yield
    plt.close("all")


@pytest.fixture(scope="module")
def sweep():
    # Small and short, but with several regimes: zero (rho < 1), settled or not above.
    return regimes_by_radius([4, 16], [0.5, 1.5, 3.0], [0, 1], n_starts=2,
                             T=500, burn_in=250, max_period=50)


def drawn(ax):
    """Every point of every scatter collection of ``ax``, as an (n, 2) array."""
    offsets = [c.get_offsets() for c in ax.collections]
    return np.concatenate(offsets) if offsets else np.empty((0, 2))


def test_every_run_is_drawn_once_in_each_panel(sweep):
    fig = plot_regimes_by_radius(sweep)
    ax_lam, ax_h = fig.axes[:2]
    n_runs = sweep["exponent"].size
    for ax, key in ((ax_lam, "exponent"), (ax_h, "mean_abs_h")):
        points = drawn(ax)
        assert points.shape == (n_runs, 2)
        np.testing.assert_allclose(np.sort(points[:, 1]), np.sort(sweep[key].ravel()),
                                   err_msg=key)
    assert ax_lam.get_lines()[0].get_ydata()[0] == 0.0          # the line at lambda = 0
    assert ax_lam.get_xlabel() and ax_lam.get_ylabel() and ax_h.get_ylabel()


def test_points_sit_at_their_radius_and_regime(sweep):
    fig = plot_regimes_by_radius(sweep)
    ax_lam = fig.axes[0]
    radii = sweep["radii"]
    tol = 0.01 * np.ptp(radii)                   # the sideways nudge between sizes
    collections = iter(ax_lam.collections)
    for i in range(len(sweep["sizes"])):
        for regime in REGIMES:
            where = sweep["regime"][i] == regime
            if not where.any():
                continue
            points = next(collections).get_offsets()
            want_y = sweep["exponent"][i][where]
            want_x = np.broadcast_to(radii[:, None, None], where.shape)[where]
            np.testing.assert_allclose(points[:, 1], want_y, err_msg=f"H index {i}, {regime}")
            np.testing.assert_allclose(points[:, 0], want_x, atol=tol * 1.001)
    assert next(collections, None) is None
    labels = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert labels[:2] == ["H = 4", "H = 16"]
    assert set(labels[2:]) == set(np.unique(sweep["regime"]))
    assert "zero" in labels and set(REGIME_MARKERS) == set(REGIMES)


def test_bad_sweeps_are_refused_with_a_message(sweep):
    with pytest.raises(TypeError, match="must be the dict returned by "
                                        "bptt.lyapunov.regimes_by_radius"):
        plot_regimes_by_radius({"radii": [1.0]})
    bad = dict(sweep, exponent=sweep["exponent"][:, :2])
    with pytest.raises(ValueError, match=r"sweep\['exponent'\] must have shape \(len\(sizes\), "
                                         r"len\(radii\), len\(seeds\), n_starts\) = "
                                         r"\(2, 3, 2, \?\), got \(2, 2, 2, 2\)"):
        plot_regimes_by_radius(bad)
    odd = dict(sweep, regime=np.full(sweep["regime"].shape, "strange"))
    with pytest.raises(ValueError, match=r"labels of bptt.lyapunov.REGIMES, got \['strange'\]"):
        plot_regimes_by_radius(odd)
