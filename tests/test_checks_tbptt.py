"""Tests of bptt.checks.tbptt: the self-check of Homework 6, BPTT(k2; k1) on a stream.

The wrong implementations below are written as a student would write them: a
forward pass, then one backward loop per update, with one realistic bug each,
switched on by ``bug``. Each must make the check raise AssertionError with a
message that names the probable cause; the package's function, the plain loop
and a version that calls ``rnn_backward`` on each window must pass; a stub is
reported as not implemented.
"""
from __future__ import annotations

import functools

import numpy as np
import pytest

import bptt
from bptt.checks import check_tbptt_gradients
from bptt.checks.tbptt import draw_tbptt, tbptt_variant
from bptt.tbptt import tbptt_gradients


# ====================================================================== as a student writes

def student_tbptt(params, x, dy, k1, k2, h0=None, bug=None):
    if bug == "swap":                                    # bug: k1 and k2 exchanged
        k1, k2 = k2, k1
    T, B, _ = x.shape
    H = params["W_hh"].shape[0]
    W_xh, W_hh, b_h, W_hy = params["W_xh"], params["W_hh"], params["b_h"], params["W_hy"]
    h = np.zeros((T + 1, B, H), dtype=x.dtype)
    if h0 is not None:
        h[0] = h0
    for t in range(T):
        h[t + 1] = np.tanh(x[t] @ W_xh.T + h[t] @ W_hh.T + b_h)
    if bug == "from end":                                # bug: chunks counted from T
        ends = sorted(range(T, 0, -k1))
    else:
        ends = list(range(k1, T + 1, k1))
        if T % k1 and bug != "drop last":                # bug: no update at T
            ends.append(T)
    if bug == "every step":                              # bug: an update at every step
        ends = list(range(1, T + 1))
    out, prev = [], 0
    for end in ends:
        start = {"not cut": 0, "k2 ignored": end - k1, "short": end - k2 + 1,
                 "long": end - k2 - 1}.get(bug, end - k2)
        start = max(0, start)
        hw = h[start:end + 1].copy()
        if bug == "not carried":                         # bug: the window from zeros
            hw[0] = 0.0
            for t in range(start, end):
                hw[t - start + 1] = np.tanh(x[t] @ W_xh.T + hw[t - start] @ W_hh.T + b_h)
        g = {k: np.zeros_like(v) for k, v in params.items()}
        dh_next = np.zeros((B, H), dtype=x.dtype)
        for t in range(end, start, -1):                  # book step t, x[t-1], h[t]
            own = {"window": True, "first k1": t <= start + k1, "last only": t == end}
            d = dy[t - 1] if own.get(bug, t > prev) else np.zeros_like(dy[t - 1])
            g["W_hy"] += d.T @ hw[t - start]
            g["b_y"] += d.sum(axis=0)
            da = (d @ W_hy + dh_next) * (1 - hw[t - start] ** 2)
            g["W_xh"] += da.T @ x[t - 1]
            g["W_hh"] += da.T @ hw[t - start - 1]
            g["b_h"] += da.sum(axis=0)
            dh_next = da @ W_hh
        out.append(g)
        prev = end
    return out


def _bug(bug):
    wrong = functools.partial(student_tbptt, bug=bug)
    wrong.__name__ = f"tbptt_gradients[{bug}]"
    return wrong


def with_rnn_backward(params, x, dy, k1, k2, h0=None):
    """Right, written otherwise: the package's forward and backward on each window."""
    T = x.shape[0]
    h = bptt.rnn_forward(params, x, h0)[1]
    ends = sorted({*range(k1, T + 1, k1), T})
    out, prev = [], 0
    for end in ends:
        start = max(0, end - k2)
        dyw = dy[start:end].copy()
        dyw[:max(0, prev - start)] = 0.0
        g = bptt.rnn_backward(params, x[start:end], h[start:end + 1], dyw)
        out.append({k: g[k] for k in bptt.PARAM_KEYS})
        prev = end
    return out


# ====================================================================== right ones pass

@pytest.mark.parametrize("fn", [tbptt_gradients, student_tbptt, with_rnn_backward],
                         ids=["package", "loop", "rnn_backward per window"])
@pytest.mark.parametrize("seed", [0, 5])
def test_right_implementations_pass(fn, seed):
    check_tbptt_gradients(fn, seed=seed)


