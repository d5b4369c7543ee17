"""Tests of bptt.checks: the homework self-checks must refuse wrong work and accept right work.

The functions below are written the way a student would write them: loops over
steps with 0-based indices, one realistic bug each. Every wrong one must make
its check raise AssertionError with a message that names the wrong output (or
gradient key) and the probable cause. The right ones are written differently
from the package on purpose (per-sample loops over the batch, explicit Jacobian
matrices, column-vector maths, the book's 1-based steps) and must be accepted.
"""
from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

from bptt.checks import (check_clip_grad_norm, check_clip_grad_value, check_numerical_gradient,
                         check_rnn_backward, check_rnn_forward, check_rnn_step_forward)
from bptt.clip import clip_grad_norm, clip_grad_value
from bptt.gradcheck import numerical_gradient
from bptt.rnn import rnn_backward, rnn_forward, rnn_step_forward


# ====================================================================== backward: right

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


def backward_no_truncation(params, x, h, dy):
    """An assignment that comes before truncation: no truncate argument at all."""
    return backward_per_sample(params, x, h, dy)


@pytest.mark.parametrize("fn", [rnn_backward, backward_per_sample, backward_jacobians,
                                backward_batched_columns])
def test_backward_accepts_right_implementations(fn):
    assert check_rnn_backward(fn) is None


@pytest.mark.parametrize("seed", [1, 2])
def test_backward_accepts_right_implementation_with_other_seeds(seed):
    assert check_rnn_backward(backward_jacobians, seed=seed) is None


def test_backward_without_truncate_is_accepted_when_truncation_is_off():
    assert check_rnn_backward(backward_no_truncation, truncation=False) is None


def test_backward_without_truncate_is_refused_by_default_with_a_hint():
    with pytest.raises(AssertionError, match=r"(?s)truncate.*truncation=False"):
        check_rnn_backward(backward_no_truncation)


# ====================================================================== backward: wrong
# A student's template (0-based: step index t is the book's step t+1, x[t] is
# its input, h[t+1] its output and h[t] the state before it), with one bug each.

def _start(params, x, h):
    g = {k: np.zeros_like(v) for k, v in params.items()}
    return g, np.zeros_like(x), np.zeros_like(h[0])


def bwd_transposed_whh(params, x, h, dy, truncate=None):
    g, dx, dh_next = _start(params, x, h)
    for t in reversed(range(x.shape[0])):
        g["W_hy"] += dy[t].T @ h[t + 1]
        g["b_y"] += dy[t].sum(axis=0)
        da = (1 - h[t + 1] ** 2) * (dy[t] @ params["W_hy"] + dh_next)
        g["W_xh"] += da.T @ x[t]
        g["W_hh"] += h[t].T @ da                       # bug: transposed
        g["b_h"] += da.sum(axis=0)
        dx[t] = da @ params["W_xh"]
        dh_next = da @ params["W_hh"]
    return {**g, "x": dx, "h0": dh_next}


def bwd_transposed_wxh(params, x, h, dy, truncate=None):
    g, dx, dh_next = _start(params, x, h)
    g["W_xh"] = np.zeros_like(params["W_xh"].T)
    for t in reversed(range(x.shape[0])):
        g["W_hy"] += dy[t].T @ h[t + 1]
        g["b_y"] += dy[t].sum(axis=0)
        da = (1 - h[t + 1] ** 2) * (dy[t] @ params["W_hy"] + dh_next)
        g["W_xh"] += x[t].T @ da                       # bug: transposed, shape (D, H)
        g["W_hh"] += da.T @ h[t]
        g["b_h"] += da.sum(axis=0)
        dx[t] = da @ params["W_xh"]
        dh_next = da @ params["W_hh"]
    return {**g, "x": dx, "h0": dh_next}


def bwd_no_dtanh(params, x, h, dy, truncate=None):
    g, dx, dh_next = _start(params, x, h)
    for t in reversed(range(x.shape[0])):
        g["W_hy"] += dy[t].T @ h[t + 1]
        g["b_y"] += dy[t].sum(axis=0)
        da = dy[t] @ params["W_hy"] + dh_next          # bug: forgot tanh'
        g["W_xh"] += da.T @ x[t]
        g["W_hh"] += da.T @ h[t]
        g["b_h"] += da.sum(axis=0)
        dx[t] = da @ params["W_xh"]
        dh_next = da @ params["W_hh"]
    return {**g, "x": dx, "h0": dh_next}


def bwd_dtanh_twice(params, x, h, dy, truncate=None):
    g, dx, dh_next = _start(params, x, h)
    for t in reversed(range(x.shape[0])):
        g["W_hy"] += dy[t].T @ h[t + 1]
        g["b_y"] += dy[t].sum(axis=0)
        dtanh = 1 - h[t + 1] ** 2
        dh = (dy[t] @ params["W_hy"] + dh_next) * dtanh
        da = dh * dtanh                                # bug: tanh' applied again
        g["W_xh"] += da.T @ x[t]
        g["W_hh"] += da.T @ h[t]
        g["b_h"] += da.sum(axis=0)
        dx[t] = da @ params["W_xh"]
        dh_next = da @ params["W_hh"]
    return {**g, "x": dx, "h0": dh_next}


