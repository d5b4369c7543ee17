r"""Randomly truncated BPTT that stays unbiased, after Tallec and Ollivier (2017).

Truncated BPTT drops the gradient flowing back past a truncation point, so
its estimate is biased towards short-term dependencies. Tallec and Ollivier's
ARTBP ("Unbiasing truncated backpropagation through time", 2017) truncates at
*random* points instead, and multiplies what is *not* cut by a compensation
factor, so that the estimate is right on average. Their abstract puts it as
"variable truncation lengths together with carefully chosen compensation
factors in the backpropagation equation".

This module gives that estimator for the vanilla RNN, in its simplest form:
at every boundary between steps t and t+1 (t = 1..T-1), independently, the
gradient flowing from step t+1 back into :math:`h_t` is cut with probability
:math:`c_t`, and otherwise multiplied by :math:`1/(1 - c_t)`::

    z_t ~ Bernoulli(1 - c_t)                      # 1: keep, 0: cut
    from_future = z_t / (1 - c_t) * W_hh^T delta_{t+1}     # into h_t

With all :math:`c_t = 0` it is :func:`bptt.rnn.rnn_backward`, to the bit.
How the paper chooses its probabilities is not reproduced here: pass any
:math:`c_t \in [0, 1)`, constant or one per boundary.
"""
from __future__ import annotations

import numpy as np

from .rnn import PARAM_KEYS, check_rnn_params
from .validate import check_array, check_nonneg_int

__all__ = ["check_truncation_prob", "as_generator", "draw_factors", "artbp_backward"]


def check_truncation_prob(truncation_prob, T: int) -> np.ndarray:
    """``truncation_prob`` as an array ``(T-1,)`` of :math:`c_t \\in [0, 1)`.

    A number is used at every boundary; an array must have T-1 entries, entry
    ``t-1`` the probability of cutting the gradient from step t+1 into ``h_t``.
    """
    if isinstance(truncation_prob, (bool, np.bool_)):
        raise TypeError(f"truncation_prob must be a number in [0, 1) or an array of shape "
                        f"(T-1,) = ({T - 1},), got {type(truncation_prob).__name__}")
    if isinstance(truncation_prob, (int, float, np.integer, np.floating)):
        c = np.full(T - 1, float(truncation_prob))
        given = f"{truncation_prob}"
    elif isinstance(truncation_prob, np.ndarray):
        if truncation_prob.shape != (T - 1,):
            raise ValueError(f"truncation_prob must have shape (T-1,) = ({T - 1},), one "
                             f"probability per boundary between steps, got {truncation_prob.shape}")
        if not np.issubdtype(truncation_prob.dtype, np.number):
            raise TypeError(f"truncation_prob must hold numbers, got dtype {truncation_prob.dtype}")
        c = truncation_prob.astype(np.float64)
        given = "an array"
    else:
        raise TypeError(f"truncation_prob must be a number in [0, 1) or an array of shape "
                        f"(T-1,) = ({T - 1},), got {type(truncation_prob).__name__}")
    bad = ~((c >= 0) & (c < 1))            # NaN fails too
    if np.any(bad):
        first = int(np.argmax(bad))
        raise ValueError(f"truncation_prob must be in [0, 1) (1 would cut for sure, and "
                         f"1/(1-c) is infinite), got {given} with c_{first + 1} = {c[first]}")
    return c


