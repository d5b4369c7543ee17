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
    ("untransposed", r"(?s)Probable cause \(h, y\): W_hh is used untransposed.*wrong: h, y"),
    ("ignore_h0", r"(?s)Probable cause \(h, y\): h0 is ignored.*right only when h0 = 0.*wrong: "
                  r"h, y"),
    ("no_bias", r"(?s)Probable cause \(h, y\): b_h is missing.*wrong: h, y"),
    ("no_tanh", r"(?s)Probable cause \(h, y\): tanh is missing.*wrong: h, y"),
    ("drop_last", r"(?s)Probable cause \(h, y\): the last step is not computed.*wrong: h, y.*"
                  r"wrong at h\[4\] only"),
    ("y_from_prev", r"(?s)Probable cause \(y\): y_t is computed from h_\{t-1\}.*wrong: y; "
                    r"right: h"),
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


# ====================================================================== state, aliasing, errors

def fwd_one_state_array(params, x, h0=None, *, h0_too=False):
    """Overwrites one state array in place and stores it at every step."""
    T, B, _ = x.shape
    H = params["W_hh"].shape[0]
    h_t = np.zeros((B, H), dtype=x.dtype) if h0 is None else h0.copy()
    states = [h_t if h0_too else h_t.copy()]
    for t in range(T):
        h_t[:] = np.tanh(x[t] @ params["W_xh"].T + h_t @ params["W_hh"].T + params["b_h"])
        states.append(h_t)                            # bug: the same array every time
    h = np.stack(states)
    return h[1:] @ params["W_hy"].T + params["b_y"], h


@pytest.mark.parametrize("h0_too", [False, True])
def test_forward_names_every_state_stored_as_one_array(h0_too):
    with pytest.raises(AssertionError) as info:
        check_rnn_forward(lambda params, x, h0=None: fwd_one_state_array(params, x, h0,
                                                                         h0_too=h0_too))
    assert re.search(r"^rnn_forward is wrong for [^\n]*\n  Probable cause \(h, y\): every stored "
                     r"state is the same array", str(info.value)), str(info.value)


def step_with_star(params, x_t, h_prev):
    return np.tanh(h_prev * params["W_hh"] + x_t @ params["W_xh"].T + params["b_h"])


def test_step_forward_names_star_behind_a_broadcast_error():
    with pytest.raises(AssertionError) as info:
        check_rnn_step_forward(step_with_star)
    lines = str(info.value).splitlines()
    assert lines[0].startswith("rnn_step_forward raised ValueError: operands could not be "
                               "broadcast together")
    assert lines[1].startswith("  Probable cause: `*` multiplies entry by entry")
    assert lines[-1] == ('  at the line: return np.tanh(h_prev * params["W_hh"] + x_t @ '
                         'params["W_xh"].T + params["b_h"])')


_BUFFERS: dict = {}


def step_into_a_kept_buffer(params, x_t, h_prev):
    """Writes every result into one module-level array per shape ("saves allocations")."""
    out = _BUFFERS.setdefault((h_prev.shape, h_prev.dtype), np.empty_like(h_prev))
    np.tanh(h_prev @ params["W_hh"].T + x_t @ params["W_xh"].T + params["b_h"], out=out)
    return out


_STATES: list = []


def fwd_appends_to_a_module_list(params, x, h0=None):
    T, B, _ = x.shape
    h_t = np.zeros((B, params["W_hh"].shape[0]), dtype=x.dtype) if h0 is None else h0
    _STATES.append(h_t)                               # bug: never emptied
    for t in range(T):
        h_t = np.tanh(x[t] @ params["W_xh"].T + h_t @ params["W_hh"].T + params["b_h"])
        _STATES.append(h_t)
    h = np.stack(_STATES)
    return h[1:] @ params["W_hy"].T + params["b_y"], h


def test_a_result_kept_in_a_buffer_between_calls_is_refused():
    """Right values on every problem: only the second call shows the buffer."""
    _BUFFERS.clear()
    with pytest.raises(AssertionError) as info:
        check_rnn_step_forward(step_into_a_kept_buffer)
    assert str(info.value) == (
        "rnn_step_forward is wrong for (B, D, H) = (3, 2, 5), nonzero h0: it returns the same "
        "array at every call: its result is kept between calls, in a module-level variable or "
        "a mutable default argument (such as out={} or buf=np.zeros(...)), so that each call "
        "overwrites, or adds to, what the previous one returned. Make a new one at every call "
        "(np.zeros_like(a), or the value of an expression).\n"
        "  called twice on the same problem, with new copies of the same arguments: h_t of the "
        "first call is h_t of the second")


def test_state_kept_between_calls_is_refused():
    _STATES.clear()
    with pytest.raises(AssertionError) as info:
        check_rnn_forward(fwd_appends_to_a_module_list)
    first, second = str(info.value).splitlines()
    assert first.startswith("rnn_forward is wrong for (T, B, D, H, O) = (4, 3, 2, 5, 6), nonzero "
                            "h0: it keeps state from one call to the next: a module-level "
                            "variable (a cache, a list it appends to, a counter)")
    assert second.endswith("it returned different y, h (shape (4, 3, 6), then (9, 3, 6))")
