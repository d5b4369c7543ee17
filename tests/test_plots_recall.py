"""Tests of bptt.plots.recall: the grid, the estimator's panels, equal compute."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from bptt.plots.recall import (artbp_estimator_alt, equal_compute_alt,  # noqa: E402
                               plot_artbp_estimator, plot_equal_compute, plot_recall_grid,
                               recall_grid_alt)
from bptt.plots.style import WIDTH  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def run(method, L, k, seed, solved):
    return {"method": method, "L": L, "k": k, "seed": seed, "solved": solved}


RUNS = [run("tbptt", 5, 5, 0, False), run("tbptt", 5, 5, 1, False),
        run("tbptt", 5, 10, 0, True), run("tbptt", 5, 10, 1, True),
        run("tbptt", 9, 5, 0, False), run("tbptt", 9, 10, 0, True),
        run("artbp", 5, 10, 0, True), run("artbp", 5, 10, 1, False)]

VARIANCE = {"mean": {"counts": [1, 10, 100], "error": [0.3, 0.1, 0.03],
                     "predicted": [0.32, 0.1, 0.032]},
            "vs_c": [{"T": 20, "c": c, "params_measured": c, "params_predicted": c,
                      "h0_measured": 2 * c, "h0_predicted": 2 * c} for c in (0.1, 0.2)],
            "vs_T": [{"T": T, "c": 0.1, "params_measured": 0.1, "params_predicted": 0.1,
                      "h0_measured": T / 10, "h0_predicted": T / 10} for T in (5, 10)]}


def test_grid_shows_the_counts():
    fig = plot_recall_grid(RUNS)
    (ax,) = fig.axes
    assert fig.get_figwidth() == pytest.approx(WIDTH)
    assert [t.get_text() for t in ax.texts] == ["0/2", "2/2", "0/1", "1/1"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["5", "10"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["5", "9"]
    assert len(ax.patches) == 2                   # the dashed cells: k <= L
    alt = recall_grid_alt(RUNS)
    assert "L = 5: k = 5 0 of 2, k = 10 2 of 2; L = 9: k = 5 0 of 1, k = 10 1 of 1" in alt


def test_estimator_panels_draw_the_measurements():
    fig = plot_artbp_estimator(VARIANCE)
    a, b, c = fig.axes
    assert list(a.get_lines()[0].get_ydata()) == VARIANCE["mean"]["error"]
    assert a.get_xscale() == "log" and b.get_yscale() == "log"
    assert list(b.get_lines()[0].get_xdata()) == [0.1, 0.2]
    assert list(c.get_lines()[2].get_ydata()) == [0.5, 1.0]     # h0 predicted
    alt = artbp_estimator_alt(VARIANCE)
    assert "from 0.3 at n = 1 to 0.03 at n = 100" in alt and "T = 10: weights 0.1, h0 1" in alt


def test_equal_compute_pairs_the_methods():
    fig = plot_equal_compute(RUNS)
    (ax,) = fig.axes
    assert [p.get_height() for p in ax.patches] == [2, 1]
    assert equal_compute_alt(RUNS).endswith("L = 5, k = 10: truncated 2 of 2, ARTBP 1 of 2.")


def test_errors():
    with pytest.raises(TypeError, match="runs must be a non-empty list"):
        plot_recall_grid([])
    with pytest.raises(ValueError, match="no run of method"):
        plot_equal_compute([r for r in RUNS if r["method"] == "tbptt"])
    with pytest.raises(TypeError, match="variance must be"):
        plot_artbp_estimator({"mean": {}})
