r"""Recall on a stream, trained with carried state: truncated BPTT against ARTBP.

Chapter "Truncated BPTT on streams" asks two questions with one task.

**The task.** A stream of random bits, shown one-hot (``D = V = 2``); the
target at step t is the bit shown L steps earlier, :math:`x_{t-L}`. The first
L steps of a stream have no target. Chance accuracy is 1/2: the bits are
independent, so nothing but memory beats a coin (:data:`CHANCE`). A run is
*solved* when its accuracy on a held-out stream reaches :data:`SOLVED_ACCURACY`
= 0.9 (in the stored sweep the solved runs end at 0.96 to 1.0, the failed
truncated runs at 0.49 to 0.59, near chance, and a few failed ARTBP runs in
between, up to 0.85). Bits, not a larger alphabet: in trial runs a vanilla RNN with
H = 32 solved L = 20 with bits but not with four symbols within the same
budget (40 bits to hold instead of 20).

**Training with carried state.** :func:`recall_run` trains an RNN on
:data:`batch_size` parallel streams of ``n_steps`` steps. Both methods cut
the stream into *segments*; each segment is run forward from the state the
previous one ended in (carried, but detached: nothing flows back into it),
backpropagated, and followed by one update. They differ only in where the
segments end and in one factor:

* truncated BPTT (``method="tbptt"``), BPTT(k; k): segments of exactly k steps;
  the gradient is plain BPTT inside a segment;
* ARTBP (``method="artbp"``, Tallec & Ollivier 2017) with a constant
  truncation probability c: each boundary between steps ends the segment with
  probability c (so lengths are geometric, of mean 1/c), and inside a
  segment the gradient crossing each boundary is multiplied by
  :math:`1/(1-c)` (:func:`segment_backward`). With c = 1/k both take the same
  compute: every step of the stream is run forward once and backward once,
  and the expected number of updates is the same, n_steps/k.

A loss at step t of a truncated segment can reach the input it needs,
:math:`x_{t-L}`, only if that input lies in the same segment: with k <= L, no
loss can, and with k > L only the last k - L steps of every segment can, a
fraction (k - L)/k. (A weight gradient also reads the carried state h_w at the
start of the segment, so the network can learn to *read* what the detached
state happens to hold one step further back; it cannot learn to *store* it.)

**The unbiased estimator.** :func:`artbp_draws`, :func:`mean_error_curve`,
:func:`relative_variance` and :func:`predicted_relative_variance` measure,
for :func:`bptt.artbp.artbp_backward`, the mean of many draws against the full
gradient and its variance against c and T. See :func:`predicted_relative_variance`
for the derivation of the variance, and why it explodes with T for a constant c.

**Deterministic.** Weights from ``seed``, the training stream from
:func:`stream_seed` (never :data:`TEST_SEED`), ARTBP's segment ends from
``(seed, 1)``; results rounded to :data:`DIGITS` significant digits.
"""
from __future__ import annotations

import json
from importlib import resources

import numpy as np

from .artbp import _backward as _artbp_factor_backward
from .artbp import artbp_backward, check_truncation_prob
from .clip import clip_grad_norm
from .losses import softmax_cross_entropy
from .optim import Adam
from .rnn import (PARAM_KEYS, check_rnn_params, check_tanh_states, init_rnn, rnn_backward,
                  rnn_forward, step_gradients)
from .validate import (check_array, check_nonneg_int, check_positive_float,
                       check_positive_int)

__all__ = ["V", "CHANCE", "SOLVED_ACCURACY", "TEST_SEED", "TEST_B", "TEST_STEPS", "WARMUP",
           "DIGITS", "METHODS", "recall_stream", "stream_seed", "recall_loss",
           "recall_accuracy", "segment_ends", "segment_backward", "recall_run",
           "success_counts", "artbp_draws", "mean_error_curve", "relative_variance",
           "predicted_relative_variance", "stored_recall_sweep"]

