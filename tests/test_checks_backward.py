"""Tests of bptt.checks.backward: check_rnn_backward (full BPTT) and check_return_dh.

The wrong backward passes below are written the way a student would write them:
loops over steps with 0-based indices, one realistic bug each. Every one must
make the check raise AssertionError with a message that names the wrong
gradient key and the probable cause; the right ones (tests/student_bptt.py)
must be accepted. Truncated BPTT has its own file, tests/test_checks_truncation.py.
"""
from __future__ import annotations

import inspect
import re

import numpy as np
import pytest
from student_bptt import backward_batched_columns, backward_jacobians, backward_per_sample
from student_bptt import start as _start

from bptt.checks import check_return_dh, check_rnn_backward
from bptt.checks._rnn import draw_rnn
from bptt.checks.backward import _BACKWARD_SIZES
from bptt.clip import clip_grad_norm, clip_grad_value
from bptt.gradcheck import numerical_gradient
from bptt.rnn import rnn_backward, rnn_forward, rnn_step_forward


# ====================================================================== right

@pytest.mark.parametrize("fn", [rnn_backward, backward_per_sample, backward_jacobians,
                                backward_batched_columns])
def test_backward_accepts_right_implementations(fn):
    assert check_rnn_backward(fn) is None


@pytest.mark.parametrize("seed", [1, 2])
def test_backward_accepts_right_implementation_with_other_seeds(seed):
    assert check_rnn_backward(backward_jacobians, seed=seed) is None


# ====================================================================== wrong

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


def bwd_why_with_previous_state(params, x, h, dy, truncate=None):
    g, dx, dh_next = _start(params, x, h)
    for t in reversed(range(x.shape[0])):
        g["W_hy"] += dy[t].T @ h[t]                    # bug: h[t] is the state before the step
        g["b_y"] += dy[t].sum(axis=0)
        da = (1 - h[t + 1] ** 2) * (dy[t] @ params["W_hy"] + dh_next)
        g["W_xh"] += da.T @ x[t]
        g["W_hh"] += da.T @ h[t]
        g["b_h"] += da.sum(axis=0)
        dx[t] = da @ params["W_xh"]
        dh_next = da @ params["W_hh"]
    return {**g, "x": dx, "h0": dh_next}


def bwd_bias_sums_without_axis(params, x, h, dy, truncate=None):
    g, dx, dh_next = _start(params, x, h)
    for t in reversed(range(x.shape[0])):
        g["W_hy"] += dy[t].T @ h[t + 1]
        g["b_y"] += dy[t].sum()                        # bug: no axis, one number for all O
        da = (1 - h[t + 1] ** 2) * (dy[t] @ params["W_hy"] + dh_next)
        g["W_xh"] += da.T @ x[t]
        g["W_hh"] += da.T @ h[t]
        g["b_h"] += np.sum(da)                         # bug: no axis, one number for all H
        dx[t] = da @ params["W_xh"]
        dh_next = da @ params["W_hh"]
    return {**g, "x": dx, "h0": dh_next}


def bwd_b_y_one_number(params, x, h, dy, truncate=None):
    grads = backward_per_sample(params, x, h, dy, truncate)
    grads["b_y"] = dy.sum()                            # bug: sums every axis, O included
    return grads


def bwd_h0_as_zeros(params, x, h, dy, truncate=None):
    g, dx, dh_next = _start(params, x, h)
    for t in reversed(range(x.shape[0])):
        g["W_hy"] += dy[t].T @ h[t + 1]
        g["b_y"] += dy[t].sum(axis=0)
        da = (1 - h[t + 1] ** 2) * (dy[t] @ params["W_hy"] + dh_next)
        h_prev = h[t] if t > 0 else np.zeros_like(h[0])   # bug: "the state before step 1 is 0"
        g["W_xh"] += da.T @ x[t]
        g["W_hh"] += da.T @ h_prev
        g["b_h"] += da.sum(axis=0)
        dx[t] = da @ params["W_xh"]
        dh_next = da @ params["W_hh"]
    return {**g, "x": dx, "h0": dh_next}