def bwd_dtanh_wrong_step(params, x, h, dy, truncate=None):
    g, dx, dh_next = _start(params, x, h)
    for t in reversed(range(x.shape[0])):
        g["W_hy"] += dy[t].T @ h[t + 1]
        g["b_y"] += dy[t].sum(axis=0)
        da = (1 - h[t] ** 2) * (dy[t] @ params["W_hy"] + dh_next)   # bug: h[t] is h_{t-1}
        g["W_xh"] += da.T @ x[t]
        g["W_hh"] += da.T @ h[t]
        g["b_h"] += da.sum(axis=0)
        dx[t] = da @ params["W_xh"]
        dh_next = da @ params["W_hh"]
    return {**g, "x": dx, "h0": dh_next}


def bwd_no_future(params, x, h, dy, truncate=None):
    g, dx, dh_next = _start(params, x, h)
    for t in reversed(range(x.shape[0])):
        g["W_hy"] += dy[t].T @ h[t + 1]
        g["b_y"] += dy[t].sum(axis=0)
        da = (1 - h[t + 1] ** 2) * (dy[t] @ params["W_hy"])    # bug: dh_next not added
        g["W_xh"] += da.T @ x[t]
        g["W_hh"] += da.T @ h[t]
        g["b_h"] += da.sum(axis=0)
        dx[t] = da @ params["W_xh"]
        dh_next = da @ params["W_hh"]
    return {**g, "x": dx, "h0": dh_next}


def bwd_last_step_only(params, x, h, dy, truncate=None):
    g, dx, dh_next = _start(params, x, h)
    for t in reversed(range(x.shape[0])):
        g["W_hy"] += dy[t].T @ h[t + 1]
        g["b_y"] += dy[t].sum(axis=0)
        da = (1 - h[t + 1] ** 2) * (dy[t] @ params["W_hy"] + dh_next)
        g["W_xh"] = da.T @ x[t]                        # bug: = instead of +=
        g["W_hh"] = da.T @ h[t]
        g["b_h"] = da.sum(axis=0)
        dx[t] = da @ params["W_xh"]
        dh_next = da @ params["W_hh"]
    return {**g, "x": dx, "h0": dh_next}


def bwd_bias_per_sample(params, x, h, dy, truncate=None):
    g, dx, dh_next = _start(params, x, h)
    for t in reversed(range(x.shape[0])):
        g["W_hy"] += dy[t].T @ h[t + 1]
        g["b_y"] += dy[t].sum(axis=0)
        da = (1 - h[t + 1] ** 2) * (dy[t] @ params["W_hy"] + dh_next)
        g["W_xh"] += da.T @ x[t]
        g["W_hh"] += da.T @ h[t]
        g["b_h"] = g["b_h"] + da                       # bug: broadcasts to (B, H)
        dx[t] = da @ params["W_xh"]
        dh_next = da @ params["W_hh"]
    return {**g, "x": dx, "h0": dh_next}


def bwd_bias_first_sample(params, x, h, dy, truncate=None):
    g, dx, dh_next = _start(params, x, h)
    for t in reversed(range(x.shape[0])):
        g["W_hy"] += dy[t].T @ h[t + 1]
        g["b_y"] += dy[t].sum(axis=0)
        da = (1 - h[t + 1] ** 2) * (dy[t] @ params["W_hy"] + dh_next)
        g["W_xh"] += da.T @ x[t]
        g["W_hh"] += da.T @ h[t]
        g["b_h"] += da[0]                              # bug: first sequence only
        dx[t] = da @ params["W_xh"]
        dh_next = da @ params["W_hh"]
    return {**g, "x": dx, "h0": dh_next}


def bwd_whh_with_h_t(params, x, h, dy, truncate=None):
    g, dx, dh_next = _start(params, x, h)
    for t in reversed(range(x.shape[0])):
        g["W_hy"] += dy[t].T @ h[t + 1]
        g["b_y"] += dy[t].sum(axis=0)
        da = (1 - h[t + 1] ** 2) * (dy[t] @ params["W_hy"] + dh_next)
        g["W_xh"] += da.T @ x[t]
        g["W_hh"] += da.T @ h[t + 1]                   # bug: x_t goes with h_{t-1} = h[t]
        g["b_h"] += da.sum(axis=0)
        dx[t] = da @ params["W_xh"]
        dh_next = da @ params["W_hh"]
    return {**g, "x": dx, "h0": dh_next}


def bwd_wxh_with_previous_input(params, x, h, dy, truncate=None):
    g, dx, dh_next = _start(params, x, h)
    for t in reversed(range(x.shape[0])):
        g["W_hy"] += dy[t].T @ h[t + 1]
        g["b_y"] += dy[t].sum(axis=0)
        da = (1 - h[t + 1] ** 2) * (dy[t] @ params["W_hy"] + dh_next)
        g["W_xh"] += da.T @ x[t - 1]                   # bug: "h[t] goes with x[t-1]"
        g["W_hh"] += da.T @ h[t]
        g["b_h"] += da.sum(axis=0)
        dx[t] = da @ params["W_xh"]
        dh_next = da @ params["W_hh"]
    return {**g, "x": dx, "h0": dh_next}


def bwd_future_skips_dtanh(params, x, h, dy, truncate=None):
    g, dx, dh_next = _start(params, x, h)
    for t in reversed(range(x.shape[0])):
        g["W_hy"] += dy[t].T @ h[t + 1]
        g["b_y"] += dy[t].sum(axis=0)
        dh = dy[t] @ params["W_hy"] + dh_next
        da = (1 - h[t + 1] ** 2) * dh
        g["W_xh"] += da.T @ x[t]
        g["W_hh"] += da.T @ h[t]
        g["b_h"] += da.sum(axis=0)
        dx[t] = da @ params["W_xh"]
        dh_next = dh @ params["W_hh"]                  # bug: dh where da belongs
    return {**g, "x": dx, "h0": dh_next}


