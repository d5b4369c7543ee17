"""Tests of bptt.plots.streams: the chapter's figures draw what the core says."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from bptt.plots.streams import (bias_explorer_widget, draw_bias_explorer,  # noqa: E402
                                plot_bias_curves, plot_scheme_paths, plot_stream_costs,
                                scheme_name)
from bptt.tbptt import update_windows  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _gid(ax, gid):
    return [a for a in [*ax.patches, *ax.lines] if a.get_gid() == gid]


@pytest.mark.parametrize("k1,k2", [(None, None), (4, 4), (3, 6), (5, 5)])
def test_scheme_paths_counts(k1, k2):
    T = 12
    ax = plot_scheme_paths(T, [(k1, k2)]).axes[0]
    windows = [(0, 0, T)] if k1 is None else update_windows(T, k1, k2)
    assert len(_gid(ax, "kept")) == sum(t - w for w, _, t in windows)
    assert len(_gid(ax, "loss")) == T                      # every loss once
    assert len(_gid(ax, "cut")) == 2 * sum(w > 0 for w, _, _ in windows)
    assert len(_gid(ax, "state")) == (T + 1) * len(windows)


def test_scheme_name():
    assert scheme_name(None, None) == "full BPTT" and scheme_name(3, 6) == "BPTT(6; 3)"


def test_bias_curves_and_costs():
    ks = [1, 2, 4]
    curves = {"a": {"cosine": [0.9, 0.95, 1.0], "rel_error": [0.3, 0.2, 0.0]},
              "lstm": {"cosine": [0.8, 0.9, 1.0], "rel_error": [0.5, 0.3, 0.0]}}
    fig = plot_bias_curves(ks, curves, rhos=[0.9])
    assert len(fig.axes[0].get_lines()) == 2
    fig = plot_stream_costs([10, 20], {"full": [1e5, 2e5]}, [1, 2], {"k1 = 2": [1.0, 1.9]})
    assert len(fig.axes) == 2 and _gid(fig.axes[1], "ratio")


def test_explorer_marks_k_and_widget_ranges():
    fig = draw_bias_explorer(4, 1.0, T=16, B=2, H=4, ks=(1, 4, 16))
    chosen = _gid(fig.axes[1], "chosen")[0]
    assert chosen.get_xdata()[0] == 4
    w = bias_explorer_widget(k=4, rho=1.0, T=16, B=2, H=4, ks=(1, 4, 16))
    assert w.result is not None
    with pytest.raises(ValueError):
        bias_explorer_widget(k=3)
    with pytest.raises(ValueError):
        bias_explorer_widget(rho=2.0)
