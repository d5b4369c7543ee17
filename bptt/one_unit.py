r"""The one-unit RNN :math:`h_t = \tanh(w h_{t-1} + b)`, whose loss surface has a cliff.

With one hidden unit, no input and :math:`y_t = h_t`, the whole RNN is two
numbers, the recurrent weight :math:`w` and the bias :math:`b`, so its loss
can be drawn as a surface over the :math:`(w, b)` plane. The chapter
"Vanishing and exploding gradients" draws it and follows gradient descent on
it (Pascanu, Mikolov & Bengio 2013, section 2.2): where the map has an
unstable fixed point, :math:`h_T` jumps across a line, the loss has a wall,
and the gradient explodes on it.

* :func:`one_unit_params`: the model as the package's RNN parameters, for
  :func:`bptt.rnn.rnn_forward`;
* :func:`one_unit_forward`, :func:`one_unit_loss`: :math:`h_T` and
  :math:`L = (h_T - \text{target})^2` with their derivatives, vectorised over
  any grid of :math:`(w, b)`;
* :func:`one_unit_wall`, :func:`one_unit_cliff`: where the cliff is;
* :func:`one_unit_descent`: gradient descent on the loss, optionally clipped
  by norm with :func:`bptt.clip.clip_grad_norm`.
"""
from __future__ import annotations

import numpy as np

from .clip import clip_grad_norm
from .validate import check_positive_float, check_positive_int

__all__ = ["one_unit_params", "one_unit_forward", "one_unit_loss", "one_unit_wall",
           "one_unit_cliff", "one_unit_descent"]