def bwd_drops_last_step(params, x, h, dy, truncate=None):
    g, dx, dh_next = _start(params, x, h)
    for t in reversed(range(x.shape[0] - 1)):          # bug: skips the last step
        g["W_hy"] += dy[t].T @ h[t + 1]
        g["b_y"] += dy[t].sum(axis=0)
        da = (1 - h[t + 1] ** 2) * (dy[t] @ params["W_hy"] + dh_next)
        g["W_xh"] += da.T @ x[t]
        g["W_hh"] += da.T @ h[t]
        g["b_h"] += da.sum(axis=0)
        dx[t] = da @ params["W_xh"]
        dh_next = da @ params["W_hh"]
    return {**g, "x": dx, "h0": dh_next}


def bwd_no_h0(params, x, h, dy, truncate=None):
    grads = backward_per_sample(params, x, h, dy, truncate)
    del grads["h0"]                                    # bug: "h0 is not a parameter"
    return grads


def bwd_minus_instead_of_plus(params, x, h, dy, truncate=None):
    g, dx, dh_next = _start(params, x, h)
    for t in reversed(range(x.shape[0])):
        g["W_hy"] -= dy[t].T @ h[t + 1]                # bug: -= typed for +=
        g["b_y"] -= dy[t].sum(axis=0)
        da = (1 - h[t + 1] ** 2) * (dy[t] @ params["W_hy"] + dh_next)
        g["W_xh"] += da.T @ x[t]
        g["W_hh"] += da.T @ h[t]
        g["b_h"] += da.sum(axis=0)
        dx[t] = da @ params["W_xh"]
        dh_next = da @ params["W_hh"]
    return {**g, "x": dx, "h0": dh_next}


def bwd_h0_is_delta(params, x, h, dy, truncate=None):
    g, dx, dh_next = _start(params, x, h)
    for t in reversed(range(x.shape[0])):
        g["W_hy"] += dy[t].T @ h[t + 1]
        g["b_y"] += dy[t].sum(axis=0)
        da = (1 - h[t + 1] ** 2) * (dy[t] @ params["W_hy"] + dh_next)
        g["W_xh"] += da.T @ x[t]
        g["W_hh"] += da.T @ h[t]
        g["b_h"] += da.sum(axis=0)
        dx[t] = da @ params["W_xh"]
        dh_next = da @ params["W_hh"]
    return {**g, "x": dx, "h0": da}                    # bug: dL/da_1, not dL/dh_0


def bwd_ignores_truncate(params, x, h, dy, truncate=None):
    return backward_per_sample(params, x, h, dy)       # bug: truncate never used


def bwd_truncates_one_step_late(params, x, h, dy, truncate=None):
    g, dx, dh_next = _start(params, x, h)
    for t in reversed(range(x.shape[0])):
        g["W_hy"] += dy[t].T @ h[t + 1]
        g["b_y"] += dy[t].sum(axis=0)
        da = (1 - h[t + 1] ** 2) * (dy[t] @ params["W_hy"] + dh_next)
        g["W_xh"] += da.T @ x[t]
        g["W_hh"] += da.T @ h[t]
        g["b_h"] += da.sum(axis=0)
        dx[t] = da @ params["W_xh"]
        dh_next = da @ params["W_hh"]
        if truncate and (t - 1) > 0 and (t - 1) % truncate == 0:   # bug: should be t
            dh_next = np.zeros_like(dh_next)
    return {**g, "x": dx, "h0": dh_next}


def bwd_first_sample_weights(params, x, h, dy, truncate=None):
    """Written for a single sequence: right when B = 1 only."""
    g, dx, dh_next = _start(params, x, h)
    for t in reversed(range(x.shape[0])):
        g["W_hy"] += np.outer(dy[t][0], h[t + 1][0])
        g["b_y"] += dy[t][0]
        da = (1 - h[t + 1] ** 2) * (dy[t] @ params["W_hy"] + dh_next)
        g["W_xh"] += np.outer(da[0], x[t][0])
        g["W_hh"] += np.outer(da[0], h[t][0])
        g["b_h"] += da[0]
        dx[t] = da @ params["W_xh"]
        dh_next = da @ params["W_hh"]
    return {**g, "x": dx, "h0": dh_next}


def bwd_dx_shaped_like_h(params, x, h, dy, truncate=None):
    """dx allocated like h: right only when D == H."""
    g, _, dh_next = _start(params, x, h)
    dx = np.zeros_like(h[1:])                          # bug: (T, B, H)
    for t in reversed(range(x.shape[0])):
        g["W_hy"] += dy[t].T @ h[t + 1]
        g["b_y"] += dy[t].sum(axis=0)
        da = (1 - h[t + 1] ** 2) * (dy[t] @ params["W_hy"] + dh_next)
        g["W_xh"] += da.T @ x[t]
        g["W_hh"] += da.T @ h[t]
        g["b_h"] += da.sum(axis=0)
        dx[t] = da @ params["W_hh"] if x.shape[2] != h.shape[2] else da @ params["W_xh"]
        dh_next = da @ params["W_hh"]
    return {**g, "x": dx, "h0": dh_next}


