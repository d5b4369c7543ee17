"""Tests of bptt.checks.lstm: the self-checks of Homework 5 (the LSTM's step and BPTT).

The wrong implementations below are written as a student would write them:
gates sliced by hand with 0-based indices, one realistic bug each, switched
on by ``bug``. Each must make its check raise AssertionError with a message
that names the probable cause (and, for a gradient, the gate whose rows are
wrong); the package's functions and plain per-sequence loops written with
column vectors must pass; stubs are reported as not implemented.
"""
from __future__ import annotations

import functools
import re

import numpy as np
import pytest

import bptt.lstm
from bptt.checks import check_lstm_backward, check_lstm_step_backward, check_lstm_step_forward

H_ROWS = {"i": "rows 0:H", "f": "rows H:2H", "g": "rows 2H:3H", "o": "rows 3H:4H"}


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


# ====================================================================== as a student writes

def step_forward(params, x_t, h_prev, c_prev, bug=None):
    H = h_prev.shape[1]
    a = x_t @ params["W_xh"].T + h_prev @ params["W_hh"].T + params["b_h"]
    i, f = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H])
    g, o = np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
    if bug == "order":                                   # bug: i, f, o, g
        o, g = sigmoid(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])
        gates = np.concatenate([i, f, o, g], axis=1)
    else:
        gates = np.concatenate([i, f, g, o], axis=1)
    if bug == "g sigmoid":                               # bug: sigmoid for the candidate
        g = sigmoid(a[:, 2 * H:3 * H])
        gates = np.concatenate([i, f, g, o], axis=1)
    c_t = f * (h_prev if bug == "forget h" else c_prev) + i * g   # bug: f * h_prev
    h_t = o * (c_t if bug == "no tanh" else np.tanh(c_t))          # bug: o * c_t
    return h_t, c_t, gates


def step_backward(params, x_t, h_prev, c_prev, c_t, gates, dh_t, dc_t, bug=None):
    H = h_prev.shape[1]
    i, f = gates[:, :H], gates[:, H:2 * H]
    g, o = gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    if bug == "order":                                   # bug: gates read as i, f, o, g
        o, g = gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    tanh_c = np.tanh(c_t)
    if bug == "c path":                                  # bug: dh_t never reaches c_t
        dc = dc_t.copy()
    elif bug == "tanh c_prev":                           # bug: tanh' at c_{t-1}
        dc = dc_t + dh_t * o * (1 - np.tanh(c_prev) ** 2)
    elif bug == "no tanh'":                              # bug: tanh' of the cell missing
        dc = dc_t + dh_t * o
    else:
        dc = dc_t + dh_t * o * (1 - tanh_c ** 2)
    di = dc * g
    df = dc * (c_t if bug == "forget c_t" else c_prev)  # bug: f * c_t
    dg = dc * i
    do = dh_t * tanh_c
    if bug == "sigmoid' pre":                            # bug: s(1-s) on the pre-activation
        a_f = (x_t @ params["W_xh"].T + h_prev @ params["W_hh"].T + params["b_h"])[:, H:2 * H]
        da_f = df * a_f * (1 - a_f)
    else:
        da_f = df * f * (1 - f)
    da_i = di * i * (1 - i)
    da_g = dg * (1 - g ** 2)
    da_o = do * (i * (1 - i) if bug == "sigmoid' of i for o" else o * (1 - o))  # bug: i's
    if bug == "order":
        da = np.concatenate([da_i, da_f, da_o, da_g], axis=1)
    else:
        da = np.concatenate([da_i, da_f, da_g, da_o], axis=1)
    dc_prev = dc if bug == "no f" else f * dc           # bug: the factor f missing
    return {"W_xh": da.T @ x_t, "W_hh": da.T @ h_prev, "b_h": da.sum(axis=0),
            "x_t": da @ params["W_xh"], "h_prev": da @ params["W_hh"], "c_prev": dc_prev}


