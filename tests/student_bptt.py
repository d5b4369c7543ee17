"""RNN functions written as students write them, for the tests of the self-checks.

The right backward passes are written differently from the package on purpose
(per-sample loops over the batch, explicit Jacobian matrices, the batch as
columns, the book's 1-based steps), so that a check that accepts them accepts
more than the package's own code. ``start`` begins the 0-based template from
which tests/test_checks_backward.py and tests/test_checks_truncation.py write
their wrong ones, one realistic bug each.
"""
from __future__ import annotations

import numpy as np


def backward_per_sample(params, x, h, dy, truncate=None):
    """Column vectors, one sequence at a time, book steps t = T..1."""
    W_xh, W_hh, W_hy = params["W_xh"], params["W_hh"], params["W_hy"]
    T, B, _ = x.shape
    g = {k: np.zeros_like(v) for k, v in params.items()}
    g["x"], g["h0"] = np.zeros_like(x), np.zeros_like(h[0])
    for b in range(B):
        dh_next = np.zeros((W_hh.shape[0], 1), dtype=x.dtype)
        for t in range(T, 0, -1):
            h_t, h_prev = h[t, b][:, None], h[t - 1, b][:, None]
            x_t, dy_t = x[t - 1, b][:, None], dy[t - 1, b][:, None]
            g["W_hy"] += dy_t @ h_t.T
            g["b_y"] += dy_t[:, 0]
            delta = (1 - h_t ** 2) * (W_hy.T @ dy_t + dh_next)
            g["W_xh"] += delta @ x_t.T
            g["W_hh"] += delta @ h_prev.T
            g["b_h"] += delta[:, 0]
            g["x"][t - 1, b] = (W_xh.T @ delta)[:, 0]
            dh_next = W_hh.T @ delta
            if truncate is not None and t - 1 > 0 and (t - 1) % truncate == 0:
                dh_next = np.zeros_like(dh_next)     # h_{t-1} is detached
        g["h0"][b] = dh_next[:, 0]
    return g


def backward_jacobians(params, x, h, dy, truncate=None):
    """dL/dh_{t-1} = J_t^T dL/dh_t with the explicit Jacobian J_t = diag(1 - h_t^2) W_hh."""
    W_xh, W_hh, W_hy = params["W_xh"], params["W_hh"], params["W_hy"]
    T, B, _ = x.shape
    g = {k: np.zeros_like(v) for k, v in params.items()}
    g["x"], g["h0"] = np.zeros_like(x), np.zeros_like(h[0])
    for b in range(B):
        hbar = np.zeros(W_hh.shape[0], dtype=x.dtype)        # dL/dh_t from steps after t
        for t in range(T, 0, -1):
            hbar = hbar + W_hy.T @ dy[t - 1, b]
            D_t = np.diag(1 - h[t, b] ** 2)                   # Jacobian of tanh at a_t
            da = D_t @ hbar
            g["W_hy"] += np.outer(dy[t - 1, b], h[t, b])
            g["b_y"] += dy[t - 1, b]
            g["W_xh"] += np.outer(da, x[t - 1, b])
            g["W_hh"] += np.outer(da, h[t - 1, b])
            g["b_h"] += da
            g["x"][t - 1, b] = W_xh.T @ da
            J = D_t @ W_hh                                    # dh_t / dh_{t-1}
            hbar = J.T @ hbar
            if truncate is not None and 0 < t - 1 and (t - 1) % truncate == 0:
                hbar = np.zeros_like(hbar)
        g["h0"][b] = hbar
    return g


def backward_batched_columns(params, x, h, dy, truncate=None):
    """The batch as columns (H, B), then everything transposed back to the package's layout."""
    W_xh, W_hh, W_hy = params["W_xh"], params["W_hh"], params["W_hy"]
    T = x.shape[0]
    hs = [h_t.T for h_t in h]                 # (H, B) columns
    deltas = [None] * (T + 1)
    carry = np.zeros_like(hs[0])
    for t in range(T, 0, -1):
        deltas[t] = (1 - hs[t] ** 2) * (W_hy.T @ dy[t - 1].T + carry)
        carry = W_hh.T @ deltas[t]
        if truncate and t - 1 >= 1 and (t - 1) % truncate == 0:
            carry = 0 * carry
    return {
        "W_xh": sum(deltas[t] @ x[t - 1] for t in range(1, T + 1)),
        "W_hh": sum(deltas[t] @ hs[t - 1].T for t in range(1, T + 1)),
        "b_h": sum(deltas[t].sum(axis=1) for t in range(1, T + 1)),
        "W_hy": sum(dy[t - 1].T @ hs[t].T for t in range(1, T + 1)),
        "b_y": dy.sum(axis=(0, 1)),
        "x": np.stack([(W_xh.T @ deltas[t]).T for t in range(1, T + 1)]),
        "h0": carry.T,
    }


def start(params, x, h):
    """Zero gradients of the parameters, of x and of h0 (a student's 0-based template).

    Step index t is the book's step t+1: x[t] is its input, h[t+1] its output
    and h[t] the state before it.
    """
    g = {k: np.zeros_like(v) for k, v in params.items()}
    return g, np.zeros_like(x), np.zeros_like(h[0])