#: Symbols of the stream: bits, shown one-hot, so ``D = O = V = 2``.
V = 2
#: Accuracy of a guess that remembers nothing.
CHANCE = 1.0 / V
#: A run is solved when its held-out accuracy is at least this.
SOLVED_ACCURACY = 0.9
#: The held-out stream: ``TEST_B`` streams of ``TEST_STEPS`` steps from ``TEST_SEED``,
#: judged after ``WARMUP`` steps (the state forgets its zero start; WARMUP >= every L).
TEST_SEED = 0
TEST_B = 64
TEST_STEPS = 1000
WARMUP = 100
#: Significant digits of every reported number.
DIGITS = 4
#: The training methods of :func:`recall_run`.
METHODS = ("tbptt", "artbp")


def _round(value: float) -> float:
    """``value`` to :data:`DIGITS` significant digits, as a Python float (JSON-ready)."""
    return float(f"{float(value):.{DIGITS}g}")


def recall_stream(n_steps: int, B: int, L: int, *, seed: int):
    r"""``B`` streams of random bits; the target at step t is the bit at t - L.

    Parameters
    ----------
    n_steps : int
        ``N``, the steps of every stream.
    B : int
        Number of parallel streams.
    L : int
        The lag, ``0 <= L < N``.
    seed : int
        Seed of the ``numpy.random.default_rng`` that draws the bits.

    Returns
    -------
    x : ndarray, shape (N, B, V)
        One-hot bits; ``x[t]`` is the input at step t+1.
    targets : ndarray of int64, shape (N, B)
        ``targets[t] = bits[t - L]`` (0 for ``t < L``, where ``mask`` is False).
    mask : ndarray of bool, shape (N, B)
        False exactly at the first L steps, which have nothing to recall.
    """
    N = check_positive_int("n_steps", n_steps)
    B = check_positive_int("B", B)
    L = check_nonneg_int("L", L)
    if L >= N:
        raise ValueError(f"L must be below n_steps (a target needs an input L steps back), "
                         f"got L = {L}, n_steps = {N}")
    bits = np.random.default_rng(check_nonneg_int("seed", seed)).integers(0, V, size=(N, B))
    targets = np.zeros((N, B), dtype=np.int64)
    targets[L:] = bits[:N - L]
    mask = np.ones((N, B), dtype=bool)
    mask[:L] = False
    return np.eye(V)[bits], targets, mask


def stream_seed(seed: int) -> int:
    """Seed of run ``seed``'s training stream: ``10**6 (seed + 1)``, never :data:`TEST_SEED`."""
    return 10**6 * (check_nonneg_int("seed", seed) + 1)


def recall_loss(y: np.ndarray, targets: np.ndarray, mask: np.ndarray):
    """Mean softmax cross-entropy over the steps that have a target; ``(0, zeros)`` if none.

    ``y (T, B, V)``, ``targets (T, B)``, ``mask (T, B)``; returns ``(loss, dy (T, B, V))``.
    A segment inside the first L steps of the stream has nothing to recall.
    """
    if not np.any(mask):
        return 0.0, np.zeros_like(y)
    return softmax_cross_entropy(y, targets, mask=mask)


def recall_accuracy(params: dict, L: int, *, B: int = TEST_B, n_steps: int = TEST_STEPS,
                    seed: int = TEST_SEED) -> tuple[float, float]:
    """Accuracy and cross-entropy on a held-out stream, from a zero state.

    Steps ``WARMUP+1 .. n_steps`` are judged (all have a target: L <= WARMUP).
    Returns ``(accuracy, loss)``.
    """
    if check_nonneg_int("L", L) > WARMUP:
        raise ValueError(f"L must be at most WARMUP = {WARMUP}, got {L}")
    x, targets, _ = recall_stream(n_steps, B, L, seed=seed)
    y, _ = rnn_forward(params, x)
    mask = np.zeros(targets.shape, dtype=bool)
    mask[WARMUP:] = True
    loss, _ = softmax_cross_entropy(y, targets, mask=mask)
    accuracy = np.mean(y[WARMUP:].argmax(axis=-1) == targets[WARMUP:])
    return float(accuracy), float(loss)


