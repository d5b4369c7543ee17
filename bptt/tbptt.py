r"""BPTT(k2; k1): Williams and Peng's truncated backpropagation on a stream.

A long sequence is processed as it arrives. Every k1 steps (at
:math:`t = k_1, 2k_1, \dots`, and at T when k1 does not divide T) an update
is made with the gradient of the losses of the steps since the previous
update, backpropagated through at most k2 steps: the state is *detached* at
:math:`h_{t - k_2}` (at :math:`h_0` when :math:`t - k_2 \le 0`). So each loss
reaches back between :math:`k_2 - k_1 + 1` and :math:`k_2` steps (Williams
and Peng 1990, who write it BPTT(h; h'))::

    t_prev = 0
    for t in update_times(T, k1):              # k1, 2 k1, ..., T
        w = max(0, t - k2)                     # h_w is a constant (detached)
        dy_w = dy[w:t] with zeros before step t_prev + 1   # only this update's losses
        grads_j = backward(params, x[w:t], states[w:t+1], dy_w)
        t_prev = t

With :math:`k_1 = k_2 = k` the windows are the chunks of
:func:`bptt.rnn.rnn_backward`'s ``truncate=k``, and the updates' gradients sum
to its gradient (when k divides T, or k >= T).

Here the parameters are held fixed, so one forward pass over the whole
sequence gives every state, and each update is a backward pass over a *slice*
of them: the cost is :math:`O(T k_2 / k_1)` steps of backward, and only the
recurrence loops over time (inside the model's backward). Training on a
stream, where the parameters change between updates, is
:func:`bptt.stream.train_stream`.

Any model works (``model=``, a :class:`bptt.model.Model`), provided the
``cache`` its forward returns holds time-major arrays, each with T+1 entries
(states, ``[0]`` the initial one) or T entries (one per step) on its first
axis: an array (the RNN's ``h``) or a dict of them (the LSTM's ``h``, ``c``,
``gates``; the GRU's ``h``, ``gates``, ``hn``). A window is then the slice
``[w:t+1]`` or ``[w:t]`` of each.
"""
from __future__ import annotations

import numpy as np

from .model import Model
from .rnn import RNN
from .validate import check_array, check_positive_int

__all__ = ["check_k1_k2", "update_windows", "initial_states", "slice_cache", "tbptt_gradients"]


def check_k1_k2(k1, k2) -> tuple[int, int]:
    """Check ``1 <= k1 <= k2`` (ints) and return them."""
    k1 = check_positive_int("k1", k1)
    k2 = check_positive_int("k2", k2)
    if k2 < k1:
        raise ValueError(f"k2 must be >= k1 (each update backpropagates at least the k1 steps "
                         f"whose losses it holds), got k1 = {k1}, k2 = {k2}")
    return k1, k2


def update_windows(T: int, k1: int, k2: int) -> list[tuple[int, int, int]]:
    """The updates of BPTT(k2; k1) over T steps, as ``(w, s, t)`` triples.

    Update j happens at step ``t`` (k1, 2 k1, ..., and T if k1 does not divide
    T); it holds the losses of steps ``s+1 .. t`` (``s`` the previous update,
    0 for the first) and backpropagates down to the detached state ``h_w``,
    ``w = max(0, t - k2)``. In array indices: ``x[w:t]``, ``h[w:t+1]``, own
    losses ``dy[s:t]``.

    >>> update_windows(5, 2, 3)
    [(0, 0, 2), (1, 2, 4), (2, 4, 5)]
    """
    T = check_positive_int("T", T)
    k1, k2 = check_k1_k2(k1, k2)
    ends = list(range(k1, T + 1, k1))
    if not ends or ends[-1] != T:
        ends.append(T)
    return [(max(0, t - k2), s, t) for s, t in zip([0, *ends[:-1]], ends)]


def initial_states(h0) -> tuple:
    """``h0`` as the tuple of initial states to pass to a model's forward after ``x``.

    ``None`` gives ``()`` (zeros, the forward's default); an array gives
    ``(h0,)``; a tuple or list, e.g. ``(h0, c0)`` for the LSTM, is passed as is.
    """
    if h0 is None:
        return ()
    if isinstance(h0, np.ndarray):
        return (h0,)
    if isinstance(h0, (tuple, list)):
        return tuple(h0)
    raise TypeError(f"h0 must be None, an array (B, H), or a tuple of the model's initial "
                    f"states such as (h0, c0), got {type(h0).__name__}")