# (wrong function, the key it must name, the cause it must give): all regexes.
BACKWARD_MISTAKES = [
    (bwd_transposed_whh, r"wrong: W_hh\b", r"transpose of the right value"),
    (bwd_transposed_wxh, r"W_xh must have shape \(H, D\) = \(5, 2\), got \(2, 5\)",
     r"looks transposed"),
    (bwd_no_dtanh, r"wrong: W_xh, W_hh, b_h, x, h0", r"tanh derivative is missing"),
    (bwd_dtanh_twice, r"wrong: W_xh, W_hh, b_h, x, h0", r"tanh derivative is applied twice"),
    (bwd_dtanh_wrong_step, r"wrong: W_xh, W_hh, b_h, x, h0", r"taken at h_\{t-1\} instead of h_t"),
    (bwd_no_future, r"wrong: W_xh, W_hh, b_h, x, h0", r"flowing back from the future is not added"),
    (bwd_last_step_only, r"wrong: W_xh, W_hh, b_h", r"contribution of step 1 only"),
    (bwd_bias_per_sample, r"b_h must have shape \(H,\) = \(5,\), got \(3, 5\)",
     r"not summed over the batch"),
    (bwd_bias_first_sample, r"wrong: b_h;", r"first sequence of the batch only"),
    (bwd_whh_with_h_t, r"wrong: W_hh;", r"pairs delta_t with h_t instead of h_\{t-1\}"),
    (bwd_wxh_with_previous_input, r"wrong: W_xh;", r"pairs delta_t with x_\{t-1\} instead of x_t"),
    (bwd_future_skips_dtanh, r"wrong: W_xh, W_hh, b_h, x, h0",
     r"passed back to h_\{t-1\} skips the tanh derivative"),
    (bwd_drops_last_step, r"wrong: W_xh, W_hh, b_h, W_hy, b_y, x, h0", r"last step T is missing"),
    (bwd_no_h0, r"misses the key\(s\) \['h0'\]", r"h0 missing"),
    (bwd_minus_instead_of_plus, r"wrong: W_hy, b_y;", r"wrong sign"),
    (bwd_h0_is_delta, r"wrong: h0;", r"h0 gradient is delta_1"),
    (bwd_ignores_truncate, r"truncate=1:\n  wrong: W_xh, W_hh, b_h, x, h0", r"ignores truncate"),
    (bwd_truncates_one_step_late, r"truncate=1:\n  wrong:", r"detaches one step too late"),
]


@pytest.mark.parametrize("fn, key, cause", BACKWARD_MISTAKES,
                         ids=[m[0].__name__ for m in BACKWARD_MISTAKES])
def test_backward_refuses_each_mistake_and_names_key_and_cause(fn, key, cause):
    with pytest.raises(AssertionError) as info:
        check_rnn_backward(fn)
    msg = str(info.value)
    assert msg.startswith("rnn_backward is wrong for (T, B, D, H, O) = ")
    assert re.search(key, msg), msg
    # The cause is on a "Probable cause" line, or on the line naming a wrong shape or key.
    assert re.search(r"(Probable cause \([^)]*\): |must have shape|misses the key)[^\n]*"
                     + r"(\n  [^\n]*)?" + cause, msg), msg


def test_backward_message_shows_sizes_error_and_entries():
    with pytest.raises(AssertionError) as info:
        check_rnn_backward(bwd_no_dtanh)
    msg = str(info.value)
    assert "(T, B, D, H, O) = (4, 3, 2, 5, 6), nonzero h0" in msg
    assert re.search(r"W_hh, shape \(H, H\) = \(5, 5\): relative error \d\.\d\de-\d\d", msg)
    assert re.search(r"index\s+expected\s+got", msg)
    # The expected entries shown are the package's numbers.
    from bptt.checks import _problem, _BACKWARD_SIZES
    prob = _problem(_BACKWARD_SIZES[0], (0, 3, 0))
    want = rnn_backward(prob["params"], prob["x"], prob["h"], prob["dy"])
    worst = np.unravel_index(np.argmax(np.abs(
        bwd_no_dtanh(prob["params"], prob["x"], prob["h"], prob["dy"])["W_xh"]
        - want["W_xh"])), want["W_xh"].shape)
    assert f"{want['W_xh'][worst]:.8e}" in msg


def test_backward_future_missing_is_right_only_for_one_step():
    with pytest.raises(AssertionError, match=r"It is right only when T = 1"):
        check_rnn_backward(bwd_no_future)


def test_backward_right_for_one_sequence_only_is_refused():
    with pytest.raises(AssertionError) as info:
        check_rnn_backward(bwd_first_sample_weights)
    msg = str(info.value)
    assert "wrong: W_xh, W_hh, b_h, W_hy, b_y" in msg
    assert "Probable cause (W_xh, W_hh, b_h, W_hy, b_y): it uses the first sequence" in msg
    assert "It is right only when B = 1" in msg


def test_backward_right_only_when_D_equals_H_is_refused():
    with pytest.raises(AssertionError) as info:
        check_rnn_backward(bwd_dx_shaped_like_h)
    msg = str(info.value)
    assert "x must have shape (T, B, D) = (4, 3, 2), got (4, 3, 5)" in msg
    assert "It is right only when D == H" in msg


