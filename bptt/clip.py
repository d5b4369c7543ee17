r"""Gradient clipping: the standard remedy for exploding gradients.

Three rules, which differ in one important way: whether the clipped update is
still a descent direction, :math:`\langle \nabla L, \text{update} \rangle > 0`.

*Clipping by norm* (Pascanu, Mikolov & Bengio 2013, "On the difficulty of
training recurrent neural networks") treats the five parameter gradients as one
long vector :math:`\nabla L` and shrinks it when its length exceeds a threshold
:math:`c`:

.. math::

    \|\nabla L\| = \Big(\sum_{k} \sum_{i} (\nabla_k L)_i^2\Big)^{1/2}, \qquad
    \nabla L \leftarrow \frac{c}{\|\nabla L\| + \epsilon}\, \nabla L
    \quad \text{if } \|\nabla L\| > c,

with :math:`\epsilon = 10^{-6}` as in ``torch.nn.utils.clip_grad_norm_``.
Every entry is multiplied by the same positive number, so the *direction* of
the step is kept and only its length is capped: the step still points downhill,
it just cannot jump off the cliff that an exploding gradient signals.

*Clipping the summed gradient by value* (``torch.nn.utils.clip_grad_value_``)
clamps each entry of :math:`\nabla L` on its own,
:math:`(\nabla_k L)_i \leftarrow \min(\max((\nabla_k L)_i, -c), c)`. Large
entries are cut while small ones are not, so the *direction changes*: a
gradient :math:`(10, 1)` clamped at 1 becomes :math:`(1, 1)`, which points 39
degrees away. Every entry keeps its sign, so the result is still a descent
direction.

*Clipping each step's contribution by value, then summing* is the rule that
Pascanu et al. attribute to Mikolov (2012 thesis): "clipping the gradient's
temporal components element-wise". The gradient of a weight shared by the T
steps is a sum of T contributions, one per step's copy of the weights,
:math:`\nabla L = \sum_t \partial\tilde L/\partial\theta^{(t)}`
(:func:`step_gradients`); :func:`clip_step_values` clamps every entry of every
contribution and then sums. A large contribution of one sign, cut down to
:math:`c`, can then be outweighed by several small ones of the other sign:
an entry of the update can have the opposite sign to the same entry of
:math:`\nabla L`, and the whole update need not be a descent direction.

Both functions that take ``grads`` return a new dict and leave their input
untouched; the chapter "Vanishing and exploding gradients" compares the rules.
Only the parameter gradients (:data:`bptt.validate.PARAM_KEYS`) are measured
and clipped. The extra entries that :func:`bptt.rnn.rnn_backward` returns,
``x`` (dL/dx) and ``h0`` (dL/dh_0), are copied unchanged.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from .rnn import rnn_backward
from .validate import PARAM_KEYS, check_array, check_params, check_positive_float

__all__ = ["grad_norm", "clip_grad_norm", "clip_grad_value", "step_gradients",
           "clip_step_values"]

#: Added to the norm before dividing, exactly as torch does, so that the
#: scale is always finite.
_NORM_EPS = 1e-6


def _check_grads(grads) -> None:
    """Check that ``grads`` holds the five parameter gradients, finite and floating."""
    if not isinstance(grads, Mapping):
        raise TypeError(f"grads must be a dict with keys {list(PARAM_KEYS)} "
                        f"(as returned by rnn_backward), got {type(grads).__name__}")
    missing = [k for k in PARAM_KEYS if k not in grads]
    if missing:
        raise ValueError(f"grads must contain the parameter gradients {list(PARAM_KEYS)}; "
                         f"missing {missing}")
    # The gradients have the shapes of the parameters, so the parameters'
    # check applies; it names the offending key, e.g. "grads['W_hh'] contains NaN".
    # torch would silently return nan here; we refuse instead.
    check_params({k: grads[k] for k in PARAM_KEYS}, name="grads")


def _copy_others(grads: Mapping) -> dict:
    """Copy the entries that are not parameter gradients (``x``, ``h0``), never sharing memory."""
    return {k: (np.array(v, copy=True) if isinstance(v, np.ndarray) else v)
            for k, v in grads.items() if k not in PARAM_KEYS}


def _norm(grads: Mapping) -> float:
    # Accumulate in float64 so float32 gradients cannot overflow when squared,
    # and divide by the largest entry first so even huge float64 gradients
    # give a finite norm (an infinite norm would clip everything to zero).
    scale = max(float(np.max(np.abs(grads[k]))) for k in PARAM_KEYS)
    if scale == 0.0:
        return 0.0
    sumsq = sum(float(np.sum((grads[k].astype(np.float64) / scale) ** 2)) for k in PARAM_KEYS)
    return scale * float(np.sqrt(sumsq))


def grad_norm(grads: Mapping[str, np.ndarray]) -> float:
    r"""The global L2 norm of the parameter gradients.

    Parameters
    ----------
    grads : dict
        ``W_xh (H, D)``, ``W_hh (H, H)``, ``b_h (H,)``, ``W_hy (O, H)``,
        ``b_y (O,)``, as returned by :func:`bptt.rnn.rnn_backward`. Other keys
        (``x``, ``h0``) are ignored.

    Returns
    -------
    float
        :math:`\|g\| = (\sum_k \|g_k\|_F^2)^{1/2}` over the five parameter
        keys: the norm of all gradients laid end to end in one vector, which is
        what ``torch.nn.utils.clip_grad_norm_`` measures.

    Notes
    -----
    Computed in float64 whatever the gradients' dtype.
    """
    _check_grads(grads)
    return _norm(grads)


def clip_grad_norm(grads: Mapping[str, np.ndarray], max_norm: float):
    r"""Rescale the parameter gradients so that their global norm is at most ``max_norm``.

    Parameters
    ----------
    grads : dict
        ``W_xh (H, D)``, ``W_hh (H, H)``, ``b_h (H,)``, ``W_hy (O, H)``,
        ``b_y (O,)``, possibly with ``x (T, B, D)`` and ``h0 (B, H)``; left
        untouched.
    max_norm : float
        The threshold :math:`c > 0`.

    Returns
    -------
    clipped : dict
        A new dict of new arrays, same keys, shapes and dtypes as ``grads``.
        The five parameter gradients are scaled by one common factor;
        ``x`` and ``h0`` are copied unchanged.
    total_norm : float
        :func:`grad_norm` of ``grads``, *before* clipping.

    Notes
    -----
    Exactly the rule of ``torch.nn.utils.clip_grad_norm_``:

    .. math::

        s = \min\Big(1, \frac{c}{\|g\| + 10^{-6}}\Big), \qquad g_k \leftarrow s\, g_k.

    So the gradients are scaled when :math:`\|g\| > c` and returned unchanged
    when :math:`\|g\| \le c - 10^{-6}`; in the sliver in between, torch (and
    so this function) scales by a factor within :math:`10^{-6}/c` of 1.
    After clipping, :math:`\|g\| = c\,\|g\|/(\|g\| + 10^{-6})`, just below ``c``.
    Since :math:`s > 0` is shared by all entries, the direction of :math:`g`
    is preserved (Pascanu, Mikolov & Bengio 2013).
    """
    _check_grads(grads)
    c = check_positive_float("max_norm", max_norm)
    total_norm = _norm(grads)
    scale = min(1.0, c / (total_norm + _NORM_EPS))
    clipped = _copy_others(grads)
    for k in PARAM_KEYS:
        # scale is a Python float, so float32 gradients stay float32.
        clipped[k] = grads[k] * scale if scale < 1.0 else grads[k].copy()
    return {k: clipped[k] for k in grads}, total_norm


def clip_grad_value(grads: Mapping[str, np.ndarray], clip_value: float) -> dict:
    r"""Clamp every entry of the parameter gradients to ``[-clip_value, clip_value]``.

    Parameters
    ----------
    grads : dict
        ``W_xh (H, D)``, ``W_hh (H, H)``, ``b_h (H,)``, ``W_hy (O, H)``,
        ``b_y (O,)``, possibly with ``x (T, B, D)`` and ``h0 (B, H)``; left
        untouched.
    clip_value : float
        The bound :math:`c > 0`.

    Returns
    -------
    dict
        A new dict of new arrays, same keys, shapes and dtypes as ``grads``,
        with the five parameter gradients clamped; ``x`` and ``h0`` copied
        unchanged.

    Notes
    -----
    As ``torch.nn.utils.clip_grad_value_``:
    :math:`(g_k)_i \leftarrow \min(\max((g_k)_i, -c), c)`, entry by entry.
    Unlike :func:`clip_grad_norm` this changes the direction of the gradient
    whenever some but not all entries are cut.
    """
    _check_grads(grads)
    c = check_positive_float("clip_value", clip_value)
    clipped = _copy_others(grads)
    for k in PARAM_KEYS:
        clipped[k] = np.clip(grads[k], -c, c)   # a new array; c is a float, dtype kept
    return {k: clipped[k] for k in grads}


def step_gradients(params: dict, x: np.ndarray, h: np.ndarray, dy: np.ndarray) -> dict:
    r"""The contribution of each step's copy of the parameters to the gradient.

    Parameters
    ----------
    params : dict
        RNN parameters, see :func:`bptt.rnn.init_rnn`.
    x : ndarray, shape (T, B, D)
        The inputs given to :func:`bptt.rnn.rnn_forward`.
    h : ndarray, shape (T+1, B, H)
        The hidden states it returned (``h[0] = h0``).
    dy : ndarray, shape (T, B, O)
        :math:`\partial L / \partial y_t` for every step (zeros where a step
        carries no loss).

    Returns
    -------
    dict
        ``W_xh (T, H, D)``, ``W_hh (T, H, H)``, ``b_h (T, H)``,
        ``W_hy (T, O, H)``, ``b_y (T, O)``: entry ``[t-1]`` is
        :math:`\partial \tilde L / \partial \theta^{(t)}`, the gradient of the
        untied loss with respect to step t's own copy of each parameter
        (summed over the batch). Summed over the first axis they are the
        gradients :func:`bptt.rnn.rnn_backward` returns.

    Notes
    -----
    The terms of the sums over time in :func:`bptt.rnn.rnn_backward`, with
    :math:`\delta_t = (1 - h_t^2) \odot \bar h_t` and
    :math:`g_t = \partial L / \partial y_t`:

    .. math::

        \frac{\partial \tilde L}{\partial W_{hh}^{(t)}} = \delta_t h_{t-1}^\top, \quad
        \frac{\partial \tilde L}{\partial W_{xh}^{(t)}} = \delta_t x_t^\top, \quad
        \frac{\partial \tilde L}{\partial b_h^{(t)}} = \delta_t, \quad
        \frac{\partial \tilde L}{\partial W_{hy}^{(t)}} = g_t h_t^\top, \quad
        \frac{\partial \tilde L}{\partial b_y^{(t)}} = g_t.

    With a loss on the last step only, the contribution of step t is exactly
    what Pascanu, Mikolov and Bengio (2013, eq. 4) call a *temporal component*,
    :math:`\frac{\partial L_T}{\partial h_T}\frac{\partial h_T}{\partial h_t}
    \frac{\partial^+ h_t}{\partial \theta}`; with losses at several steps it is
    the sum of the temporal components of every loss at step t or later.
    Memory: ``O(T (HD + H^2 + OH))``, one copy of the parameters per step.
    """
    grads = rnn_backward(params, x, h, dy, return_dh=True)
    hbar = grads["h"]                                  # (T+1, B, H): hbar_t
    delta = (1.0 - h[1:] ** 2) * hbar[1:]              # (T, B, H): delta_t at [t-1]
    return {
        "W_xh": np.einsum("tbi,tbj->tij", delta, x),
        "W_hh": np.einsum("tbi,tbj->tij", delta, h[:-1]),
        "b_h": delta.sum(axis=1),
        "W_hy": np.einsum("tbo,tbj->toj", dy, h[1:]),
        "b_y": dy.sum(axis=1),
    }


def clip_step_values(step_grads: Mapping[str, np.ndarray], clip_value: float) -> dict:
    r"""Clamp every entry of every step's contribution to ``[-clip_value, clip_value]``, then sum.

    Parameters
    ----------
    step_grads : dict
        ``W_xh (T, H, D)``, ``W_hh (T, H, H)``, ``b_h (T, H)``,
        ``W_hy (T, O, H)``, ``b_y (T, O)``, as returned by
        :func:`step_gradients`; left untouched.
    clip_value : float
        The bound :math:`c > 0`.

    Returns
    -------
    dict
        ``W_xh (H, D)``, ``W_hh (H, H)``, ``b_h (H,)``, ``W_hy (O, H)``,
        ``b_y (O,)``: :math:`\sum_t \operatorname{clamp}_c
        (\partial \tilde L/\partial \theta^{(t)})`, new arrays of the dtype given.

    Notes
    -----
    The per-step element-wise rule that Pascanu, Mikolov and Bengio (2013,
    section 3.1) describe as Mikolov's: "clipping the gradient's temporal
    components element-wise (clipping an entry when it exceeds in absolute
    value a fixed threshold)". With T = 1 it is :func:`clip_grad_value`.
    Unlike :func:`clip_grad_value` and :func:`clip_grad_norm`, its result need
    not be a descent direction: contributions 10, -2, -2 of one entry sum to
    6, but clamped at 1 they sum to -1.
    """
    if not isinstance(step_grads, Mapping):
        raise TypeError(f"step_grads must be a dict with keys {list(PARAM_KEYS)} "
                        f"(as returned by step_gradients), got {type(step_grads).__name__}")
    missing = [k for k in PARAM_KEYS if k not in step_grads]
    if missing:
        raise ValueError(f"step_grads must contain the keys {list(PARAM_KEYS)}; "
                         f"missing {missing}")
    W_xh = check_array("step_grads['W_xh']", step_grads["W_xh"], ("T", "H", "D"))
    T, H, D = W_xh.shape
    dtype = W_xh.dtype
    check_array("step_grads['W_hh']", step_grads["W_hh"], ("T", "H", "H"), (T, H, H), dtype)
    check_array("step_grads['b_h']", step_grads["b_h"], ("T", "H"), (T, H), dtype)
    W_hy = check_array("step_grads['W_hy']", step_grads["W_hy"], ("T", "O", "H"),
                       (T, None, H), dtype)
    O = W_hy.shape[1]
    check_array("step_grads['b_y']", step_grads["b_y"], ("T", "O"), (T, O), dtype)
    c = check_positive_float("clip_value", clip_value)
    # Clamp each step's term first, then sum over the steps (axis 0).
    return {k: np.clip(step_grads[k], -c, c).sum(axis=0) for k in PARAM_KEYS}
