r"""Independent references for the gated models, the yardsticks for :mod:`bptt.lstm` and :mod:`bptt.gru`.

They share no code with the package: column vectors (the batch as columns),
the sigmoid as :math:`1/(1 + e^{-a})`, the gates sliced out of the stacked
matrices one by one, exactly as the book (and torch's documentation) states
the equations. Gradients come from ``autograd``, never from a hand-written
backward pass.

Truncated BPTT with ``truncate=k`` is the gradient of the same loss when the
state (``h``, and the LSTM's ``c``) is detached after steps k, 2k, ...:
``getval`` makes step :math:`jk+1` see it as a constant, while :math:`y_{jk}`
still sees a function of the parameters (as in ``autograd_rnn.py``).
"""
from __future__ import annotations

import autograd
import autograd.numpy as anp
from autograd.tracer import getval


def _sigmoid(a):
    return 1.0 / (1.0 + anp.exp(-a))


def _detach(states, t, T, truncate):
    if truncate is not None and t % truncate == 0 and t < T:
        return [getval(s) for s in states]
    return states


def lstm_reference(args, truncate=None):
    """y (T, B, O) of the LSTM, from ``args`` (parameters, ``x``, ``h0``, ``c0``)."""
    x = args["x"]
    T, H = x.shape[0], args["W_hh"].shape[1]
    h, c = args["h0"].T, args["c0"].T                     # (H, B)
    ys = []
    for t in range(1, T + 1):
        a = anp.dot(args["W_hh"], h) + anp.dot(args["W_xh"], x[t - 1].T) + args["b_h"][:, None]
        i, f = _sigmoid(a[:H]), _sigmoid(a[H:2 * H])
        g, o = anp.tanh(a[2 * H:3 * H]), _sigmoid(a[3 * H:])
        c = f * c + i * g
        h = o * anp.tanh(c)
        ys.append((anp.dot(args["W_hy"], h) + args["b_y"][:, None]).T)
        h, c = _detach([h, c], t, T, truncate)
    return anp.stack(ys)


def gru_reference(args, truncate=None):
    """y (T, B, O) of the GRU (torch's equations), from ``args`` (parameters, ``x``, ``h0``)."""
    x = args["x"]
    T, H = x.shape[0], args["W_hh"].shape[1]
    W_xh, W_hh, b_xh, b_hh = args["W_xh"], args["W_hh"], args["b_xh"], args["b_hh"]
    h = args["h0"].T
    ys = []
    for t in range(1, T + 1):
        xt = x[t - 1].T
        r = _sigmoid(anp.dot(W_xh[:H], xt) + b_xh[:H, None] + anp.dot(W_hh[:H], h)
                     + b_hh[:H, None])
        z = _sigmoid(anp.dot(W_xh[H:2 * H], xt) + b_xh[H:2 * H, None]
                     + anp.dot(W_hh[H:2 * H], h) + b_hh[H:2 * H, None])
        n = anp.tanh(anp.dot(W_xh[2 * H:], xt) + b_xh[2 * H:, None]
                     + r * (anp.dot(W_hh[2 * H:], h) + b_hh[2 * H:, None]))
        h = (1.0 - z) * n + z * h
        ys.append((anp.dot(args["W_hy"], h) + args["b_y"][:, None]).T)
        (h,) = _detach([h], t, T, truncate)
    return anp.stack(ys)


def autograd_gradients(reference, args, loss, truncate=None):
    """dL/d(every entry of ``args``) by reverse-mode autograd, with detaching."""
    return autograd.grad(lambda a: loss(reference(a, truncate)))(args)