def bwd_sliding_window(params, x, h, dy, truncate=None):
    """Each loss sends its gradient back `truncate` steps (another kind of truncation)."""
    T = x.shape[0]
    k = truncate or T
    g, dx, dh0 = _start(params, x, h)
    for s in range(T):                                 # the loss at step s
        g["W_hy"] += dy[s].T @ h[s + 1]
        g["b_y"] += dy[s].sum(axis=0)
        dh = dy[s] @ params["W_hy"]
        for t in range(s, max(s - k, -1), -1):
            da = (1 - h[t + 1] ** 2) * dh
            g["W_xh"] += da.T @ x[t]
            g["W_hh"] += da.T @ h[t]
            g["b_h"] += da.sum(axis=0)
            dx[t] += da @ params["W_xh"]
            dh = da @ params["W_hh"]
            if t == 0:
                dh0 += dh
    return {**g, "x": dx, "h0": dh0}


def test_backward_sliding_window_truncation_is_recognised():
    assert check_rnn_backward(bwd_sliding_window, truncation=False) is None
    with pytest.raises(AssertionError, match=r"truncate=2:(?s:.*)Probable cause.*sliding window"):
        check_rnn_backward(bwd_sliding_window)


# ====================================================================== failures of the call

def not_implemented(*args, **kwargs):
    raise NotImplementedError("TODO: write rnn_backward")


def test_not_implemented_is_reported_as_such():
    with pytest.raises(AssertionError, match=r"rnn_backward is not implemented yet"):
        check_rnn_backward(not_implemented)
    for check, name in [(check_rnn_step_forward, "rnn_step_forward"),
                        (check_rnn_forward, "rnn_forward"),
                        (check_clip_grad_norm, "clip_grad_norm"),
                        (check_clip_grad_value, "clip_grad_value"),
                        (check_numerical_gradient, "numerical_gradient")]:
        with pytest.raises(AssertionError, match=f"{name} is not implemented yet"):
            check(not_implemented)


def test_exception_shows_type_message_and_shapes():
    def off_by_one(params, x, h, dy, truncate=None):
        for t in range(x.shape[0], 0, -1):
            x[t]                                       # x has T entries: IndexError at t = T
    with pytest.raises(AssertionError) as info:
        check_rnn_backward(off_by_one)
    msg = str(info.value)
    assert "rnn_backward raised IndexError" in msg
    assert "x (4, 3, 2) float64" in msg and "h (5, 3, 5) float64" in msg
    assert "(T, B, D, H, O) = (4, 3, 2, 5, 6)" in msg
    assert "h has T+1 entries" in msg
    assert isinstance(info.value.__cause__, IndexError)


def test_backward_returning_none_or_a_tuple_is_refused():
    with pytest.raises(AssertionError, match=r"returned None: a return statement is missing"):
        check_rnn_backward(lambda params, x, h, dy, truncate=None: None)
    with pytest.raises(AssertionError, match=r"must return a dict .* got tuple"):
        check_rnn_backward(lambda params, x, h, dy, truncate=None: (1, 2))


def test_backward_that_modifies_h_is_refused():
    def in_place_dtanh(params, x, h, dy, truncate=None):
        grads = backward_per_sample(params, x, h, dy, truncate)
        dtanh = h[1:]
        dtanh **= 2                                    # "saves memory", destroys h
        return grads
    with pytest.raises(AssertionError, match=r"modified its argument h \(60 of 75 entries"):
        check_rnn_backward(in_place_dtanh)


def test_backward_that_returns_float64_for_float32_is_refused():
    def float64_grads(params, x, h, dy, truncate=None):
        g = backward_per_sample(params, x, h, dy, truncate)
        return {k: v.astype(np.float64) for k, v in g.items()}
    with pytest.raises(AssertionError, match=r"W_xh has dtype float64 for float32 inputs"):
        check_rnn_backward(float64_grads)


def test_checks_refuse_a_non_callable_and_a_bad_seed():
    with pytest.raises(TypeError, match="fn must be the function to check"):
        check_rnn_backward("rnn_backward")
    with pytest.raises(ValueError, match="seed must be an int >= 0"):
        check_rnn_forward(rnn_forward, seed=-1)
    with pytest.raises(TypeError, match="truncation must be True or False"):
        check_rnn_backward(rnn_backward, truncation="no")


def test_checks_are_deterministic():
    messages = []
    for _ in range(2):
        with pytest.raises(AssertionError) as info:
            check_rnn_backward(bwd_dtanh_wrong_step)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_messages_never_show_the_reference_code():
    source_lines = set()
    for f in (rnn_backward, rnn_forward, rnn_step_forward, clip_grad_norm, clip_grad_value,
              numerical_gradient):
        for line in inspect.getsource(f).splitlines():
            line = line.split("#")[0].strip()
            if len(line) > 25 and not line.startswith(("r\"\"\"", "\"\"\"", ":math:")):
                source_lines.add(line)
    msgs = []
    for fn in [bwd_no_dtanh, bwd_whh_with_h_t, bwd_ignores_truncate, bwd_no_h0]:
        with pytest.raises(AssertionError) as info:
            check_rnn_backward(fn)
        msgs.append(str(info.value))
    for msg in msgs:
        assert "def " not in msg and "return " not in msg
        assert not [line for line in source_lines if line in msg]


# ====================================================================== forward

