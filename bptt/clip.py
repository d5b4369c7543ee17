r"""Gradient clipping: the standard remedy for exploding gradients.

Three rules, which differ in one important way: whether the clipped update is
still a descent direction, :math:`\langle \nabla L, \text{update} \rangle > 0`.

*Clipping by norm* (Pascanu, Mikolov & Bengio 2013, "On the difficulty of
training recurrent neural networks") treats the parameter gradients as one
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
(:func:`bptt.rnn.step_gradients`); :func:`clip_step_values` clamps every entry of every
contribution and then sums. A large contribution of one sign, cut down to
:math:`c`, can then be outweighed by several small ones of the other sign:
an entry of the update can have the opposite sign to the same entry of
:math:`\nabla L`, and the whole update need not be a descent direction.

The functions that clip return a new dict and leave their input untouched;
the chapter "Vanishing and exploding gradients" compares the rules.

**Any model.** No function here names a model's keys: ``grads`` is any dict
of floating-point arrays of one dtype (an RNN's five, an LSTM's, a test
model's two). Every entry is a parameter gradient, measured and clipped,
except the gradients that backward passes return beside them, under the
names :data:`bptt.model.NON_PARAM_KEYS`: the inputs and initial states
(``x``, ``h0``, ``c0``) and the hidden states' total derivatives (``h``,
``c``, from ``rnn_backward(..., return_dh=True)``). Those are copied
unchanged.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from .model import NON_PARAM_KEYS
from .validate import check_array_dict, check_positive_float

__all__ = ["grad_norm", "clip_grad_norm", "clip_grad_value", "clip_step_values"]

#: Added to the norm before dividing, exactly as torch does, so that the
#: scale is always finite.
_NORM_EPS = 1e-6


def _param_keys(grads, name: str = "grads") -> list:
    """Check ``grads`` and return its parameter keys: every key not in NON_PARAM_KEYS.

    The parameter gradients must be finite floating-point arrays of one dtype
    (torch would silently return nan for a NaN; we refuse instead). The
    input gradients are not checked: they are only copied.
    """
    if not isinstance(grads, Mapping):
        raise TypeError(f"{name} must be a dict of gradient arrays (as a backward pass "
                        f"returns), got {type(grads).__name__}")
    keys = [k for k in grads if k not in NON_PARAM_KEYS]
    if not keys:
        raise ValueError(f"{name} must hold at least one parameter gradient (a key other "
                         f"than {list(NON_PARAM_KEYS)}), got the keys {list(grads)}")
    check_array_dict(name, {k: grads[k] for k in keys})
    return keys


def _copy_inputs(grads: Mapping) -> dict:
    """Copy the input gradients (``x``, ``h0``, ``c0``), never sharing memory."""
    return {k: (np.array(v, copy=True) if isinstance(v, np.ndarray) else v)
            for k, v in grads.items() if k in NON_PARAM_KEYS}


def _norm(grads: Mapping, keys) -> float:
    # Accumulate in float64 whatever the dtype (float16's largest number is
    # 65504, so its squares overflow early), and divide by the largest entry
    # first so even huge float64 gradients give a finite norm (an infinite
    # norm would clip everything to zero).
    scale = max(float(np.max(np.abs(grads[k]))) for k in keys)
    if scale == 0.0:
        return 0.0
    sumsq = sum(float(np.sum((grads[k].astype(np.float64) / scale) ** 2)) for k in keys)
    return scale * float(np.sqrt(sumsq))


def grad_norm(grads: Mapping[str, np.ndarray]) -> float:
    r"""The global L2 norm of the parameter gradients.

    Parameters
    ----------
    grads : dict of str to ndarray
        The parameter gradients of any model, e.g. ``W_xh (H, D)``,
        ``W_hh (H, H)``, ``b_h (H,)``, ``W_hy (O, H)``, ``b_y (O,)`` as
        returned by :func:`bptt.rnn.rnn_backward`. The input gradients
        (:data:`bptt.model.NON_PARAM_KEYS`: ``x``, ``h0``, ``c0``, ``h``, ``c``) are ignored.

    Returns
    -------
    float
        :math:`\|g\| = (\sum_k \|g_k\|_F^2)^{1/2}` over every parameter key:
        the norm of all gradients laid end to end in one vector, which is
        what ``torch.nn.utils.clip_grad_norm_`` measures.

    Notes
    -----
    Computed in float64 whatever the gradients' dtype (float16 included).
    """
    return _norm(grads, _param_keys(grads))


def clip_grad_norm(grads: Mapping[str, np.ndarray], max_norm: float):
    r"""Rescale the parameter gradients so that their global norm is at most ``max_norm``.

    Parameters
    ----------
    grads : dict of str to ndarray
        The parameter gradients of any model (e.g. the five of
        :func:`bptt.rnn.rnn_backward`), possibly with input gradients
        ``x (T, B, D)`` and ``h0 (B, H)``; left untouched.
    max_norm : float
        The threshold :math:`c > 0`.

    Returns
    -------
    clipped : dict
        A new dict of new arrays, same keys, shapes and dtypes as ``grads``.
        The parameter gradients are scaled by one common factor; the input
        gradients are copied unchanged.
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
    keys = _param_keys(grads)
    c = check_positive_float("max_norm", max_norm)
    total_norm = _norm(grads, keys)
    scale = min(1.0, c / (total_norm + _NORM_EPS))
    clipped = _copy_inputs(grads)
    for k in keys:
        # scale is a Python float, so float32 gradients stay float32.
        clipped[k] = grads[k] * scale if scale < 1.0 else grads[k].copy()
    return {k: clipped[k] for k in grads}, total_norm


