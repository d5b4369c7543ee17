"""Tests of bptt.plots.adding: the sweep's counts and learning curves, checked against the core."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from bptt.adding import BASELINE_MSE, SOLVED_FRACTION, success_counts  # noqa: E402
from bptt.plots.adding import MODEL_LABELS, adding_alt, plot_adding_sweep  # noqa: E402
from bptt.plots.style import WIDTH  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def run(model, T, seed, solved):
    end = 0.001 if solved else 0.15
    return {"model": model, "T": T, "seed": seed, "steps": [0, 10, 20],
            "test_mse": [0.5, 0.16, end], "final_mse": end, "solved": solved}


RUNS = [run("rnn", 5, 0, True), run("rnn", 5, 1, False), run("rnn", 9, 0, False),
        run("rnn", 9, 1, False), run("lstm", 5, 0, True), run("lstm", 5, 1, True),
        run("lstm", 9, 0, True), run("lstm", 9, 1, False)]


def test_bars_are_the_counts_and_curves_the_runs():
    fig = plot_adding_sweep(RUNS)
    ax_bar, ax_curve = fig.axes
    assert ax_bar.get_position().y0 > ax_curve.get_position().y0          # one column
    assert fig.get_figwidth() == pytest.approx(WIDTH)
    counts = success_counts(RUNS)
    heights = [p.get_height() for p in ax_bar.patches]
    assert heights == [counts[m][T][0] for m in ("rnn", "lstm") for T in (5, 9)]
    labels = [t.get_text() for t in ax_bar.texts]
    assert labels == ["1/2", "0/2", "2/2", "1/2"]
    assert [t.get_text() for t in ax_bar.get_xticklabels()] == ["T = 5", "T = 9"]
    curves = [ln for ln in ax_curve.get_lines() if len(ln.get_xdata()) == 3]
    assert len(curves) == 4                                               # the runs at T = 9
    for ln, r in zip(curves, [r for r in RUNS if r["T"] == 9]):
        assert list(ln.get_xdata()) == r["steps"] and list(ln.get_ydata()) == r["test_mse"]
    levels = sorted(ln.get_ydata()[0] for ln in ax_curve.get_lines() if len(ln.get_xdata()) == 2)
    assert levels == pytest.approx([SOLVED_FRACTION * BASELINE_MSE, BASELINE_MSE])
    assert ax_curve.get_yscale() == "log" and "T = 9" in ax_curve.get_title()
    legend = [t.get_text() for t in ax_curve.get_legend().get_texts()]
    assert legend[:2] == [MODEL_LABELS["rnn"], MODEL_LABELS["lstm"]]     # one entry a model


def test_curves_at_a_chosen_length_and_the_alt_text():
    fig = plot_adding_sweep(RUNS, T_curves=5)
    assert "T = 5" in fig.axes[1].get_title()
    alt = adding_alt(RUNS)
    assert "T = 5: RNN 1 of 2, LSTM 2 of 2; T = 9: RNN 0 of 2, LSTM 1 of 2" in alt
    assert "at T = 9" in alt and "LSTM ends below the threshold in 1 of 2 runs" in alt


def test_errors():
    with pytest.raises(TypeError, match="runs must be a non-empty list"):
        plot_adding_sweep([])
    with pytest.raises(TypeError, match="runs must be a non-empty list"):
        adding_alt([{"model": "rnn"}])
    with pytest.raises(ValueError, match="T_curves must be one of"):
        plot_adding_sweep(RUNS, T_curves=7)