def segment_ends(n_steps: int, method: str, k: int, *, seed: int) -> np.ndarray:
    """Where the segments of a stream of ``n_steps`` steps end, ascending, the last ``n_steps``.

    ``"tbptt"``: every k steps (``k, 2k, ...``). ``"artbp"``: each boundary
    between two steps ends a segment with probability c = 1/k, independently
    (drawn from ``default_rng((seed, 1))``), so the lengths are geometric of mean k.
    """
    N = check_positive_int("n_steps", n_steps)
    k = check_positive_int("k", k)
    if method == "tbptt":
        ends = np.arange(k, N, k)
    elif method == "artbp":
        cut = np.random.default_rng((check_nonneg_int("seed", seed), 1)).random(N - 1) < 1 / k
        ends = np.flatnonzero(cut) + 1          # boundary t (after step t) ends a segment
    else:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return np.append(ends, N)


def segment_backward(params: dict, x: np.ndarray, h: np.ndarray, dy: np.ndarray,
                     c: float) -> dict:
    r"""ARTBP's gradient on one segment: BPTT with every kept boundary scaled by 1/(1-c).

    A segment is the stretch between two cuts, so each of its T-1 inner
    boundaries was kept, and the gradient crossing it carries the
    compensation :math:`1/(1-c)`: :func:`bptt.artbp.artbp_backward` with
    its draws already made (all "keep"). ``x (T, B, D)``, ``h (T+1, B, H)``,
    ``dy (T, B, O)``; returns the keys of :func:`bptt.rnn.rnn_backward`. With
    c = 0 it is plain BPTT.
    """
    D, H, O = check_rnn_params(params)
    dtype = params["W_hh"].dtype
    x = check_array("x", x, ("T", "B", "D"), (None, None, D), dtype)
    T, B, _ = x.shape
    h = check_tanh_states(params, check_array("h", h, ("T+1", "B", "H"), (T + 1, B, H), dtype))
    dy = check_array("dy", dy, ("T", "B", "O"), (T, B, O), dtype)
    keep = 1.0 / (1.0 - check_truncation_prob(float(c), T))     # (T-1,): every boundary kept
    return _artbp_factor_backward(params, x, h, dy, keep.astype(dtype))


def _checkpoints(n_steps: int, n_points: int) -> list:
    """``n_points`` stream steps from ``n_steps / n_points`` to ``n_steps``, evenly spaced."""
    n_points = min(check_positive_int("n_points", n_points), n_steps)
    return [round(n_steps * (i + 1) / n_points) for i in range(n_points)]