def slice_cache(cache, T: int, w: int, t: int):
    """The part of a forward ``cache`` that steps ``w+1 .. t`` need, with ``h_w`` first.

    Arrays with T+1 entries on the first axis (states) become ``[w:t+1]``,
    arrays with T entries (per step) ``[w:t]``; a dict is sliced entry by entry.
    """
    if isinstance(cache, dict):
        return {key: slice_cache(a, T, w, t) for key, a in cache.items()}
    if not isinstance(cache, np.ndarray) or cache.ndim == 0 or cache.shape[0] not in (T, T + 1):
        raise ValueError(f"a model's cache must hold arrays with T = {T} or T+1 = {T + 1} "
                         f"entries on their first axis, got "
                         f"{getattr(cache, 'shape', type(cache).__name__)}")
    return cache[w:t + 1] if cache.shape[0] == T + 1 else cache[w:t]


def check_model(model) -> Model:
    """Check that ``model`` is a :class:`bptt.model.Model`; return it."""
    if not isinstance(model, Model):
        raise TypeError(f"model must be a bptt.model.Model, got {type(model).__name__}")
    return model


def tbptt_gradients(params: dict, x: np.ndarray, dy: np.ndarray, k1: int, k2: int,
                    h0=None, *, model: Model = RNN) -> list[dict]:
    r"""The gradients of the updates of BPTT(k2; k1) over one sequence, parameters fixed.

    Parameters
    ----------
    params : dict
        The model's parameters, e.g. the RNN's ``W_xh (H, D)``, ``W_hh (H, H)``,
        ``b_h (H,)``, ``W_hy (O, H)``, ``b_y (O,)``.
    x : ndarray, shape (T, B, D)
        The inputs.
    dy : ndarray, shape (T, B, O)
        :math:`\partial L/\partial y_t` for every step: the loss is
        :math:`L = \sum_t \langle dy_t, y_t \rangle` (zeros where a step has none).
    k1 : int
        Steps between updates, ``1 <= k1``.
    k2 : int
        Steps each update backpropagates through, ``k1 <= k2``.
    h0 : ndarray (B, H), or tuple of them, optional
        The initial state; for the LSTM a tuple ``(h0, c0)`` (an array alone is
        ``h0``, with ``c0`` zeros). ``None`` means zeros.
    model : bptt.model.Model, keyword-only
        The vanilla RNN by default; :data:`bptt.lstm.LSTM`, :data:`bptt.gru.GRU` work too.

    Returns
    -------
    list of dict
        One dict per update (``ceil(T / k1)`` of them), with the model's
        parameter keys: the gradient of the losses of steps ``s+1 .. t`` with
        the state detached at :math:`h_w` (see :func:`update_windows`).

    Notes
    -----
    Update j at step :math:`t_j` computes

    .. math::

        g_j = \sum_{s = t_{j-1}+1}^{t_j} \frac{\partial L_s}{\partial \theta}
        \Big|_{h_{w_j}\ \text{constant}}, \qquad w_j = \max(0, t_j - k_2),

    the gradient autodiff gives when the state is detached at :math:`h_{w_j}`
    (``h.detach()`` in torch). Since the parameters do not change here, every
    window reads the states of one forward pass. With :math:`k_1 = k_2 = k`
    and k dividing T, :math:`\sum_j g_j` is ``rnn_backward(..., truncate=k)``.
    """
    check_model(model)
    model.check(params)
    k1, k2 = check_k1_k2(k1, k2)
    y, cache = model.forward(params, x, *initial_states(h0))
    T = y.shape[0]
    dy = check_array("dy", dy, ("T", "B", "O"), y.shape, y.dtype)
    grads = []
    for w, s, t in update_windows(T, k1, k2):
        dy_w = np.zeros_like(dy[w:t])
        dy_w[s - w:] = dy[s:t]                    # only this update's own losses
        g = model.backward(params, x[w:t], slice_cache(cache, T, w, t), dy_w)
        grads.append({key: g[key] for key in model.keys})
    return grads
