r"""Figures of chapter "A character-level language model".

Drawing only: the streams are :func:`bptt.charlm.stream_layout`'s, the
softmax is :func:`bptt.losses.softmax`, the correlations are
:mod:`bptt.char_units`', the runs come from :func:`bptt.charlm.train_charlm`
(``bptt/models/compare.json``).

* :func:`plot_streams`: a text cut into B contiguous streams, read K characters a chunk.
* :func:`plot_loss_curves`: training and validation loss against updates, in
  bits per character, with perplexity :math:`2^{\text{bpc}}` on the right.
* :func:`plot_grad_norms`: the gradient norm of each update and the clipping threshold.
* :func:`plot_temperatures`: the next-character distribution at several temperatures.
* :func:`plot_unit_trace`: a passage coloured by one unit's activation, with its indicator.
* :func:`draw_sample`, :func:`sampler_widget`: samples as a figure, and the live sampler.

One column, :data:`~bptt.plots.style.WIDTH` inches wide, as every figure of the book.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..losses import softmax
from .style import WIDTH

__all__ = ["MODEL_COLOURS", "plot_streams", "plot_loss_curves", "plot_grad_norms",
           "plot_temperatures", "plot_unit_trace", "draw_sample", "sampler_widget", "shown"]

#: One colour per model.
MODEL_COLOURS = {"rnn": "#1f77b4", "gru": "#2ca02c", "lstm": "#ff7f0e"}


def shown(ch: str) -> str:
    """A character as a figure shows it: newline as ↵, space as ␣."""
    return {"\n": "\u21b5", " ": "\u2423"}.get(ch, ch)


def plot_streams(text: str, batch_size: int, seq_len: int, *, n_chunks: int = 3) -> Figure:
    """The first ``n_chunks * K + 1`` characters of each of B streams, chunk by chunk.

    Row b is stream b: ``text[b L : b L + L + 1]`` with ``L = n_chunks * K``
    here (in training ``L = (N-1) // (B K) * K``). Chunk j is shaded in its
    own colour; the arrow at each chunk boundary is the carried state, the
    cross under it the cut gradient.
    """
    B, K = int(batch_size), int(seq_len)
    L = n_chunks * K
    if len(text) < B * L + 1:
        raise ValueError(f"text must hold B * n_chunks * K + 1 = {B * L + 1} characters, "
                         f"got {len(text)}")
    fig, ax = plt.subplots(figsize=(WIDTH, 0.45 * B + 0.9), layout="constrained")
    shades = ["#dbe9f6", "#fde0c5", "#d9f0d3", "#eadcf0"]
    gap = 1.4                                  # room between chunks for the carried state

    def left(i):                               # x of character i of a stream
        return i + gap * min(i // K, n_chunks)

    for b in range(B):
        y = B - 1 - b
        for i in range(L + 1):
            j = min(i // K, n_chunks - 1) if i < L else n_chunks
            colour = shades[j % len(shades)] if i < L else "#eeeeee"
            x = left(i) if i < L else left(L - 1) + 1
            ax.add_patch(plt.Rectangle((x, y + 0.1), 1, 0.8, facecolor=colour,
                                       edgecolor="white", lw=0.5))
            ax.text(x + 0.5, y + 0.5, shown(text[b * L + i]), ha="center", va="center",
                    fontsize=7, family="monospace")
        ax.text(-0.5, y + 0.5, f"stream {b}\nfrom {b * L}", ha="right", va="center", fontsize=7)
        for j in range(1, n_chunks):
            x0 = left(j * K - 1) + 1
            ax.annotate("", xy=(x0 + gap - 0.05, y + 0.5), xytext=(x0 + 0.05, y + 0.5),
                        arrowprops={"arrowstyle": "->", "color": "0.2", "lw": 1.0})
            ax.plot([x0 + gap / 2], [y + 0.1], marker="x", color="#d62728", ms=5)
    for j in range(n_chunks):
        ax.text(left(j * K) + K / 2, B + 0.15, f"chunk {j}", ha="center", va="bottom",
                fontsize=8)
    ax.set_xlim(-6, left(L - 1) + 2.5)
    ax.set_ylim(-0.2, B + 0.7)
    ax.axis("off")
    return fig


def _check_curve(name, values) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if v.ndim != 1 or v.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-d sequence, got shape {v.shape}")
    return v


def plot_loss_curves(runs: Mapping[str, Mapping], *, uniform_bpc: float | None = None,
                     ax=None) -> Figure:
    r"""Training (thin) and validation (markers) loss in bits per character against updates.

    Parameters
    ----------
    runs : dict of str to dict
        Label to a dict with ``train_steps``, ``train_bpc`` (the curve) and
        optionally ``val_steps``, ``val_bpc``; the label's colour is
        :data:`MODEL_COLOURS`' when it starts with a model's name.
    uniform_bpc : float, optional
        :math:`\log_2 V`, drawn as a dotted line (a uniform guess).
    """
    if not isinstance(runs, Mapping) or not runs:
        raise TypeError("runs must be a non-empty dict of label to curves")
    fig = ax.figure if ax is not None else plt.subplots(figsize=(WIDTH, 3.0),
                                                        layout="constrained")[0]
    ax = ax if ax is not None else fig.axes[0]
    for label, run in runs.items():
        colour = next((c for k, c in MODEL_COLOURS.items() if label.lower().startswith(k)), None)
        steps = _check_curve("train_steps", run["train_steps"])
        bpc = _check_curve("train_bpc", run["train_bpc"])
        if steps.shape != bpc.shape:
            raise ValueError(f"{label}: train_steps and train_bpc differ in length")
        line, = ax.plot(steps, bpc, lw=1.0, color=colour, label=f"{label}, training")
        if run.get("val_bpc") is not None:
            ax.plot(run["val_steps"], run["val_bpc"], "o--", ms=3.5, lw=1.0,
                    color=line.get_color(), label=f"{label}, validation")
    if uniform_bpc is not None:
        ax.axhline(uniform_bpc, ls=":", color="0.5", lw=1.0, label="uniform guess")
    ax.set_xlabel("update")
    ax.set_ylabel("loss (bits per character)")
    right = ax.secondary_yaxis("right", functions=(lambda b: 2.0 ** np.asarray(b),
                                                   lambda p: np.log2(np.maximum(p, 1e-9))))
    right.set_ylabel("perplexity")
    ax.legend(fontsize=7, ncols=2)
    return fig


def plot_grad_norms(norms, clip: float) -> Figure:
    """The global gradient norm of each update (log scale), the threshold, the clipped ones marked."""
    n = _check_curve("norms", norms)
    fig, ax = plt.subplots(figsize=(WIDTH, 2.4), layout="constrained")
    steps = np.arange(1, n.size + 1)
    ax.semilogy(steps, n, lw=0.8, color="#1f77b4", label="gradient norm")
    over = n > clip
    ax.semilogy(steps[over], n[over], "o", ms=2.5, color="#d62728",
                label=f"clipped ({int(over.sum())} of {n.size})")
    ax.axhline(clip, ls="--", color="0.3", lw=1.0, label=f"threshold {clip:g}")
    ax.set_xlabel("update")
    ax.set_ylabel(r"$\|\nabla L\|$")
    ax.legend(fontsize=7)
    return fig


def plot_temperatures(logits, chars: Sequence[str], temperatures: Sequence[float], *,
                      top: int = 12, context: str = "") -> Figure:
    r"""The softmax of ``logits / T`` for each temperature: the ``top`` likeliest characters.

    Parameters
    ----------
    logits : array of shape (V,)
        The model's output for one step.
    chars : sequence of str
        The vocabulary, ``chars[i]`` for code i.
    temperatures : sequence of float
        One panel each, > 0.
    top : int
        Characters shown (the likeliest at T = 1), with the rest summed as "other".
    context : str
        The text read, for the title.
    """
    y = _check_curve("logits", logits)
    if len(chars) != y.size:
        raise ValueError(f"chars must have V = {y.size} entries, got {len(chars)}")
    temps = [float(t) for t in temperatures]
    if not temps or min(temps) <= 0:
        raise ValueError(f"temperatures must be positive, got {temperatures}")
    order = np.argsort(-y, kind="stable")[:top]
    labels = [shown(chars[i]) for i in order] + ["other"]
    fig, axes = plt.subplots(1, len(temps), figsize=(WIDTH, 2.3), sharey=True,
                             layout="constrained")
    axes = np.atleast_1d(axes)
    for ax, t in zip(axes, temps):
        p = softmax(y / t)
        shown_p = np.append(p[order], 1.0 - p[order].sum())
        ax.barh(np.arange(len(labels)), shown_p, color=["#1f77b4"] * top + ["0.6"])
        ax.set_title(f"T = {t:g}", fontsize=9)
        ax.set_xlim(0, 1)
        ax.set_xticks([0, 0.5, 1])
        ax.tick_params(labelsize=7)
    axes[0].set_yticks(np.arange(len(labels)), labels, family="monospace", fontsize=8)
    axes[0].invert_yaxis()
    fig.supxlabel("probability of the next character", fontsize=8)
    if context:
        fig.suptitle("after \u201c" + "".join(shown(ch) for ch in context) + "\u201d",
                     fontsize=8)
    return fig


def plot_unit_trace(text: str, activation, indicator=None, *, title: str = "",
                    width: int = 64) -> Figure:
    """A passage, each character on a background coloured by the unit's activation.

    Parameters
    ----------
    text : str
        The passage (a few hundred characters); lines wrap at newlines and at ``width``.
    activation : array of shape (N,)
        The unit's value after each character, coloured on a diverging scale
        symmetric about 0 (blue negative, red positive).
    indicator : array of shape (N,), optional
        The hand-made indicator, drawn as a line under each character (1: set).
    """
    a = _check_curve("activation", activation)
    if a.size != len(text):
        raise ValueError(f"activation must have one value per character, {len(text)}, "
                         f"got {a.size}")
    z = None if indicator is None else _check_curve("indicator", indicator)
    rows, row, col = [], [], 0
    for i, ch in enumerate(text):
        row.append(i)
        col += 1
        if ch == "\n" or col == width:
            rows.append(row)
            row, col = [], 0
    if row:
        rows.append(row)
    scale = max(float(np.abs(a).max()), 1e-12)
    cmap = plt.get_cmap("RdBu_r")
    fig, ax = plt.subplots(figsize=(WIDTH, 0.21 * len(rows) + 0.5), layout="constrained")
    for r, idx in enumerate(rows):
        for c, i in enumerate(idx):
            colour = cmap(0.5 + 0.5 * a[i] / scale)
            ax.add_patch(plt.Rectangle((c, -r - 1), 1, 1, facecolor=colour, lw=0))
            ax.text(c + 0.5, -r - 0.5, shown(text[i]), ha="center", va="center",
                    fontsize=5.5, family="monospace")
            if z is not None and z[i] > 0:
                ax.plot([c, c + 1], [-r - 0.95] * 2, color="k", lw=0.8)
    ax.set_xlim(0, width)
    ax.set_ylim(-len(rows), 0)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=8)
    return fig


def draw_sample(text: str, *, title: str = "", width: int = 70) -> Figure:
    """A sampled text as a figure, in a monospace font (a frame of the no-kernel sampler)."""
    lines = []
    for line in text.split("\n"):
        while len(line) > width:
            lines.append(line[:width])
            line = line[width:]
        lines.append(line)
    # 9 pt text (a line of 1.3 x 9 pt is 0.165 in): readable in a frame drawn
    # at 100 dpi on a phone as on a laptop.
    top = 0.4 if title else 0.1                       # inches above the text
    height = 0.165 * len(lines) + top + 0.15
    fig = plt.figure(figsize=(WIDTH, height))
    if title:
        fig.text(0.02, 1 - 0.08 / height, title, va="top", ha="left", fontsize=10,
                 weight="bold")
    fig.text(0.02, 1 - top / height, "\n".join(lines), va="top", ha="left",
             family="monospace", fontsize=9, linespacing=1.3)
    return fig


def sampler_widget(lm, *, temperature: float = 0.8, prime: str = "ROMEO:\n",
                   length: int = 300, seed: int = 0):
    """Live sampler: a temperature slider and a prime box; returns an ``ipywidgets.interactive``."""
    import ipywidgets as widgets

    from ..charlm import sample

    style = {"description_width": "initial"}
    t_slider = widgets.FloatSlider(value=temperature, min=0.1, max=2.0, step=0.05,
                                   description="temperature", continuous_update=False,
                                   style=style)
    p_box = widgets.Text(value=prime, description="prime", continuous_update=False, style=style)

    def update(temperature, prime):
        ok = "".join(ch for ch in prime if ch in lm.vocab.chars)
        text = sample(lm, length, temperature=temperature, seed=seed, prime=ok)
        return draw_sample(ok + text, title=f"T = {temperature:g}, seed {seed}")

    return widgets.interactive(update, temperature=t_slider, prime=p_box)