def step_columns(params, x_t, h_prev):
    """Column vectors, one sequence at a time."""
    out = np.empty_like(h_prev)
    for b in range(x_t.shape[0]):
        a = (params["W_hh"] @ h_prev[b][:, None] + params["W_xh"] @ x_t[b][:, None]
             + params["b_h"][:, None])
        out[b] = np.tanh(a)[:, 0]
    return out


def step_einsum(params, x_t, h_prev):
    return np.tanh(np.einsum("ij,bj->bi", params["W_hh"], h_prev)
                   + np.einsum("ij,bj->bi", params["W_xh"], x_t) + params["b_h"])


def step_w_hh_untransposed(params, x_t, h_prev):
    return np.tanh(h_prev @ params["W_hh"] + x_t @ params["W_xh"].T + params["b_h"])


def step_no_bias(params, x_t, h_prev):
    return np.tanh(h_prev @ params["W_hh"].T + x_t @ params["W_xh"].T)


def step_no_tanh(params, x_t, h_prev):
    return h_prev @ params["W_hh"].T + x_t @ params["W_xh"].T + params["b_h"]


def step_first_sequence_state(params, x_t, h_prev):
    """Uses the first sequence's state for the whole batch: right when B = 1 only."""
    return np.tanh(h_prev[0] @ params["W_hh"].T + x_t @ params["W_xh"].T + params["b_h"])


@pytest.mark.parametrize("fn", [rnn_step_forward, step_columns, step_einsum])
def test_step_forward_accepts_right_implementations(fn):
    assert check_rnn_step_forward(fn) is None


@pytest.mark.parametrize("fn, cause", [
    (step_w_hh_untransposed, r"W_hh is used untransposed"),
    (step_no_bias, r"b_h is missing"),
    (step_no_tanh, r"tanh is missing"),
    (step_first_sequence_state, r"It is right only when B = 1"),
])
def test_step_forward_refuses_mistakes(fn, cause):
    with pytest.raises(AssertionError, match=r"rnn_step_forward is wrong for \(B, D, H\)") as info:
        check_rnn_step_forward(fn)
    assert "wrong: h_t" in str(info.value)
    assert re.search(cause, str(info.value)), str(info.value)


def forward_book_steps(params, x, h0=None):
    """Book indexing through a step function written with column vectors."""
    T, B, _ = x.shape
    H = params["W_hh"].shape[0]
    h = [np.zeros((B, H), dtype=x.dtype) if h0 is None else h0]
    for t in range(1, T + 1):
        h.append(step_columns(params, x[t - 1], h[t - 1]))
    h = np.stack(h)
    y = np.stack([h[t] @ params["W_hy"].T + params["b_y"] for t in range(1, T + 1)])
    return y, h


def fwd_template(params, x, h0=None, *, bug=None):
    """A student's forward, 0-based; ``bug`` selects the one mistake."""
    T, B, _ = x.shape
    H = params["W_hh"].shape[0]
    if h0 is None or bug == "ignore_h0":
        h0 = np.zeros((B, H), dtype=x.dtype)
    h = np.zeros((T + 1, B, H), dtype=x.dtype)
    h[0] = h0
    W_hh = params["W_hh"] if bug == "untransposed" else params["W_hh"].T
    for t in range(T - 1 if bug == "drop_last" else T):
        a = h[t] @ W_hh + x[t] @ params["W_xh"].T
        if bug != "no_bias":
            a = a + params["b_h"]
        h[t + 1] = a if bug == "no_tanh" else np.tanh(a)
    source = h[:-1] if bug == "y_from_prev" else h[1:]
    y = source @ params["W_hy"].T + params["b_y"]
    if bug == "no_h0_in_h":
        return y, h[1:]
    return y, h


@pytest.mark.parametrize("fn", [rnn_forward, forward_book_steps, fwd_template])
def test_forward_accepts_right_implementations(fn):
    assert check_rnn_forward(fn) is None


@pytest.mark.parametrize("bug, message", [
    ("untransposed", r"(?s)wrong: h, y.*W_hh is used untransposed"),
    ("ignore_h0", r"(?s)wrong: h, y.*h0 is ignored.*right only when h0 = 0"),
    ("no_bias", r"(?s)wrong: h, y.*b_h is missing"),
    ("no_tanh", r"(?s)wrong: h, y.*tanh is missing"),
    ("drop_last", r"(?s)wrong: h, y.*wrong at h\[4\] only.*last step is not computed"),
    ("y_from_prev", r"(?s)wrong: y; right: h.*y_t is computed from h_\{t-1\}"),
    ("no_h0_in_h", r"h must have shape \(T\+1, B, H\) = \(5, 3, 5\), got \(4, 3, 5\): h has T "
                   r"entries, but it must start with h0"),
])
def test_forward_refuses_mistakes(bug, message):
    with pytest.raises(AssertionError, match=message):
        check_rnn_forward(lambda params, x, h0=None: fwd_template(params, x, h0, bug=bug))


def test_forward_refuses_float64_results_for_float32_inputs():
    def float64_h(params, x, h0=None):
        y, h = fwd_template(params, x, h0)
        return y, h.astype(np.float64)
    with pytest.raises(AssertionError, match=r"(?s)float32.*h has dtype float64 for float32 "):
        check_rnn_forward(float64_h)