def _check_real(name: str, value) -> np.ndarray:
    """A finite real number or floating-point array, returned as an ndarray (0-d for numbers)."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a real number or a floating-point array, got bool")
    if isinstance(value, (int, float, np.integer, np.floating)):
        value = np.asarray(value, dtype=np.float64)
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a real number or a floating-point numpy array, "
                        f"got {type(value).__name__}")
    if not np.issubdtype(value.dtype, np.floating):
        raise TypeError(f"{name} must have a floating-point dtype, got {value.dtype}")
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{name} contains NaN or infinity")
    return value


def _check_w_b(w, b) -> tuple[np.ndarray, np.ndarray]:
    """``w`` and ``b`` of one shape (or either a number), of one float dtype."""
    w, b = _check_real("w", w), _check_real("b", b)
    if w.ndim and b.ndim and w.shape != b.shape:
        raise ValueError(f"w and b must have the same shape (or one be a number), got "
                         f"w {w.shape} and b {b.shape}; build grids with np.meshgrid")
    dtype = np.result_type(w.dtype, b.dtype)
    return w.astype(dtype, copy=False), b.astype(dtype, copy=False)


def one_unit_params(w: float, b: float) -> dict:
    r"""The one-unit RNN :math:`h_t = \tanh(w h_{t-1} + b)` as package parameters.

    Parameters
    ----------
    w, b : float
        The recurrent weight and the bias.

    Returns
    -------
    dict
        ``W_xh (1, 1)`` = 0 (the input is ignored), ``W_hh (1, 1)`` = w,
        ``b_h (1,)`` = b, ``W_hy (1, 1)`` = 1 and ``b_y (1,)`` = 0, so
        :math:`y_t = h_t`. With inputs ``x = np.zeros((T, B, 1))``,
        :func:`bptt.rnn.rnn_forward` runs the model of :func:`one_unit_forward`.
    """
    w, b = _check_real("w", w), _check_real("b", b)
    if w.ndim or b.ndim:
        raise ValueError(f"w and b must be numbers, got shapes {w.shape} and {b.shape}")
    return {"W_xh": np.zeros((1, 1)), "W_hh": np.array([[float(w)]]),
            "b_h": np.array([float(b)]), "W_hy": np.ones((1, 1)), "b_y": np.zeros(1)}


def one_unit_forward(w, b, *, T: int, h0: float = 0.5):
    r"""Run :math:`h_t = \tanh(w h_{t-1} + b)` for T steps, with the derivatives of :math:`h_T`.

    Vectorised over any grid of ``(w, b)`` pairs.

    Parameters
    ----------
    w, b : float or ndarray
        Recurrent weight and bias: numbers, or float arrays of one shape
        ``S`` (e.g. from ``np.meshgrid``), or one of each.
    T : int
        Number of steps, >= 1.
    h0 : float
        The initial state :math:`h_0`.

    Returns
    -------
    h_T, dh_dw, dh_db : ndarray, shape S
        :math:`h_T`, :math:`\partial h_T/\partial w` and :math:`\partial h_T/\partial b`.

    Notes
    -----
    Forward-mode differentiation, one step at a time: with :math:`s_t = 1 - h_t^2`,

    .. math::

        \frac{\partial h_t}{\partial w}
        = s_t \Big( h_{t-1} + w \frac{\partial h_{t-1}}{\partial w} \Big),
        \qquad
        \frac{\partial h_t}{\partial b} = s_t \Big( 1 + w \frac{\partial h_{t-1}}{\partial b} \Big),

    both zero at t = 0. Unrolled,
    :math:`\partial h_T/\partial b = \sum_k \prod_{j=k+1}^{T} (w s_j)\, s_k`:
    the products :math:`\prod (w s_j)` are the one-unit Jacobian products,
    which explode where :math:`|w s_j| > 1` for many steps.
    """
    w, b = _check_w_b(w, b)
    T = check_positive_int("T", T)
    h0 = float(_check_real("h0", h0))
    shape = np.broadcast_shapes(w.shape, b.shape)
    h = np.full(shape, h0, dtype=w.dtype)
    dh_dw = np.zeros(shape, dtype=w.dtype)
    dh_db = np.zeros(shape, dtype=w.dtype)
    for _ in range(T):
        h_new = np.tanh(w * h + b)
        s = 1.0 - h_new ** 2                  # tanh slope at this step's output
        dh_dw = s * (h + w * dh_dw)           # uses h_{t-1}: update before h moves on
        dh_db = s * (1.0 + w * dh_db)
        h = h_new
    return h, dh_dw, dh_db


def one_unit_loss(w, b, *, T: int, h0: float = 0.5, target: float = 0.7):
    r"""The loss :math:`L = (h_T - \text{target})^2` of the one-unit RNN, and its gradient.

    Parameters
    ----------
    w, b : float or ndarray
        As in :func:`one_unit_forward`: numbers or float arrays of one shape S.
    T : int
        Number of steps.
    h0 : float
        Initial state.
    target : float
        The value :math:`h_T` should take.

    Returns
    -------
    loss, dL_dw, dL_db : ndarray, shape S
        :math:`L`,
        :math:`\partial L / \partial w = 2 (h_T - \text{target})\, \partial h_T/\partial w`
        and likewise for b.
    """
    target = float(_check_real("target", target))
    h_T, dh_dw, dh_db = one_unit_forward(w, b, T=T, h0=h0)
    r = h_T - target
    return r ** 2, 2 * r * dh_dw, 2 * r * dh_db


def one_unit_wall(w, *, h0: float = 0.5):
    r"""Where the one-unit loss surface has its cliff: the bias making :math:`h_0` a fixed point.

    Parameters
    ----------
    w : float or ndarray
        Recurrent weights, any shape.
    h0 : float
        The initial state, with :math:`|h_0| < 1`.

    Returns
    -------
    b : ndarray, shape of ``w``
        :math:`b = \operatorname{artanh}(h_0) - w h_0`, so that
        :math:`\tanh(w h_0 + b) = h_0`: started at :math:`h_0`, the state never moves.

    Notes
    -----
    The fixed point is unstable when the slope of the map there exceeds 1,
    :math:`|w (1 - h_0^2)| > 1`. On one side of the line the state then runs
    away to the upper attractor, on the other side to the lower one, so
    :math:`h_T` (and the loss) jumps across the line, and the jump gets
    sharper with T: on the line itself, :math:`h_t = h_0` for every t and
    :math:`\partial h_T/\partial b = s \sum_{j=0}^{T-1} (w s)^j` with
    :math:`s = 1 - h_0^2`, which grows like :math:`(w s)^T`.
    """
    w = _check_real("w", w)
    h0 = float(_check_real("h0", h0))
    if not abs(h0) < 1:
        raise ValueError(f"h0 must satisfy |h0| < 1 (a tanh state that can be a fixed point), "
                         f"got {h0}")
    return np.arctanh(h0) - w * h0


def one_unit_cliff(b, *, h0: float = 0.5):
    r"""The weight at which the cliff crosses the line of bias ``b``, where there is a cliff.

    Parameters
    ----------
    b : float or ndarray
        Biases, any shape.
    h0 : float
        The initial state, with :math:`0 < |h_0| < 1`.

    Returns
    -------
    w : ndarray, shape of ``b``
        :math:`w = (\operatorname{artanh}(h_0) - b) / h_0`, the inverse of
        :func:`one_unit_wall`, where the fixed point :math:`h_0` is unstable
        with the state running away from it on both sides,
        :math:`w (1 - h_0^2) > 1`; NaN where it is not (the wall there is no
        cliff: the state stays near :math:`h_0` or oscillates about it).
    """
    b = _check_real("b", b)
    h0 = float(_check_real("h0", h0))
    if not 0 < abs(h0) < 1:
        raise ValueError(f"h0 must satisfy 0 < |h0| < 1 (the wall is w h0 + b = artanh(h0)), "
                         f"got {h0}")
    w = (np.arctanh(h0) - b) / h0
    return np.where(w * (1 - h0 ** 2) > 1, w, np.nan)


def one_unit_descent(w0: float, b0: float, *, lr: float, n_steps: int, T: int,
                     h0: float = 0.5, target: float = 0.7,
                     clip_norm: float | None = None) -> dict:
    r"""Gradient descent on the one-unit loss :func:`one_unit_loss`, optionally clipped by norm.

    Parameters
    ----------
    w0, b0 : float
        The starting point.
    lr : float
        Learning rate :math:`\eta > 0`.
    n_steps : int
        Number of updates.
    T, h0, target
        As in :func:`one_unit_loss`.
    clip_norm : float, optional
        Clip the gradient :math:`(\partial L/\partial w, \partial L/\partial b)`
        to this norm with :func:`bptt.clip.clip_grad_norm` before each step.

    Returns
    -------
    dict
        ``path (n_steps+1, 2)``: the points :math:`(w, b)` visited, start first;
        ``loss (n_steps+1,)``: the loss at each of them;
        ``grad_norm (n_steps,)``: the norm of the gradient before clipping at
        each step; ``step (n_steps,)``: the length of each update.

    Notes
    -----
    :math:`\theta \leftarrow \theta - \eta\, g`, with :math:`g` replaced by
    :math:`c\, g / \|g\|` when :math:`\|g\| > c`. The gradient is handed to
    :func:`bptt.clip.clip_grad_norm` as the dict ``{"w": ..., "b": ...}``:
    clipping takes any parameters, not only the RNN's five.
    """
    lr = check_positive_float("lr", lr)
    n_steps = check_positive_int("n_steps", n_steps)
    if clip_norm is not None:
        clip_norm = check_positive_float("clip_norm", clip_norm)
    w, b = float(_check_real("w0", w0)), float(_check_real("b0", b0))
    path, losses, gnorms, steps = [(w, b)], [], [], []
    for _ in range(n_steps):
        loss, gw, gb = one_unit_loss(w, b, T=T, h0=h0, target=target)
        losses.append(float(loss))
        grads = {"w": np.array([float(gw)]), "b": np.array([float(gb)])}
        gnorms.append(float(np.hypot(gw, gb)))
        if clip_norm is not None:
            grads, _ = clip_grad_norm(grads, clip_norm)
        dw, db = lr * grads["w"][0], lr * grads["b"][0]
        steps.append(float(np.hypot(dw, db)))
        w, b = w - dw, b - db
        path.append((w, b))
    losses.append(float(one_unit_loss(w, b, T=T, h0=h0, target=target)[0]))
    return {"path": np.array(path), "loss": np.array(losses),
            "grad_norm": np.array(gnorms), "step": np.array(steps)}
