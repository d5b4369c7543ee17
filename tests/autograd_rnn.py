r"""An independent reference RNN in autograd, the yardstick for :mod:`bptt.rnn`.

It shares no code, and no layout, with the package: it is written for column
vectors, one step at a time, exactly as the book states the model,

.. math::

    h_t = \tanh(W_{hh} h_{t-1} + W_{xh} x_t + b_h), \qquad y_t = W_{hy} h_t + b_y,

with the batch as columns (``h`` is ``(H, B)`` inside the loop), and its
gradients come from ``autograd`` or from centred finite differences, never from
a hand-written backward pass.

Truncated BPTT with ``truncate=k`` is the gradient of the same loss when the
hidden state is detached at :math:`h_k, h_{2k}, \dots`: step :math:`jk+1` sees
:math:`h_{jk}` as a constant, while :math:`y_{jk}` still sees it as a function
of the parameters. The losses of chunk 1 (steps 1..k) therefore still reach
``h0``; nothing from step k+1 onward does.
"""
from __future__ import annotations

import autograd
import autograd.numpy as anp
import numpy as np
from autograd.tracer import getval

#: The keys of the dict returned by ``rnn_backward``: the parameters, then x and h0.
GRAD_KEYS = ("W_xh", "W_hh", "b_h", "W_hy", "b_y", "x", "h0")


def random_problem(T, B, D, H, O, seed=0, dtype=np.float64):
    """Random parameters (nonzero biases), inputs, a nonzero h0 and loss weights w.

    ``W_hh`` has spectral radius a little above 1 and the biases are nonzero, so
    the tanh is in its nonlinear range and every term of the gradient matters.
    Everything is drawn in float64, then cast, so float32 and float64 problems
    with one seed hold the same numbers (up to rounding).
    """
    rng = np.random.default_rng(seed)
    params = {
        "W_xh": rng.standard_normal((H, D)) / np.sqrt(D),
        "W_hh": 1.2 * rng.standard_normal((H, H)) / np.sqrt(H),
        "b_h": 0.3 * rng.standard_normal(H),
        "W_hy": rng.standard_normal((O, H)) / np.sqrt(H),
        "b_y": 0.3 * rng.standard_normal(O),
    }
    x = rng.standard_normal((T, B, D))
    h0 = 0.5 * rng.standard_normal((B, H))
    w = rng.standard_normal((T, B, O))
    cast = {k: v.astype(dtype) for k, v in params.items()}
    return cast, x.astype(dtype), h0.astype(dtype), w.astype(dtype)


def reference_forward(args, truncate=None, frozen=None):
    """Run the column-vector RNN; ``args`` holds the five parameters, ``x`` and ``h0``.

    Parameters
    ----------
    args : dict
        ``W_xh (H, D)``, ``W_hh (H, H)``, ``b_h (H,)``, ``W_hy (O, H)``,
        ``b_y (O,)``, ``x (T, B, D)``, ``h0 (B, H)``; optionally ``e (T+1, B, H)``,
        zeros added to every ``h_t`` so that dL/de is dL/dh_t.
    truncate : int, optional
        Detach the state after steps k, 2k, ... (``None``: never).
    frozen : list of ndarray, optional
        States ``h_t (B, H)`` to substitute at the detach points instead of
        ``getval``: the same function with the detached states pinned to fixed
        values, which finite differences can differentiate.

    Returns
    -------
    y : array, shape (T, B, O)
    hs : list of T+1 arrays of shape (B, H)
        ``h_0, ..., h_T`` (before any detaching, i.e. the forward values).
    """
    x, e = args["x"], args.get("e")
    T = x.shape[0]
    h0 = args["h0"] if e is None else args["h0"] + e[0]
    h = h0.T                              # (H, B): one column per sequence
    hs, ys = [h0], []
    for t in range(1, T + 1):
        a = (anp.dot(args["W_hh"], h) + anp.dot(args["W_xh"], x[t - 1].T)
             + args["b_h"][:, None])
        h = anp.tanh(a) if e is None else anp.tanh(a) + e[t].T
        ys.append((anp.dot(args["W_hy"], h) + args["b_y"][:, None]).T)
        hs.append(h.T)
        if truncate is not None and t % truncate == 0 and t < T:
            # Detach after y_t has used h_t: only step t+1 sees a constant.
            h = getval(h) if frozen is None else frozen[t].T
    return anp.stack(ys), hs


def linear_loss(w):
    """L = sum(w * y): dL/dy is exactly w."""
    return lambda y: anp.sum(w * y)


def sine_loss(w):
    """A nonlinear loss L = sum(w * sin(y)); dL/dy comes from autograd."""
    return lambda y: anp.sum(w * anp.sin(y))


def as_args(params, x, h0):
    """The dict of everything ``rnn_backward`` differentiates, as float64 copies."""
    args = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    args["x"] = np.array(x, dtype=np.float64)
    args["h0"] = np.array(h0, dtype=np.float64)
    return args


def loss_gradient_wrt_y(loss, y):
    """dL/dy for ``loss`` at ``y`` (T, B, O), from autograd."""
    return autograd.grad(loss)(y)


def autograd_gradients(args, loss, truncate=None):
    """dL/d(every entry of ``args``) by reverse-mode autograd, with detaching."""
    def total(a):
        return loss(reference_forward(a, truncate)[0])
    return autograd.grad(total)(args)


def autograd_dh(args, loss, truncate=None):
    """dL/dh_t for t = 0..T, shape (T+1, B, H): the gradient at a zero shift of h_t.

    With detaching, a shift of a detached h_t reaches only y_t, exactly as the
    total derivative seen by the truncated backward pass.
    """
    T, B = args["x"].shape[:2]
    shifted = dict(args, e=np.zeros((T + 1, B, args["h0"].shape[1])))

    def total(a):
        return loss(reference_forward(a, truncate)[0])
    return autograd.grad(total)(shifted)["e"]


def finite_difference_gradients(args, loss, truncate=None, eps=1e-5):
    """Centred finite differences of the loss with the detached states pinned.

    Truncated BPTT is the gradient of the loss with the states at the detach
    points held at their current values, so perturbing an entry re-runs every
    chunk from its (unperturbed) starting state.
    """
    _, frozen = reference_forward(args)

    def f(a):
        return float(loss(reference_forward(a, truncate, frozen)[0]))

    grads = {}
    for key in GRAD_KEYS:
        g = np.zeros_like(args[key])
        for idx in np.ndindex(g.shape):
            shifted = dict(args)
            shifted[key] = args[key].copy()
            shifted[key][idx] = args[key][idx] + eps
            up = f(shifted)
            shifted[key][idx] = args[key][idx] - eps
            down = f(shifted)
            g[idx] = (up - down) / (2 * eps)
        grads[key] = g
    return grads


def rel_error(a, b):
    """Norm-based relative error ||a - b|| / max(||a||, ||b||), 0 when both are 0."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    scale = max(np.linalg.norm(a), np.linalg.norm(b))
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)