def backward(params, x, state, dy, truncate=None, bug=None):
    T = x.shape[0]
    h, c, gates = state["h"], state["c"], state["gates"]
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    grads["x"] = np.zeros_like(x)
    dh_next, dc_next = np.zeros_like(h[0]), np.zeros_like(c[0])
    for t in reversed(range(T)):                         # 0-based: step t+1 of the book
        dh = dy[t] @ params["W_hy"] + dh_next
        step = step_backward(params, x[t], h[t], c[t], c[t + 1], gates[t], dh, dc_next,
                             bug=bug)
        for k in ("W_xh", "W_hh", "b_h"):
            grads[k] += step[k]
        grads["W_hy"] += dy[t].T @ h[t + 1]
        grads["b_y"] += dy[t].sum(axis=0)
        grads["x"][t] = step["x_t"]
        dh_next = step["h_prev"]
        if bug != "no dc through time":
            dc_next = step["c_prev"]
        cut = t if bug != "truncate late" else t - 1
        if truncate is not None and cut > 0 and cut % truncate == 0:
            dh_next = np.zeros_like(dh_next)
            if bug != "truncate h only":
                dc_next = np.zeros_like(dc_next)
    return {**grads, "h0": dh_next, "c0": dc_next}


def _bug(fn, bug):
    wrong = functools.partial(fn, bug=bug)
    wrong.__name__ = f"{fn.__name__}[{bug}]"
    return wrong


# ====================================================================== right, written otherwise

def forward_columns(params, x_t, h_prev, c_prev):
    """One sequence at a time, column vectors, the gates as four matrix products."""
    H = h_prev.shape[1]
    W = {k: (params["W_xh"][n * H:(n + 1) * H], params["W_hh"][n * H:(n + 1) * H],
             params["b_h"][n * H:(n + 1) * H, None]) for n, k in enumerate("ifgo")}
    h_t, c_t = np.zeros_like(h_prev), np.zeros_like(c_prev)
    gates = np.zeros((x_t.shape[0], 4 * H), dtype=x_t.dtype)
    for b in range(x_t.shape[0]):
        xb, hb = x_t[b][:, None], h_prev[b][:, None]
        act = {k: (np.tanh if k == "g" else sigmoid)(Wx @ xb + Wh @ hb + bb)
               for k, (Wx, Wh, bb) in W.items()}
        cb = act["f"] * c_prev[b][:, None] + act["i"] * act["g"]
        c_t[b], h_t[b] = cb[:, 0], (act["o"] * np.tanh(cb))[:, 0]
        gates[b] = np.concatenate([act[k][:, 0] for k in "ifgo"])
    return h_t, c_t, gates


def step_backward_columns(params, x_t, h_prev, c_prev, c_t, gates, dh_t, dc_t):
    """One sequence at a time, column vectors, the Jacobian of the gates written out."""
    H = h_prev.shape[1]
    out = {k: np.zeros_like(params[k]) for k in ("W_xh", "W_hh", "b_h")}
    out.update(x_t=np.zeros_like(x_t), h_prev=np.zeros_like(h_prev),
               c_prev=np.zeros_like(c_prev))
    for b in range(x_t.shape[0]):
        i, f, g, o = (gates[b, n * H:(n + 1) * H] for n in range(4))
        tc = np.tanh(c_t[b])
        dc = dc_t[b] + dh_t[b] * o * (1 - tc * tc)
        slopes = np.concatenate([i * (1 - i), f * (1 - f), 1 - g * g, o * (1 - o)])
        d_gates = np.concatenate([dc * g, dc * c_prev[b], dc * i, dh_t[b] * tc])
        da = (slopes * d_gates)[:, None]
        out["W_xh"] += da @ x_t[b][None, :]
        out["W_hh"] += da @ h_prev[b][None, :]
        out["b_h"] += da[:, 0]
        out["x_t"][b] = (params["W_xh"].T @ da)[:, 0]
        out["h_prev"][b] = (params["W_hh"].T @ da)[:, 0]
        out["c_prev"][b] = f * dc
    return out