def bwd_mean_over_time(params, x, h, dy, truncate=None):
    """The gradient of a loss "averaged over time": dy is already the gradient of the mean."""
    grads = backward_per_sample(params, x, h, dy, truncate)
    T = x.shape[0]
    return {k: (v / T if k in params else v) for k, v in grads.items()}


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
    (bwd_why_with_previous_state, r"wrong: W_hy;", r"dW_hy pairs dy_t with h_\{t-1\} instead of "
                                                   r"h_t"),
    (bwd_bias_sums_without_axis, r"wrong: b_h, b_y;", r"every entry is the same number, the sum "
                                                      r"of all the entries.*a sum with no axis"),
    (bwd_b_y_one_number, r"b_y must be an array of shape \(O,\) = \(6,\), got one number",
     r"a sum or mean with no axis"),
    (bwd_h0_as_zeros, r"wrong: W_hh;", r"dW_hh uses zeros where h_0 belongs"),
    (bwd_mean_over_time, r"wrong: W_xh, W_hh, b_h, W_hy, b_y; right: x, h0",
     r"exactly 0\.25 times the right value: 1/T, divided by the number of steps T = 4"),
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
    assert re.search(r"(Probable cause \([^)]*\): |must have shape|must be an array|misses the "
                     r"key)[^\n]*"
                     + r"(\n  [^\n]*)?" + cause, msg), msg


def test_backward_message_shows_sizes_error_and_entries():
    with pytest.raises(AssertionError) as info:
        check_rnn_backward(bwd_no_dtanh)
    msg = info.value.details()            # the whole report: the message shows its first lines
    assert "(T, B, D, H, O) = (4, 3, 2, 5, 6), nonzero h0" in msg
    assert re.search(r"W_hh, shape \(H, H\) = \(5, 5\): relative error \d\.\d\de-\d\d", msg)
    assert re.search(r"index\s+expected\s+got", msg)
    # The expected entries shown are the package's numbers.
    prob = draw_rnn(_BACKWARD_SIZES[0], (0, 3, 0))
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


def test_h0_replaced_by_zeros_is_not_named_a_missing_step():
    """Leaving out step 1 changes every gradient; zeros for h0 change dW_hh alone."""
    with pytest.raises(AssertionError) as info:
        check_rnn_backward(bwd_h0_as_zeros)
    assert "step 1 is missing" not in info.value.details()
    assert "It is right only when h0 = 0" in str(info.value)


def test_step_1_left_out_is_still_named():
    def skips_step_1(params, x, h, dy, truncate=None):
        g, dx, dh_next = _start(params, x, h)
        for t in reversed(range(1, x.shape[0])):      # bug: stops before t = 0
            g["W_hy"] += dy[t].T @ h[t + 1]
            g["b_y"] += dy[t].sum(axis=0)
            da = (1 - h[t + 1] ** 2) * (dy[t] @ params["W_hy"] + dh_next)
            g["W_xh"] += da.T @ x[t]
            g["W_hh"] += da.T @ h[t]
            g["b_h"] += da.sum(axis=0)
            dx[t] = da @ params["W_xh"]
            dh_next = da @ params["W_hh"]
        return {**g, "x": dx, "h0": dh_next}
    with pytest.raises(AssertionError, match=r"Probable cause \(W_xh, W_hh, b_h, W_hy, b_y, x, "
                                             r"h0\): step 1 is missing"):
        check_rnn_backward(skips_step_1)


def bwd_outer_products(params, x, h, dy, truncate=None):
    g, dx, dh_next = _start(params, x, h)
    for t in reversed(range(x.shape[0])):
        g["W_hy"] += dy[t].T @ h[t + 1]
        g["b_y"] += dy[t].sum(axis=0)
        da = (1 - h[t + 1] ** 2) * (dy[t] @ params["W_hy"] + dh_next)
        g["W_xh"] += np.outer(da, x[t])                # bug: flattens the batch
        g["W_hh"] += np.outer(da, h[t])
        g["b_h"] += da.sum(axis=0)
        dx[t] = da @ params["W_xh"]
        dh_next = da @ params["W_hh"]
    return {**g, "x": dx, "h0": dh_next}


def test_np_outer_behind_a_broadcast_error_is_named():
    with pytest.raises(AssertionError) as info:
        check_rnn_backward(bwd_outer_products)
    msg = str(info.value)
    assert msg.startswith("rnn_backward raised ValueError: operands could not be broadcast")
    assert msg.splitlines()[1].startswith("  Probable cause: np.outer flattens its arguments")
    assert 'at the line: g["W_xh"] += np.outer(da, x[t])' in msg