def recall_run(L: int, k: int, *, seed: int, method: str = "tbptt", hidden_size: int = 32,
               batch_size: int = 16, n_steps: int = 100_000, lr: float = 0.003,
               clip_norm: float = 1.0, n_points: int = 8) -> dict:
    r"""Train an RNN with carried state on the recall task of lag ``L``; return the result.

    Parameters
    ----------
    L : int
        The lag, ``0 <= L <= WARMUP``.
    k : int
        Truncated BPTT: the segment length. ARTBP: the mean segment length, c = 1/k.
    seed : int
        Seeds the weights (``init_rnn(V, hidden_size, V, seed=seed)``), the
        training stream (:func:`stream_seed`) and ARTBP's cuts.
    method : {"tbptt", "artbp"}
        See the module docstring.
    hidden_size, batch_size : int
        ``H``, and ``B`` the parallel streams.
    n_steps : int
        ``N``, the steps of each training stream: the budget. Every step is
        run forward once and backward once, whatever the method and k.
    lr : float
        Adam's learning rate (betas (0.9, 0.999), eps 1e-8).
    clip_norm : float
        Each update's global gradient norm is capped at it.
    n_points : int
        Points of the learning curve (held-out accuracy every ``N / n_points`` steps).

    Returns
    -------
    dict
        ``method``, ``L``, ``k``, ``seed``; ``c`` (1/k for ARTBP, None for
        truncation); ``updates``: the number of segments (updates);
        ``longest``: the longest segment; ``steps (n_points + 1,)`` and
        ``accuracy (n_points + 1,)``: the learning curve from step 0;
        ``final_accuracy``, ``final_loss`` (cross-entropy, nats) on the
        held-out stream; ``solved``: ``final_accuracy >= SOLVED_ACCURACY``.
        Numbers rounded to :data:`DIGITS` significant digits.

    Notes
    -----
    Segment j covers steps :math:`e_{j-1}+1 .. e_j` (:func:`segment_ends`). It
    runs forward from :math:`h_{e_{j-1}}`, the state the previous segment
    ended in, takes the mean cross-entropy of its steps, backpropagates (no
    gradient enters :math:`h_{e_{j-1}}`: it is a constant), clips and updates.
    The state is never reset: the streams are one long sequence each.
    """
    L = check_nonneg_int("L", L)
    N = check_positive_int("n_steps", n_steps)
    if L > WARMUP:
        raise ValueError(f"L must be at most WARMUP = {WARMUP}, got {L}")
    c = 1.0 / check_positive_int("k", k) if method == "artbp" else None
    ends = segment_ends(N, method, k, seed=seed)
    x, targets, mask = recall_stream(N, check_positive_int("batch_size", batch_size), L,
                                     seed=stream_seed(seed))
    params = init_rnn(V, check_positive_int("hidden_size", hidden_size), V, seed=seed)
    opt = Adam(check_positive_float("lr", lr))
    clip_norm = check_positive_float("clip_norm", clip_norm)
    checkpoints = _checkpoints(N, n_points)
    steps, curve = [0], [recall_accuracy(params, L)[0]]
    h_carry, start = None, 0
    for end in ends:
        seg = slice(start, int(end))
        y, h = rnn_forward(params, x[seg], h_carry)
        _, dy = recall_loss(y, targets[seg], mask[seg])
        grads = (rnn_backward(params, x[seg], h, dy) if c is None
                 else segment_backward(params, x[seg], h, dy, c))
        grads, _ = clip_grad_norm({key: grads[key] for key in PARAM_KEYS}, clip_norm)
        opt.step(params, grads)
        h_carry, start = h[-1], int(end)             # carried, and detached: a constant
        while checkpoints and start >= checkpoints[0]:
            steps.append(checkpoints.pop(0))
            curve.append(recall_accuracy(params, L)[0])
    accuracy, loss = recall_accuracy(params, L)
    return {"method": method, "L": L, "k": k, "seed": seed,
            "c": None if c is None else _round(c), "updates": len(ends),
            "longest": int(np.max(np.diff(ends, prepend=0))), "steps": steps,
            "accuracy": [_round(a) for a in curve], "final_accuracy": _round(accuracy),
            "final_loss": _round(loss), "solved": bool(_round(accuracy) >= SOLVED_ACCURACY)}


def success_counts(runs, method: str = "tbptt") -> dict:
    """How many runs of ``method`` solved each (L, k): ``{(L, k): (n_solved, n_runs)}``, sorted."""
    counts: dict = {}
    for r in runs:
        if r["method"] == method:
            solved, total = counts.get((r["L"], r["k"]), (0, 0))
            counts[r["L"], r["k"]] = (solved + bool(r["solved"]), total + 1)
    return dict(sorted(counts.items()))


# ------------------------------------------------------------ the unbiased estimator