def backward_columns(params, x, state, dy, truncate=None):
    """The book's steps t = T..1 over step_backward_columns."""
    T = x.shape[0]
    h, c, gates = state["h"], state["c"], state["gates"]
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    grads["x"] = np.zeros_like(x)
    dh, dc = np.zeros_like(h[0]), np.zeros_like(c[0])
    for t in range(T, 0, -1):
        s = step_backward_columns(params, x[t - 1], h[t - 1], c[t - 1], c[t], gates[t - 1],
                                  dy[t - 1] @ params["W_hy"] + dh, dc)
        for k in ("W_xh", "W_hh", "b_h"):
            grads[k] += s[k]
        grads["W_hy"] += dy[t - 1].T @ h[t]
        grads["b_y"] += dy[t - 1].sum(axis=0)
        grads["x"][t - 1] = s["x_t"]
        detached = truncate is not None and t - 1 > 0 and (t - 1) % truncate == 0
        dh, dc = (np.zeros_like(dh), np.zeros_like(dc)) if detached else (s["h_prev"],
                                                                          s["c_prev"])
    return {**grads, "h0": dh, "c0": dc}


@pytest.mark.parametrize("check, fn", [
    (check_lstm_step_forward, bptt.lstm.lstm_step_forward),
    (check_lstm_step_forward, step_forward),
    (check_lstm_step_forward, forward_columns),
    (check_lstm_step_backward, bptt.lstm.lstm_step_backward),
    (check_lstm_step_backward, step_backward),
    (check_lstm_step_backward, step_backward_columns),
    (check_lstm_backward, bptt.lstm.lstm_backward),
    (check_lstm_backward, backward),
    (check_lstm_backward, backward_columns),
], ids=lambda v: getattr(v, "__name__", ""))
def test_right_implementations_pass(check, fn):
    assert check(fn) is None


def test_right_implementation_passes_with_other_seeds():
    for seed in (1, 2):
        assert check_lstm_backward(backward_columns, seed=seed) is None


# ====================================================================== wrong: the causes

def _message(check, fn) -> str:
    with pytest.raises(AssertionError) as info:
        check(fn)
    text = str(info.value)
    assert len(text.splitlines()) <= 12, text
    return text


def _cause(text: str) -> str:
    """The lines that name the probable cause (they come first, before the evidence)."""
    return "\n".join(ln for ln in text.splitlines()[:4] if "Probable cause" in ln)


@pytest.mark.parametrize("bug, pattern", [
    ("order", r"wrong order.*i, f, g, o.*read as i, f, o, g"),
    ("forget h", r"forget gate is applied to h_\{t-1\} instead of c_\{t-1\}"),
    ("no tanh", r"tanh of the cell is missing"),
    ("g sigmoid", r"candidate g goes through the sigmoid"),
])
def test_step_forward_names_the_cause(bug, pattern):
    text = _message(check_lstm_step_forward, _bug(step_forward, bug))
    assert text.startswith("lstm_step_forward is wrong for (B, D, H) = ")
    assert re.search(pattern, _cause(text)), text


def test_step_forward_names_the_wrong_gate_columns():
    text = _message(check_lstm_step_forward, _bug(step_forward, "g sigmoid"))
    assert "by gate: gates is wrong in the columns of candidate g (columns 2H:3H)." in text


# bug, the pattern of its cause, the gates whose rows are wrong ("" when every gate is)
STEP_CASES = [
    ("sigmoid' pre", r"sigmoid derivative at the forget gate f's sigmoid \(rows H:2H\) is "
     r"evaluated at the wrong value: s \* \(1 - s\) on the pre-activation", "f"),
    ("sigmoid' of i for o", r"sigmoid derivative at the output gate o's sigmoid \(rows 3H:4H\) "
     r"is evaluated at the wrong value: it is computed from the input gate i", "o"),
    ("order", r"gates are taken in the wrong order.*i, f, g, o.*split, and the gradients of "
     r"the blocks stacked, as i, f, o, g", ""),
    ("c path", r"the c path is missing from h's gradient", "i, f, g"),
    ("tanh c_prev", r"derivative of tanh\(c_t\) uses c_\{t-1\}", "i, f, g"),
    ("no tanh'", r"derivative of tanh\(c_t\) is missing", "i, f, g"),
    ("forget c_t", r"forget gate is applied to the wrong c.*dc \* c_\{t-1\}, not dc \* c_t",
     "f"),
    ("no f", r"dc_prev is missing the forget gate's factor", None),
]


def _gate_line(text: str, gates: str | None) -> None:
    if gates is None:                       # W_xh, W_hh and b_h are right
        assert "by gate" not in text, text
    elif gates == "":
        assert "by gate: the blocks of every gate i, f, g, o are wrong." in text, text
    else:
        named = ", ".join(f"{name} ({H_ROWS[k]})" for k, name in (
            (k, {"i": "input gate i", "f": "forget gate f", "g": "candidate g",
                 "o": "output gate o"}[k]) for k in gates.split(", ")))
        assert f"by gate: wrong in the rows of {named} of W_xh, W_hh, b_h" in text, text


