r"""Gradient clipping: the standard remedy for exploding gradients.

Two rules are in use, and they differ in one important way.

*Clipping by norm* (Pascanu, Mikolov & Bengio 2013, "On the difficulty of
training recurrent neural networks") treats the five parameter gradients as one
long vector :math:`g` and shrinks it when its length exceeds a threshold
:math:`c`:

.. math::

    \|g\| = \Big(\sum_{k} \sum_{i} (g_k)_i^2\Big)^{1/2}, \qquad
    g \leftarrow \frac{c}{\|g\| + \epsilon}\, g \quad \text{if } \|g\| > c,

with :math:`\epsilon = 10^{-6}` as in ``torch.nn.utils.clip_grad_norm_``.
Every entry is multiplied by the same positive number, so the *direction* of
the step is kept and only its length is capped: the step still points downhill,
it just cannot jump off the cliff that an exploding gradient signals.

*Clipping by value* (``torch.nn.utils.clip_grad_value_``) clamps each entry on
its own, :math:`(g_k)_i \leftarrow \min(\max((g_k)_i, -c), c)`. Large entries
are cut while small ones are not, so the *direction changes*: a gradient
:math:`(10, 1)` clamped at 1 becomes :math:`(1, 1)`, which points 39 degrees
away. Both functions return a new dict and leave their input untouched; the
chapter "Vanishing and exploding gradients" compares them.

Only the parameter gradients (:data:`bptt.validate.PARAM_KEYS`) are measured
and clipped. The extra entries that :func:`bptt.rnn.rnn_backward` returns,
``x`` (dL/dx) and ``h0`` (dL/dh_0), are copied unchanged.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from .validate import PARAM_KEYS, check_params, check_positive_float

__all__ = ["grad_norm", "clip_grad_norm", "clip_grad_value"]

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
