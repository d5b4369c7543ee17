r"""Training on streams: truncated BPTT chunk by chunk, the state carried across chunks.

A stream (a book, a recording) is too long for one backward pass. B streams
are walked side by side in chunks of k1 steps; the hidden state is carried
from one chunk to the next but *detached* (no gradient crosses into the
past beyond the window), and the parameters are updated after every chunk::

    state = h0
    for each chunk of k1 steps ending at step t:         # bptt.tbptt.update_windows
        w = max(0, t - k2)                               # the window: steps w+1 .. t
        y, cache = forward(params, x[w:t], state at w)   # current parameters
        loss, dy = loss_fn(y of the chunk's own steps, targets of the chunk)
        grads = backward(params, x[w:t], cache, dy, zeros before the chunk)
        optimizer.step(params, clip(grads))
        state at t = the window's last state (detached: plain numbers)

With ``k2 = k1`` (the default) the window is the chunk: BPTT(k; k), what
``h = h.detach()`` between chunks does in torch. With ``k2 > k1`` the window
reaches back ``k2 - k1`` steps before the chunk: those steps are run again
with the current parameters from the state kept at :math:`h_w`, so every loss
is backpropagated through at least ``k2 - k1 + 1`` steps (Williams and
Peng's BPTT(k2; k1); with fixed parameters its gradients are
:func:`bptt.tbptt.tbptt_gradients`'s).

``resets`` marks where a new document starts in a stream: that stream's
state is set to zeros before the step. No gradient crosses a reset (the zero
state is a constant), so the window of such a stream is cut there into
independent pieces, each run and backpropagated on its own.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .clip import clip_grad_norm, grad_norm
from .model import Model
from .rnn import RNN
from .tbptt import check_model, initial_states, update_windows
from .validate import check_array, check_flag, check_positive_float, check_positive_int

__all__ = ["train_stream"]


def _check_resets(resets, N: int, B: int):
    if resets is None:
        return None
    if not isinstance(resets, np.ndarray) or resets.dtype != bool:
        raise TypeError(f"resets must be None or a boolean array of shape (N, B) = ({N}, {B}), "
                        f"got {type(resets).__name__}"
                        + (f" of dtype {resets.dtype}" if isinstance(resets, np.ndarray) else ""))
    if resets.shape != (N, B):
        raise ValueError(f"resets must have shape (N, B) = ({N}, {B}), got {resets.shape}")
    return resets


def _pieces(resets_win, L: int, B: int) -> list:
    """The independent pieces of a window of L steps: ``(rows, a, b, zero)`` each.

    Streams with no reset after the window's first step run together over the
    whole window; a stream with resets runs piece by piece, each piece from a
    zero state. ``zero (len(rows),)`` marks rows whose piece starts from zeros.
    """
    if resets_win is None:
        return [(np.arange(B), 0, L, np.zeros(B, dtype=bool))]
    inside = resets_win[1:].any(axis=0)
    rows = np.flatnonzero(~inside)
    pieces = [(rows, 0, L, resets_win[0, rows])] if rows.size else []
    for b in np.flatnonzero(inside):
        cuts = [0, *(np.flatnonzero(resets_win[1:, b]) + 1), L]
        for a, e in zip(cuts[:-1], cuts[1:]):
            pieces.append((np.array([b]), a, e, np.array([a > 0 or resets_win[0, b]])))
    return pieces


def _cache_states(cache, L: int) -> tuple:
    """The state arrays ``(L+1, B, H)`` of a cache, in the order forward takes them (h, c)."""
    if isinstance(cache, np.ndarray):
        return (cache,)
    return tuple(a for a in cache.values() if a.shape[0] == L + 1)


def _start(start, rows, zero):
    """Initial states for ``rows``: ``start`` (a tuple, or () for zeros) with ``zero`` rows zeroed."""
    return tuple(np.where(zero[:, None], 0.0, s[rows]).astype(s.dtype) for s in start)


def _window(params, model, x_win, start, resets_win):
    """Forward every piece of a window; return y (L, B, O), the states (L+1, B, H) and the pieces."""
    L, B = x_win.shape[:2]
    y = states = None
    runs = []
    for rows, a, e, zero in _pieces(resets_win, L, B):
        y_p, cache = model.forward(params, x_win[a:e, rows], *_start(start, rows, zero))
        if y is None:
            y = np.empty((L, B, y_p.shape[2]), dtype=y_p.dtype)
            states = [np.empty((L + 1, B, s.shape[2]), dtype=s.dtype)
                      for s in _cache_states(cache, e - a)]
            for S, s in zip(states, start or [np.zeros_like(S[0]) for S in states]):
                S[0] = s
        y[a:e, rows] = y_p
        for S, s in zip(states, _cache_states(cache, e - a)):
            S[a + 1:e + 1, rows] = s[1:]        # the state *before* a reset is what is kept
        runs.append((rows, a, e, cache))
    return y, tuple(states), runs


def _window_grads(params, model, x_win, runs, dy_win):
    grads = {key: np.zeros_like(params[key]) for key in model.keys}
    for rows, a, e, cache in runs:
        g = model.backward(params, x_win[a:e, rows], cache, dy_win[a:e, rows])
        for key in model.keys:
            grads[key] += g[key]
    return grads


def train_stream(params: dict, x: np.ndarray, targets, loss_fn: Callable, optimizer, *,
                 k1: int, k2: int | None = None, clip_norm: float | None = None,
                 model: Model = RNN, carry: bool = True, resets=None, h0=None):
    r"""Train on B streams with truncated BPTT, updating after every chunk of k1 steps.

    Parameters
    ----------
    params : dict
        Initial parameters of ``model`` (not modified: training works on a copy).
    x : ndarray, shape (N, B, D)
        B streams of N steps, time first.
    targets : ndarray, shape (N, ...)
        What ``loss_fn`` compares with, time first: a chunk's are ``targets[s:t]``.
    loss_fn : callable
        ``loss_fn(y, target) -> (loss, dy)``, ``y`` and ``dy`` ``(k, B, O)`` for a
        chunk of k steps, as in :func:`bptt.train.train`.
    optimizer : object with a ``step(params, grads)`` method
        E.g. :class:`bptt.optim.SGD`.
    k1 : int, keyword-only
        Steps per chunk: an update after every k1 steps (and at N).
    k2 : int, optional
        Steps each update backpropagates through, ``k2 >= k1``; ``None`` is k1.
    clip_norm : float, optional
        Rescale each update's gradients to this global norm when it is exceeded.
    model : bptt.model.Model
        The vanilla RNN by default; :data:`bptt.lstm.LSTM` and :data:`bptt.gru.GRU` work too.
    carry : bool
        Carry the state across chunks (the default). ``False`` starts every
        chunk from ``h0`` (zeros when None): the chunks become independent
        sequences, and ``k2`` must then be ``k1``.
    resets : ndarray of bool, shape (N, B), optional
        ``resets[n, b]``: a new document starts at step ``n`` (index) of stream
        b, whose state is set to zeros before that step.
    h0 : ndarray (B, H), or tuple of them, optional
        The initial state (``(h0, c0)`` for the LSTM); ``None`` means zeros.

    Returns
    -------
    params : dict
        The trained parameters (new arrays).
    history : dict
        ``loss (n,)``: each update's loss (of its own chunk, before the
        update); ``grad_norm (n,)`` before clipping; ``update_norm (n,)`` after;
        ``t (n,)``: the step after which each update happened; ``state``: the
        final state, a tuple of ``(B, H)`` arrays (``(h,)``, or ``(h, c)``);
        ``stopped``: None, or why the run stopped (a loss or gradient that
        is not finite).
    """
    check_model(model)
    model.check(params)
    x = check_array("x", x, ("N", "B", "D"))
    N, B, _ = x.shape
    k1 = check_positive_int("k1", k1)
    k2 = k1 if k2 is None else check_positive_int("k2", k2)
    carry = check_flag("carry", carry)
    if not carry and k2 != k1:
        raise ValueError(f"k2 must be k1 (or None) when carry=False: every chunk starts "
                         f"afresh, so there is nothing before it to backpropagate into; "
                         f"got k1 = {k1}, k2 = {k2}")
    windows = update_windows(N, k1, k2)                  # checks k1 <= k2
    if clip_norm is not None:
        clip_norm = check_positive_float("clip_norm", clip_norm)
    if not isinstance(targets, np.ndarray) or targets.ndim == 0 or targets.shape[0] != N:
        raise ValueError(f"targets must be an array with N = {N} steps on its first axis, got "
                         f"{getattr(targets, 'shape', type(targets).__name__)}")
    resets = _check_resets(resets, N, B)
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable as loss_fn(y, target) -> (loss, dy), "
                        f"got {type(loss_fn).__name__}")
    if not callable(getattr(optimizer, "step", None)):
        raise TypeError(f"optimizer must have a step(params, grads) method, "
                        f"got {type(optimizer).__name__}")
    return _run(params, x, targets, loss_fn, optimizer, windows, clip_norm, model, carry,
                resets, initial_states(h0))


def _run(params, x, targets, loss_fn, optimizer, windows, clip_norm, model, carry, resets, h0):
    """The loop of :func:`train_stream`, on checked arguments."""
    params = {key: params[key].copy() for key in model.keys}
    kept = {0: h0}                       # step index -> state tuple (() = zeros), detached
    history = {"loss": [], "grad_norm": [], "update_norm": [], "t": []}
    stopped = None
    for j, (w, s, t) in enumerate(windows):
        if not carry:
            w, kept[s] = s, h0
        y, states, runs = _window(params, model, x[w:t], kept[w],
                                  None if resets is None else resets[w:t])
        loss, dy_own = loss_fn(y[s - w:], targets[s:t])
        dy = np.zeros_like(y)
        dy[s - w:] = dy_own                              # only this chunk's losses
        grads = _window_grads(params, model, x[w:t], runs, dy)
        norm = grad_norm(grads)
        history["loss"].append(float(loss))
        history["grad_norm"].append(norm)
        history["t"].append(t)
        if not (np.isfinite(loss) and np.isfinite(norm)):
            history["update_norm"].append(np.nan)
            stopped = f"loss {float(loss):.3g}, gradient norm {norm:.3g} at the update at t = {t}"
            break
        if clip_norm is not None:
            grads, _ = clip_grad_norm(grads, clip_norm)
        history["update_norm"].append(grad_norm(grads))
        optimizer.step(params, grads)
        for i in range(s + 1, t + 1):                    # this chunk's states, kept detached
            kept[i] = tuple(S[i - w].copy() for S in states)
        if j + 1 < len(windows):                         # forget what no window will start from
            kept = {i: v for i, v in kept.items() if i >= windows[j + 1][0]}
    history = {key: np.array(v) for key, v in history.items()}
    history["state"] = kept[max(kept)]
    history["stopped"] = stopped
    return params, history
