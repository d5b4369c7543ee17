"""Tests of bptt.checks.forward: check_rnn_step_forward and check_rnn_forward.

Right implementations written differently from the package (column vectors,
einsum, the book's 1-based steps, a student's 0-based loop) must be accepted;
each realistic bug must be refused with its cause.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

from bptt.checks import check_rnn_forward, check_rnn_step_forward
from bptt.rnn import rnn_forward, rnn_step_forward


# ====================================================================== rnn_step_forward

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


# ====================================================================== rnn_forward

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


@pytest.mark.parametrize("check, fn", [(check_rnn_step_forward, step_columns),
                                       (check_rnn_forward, forward_book_steps)])
@pytest.mark.parametrize("seed", [1, 7])
def test_forward_checks_accept_right_implementations_with_other_seeds(check, fn, seed):
    assert check(fn, seed=seed) is None