def _flat(grads: dict) -> np.ndarray:
    """The parameter gradients as one vector, keys in :data:`bptt.rnn.PARAM_KEYS` order."""
    return np.concatenate([np.ravel(grads[key]) for key in PARAM_KEYS])


def artbp_draws(params: dict, x: np.ndarray, dy: np.ndarray, truncation_prob, *,
                n_draws: int, seed: int, key: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``n_draws`` ARTBP estimates and the full BPTT gradient, as flat vectors.

    ``x (T, B, D)``, ``dy (T, B, O)``, from a zero initial state. ``key=None``
    takes every parameter gradient (concatenated, ``P`` numbers); ``key="h0"``
    the gradient of the initial state, ``(B*H,)``. Returns ``draws (n_draws, P)``
    and ``full (P,)``. The draws share one ``default_rng(seed)``.
    """
    n_draws = check_positive_int("n_draws", n_draws)
    _, h = rnn_forward(params, x)
    pick = _flat if key is None else (lambda g: np.ravel(g[key]))
    full = pick(rnn_backward(params, x, h, dy))
    rng = np.random.default_rng(check_nonneg_int("seed", seed))
    draws = np.stack([pick(artbp_backward(params, x, h, dy, truncation_prob=truncation_prob,
                                          rng=rng)) for _ in range(n_draws)])
    return draws, full


def mean_error_curve(draws: np.ndarray, full: np.ndarray, counts) -> np.ndarray:
    r"""Relative error of the mean of the first n draws, for each n in ``counts``.

    ``draws (n_draws, P)``, ``full (P,)``; returns ``(len(counts),)`` of
    :math:`\|\bar g_n - g\| / \|g\|`. For an unbiased estimator it falls like
    :math:`\sqrt{v / n}`, v the relative variance (:func:`relative_variance`).
    """
    draws = check_array("draws", draws, ("n_draws", "P"))
    full = check_array("full", full, ("P",), (draws.shape[1],))
    counts = [check_positive_int("counts", n) for n in counts]
    if max(counts) > draws.shape[0]:
        raise ValueError(f"counts must be at most n_draws = {draws.shape[0]}, got {max(counts)}")
    means = np.cumsum(draws, axis=0)[np.array(counts) - 1] / np.array(counts)[:, None]
    return np.linalg.norm(means - full, axis=1) / np.linalg.norm(full)


def relative_variance(draws: np.ndarray, full: np.ndarray) -> float:
    r"""The measured :math:`E\|\hat g - g\|^2 / \|g\|^2` over the draws (``(n, P)``, ``(P,)``)."""
    draws = check_array("draws", draws, ("n_draws", "P"))
    full = check_array("full", full, ("P",), (draws.shape[1],))
    return float(np.mean(np.sum((draws - full) ** 2, axis=1)) / np.sum(full ** 2))


def predicted_relative_variance(params: dict, x: np.ndarray, dy_last: np.ndarray,
                                truncation_prob, *, key: str | None = None) -> float:
    r"""The exact :math:`E\|\hat g - g\|^2 / \|g\|^2` of ARTBP for a loss at the last step.

    Parameters
    ----------
    params : dict
        RNN parameters.
    x : ndarray, shape (T, B, D)
        Inputs, from a zero initial state.
    dy_last : ndarray, shape (B, O)
        :math:`\partial L/\partial y_T`: the loss is on the last step only.
    truncation_prob : float or ndarray (T-1,)
        :math:`c_t`, as :func:`bptt.artbp.artbp_backward` takes it.
    key : None or "h0"
        The parameter gradients (None), or the initial state's.

    Returns
    -------
    float

    Notes
    -----
    With the loss at step T only, the use of the parameters at step s
    contributes :math:`b_s` (the terms of :func:`bptt.rnn.step_gradients`), and
    its path back from T crosses the boundaries :math:`s, \dots, T-1`; ARTBP
    multiplies it by :math:`\prod_{j=s}^{T-1} \xi_j`, with independent
    :math:`\xi_j = z_j/(1-c_j)`, :math:`E\xi_j = 1`, :math:`E\xi_j^2 = 1/(1-c_j)`.
    Two such products share the factors :math:`j \ge \max(s, s')`, so

    .. math::

        E\|\hat g\|^2 = \sum_{s, s'} \langle b_s, b_{s'} \rangle\, G_{\max(s, s')},
        \qquad G_m = \prod_{j=m}^{T-1} \frac{1}{1-c_j}, \quad G_T = 1,

    and :math:`E\|\hat g - g\|^2 = E\|\hat g\|^2 - \|g\|^2 =
    \sum_{s,s'} \langle b_s, b_{s'}\rangle (G_{\max(s,s')} - 1)`.

    *Long paths.* The gradient of :math:`h_0` has a single term, which crosses
    all T-1 boundaries: :math:`\hat g = g \prod_j \xi_j`, and its relative
    variance is :math:`G_1 - 1`; for a constant c,
    :math:`(1-c)^{-(T-1)} - 1 = e^{(T-1)\,|\ln(1-c)|} - 1`, exponential in T,
    whatever the network. The factor :math:`1/(1-c)` that makes each boundary
    unbiased also multiplies the second moment at every boundary kept, and a
    long path keeps many. For the weights the term of lag :math:`\tau = T - s`
    has variance :math:`\|b_s\|^2((1-c)^{-\tau} - 1)`: if the gradient decays
    like :math:`\|b_s\| \sim \lambda^\tau`, these terms shrink only while
    :math:`\lambda^2/(1-c) < 1`, i.e. :math:`c < 1 - \lambda^2`. A constant c
    therefore gives a bounded variance only on networks that forget fast,
    those that least need unbiased long-range gradients.
    """
    x = check_array("x", x, ("T", "B", "D"))
    T, B = x.shape[:2]
    c = check_truncation_prob(truncation_prob, T)
    _, h = rnn_forward(params, x)
    O = params["W_hy"].shape[0]
    dy = np.zeros((T, B, O), dtype=x.dtype)
    dy[-1] = check_array("dy_last", dy_last, ("B", "O"), (B, O), x.dtype)
    # G[s-1] = prod_{j=s}^{T-1} 1/(1-c_j), for s = 1..T (G_T = 1).
    G = np.append(np.cumprod((1.0 / (1.0 - c))[::-1])[::-1], 1.0)
    if key == "h0":
        g = rnn_backward(params, x, h, dy)["h0"]
        return float(G[0] - 1.0) if np.any(g) else 0.0
    if key is not None:
        raise ValueError(f"key must be None (the parameters) or 'h0', got {key!r}")
    per_step = step_gradients(params, x, h, dy)
    b = np.concatenate([per_step[k].reshape(T, -1) for k in PARAM_KEYS], axis=1)   # (T, P)
    full = b.sum(axis=0)
    # sum_{s,s'} <b_s, b_s'> f(max(s, s')) = sum_m f(m) (|b_m|^2 + 2 <b_m, sum_{s<m} b_s>)
    before = np.cumsum(b, axis=0) - b                   # sum_{s<m} b_s, row m
    pair = np.sum(b * b, axis=1) + 2 * np.sum(b * before, axis=1)
    return float(np.sum(pair * (G - 1.0)) / np.sum(full ** 2))


def stored_recall_sweep() -> dict:
    """The stored recall sweep (``bptt/sweeps/recall.json``).

    Written by ``chapters/data/recall_sweep.py``, read by the chapter. Returns
    a dict with ``settings`` (the script's ``SETTINGS``), ``runs`` (results of
    :func:`recall_run`, each with its CPU ``seconds``) and ``variance``
    (the estimator's measurements, see the script).
    """
    text = resources.files("bptt").joinpath("sweeps", "recall.json").read_text(encoding="utf-8")
    return json.loads(text)