def test_the_checks_reference_agrees_with_the_package_and_rnn_backward():
    for problem in draw_tbptt(3):
        a = problem.args
        mine = tbptt_variant(*a.values())
        want = problem.facts["want"]
        assert len(mine) == len(want)
        for m, w in zip(mine, want):
            for k in bptt.PARAM_KEYS:
                np.testing.assert_allclose(m[k], w[k], rtol=1e-10, atol=1e-12)
    # k1 = k2 = k dividing T: the updates sum to rnn_backward(truncate=k).
    prob = draw_tbptt(1)[2]                               # T = 6, k1 = k2 = 3
    p, x, dy = (prob.args[k] for k in ("params", "x", "dy"))
    total = rnn = bptt.rnn_backward(p, x, bptt.rnn_forward(p, x)[1], dy, truncate=3)
    total = {k: sum(g[k] for g in tbptt_variant(p, x, dy, 3, 3)) for k in bptt.PARAM_KEYS}
    for k in bptt.PARAM_KEYS:
        np.testing.assert_allclose(total[k], rnn[k], rtol=1e-10)


# ====================================================================== each cause is named

CAUSES = {
    "not carried": "the state is not carried: each window's forward pass starts again from zeros",
    "not cut": "the gradient is not cut at the window's start: every update backpropagates all "
               "the way to h0",
    "window": "the losses of the wrong steps: each update counts the loss of every step of its "
              "window",
    "first k1": "the losses of the wrong steps: each update counts the first k1",
    "last only": "the losses of the wrong steps: each update counts the loss of step t_j only",
    "swap": "k1 and k2 are swapped",
    "drop last": "the last partial chunk is dropped",
    "short": "the window is one step too short",
    "long": "the window is one step too long",
    "k2 ignored": "k2 is ignored",
    "from end": "the chunks are counted from the end of the stream",
    "every step": "an update at every step",
}


@pytest.mark.parametrize("bug", CAUSES)
def test_each_mistake_is_rejected_with_its_cause_first(bug):
    with pytest.raises(AssertionError) as info:
        check_tbptt_gradients(_bug(bug))
    text = str(info.value)
    lines = text.splitlines()
    assert len(lines) <= 12, text
    assert lines[0].startswith("tbptt_gradients is wrong for "), text
    assert "Probable cause" in lines[1] and CAUSES[bug] in lines[1], text
    others = [c for b, c in CAUSES.items() if b != bug and c not in CAUSES[bug]]
    assert not any(c in text for c in others), text


def test_the_full_report_says_which_updates_are_wrong_and_what_each_holds():
    with pytest.raises(AssertionError) as info:
        check_tbptt_gradients(_bug("not cut"), full=True)
    text = str(info.value)
    assert "updates wrong: " in text and "right: 0 (t = " in text, text
    assert "update 2 at t = 6: the losses of steps 5..6, back through steps 6..3 (h_2 " in text


def test_state_from_h0_is_named_as_not_carried():
    def from_h0(params, x, dy, k1, k2, h0=None):
        return tbptt_variant(params, x, dy, k1, k2, h0, state="h0")
    with pytest.raises(AssertionError, match="the state is not carried: each window's forward "
                                             "pass starts again from h0"):
        check_tbptt_gradients(from_h0)


def test_a_stub_a_single_dict_and_float64_for_float32_are_reported():
    def stub(params, x, dy, k1, k2, h0=None):
        raise NotImplementedError()
    with pytest.raises(AssertionError, match="^tbptt_gradients is not implemented yet"):
        check_tbptt_gradients(stub)
    with pytest.raises(AssertionError, match="it returned one dict: return a list of dicts"):
        check_tbptt_gradients(lambda *a, **k: student_tbptt(*a, **k)[-1])
    with pytest.raises(AssertionError, match="dtype float64 for float32 inputs"):
        check_tbptt_gradients(lambda *a, **k: [{key: v.astype(np.float64) for key, v in g.items()}
                                               for g in student_tbptt(*a, **k)])


def test_the_harness_refuses_state_kept_between_calls():
    kept = []

    def accumulates(params, x, dy, k1, k2, h0=None):
        out = student_tbptt(params, x, dy, k1, k2, h0)
        kept.append(out)
        if len(kept) > 1:
            for g, old in zip(out, kept[-2]):
                g["W_hh"] = g["W_hh"] + 0 * old["W_hh"] + (len(kept) - 1)
        return out
    with pytest.raises(AssertionError, match="keeps state from one call to the next"):
        check_tbptt_gradients(accumulates)
