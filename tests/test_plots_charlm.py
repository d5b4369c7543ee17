"""Tests of bptt.plots.charlm: each figure draws what it is given, and refuses bad input."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bptt.charlm import new_charlm  # noqa: E402
from bptt.data import CharVocab  # noqa: E402
from bptt.plots.charlm import (draw_sample, plot_grad_norms, plot_loss_curves,  # noqa: E402
                               plot_streams, plot_temperatures, plot_unit_trace,
                               sampler_widget, shown)
from bptt.plots.style import WIDTH  # noqa: E402

TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n" * 3


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts] + [t.get_text() for t in fig.texts]


def test_streams_show_each_stream_its_own_slice():
    fig = plot_streams(TEXT, 3, 4, n_chunks=2)
    shown_text = texts(fig)
    L = 8
    for b in range(3):
        assert f"stream {b}\nfrom {b * L}" in shown_text
    assert "chunk 0" in shown_text and "chunk 1" in shown_text
    assert fig.get_figwidth() == pytest.approx(WIDTH)
    with pytest.raises(ValueError, match="characters"):
        plot_streams("abc", 2, 4)
    assert shown("\n") == "\u21b5" and shown("a") == "a"


def test_loss_curves_and_perplexity_axis():
    runs = {"lstm": {"train_steps": [1, 2, 3], "train_bpc": [4, 3, 2.5],
                     "val_steps": [3], "val_bpc": [2.6]}}
    fig = plot_loss_curves(runs, uniform_bpc=np.log2(65))
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert "lstm, training" in labels and "lstm, validation" in labels
    assert "uniform guess" in labels
    with pytest.raises(ValueError, match="differ"):
        plot_loss_curves({"rnn": {"train_steps": [1, 2], "train_bpc": [1]}})
    with pytest.raises(TypeError):
        plot_loss_curves({})


def test_grad_norms_count_the_clipped():
    fig = plot_grad_norms([10.0, 2.0, 6.0, 1.0], 5.0)
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert "clipped (2 of 4)" in labels


def test_temperatures_show_the_softmax():
    logits = np.array([2.0, 1.0, 0.0, -1.0])
    fig = plot_temperatures(logits, ["a", "b", " ", "\n"], [0.5, 1.0, 2.0], top=2)
    assert len(fig.axes) == 3
    bars = [p.get_width() for p in fig.axes[0].patches]
    p = np.exp(logits / 0.5) / np.exp(logits / 0.5).sum()
    np.testing.assert_allclose(bars, [p[0], p[1], p[2] + p[3]])
    with pytest.raises(ValueError, match="positive"):
        plot_temperatures(logits, "abcd", [0.0])
    with pytest.raises(ValueError, match="V = 4"):
        plot_temperatures(logits, "abc", [1.0])


def test_unit_trace_one_cell_per_character():
    t = "ab\ncd"
    fig = plot_unit_trace(t, np.array([-1.0, 0.0, 1.0, 0.5, -0.5]), np.array([1, 0, 0, 0, 1]))
    assert len(fig.axes[0].patches) == len(t)
    assert len(fig.axes[0].get_lines()) == 2
    with pytest.raises(ValueError, match="one value per character"):
        plot_unit_trace(t, np.zeros(3))


def test_sample_figure_and_widget():
    fig = draw_sample("abc\n" + "x" * 100, title="T = 1", width=40)
    assert "x" * 40 in fig.texts[-1].get_text() and fig.texts[0].get_text() == "T = 1"
    lm = new_charlm(CharVocab(TEXT), "rnn", 8, seed=0)
    w = sampler_widget(lm, temperature=0.5, prime="First", length=20)
    assert w.children[0].value == 0.5 and w.children[1].value == "First"
    assert isinstance(w.result, plt.Figure)
