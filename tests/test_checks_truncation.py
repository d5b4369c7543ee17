"""Tests of truncated BPTT in bptt.checks.backward: check_rnn_backward(fn, truncation=True).

With ``truncate=k`` the state is detached at h_k, h_2k, ...: the check runs
every problem with T >= 3 for k = None, 1, 2, 3, T and T+1, and names the
truncation mistakes (truncate ignored, detached one step late, a sliding
window instead of chunks), with the values of k for which ``fn`` is right.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
from student_bptt import backward_per_sample
from student_bptt import start as _start

from bptt.checks import check_rnn_backward


def backward_no_truncation(params, x, h, dy):
    """An assignment that comes before truncation: no truncate argument at all."""
    return backward_per_sample(params, x, h, dy)


def test_backward_without_truncate_is_accepted_when_truncation_is_off():
    assert check_rnn_backward(backward_no_truncation, truncation=False) is None


def test_backward_without_truncate_is_refused_by_default_with_a_hint():
    with pytest.raises(AssertionError, match=r"(?s)truncate.*truncation=False"):
        check_rnn_backward(backward_no_truncation)


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


@pytest.mark.parametrize("fn, cause", [
    (bwd_ignores_truncate, r"it ignores truncate"),
    (bwd_truncates_one_step_late, r"it detaches one step too late"),
])
def test_truncation_mistakes_are_named_with_the_truncations_that_pass(fn, cause):
    with pytest.raises(AssertionError) as info:
        check_rnn_backward(fn)
    msg = str(info.value)
    assert msg.startswith("rnn_backward is wrong for (T, B, D, H, O) = (4, 3, 2, 5, 6), "
                          "nonzero h0, truncate=1:\n  Probable cause (")
    assert re.search(r"^rnn_backward is wrong for [^\n]*\n  Probable cause \([^)]*\): " + cause,
                     msg), msg
    assert msg.index("Probable cause") < msg.index("\n  wrong: ")
    # One line a problem with T >= 3: full BPTT (None) and k >= T cut nothing, so pass.
    assert re.search(r"\n  \(T, B, D, H, O\) = \(4, 3, 2, 5, 6\), nonzero h0: right for "
                     r"truncate = None, 4, 5; wrong for 1, 2, 3\.", msg), msg
    assert msg.count(": right for truncate = None") == 4, msg


def test_truncation_is_checked_only_after_full_bptt():
    """A wrong full gradient is reported as such, not as a truncation mistake."""
    def no_future(params, x, h, dy, truncate=None):
        g, dx, dh_next = _start(params, x, h)
        for t in reversed(range(x.shape[0])):
            g["W_hy"] += dy[t].T @ h[t + 1]
            g["b_y"] += dy[t].sum(axis=0)
            da = (1 - h[t + 1] ** 2) * (dy[t] @ params["W_hy"])
            g["W_xh"] += da.T @ x[t]
            g["W_hh"] += da.T @ h[t]
            g["b_h"] += da.sum(axis=0)
            dx[t] = da @ params["W_xh"]
            dh_next = da @ params["W_hh"]
        return {**g, "x": dx, "h0": dh_next}
    with pytest.raises(AssertionError) as info:
        check_rnn_backward(no_future)
    assert "truncate=" not in str(info.value).splitlines()[0]


def _bwd_cut_where(cut):
    """A student's truncated BPTT that detaches h_t (book index) wherever cut(t, T, k) holds."""
    def backward(params, x, h, dy, truncate=None):
        T = x.shape[0]
        g, dx, dh_next = _start(params, x, h)
        for t in reversed(range(T)):                   # book step t+1, into h_t (h[t])
            g["W_hy"] += dy[t].T @ h[t + 1]
            g["b_y"] += dy[t].sum(axis=0)
            da = (1 - h[t + 1] ** 2) * (dy[t] @ params["W_hy"] + dh_next)
            g["W_xh"] += da.T @ x[t]
            g["W_hh"] += da.T @ h[t]
            g["b_h"] += da.sum(axis=0)
            dx[t] = da @ params["W_xh"]
            dh_next = da @ params["W_hh"]
            if truncate and cut(t, T, truncate):
                dh_next = np.zeros_like(dh_next)
        return {**g, "x": dx, "h0": dh_next}
    return backward


@pytest.mark.parametrize("cut", [
    lambda t, T, k: (T - t) % k == 0,                  # counts steps from the end, cuts h0 too
    lambda t, T, k: t > 0 and (T - t) % k == 0,        # counts steps from the end
], ids=["with_h0", "without_h0"])
def test_chunks_counted_from_the_end_are_named_so(cut):
    """On some problems it is also one step early, or only h0 cut: the others tell them apart."""
    with pytest.raises(AssertionError) as info:
        check_rnn_backward(_bwd_cut_where(cut))
    report = info.value.details()
    causes = re.findall(r"Probable cause \([^)]*\): ([^\n]*)", report)
    assert len(causes) == 1 and causes[0].startswith("it counts the chunks of "), report
    assert "too early" not in report and "h0 gradient is dropped" not in report


def test_detaching_one_step_early_is_still_named():
    with pytest.raises(AssertionError) as info:
        check_rnn_backward(_bwd_cut_where(lambda t, T, k: (t + 1) % k == 0))
    causes = re.findall(r"Probable cause \([^)]*\): ([^\n]*)", info.value.details())
    assert len(causes) == 1 and causes[0].startswith("it detaches one step too early"), causes