@pytest.mark.parametrize("bug, pattern, gates", STEP_CASES, ids=[c[0] for c in STEP_CASES])
def test_step_backward_names_the_gate_and_the_cause(bug, pattern, gates):
    text = _message(check_lstm_step_backward, _bug(step_backward, bug))
    assert text.startswith("lstm_step_backward is wrong for (B, D, H) = ")
    assert re.search(pattern, _cause(text)), text
    _gate_line(text, gates)


@pytest.mark.parametrize("bug, pattern, gates", STEP_CASES, ids=[c[0] for c in STEP_CASES])
def test_backward_names_the_step_mistakes_made_at_every_step(bug, pattern, gates):
    text = _message(check_lstm_backward, _bug(backward, bug))
    assert text.startswith("lstm_backward is wrong for (T, B, D, H, O) = ")
    assert re.search(pattern, _cause(text)), text


@pytest.mark.parametrize("bug, pattern", [
    ("no dc through time", r"cell's gradient does not flow back through time"),
    ("truncate late", r"truncation is off by one, one step too late"),
    ("truncate h only", r"only h is detached, c is not"),
])
def test_backward_names_the_sequence_and_truncation_mistakes(bug, pattern):
    text = _message(check_lstm_backward, _bug(backward, bug))
    assert re.search(pattern, _cause(text)), text
    if bug.startswith("truncate"):
        assert re.search(r"right for truncate = None.*wrong for", text), text


def test_truncation_can_be_left_out():
    def no_truncate(params, x, state, dy):
        return bptt.lstm.lstm_backward(params, x, state, dy)
    assert check_lstm_backward(no_truncate, truncation=False) is None
    with pytest.raises(AssertionError, match="truncate"):
        check_lstm_backward(no_truncate)


def test_the_dtype_must_be_kept():
    def float64(params, x, state, dy, truncate=None):
        return {k: v.astype(np.float64) for k, v in backward(params, x, state, dy,
                                                              truncate).items()}
    text = _message(check_lstm_backward, float64)
    assert "float32" in text and "keep the dtype" in text


def test_a_bias_not_summed_over_the_batch_is_named():
    def per_row(*args):
        out = step_backward(*args)
        H4 = out["b_h"].shape[0]
        return {**out, "b_h": np.tile(out["b_h"] / args[1].shape[0], (args[1].shape[0], 1))
                if args[1].shape[0] > 1 else np.zeros((2, H4))}
    text = _message(check_lstm_step_backward, per_row)
    assert "not summed over the batch" in text


# ====================================================================== stubs and state

@pytest.mark.parametrize("check", [check_lstm_step_forward, check_lstm_step_backward,
                                   check_lstm_backward])
def test_stubs_are_not_implemented_yet(check):
    def stub(*args, **kwargs):
        raise NotImplementedError()
    with pytest.raises(AssertionError, match=r"is not implemented yet: it raised "
                                             r"NotImplementedError"):
        check(stub)


def test_state_kept_between_calls_is_refused():
    cache = {}

    def cached(params, x_t, h_prev, c_prev, c_t, gates, dh_t, dc_t):
        out = step_backward(params, x_t, h_prev, c_prev, c_t, gates, dh_t, dc_t)
        if "b_h" in cache and cache["b_h"].shape == out["b_h"].shape:
            out["b_h"] = out["b_h"] + cache["b_h"]      # bug: accumulated across calls
        cache["b_h"] = out["b_h"]
        return out
    text = _message(check_lstm_step_backward, cached)
    assert "keeps state from one call to the next" in text


def test_gates_in_the_wrong_order_raise_a_readable_shape_error():
    def ten_h(params, x_t, h_prev, c_prev):
        h, c, gates = bptt.lstm.lstm_step_forward(params, x_t, h_prev, c_prev)
        return h, c, gates[:, :gates.shape[1] // 4]
    text = _message(check_lstm_step_forward, ten_h)
    assert "gates must have shape (B, 4H)" in text
