"""Tests for bptt.plots.regimes: every run of the sweep drawn where it belongs."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bptt.lyapunov import REGIMES, regimes_by_radius  # noqa: E402
from bptt.plots.regimes import plot_long_run_regimes  # noqa: E402


@pytest.fixture(autouse=True)
def default_style_and_close_figures():
    """Matplotlib's default style whatever an earlier test left in rcParams,
    and no figure left open after a test."""
    with plt.style.context("default"):
        yield
    plt.close("all")


# --- plot_long_run_regimes-----------------------------------------------------


def synthetic_sweep():
    """A sweep with known values: 2 sizes, 3 radii, 2 seeds, 1 start, every regime."""
    regime = np.array([[["zero", "zero"], ["fixed point", "cycle"], ["cycle", "aperiodic"]],
                       [["zero", "zero"], ["aperiodic", "chaotic"], ["chaotic", "chaotic"]]]
                      )[..., None]
    shape = regime.shape                                   # (2, 3, 2, 1)
    mean_abs = (np.arange(np.prod(shape)).reshape(shape) + 1) / 20.0
    exponent = np.linspace(-0.9, 0.3, np.prod(shape)).reshape(shape)
    return {"sizes": np.array([4, 16]), "radii": np.array([0.5, 1.5, 3.0]),
            "seeds": np.array([0, 1]), "regime": regime, "exponent": exponent,
            "mean_abs_h": mean_abs, "period": np.zeros(shape, dtype=int)}


def points(ax):
    """Every scatter point of an axes, as (x, y) rows."""
    return np.vstack([c.get_offsets() for c in ax.collections])


def test_long_run_regimes_draws_every_run_in_its_column():
    sweep = synthetic_sweep()
    fig = plot_long_run_regimes(sweep)
    ax_h, ax_l = fig.axes[:2]
    for ax, key in ((ax_h, "mean_abs_h"), (ax_l, "exponent")):
        pts = points(ax)
        assert len(pts) == sweep[key].size                  # one marker per run
        for i in range(2):
            for j in range(3):
                want = np.sort(sweep[key][i, j].ravel())
                # The runs of size i at radius j: inside column j, left of centre for
                # the first size, right for the second.
                side = (pts[:, 0] < j) if i == 0 else (pts[:, 0] > j)
                inside = (np.abs(pts[:, 0] - j) < 0.5) & side
                np.testing.assert_allclose(np.sort(pts[inside, 1]), want)
    # One collection per (size, regime) that occurs: 4 for size 4, 3 for size 16.
    assert len(ax_h.collections) == len(ax_l.collections) == 4 + 3
    ticks = [t.get_text() for t in ax_l.get_xticklabels()]
    assert ticks == ["0.5", "1.5", "3"]


def test_long_run_regimes_medians_reference_and_legends():
    sweep = synthetic_sweep()
    fig = plot_long_run_regimes(sweep)
    ax_h, ax_l = fig.axes[:2]
    for ax, key in ((ax_h, "mean_abs_h"), (ax_l, "exponent")):
        medians = [line for line in ax.get_lines() if line.get_label().startswith("$H")]
        assert [m.get_label() for m in medians] == ["$H = 4$", "$H = 16$"]
        for i, line in enumerate(medians):
            np.testing.assert_allclose(line.get_ydata(),
                                       np.median(sweep[key][i].reshape(3, -1), axis=1))
    # The exponent at 0, log rho, is marked for the radii <= 1 only.
    ref = [line for line in ax_l.get_lines() if "log" in line.get_label()]
    assert len(ref) == 1
    np.testing.assert_allclose(ref[0].get_ydata(), np.log(0.5))
    assert [t.get_text() for t in ax_h.get_legend().get_texts()] == ["$H = 4$", "$H = 16$"]
    assert "log" in ax_l.get_legend().get_texts()[0].get_text()
    regimes = [t.get_text() for t in fig.legends[0].get_texts()]
    assert regimes == ["fixed point 0", "other fixed point", "cycle",
                       "no period, not chaotic", "chaotic"]


def test_long_run_regimes_legend_lists_only_the_regimes_present():
    sweep = synthetic_sweep()
    sweep["regime"] = np.full(sweep["regime"].shape, "chaotic")
    sweep["radii"] = np.array([1.5, 2.0, 3.0])
    fig = plot_long_run_regimes(sweep)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["chaotic"]
    assert fig.axes[1].get_legend() is None              # no radius <= 1: no log rho mark


def test_long_run_regimes_of_a_real_sweep():
    sweep = regimes_by_radius([3, 6], [0.5, 3.0], [0, 1], T=300, burn_in=100, max_period=20)
    assert set(np.unique(sweep["regime"])) <= set(REGIMES)
    fig = plot_long_run_regimes(sweep, figsize=(4.0, 5.0))
    assert tuple(fig.get_size_inches()) == pytest.approx((4.0, 5.0))
    ax_h, ax_l = fig.axes[:2]
    np.testing.assert_allclose(np.sort(points(ax_l)[:, 1]), np.sort(sweep["exponent"].ravel()))
    np.testing.assert_allclose(np.sort(points(ax_h)[:, 1]),
                               np.sort(sweep["mean_abs_h"].ravel()))


def test_long_run_regimes_value_error():
    sweep = synthetic_sweep()
    sweep["regime"] = np.where(sweep["regime"] == "cycle", "spiral", sweep["regime"])
    with pytest.raises(ValueError, match="holds unknown regimes"):
        plot_long_run_regimes(sweep)