def as_generator(rng) -> np.random.Generator:
    """``rng`` as a ``numpy.random.Generator``: a Generator as is, an int as its seed."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (bool, np.bool_)) or not isinstance(rng, (int, np.integer)):
        raise TypeError(f"rng must be a numpy.random.Generator or an int seed, "
                        f"got {type(rng).__name__}")
    return np.random.default_rng(check_nonneg_int("rng", rng))


def draw_factors(c: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    r"""The factors :math:`\xi_t = z_t / (1 - c_t)`, :math:`z_t \sim \text{Bernoulli}(1 - c_t)`.

    ``c (T-1,)`` gives ``xi (T-1,)``: 0 where the gradient is cut, ``1/(1-c_t)``
    elsewhere, so :math:`E[\xi_t] = 1`. One uniform draw per boundary.
    """
    keep = rng.random(c.shape) >= c        # P(keep) = 1 - c_t
    return np.where(keep, 1.0 / (1.0 - c), 0.0)


def artbp_backward(params: dict, x: np.ndarray, h: np.ndarray, dy: np.ndarray, *,
                   truncation_prob, rng) -> dict:
    r"""An unbiased, randomly truncated estimate of the RNN's BPTT gradient.

    Parameters
    ----------
    params : dict
        RNN parameters ``W_xh (H, D)``, ``W_hh (H, H)``, ``b_h (H,)``,
        ``W_hy (O, H)``, ``b_y (O,)``.
    x : ndarray, shape (T, B, D)
        The inputs given to :func:`bptt.rnn.rnn_forward`.
    h : ndarray, shape (T+1, B, H)
        The hidden states it returned (``h[0] = h0``).
    dy : ndarray, shape (T, B, O)
        :math:`\partial L/\partial y_t` for every step.
    truncation_prob : float in [0, 1), or ndarray of shape (T-1,), keyword-only
        :math:`c_t`: entry ``t-1`` (t = 1..T-1) is the probability of cutting
        the gradient that flows from step t+1 back into :math:`h_t`.
    rng : numpy.random.Generator or int, keyword-only
        The source of the cuts (an int is a seed). T-1 uniforms are drawn.

    Returns
    -------
    dict
        The keys of :func:`bptt.rnn.rnn_backward`: ``W_xh (H, D)``,
        ``W_hh (H, H)``, ``b_h (H,)``, ``W_hy (O, H)``, ``b_y (O,)``,
        ``x (T, B, D)``, ``h0 (B, H)``; each an unbiased estimate of the full
        BPTT gradient. With ``truncation_prob=0`` exactly ``rnn_backward``'s.

    Notes
    -----
    The backward recursion becomes, with :math:`\xi_t = z_t/(1-c_t)`,
    :math:`z_t \sim \text{Bernoulli}(1 - c_t)` independent,

    .. math::

        \bar h_t = W_{hy}^\top \frac{\partial L}{\partial y_t}
                   + \xi_t\, W_{hh}^\top \delta_{t+1}, \qquad
        \delta_t = (1 - h_t^2) \odot \bar h_t,

    everything else as in BPTT (the gradient into :math:`h_0` is not scaled:
    it crosses no boundary between steps).

    *Unbiasedness.* The recursion is linear in the flowing gradient, so the
    estimate expands into a sum over paths: the loss at step s reaches the
    parameters' use at step :math:`r \le s` through the product of Jacobians
    of steps :math:`s, s-1, \dots, r+1`, and that term is multiplied by
    :math:`\prod_{t=r}^{s-1} \xi_t` (one factor per boundary crossed; none
    when :math:`r = s`). The :math:`\xi_t` are independent with
    :math:`E[\xi_t] = (1 - c_t) \cdot \frac{1}{1 - c_t} + c_t \cdot 0 = 1`, so
    the expected product is the product of expectations, 1, and by linearity
    of expectation the estimate's mean is the sum of the unscaled terms: the
    full gradient. The same holds for ``x`` and ``h0``. The price is variance:
    a path through n kept boundaries is scaled by up to
    :math:`\prod 1/(1-c_t)`, which grows geometrically with n for a constant c.
    """
    D, H, O = check_rnn_params(params)
    dtype = params["W_hh"].dtype
    x = check_array("x", x, ("T", "B", "D"), (None, None, D), dtype)
    T, B, _ = x.shape
    h = check_array("h", h, ("T+1", "B", "H"), (T + 1, B, H), dtype)
    dy = check_array("dy", dy, ("T", "B", "O"), (T, B, O), dtype)
    xi = draw_factors(check_truncation_prob(truncation_prob, T), as_generator(rng))
    xi = xi.astype(dtype)
    return _backward(params, x, h, dy, xi)


def _backward(params, x, h, dy, xi):
    """rnn_backward's vectorised loop, with ``xi[t-1]`` scaling the gradient into h_t."""
    T, B, D = x.shape
    H, O = params["W_hh"].shape[0], dy.shape[2]
    W_hh = params["W_hh"]
    dy2 = dy.reshape(T * B, O)
    grads = {"W_hy": dy2.T @ h[1:].reshape(T * B, H), "b_y": dy2.sum(axis=0)}
    delta = (dy2 @ params["W_hy"]).reshape(T, B, H)   # from y_t; the loop adds from t+1
    dtanh = np.square(h[1:])
    np.subtract(1.0, dtanh, out=dtanh)
    from_future = np.zeros((B, H), dtype=x.dtype)      # xi_t W_hh^T delta_{t+1}, as rows
    for t in range(T, 0, -1):                          # book step t lives at index t-1
        d = delta[t - 1]
        d += from_future                   # the loss at t meets the (scaled) gradient from t+1
        d *= dtanh[t - 1]                  # delta_t = (1 - h_t^2) * hbar_t
        np.matmul(d, W_hh, out=from_future)            # dL/dh_{t-1} through a_t
        if t >= 2 and xi[t - 2] != 1.0:    # boundary t-1: cut (0) or compensated (1/(1-c))
            from_future *= xi[t - 2]
    delta2 = delta.reshape(T * B, H)
    grads["W_xh"] = delta2.T @ x.reshape(T * B, D)
    grads["W_hh"] = delta2.T @ h[:-1].reshape(T * B, H)
    grads["b_h"] = delta2.sum(axis=0)
    grads["x"] = (delta2 @ params["W_xh"]).reshape(T, B, D)
    grads["h0"] = from_future
    return {key: grads[key] for key in (*PARAM_KEYS, "x", "h0")}