def test_np_outer_is_named_from_the_shapes_when_the_line_is_unknown():
    from bptt.checks._rnn import rnn_exception_hint
    exc = ValueError("operands could not be broadcast together with shapes (5,2) (15,6) (5,2) ")
    assert rnn_exception_hint(exc).startswith("np.outer flattens")
    assert rnn_exception_hint(exc, "g = g + tmp").startswith("np.outer flattens")
    exc = ValueError("operands could not be broadcast together with shapes (3,5) (5,5) ")
    assert not rnn_exception_hint(exc, "a = h + b").startswith(("np.outer", "`*`"))


def bwd_grads_kept_in_a_default(params, x, h, dy, truncate=None, grads={}):  # noqa: B006
    """Accumulates into a dict made once, when the function is defined (never reset)."""
    for k, v in backward_per_sample(params, x, h, dy, truncate).items():
        if k in grads and grads[k].shape == v.shape:
            grads[k] += v
        else:
            grads[k] = v
    return grads


_KEPT: dict = {}


def bwd_grads_kept_in_the_module(params, x, h, dy, truncate=None):
    """Reuses one module-level buffer per gradient ("saves allocations")."""
    g = backward_per_sample(params, x, h, dy, truncate)
    out = {}
    for k in params:
        out[k] = _KEPT.setdefault((k, g[k].shape, g[k].dtype), np.empty_like(g[k]))
        out[k][...] = g[k]
    return {**out, "x": g["x"], "h0": g["h0"]}


@pytest.mark.parametrize("fn, evidence", [
    (bwd_grads_kept_in_a_default, r"grads of the first call is grads of the second; the second "
                                  r"call changed grads\['W_xh'\]"),
    (bwd_grads_kept_in_the_module, r"grads\['W_xh'\] of the first call is grads\['W_xh'\] of the "
                                   r"second$"),
])
def test_gradients_kept_between_calls_are_refused(fn, evidence):
    with pytest.raises(AssertionError) as info:
        check_rnn_backward(fn)
    first, second = str(info.value).splitlines()
    assert first.startswith("rnn_backward is wrong for (T, B, D, H, O) = (4, 3, 2, 5, 6), "
                            "nonzero h0: it returns the same ")
    assert "kept between calls" in first
    assert second.startswith("  called twice on the same problem, with new copies of the same "
                             "arguments: ")
    assert re.search(evidence, second), second


def test_outputs_that_share_memory_are_refused():
    def h0_a_view_of_h(params, x, h, dy, truncate=None, *, return_dh=False):
        g = rnn_backward(params, x, h, dy, return_dh=True)
        g["h0"] = g["h"][0]                           # one array seen twice
        return g
    with pytest.raises(AssertionError, match=r"the returned grads\['h0'\] and grads\['h'\] "
                                             r"share memory"):
        check_return_dh(h0_a_view_of_h)


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
    for fn in [bwd_no_dtanh, bwd_whh_with_h_t, bwd_dtanh_twice, bwd_no_h0]:
        with pytest.raises(AssertionError) as info:
            check_rnn_backward(fn)
        msgs.append(str(info.value))
    for msg in msgs:
        assert "def " not in msg and "return " not in msg
        assert not [line for line in source_lines if line in msg]


# ====================================================================== return_dh

@pytest.mark.parametrize("seed", [0, 3])
def test_check_return_dh_accepts_the_right_total_derivatives(seed):
    assert check_return_dh(rnn_backward, seed=seed) is None


def _no_dh(params, x, h, dy, truncate=None, *, return_dh=False):
    return rnn_backward(params, x, h, dy)


def _dh_after_tanh(params, x, h, dy, truncate=None, *, return_dh=False):
    g = rnn_backward(params, x, h, dy, return_dh=True)
    g["h"][1:] *= 1 - h[1:] ** 2       # stores delta_t instead of hbar_t
    return g


def _raises_type_error(params, x, h, dy, truncate=None, *, return_dh=False):
    raise TypeError("boom")


@pytest.mark.parametrize("fn, match", [
    (_no_dh, r"extra key 'h'"),
    (_dh_after_tanh, r"grads\['h'\] is wrong at t = \[1, 2, 3, 4\] for \(T, B, D, H, O\) = "
                     r"\(4, 2, 3, 5, 2\).*before the tanh"),
    (_raises_type_error, r"(?s)rnn_backward raised TypeError: boom.*"
                         r"rnn_backward\(params, x, h, dy, return_dh=True\)"),
])
def test_check_return_dh_refuses(fn, match):
    with pytest.raises(AssertionError, match=match):
        check_return_dh(fn)