def clip_grad_value(grads: Mapping[str, np.ndarray], clip_value: float) -> dict:
    r"""Clamp every entry of the parameter gradients to ``[-clip_value, clip_value]``.

    Parameters
    ----------
    grads : dict of str to ndarray
        The parameter gradients of any model (e.g. the five of
        :func:`bptt.rnn.rnn_backward`), possibly with input gradients
        ``x (T, B, D)`` and ``h0 (B, H)``; left untouched.
    clip_value : float
        The bound :math:`c > 0`.

    Returns
    -------
    dict
        A new dict of new arrays, same keys, shapes and dtypes as ``grads``,
        with the parameter gradients clamped and the input gradients copied
        unchanged.

    Notes
    -----
    As ``torch.nn.utils.clip_grad_value_``:
    :math:`(g_k)_i \leftarrow \min(\max((g_k)_i, -c), c)`, entry by entry.
    Unlike :func:`clip_grad_norm` this changes the direction of the gradient
    whenever some but not all entries are cut.
    """
    keys = _param_keys(grads)
    c = check_positive_float("clip_value", clip_value)
    clipped = _copy_inputs(grads)
    for k in keys:
        clipped[k] = np.clip(grads[k], -c, c)   # a new array; c is a float, dtype kept
    return {k: clipped[k] for k in grads}


def clip_step_values(step_grads: Mapping[str, np.ndarray], clip_value: float) -> dict:
    r"""Clamp every entry of every step's contribution to ``[-clip_value, clip_value]``, then sum.

    Parameters
    ----------
    step_grads : dict of str to ndarray
        Each parameter's contributions, one per step along the first axis:
        for the RNN, ``W_xh (T, H, D)``, ``W_hh (T, H, H)``, ``b_h (T, H)``,
        ``W_hy (T, O, H)``, ``b_y (T, O)``, as returned by
        :func:`bptt.rnn.step_gradients`; every parameter with the same T.
        Input gradients (``x``, ``h0``, ``c0``) are copied unchanged. Left
        untouched.
    clip_value : float
        The bound :math:`c > 0`.

    Returns
    -------
    dict
        The same keys, each parameter with the step axis summed away (the
        RNN's ``W_xh (H, D)``, ``W_hh (H, H)``, ...):
        :math:`\sum_t \operatorname{clamp}_c(\partial \tilde L/\partial \theta^{(t)})`,
        new arrays of the dtype given.

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
    keys = _param_keys(step_grads, "step_grads")
    first = keys[0]
    for k in keys:
        shape = step_grads[k].shape
        if not shape or shape[0] != step_grads[first].shape[0]:
            T = step_grads[first].shape[0] if step_grads[first].ndim else "?"
            raise ValueError(f"step_grads[{k!r}] must have the steps first, shape (T, ...) "
                             f"with T = {T} (that of step_grads[{first!r}]), got {shape}")
    c = check_positive_float("clip_value", clip_value)
    out = _copy_inputs(step_grads)
    for k in keys:
        out[k] = np.clip(step_grads[k], -c, c).sum(axis=0)   # clamp each step's term, then sum
    return {k: out[k] for k in step_grads}