def test_forward_refuses_swapped_outputs_and_bad_none():
    with pytest.raises(AssertionError, match=r"returns \(h, y\); the order is \(y, h\)"):
        check_rnn_forward(lambda params, x, h0=None: rnn_forward(params, x, h0)[::-1])

    def no_default(params, x, h0=None):
        return fwd_template(params, x, h0 + 0.0)        # fails when h0 is None
    with pytest.raises(AssertionError, match=r"(?s)TypeError.*h0=None must mean"):
        check_rnn_forward(no_default)


# ====================================================================== clip_grad_norm

def clip_norm_concatenated(grads, max_norm):
    """One long vector, no 1e-6: within the tolerance, so accepted."""
    keys = ["W_xh", "W_hh", "b_h", "W_hy", "b_y"]
    total = float(np.linalg.norm(np.concatenate([grads[k].ravel() for k in keys])))
    scale = max_norm / total if total > max_norm else 1.0
    out = {k: v.copy() for k, v in grads.items()}
    for k in keys:
        out[k] = grads[k] * scale
    return out, total


def clip_norm_loop(grads, max_norm):
    sumsq = 0.0
    for k in ("W_xh", "W_hh", "b_h", "W_hy", "b_y"):
        for value in grads[k].ravel():
            sumsq += float(value) ** 2
    total = sumsq ** 0.5
    factor = min(1.0, max_norm / (total + 1e-6))
    return {k: (v * factor if k not in ("x", "h0") else v.copy()) for k, v in grads.items()}, total


def _norm5(grads):
    return float(np.sqrt(sum(np.sum(grads[k] ** 2) for k in ("W_xh", "W_hh", "b_h", "W_hy",
                                                             "b_y"))))


def clip_norm_never(grads, max_norm):
    return {k: v.copy() for k, v in grads.items()}, _norm5(grads)


def clip_norm_always(grads, max_norm):
    total = _norm5(grads)
    return {k: (v * (max_norm / total) if k not in ("x", "h0") else v.copy())
            for k, v in grads.items()}, total


def clip_norm_in_place(grads, max_norm):
    total = _norm5(grads)
    if total > max_norm:
        for k in ("W_xh", "W_hh", "b_h", "W_hy", "b_y"):
            grads[k] *= max_norm / (total + 1e-6)
    return {k: v.copy() for k, v in grads.items()}, total


def clip_norm_all_keys(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(v ** 2) for v in grads.values())))
    scale = min(1.0, max_norm / (total + 1e-6))
    return {k: (v * scale if k not in ("x", "h0") else v.copy()) for k, v in grads.items()}, total


def clip_norm_reports_after(grads, max_norm):
    clipped, total = clip_norm_loop(grads, max_norm)
    return clipped, min(total, max_norm)


def clip_norm_each_array(grads, max_norm):
    out = {k: v.copy() for k, v in grads.items()}
    for k in ("W_xh", "W_hh", "b_h", "W_hy", "b_y"):
        n = np.linalg.norm(grads[k])
        if n > max_norm:
            out[k] = grads[k] * (max_norm / n)
    return out, _norm5(grads)


def clip_norm_numpy_scale(grads, max_norm):
    total = np.sqrt(sum(np.sum(grads[k].astype(np.float64) ** 2)
                        for k in ("W_xh", "W_hh", "b_h", "W_hy", "b_y")))
    scale = np.minimum(1.0, max_norm / (total + 1e-6))       # a NumPy float64 scalar
    return {k: (v * scale if k not in ("x", "h0") else v.copy()) for k, v in grads.items()}, total


@pytest.mark.parametrize("fn", [clip_grad_norm, clip_norm_concatenated, clip_norm_loop])
def test_clip_grad_norm_accepts_right_implementations(fn):
    assert check_clip_grad_norm(fn) is None


@pytest.mark.parametrize("fn, message", [
    (clip_norm_never, r"(?s)wrong: W_xh, W_hh, b_h, W_hy, b_y.*it does not clip"),
    (clip_norm_always, r"scales even when the norm is already at most max_norm"),
    (clip_norm_in_place, r"modified its argument grads\['W_xh'\]"),
    (clip_norm_all_keys, r"(?s)wrong: total_norm.*x and h0 are included in the norm"),
    (clip_norm_reports_after, r"(?s)wrong: total_norm;.*norm after clipping"),
    (clip_norm_each_array, r"(?s)each array is clipped to max_norm on its own"),
    (clip_norm_numpy_scale, r"W_xh has dtype float64 for float32 inputs.*Python float"),
])
def test_clip_grad_norm_refuses_mistakes(fn, message):
    with pytest.raises(AssertionError, match=message):
        check_clip_grad_norm(fn)


def test_clip_grad_norm_refuses_shared_memory_and_missing_keys():
    with pytest.raises(AssertionError, match=r"shares memory with grads\['W_xh'\]"):
        check_clip_grad_norm(lambda g, c: (dict(g), _norm5(g)) if _norm5(g) <= c
                             else clip_grad_norm(g, c))
    with pytest.raises(AssertionError, match=r"missing \['x', 'h0'\].*copied unchanged"):
        check_clip_grad_norm(lambda g, c: ({k: v for k, v in clip_grad_norm(g, c)[0].items()
                                            if k not in ("x", "h0")}, _norm5(g)))


# ====================================================================== clip_grad_value

def clip_value_loops(grads, clip_value):
    out = {k: v.copy() for k, v in grads.items()}
    for k in ("W_xh", "W_hh", "b_h", "W_hy", "b_y"):
        flat = out[k].reshape(-1)                     # a view of the copy
        for i in range(flat.size):
            if flat[i] > clip_value:
                flat[i] = clip_value
            elif flat[i] < -clip_value:
                flat[i] = -clip_value
    return out


