"""Tests of bptt.plots.memory: the memory BPTT keeps, drawn as given."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402

from bptt.plots.memory import plot_memory  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_memory_plot_draws_the_given_numbers():
    T = np.array([1, 10, 100])
    h = (T + 1) * 2 * 3 * 8.0
    x = T * 2 * 4 * 8.0
    fig = plot_memory(T, {"h": h, "x": x}, 500.0, unit=1e3, unit_name="kB")
    ax = fig.axes[0]
    polys = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(polys) == 2
    # the top of the stack is the total, in the chosen unit
    top = polys[1].get_paths()[0].vertices
    for t, total in zip(T, (h + x) / 1e3):
        assert np.isclose(top[np.isclose(top[:, 0], t), 1].max(), total)
    (line,) = ax.lines
    np.testing.assert_allclose(line.get_ydata(), 0.5)
    assert ax.get_ylabel() == "memory (kB)" and ax.get_xlabel() == "number of steps T"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["h", "x", "parameters (any T)"]


def test_memory_plot_errors():
    with pytest.raises(TypeError, match="stored must be a non-empty dict"):
        plot_memory(np.array([1, 2]), {}, 1.0)
    with pytest.raises(ValueError, match="like T, got"):
        plot_memory(np.array([1, 2]), {"h": np.ones(3)}, 1.0)