def clip_value_min_max(grads, clip_value):
    return {k: (np.minimum(np.maximum(v, -clip_value), clip_value) if k not in ("x", "h0")
                else v.copy()) for k, v in grads.items()}


@pytest.mark.parametrize("fn", [clip_grad_value, clip_value_loops, clip_value_min_max])
def test_clip_grad_value_accepts_right_implementations(fn):
    assert check_clip_grad_value(fn) is None


def _value_upper_only(g, c):
    return {k: (np.minimum(v, c) if k not in ("x", "h0") else v.copy()) for k, v in g.items()}


def _value_in_place(g, c):
    for k in ("W_xh", "W_hh", "b_h", "W_hy", "b_y"):
        np.clip(g[k], -c, c, out=g[k])
    return {k: v.copy() for k, v in g.items()}


def _value_all_keys(g, c):
    return {k: np.clip(v, -c, c) for k, v in g.items()}


def _value_abs(g, c):
    return {k: (np.minimum(np.abs(v), c) if k not in ("x", "h0") else v.copy())
            for k, v in g.items()}


@pytest.mark.parametrize("fn, message", [
    (_value_upper_only, r"only the entries above clip_value are clipped"),
    (_value_in_place, r"modified its argument grads\['W_xh'\]"),
    (_value_all_keys, r"(?s)wrong: x, h0;.*x and h0 are clipped too"),
    (_value_abs, r"the sign is lost"),
])
def test_clip_grad_value_refuses_mistakes(fn, message):
    with pytest.raises(AssertionError, match=message):
        check_clip_grad_value(fn)


# ====================================================================== numerical_gradient

def numgrad_nditer(f, x, eps=1e-6):
    """CS231n style."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + eps
        fp = f(x)
        x[ix] = old - eps
        fm = f(x)
        x[ix] = old
        grad[ix] = (fp - fm) / (2 * eps)
        it.iternext()
    return grad


def numgrad_flat_view(f, x, eps=1e-6):
    flat = x.reshape(-1)                              # a view: x is contiguous
    grad = np.empty(flat.size)
    for i in range(flat.size):
        keep = flat[i]
        flat[i] = keep + eps
        up = f(x)
        flat[i] = keep - eps
        down = f(x)
        flat[i] = keep
        grad[i] = (up - down) / (2 * eps)
    return grad.reshape(x.shape)


def numgrad_forward(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    fx = f(x)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + eps
        grad[ix] = (f(x) - fx) / eps
        x[ix] = old
    return grad


def numgrad_not_restored(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        x[ix] += eps
        fp = f(x)
        x[ix] -= 2 * eps
        fm = f(x)
        grad[ix] = (fp - fm) / (2 * eps)
    return grad


def numgrad_flattened(f, x, eps=1e-6):
    return numgrad_nditer(f, x, eps).ravel()


def numgrad_over_eps(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + eps
        fp = f(x)
        x[ix] = old - eps
        fm = f(x)
        x[ix] = old
        grad[ix] = (fp - fm) / eps
    return grad


def numgrad_copy(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[ix] += eps
        xm[ix] -= eps
        grad[ix] = (f(xp) - f(xm)) / (2 * eps)
    return grad


def numgrad_first_axis(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    for i in range(x.shape[0]):                       # right for 1-D x only
        old = x[i].copy()
        x[i] = old + eps
        fp = f(x)
        x[i] = old - eps
        fm = f(x)
        x[i] = old
        grad[i] = (fp - fm) / (2 * eps)
    return grad


def numgrad_fixed_step(f, x, eps=1e-6):
    return numgrad_nditer(f, x, 1e-5)


@pytest.mark.parametrize("fn", [numerical_gradient, numgrad_nditer, numgrad_flat_view])
def test_numerical_gradient_accepts_right_implementations(fn):
    assert check_numerical_gradient(fn) is None


@pytest.mark.parametrize("fn, message", [
    (numgrad_forward, r"(?s)x of shape \(4,\).*Probable cause: it is a forward difference"),
    (numgrad_not_restored, r"x was not restored"),
    (numgrad_flattened, r"result must have shape \(2, 3\), got \(6,\)\. Return an array shaped"),
    (numgrad_over_eps, r"twice the centred difference.*divide by 2 eps"),
    (numgrad_copy, r"reads x through a closure"),
    (numgrad_first_axis, r"(?s)x of shape \(2, 3\).*It is right for x of shape \(4,\) only"),
    (numgrad_fixed_step, r"a step much smaller than eps instead of eps = 0.1"),
])
def test_numerical_gradient_refuses_mistakes(fn, message):
    with pytest.raises(AssertionError, match=message):
        check_numerical_gradient(fn)


# ====================================================================== other seeds

@pytest.mark.parametrize("check, fn", [(check_rnn_step_forward, step_columns),
                                       (check_rnn_forward, forward_book_steps),
                                       (check_clip_grad_norm, clip_norm_loop),
                                       (check_clip_grad_value, clip_value_loops),
                                       (check_numerical_gradient, numgrad_nditer)])
@pytest.mark.parametrize("seed", [1, 7])
def test_checks_accept_right_implementations_with_other_seeds(check, fn, seed):
    assert check(fn, seed=seed) is None
