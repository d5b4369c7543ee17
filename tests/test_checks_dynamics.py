"""Tests of bptt.checks.dynamics: check_lag_norms (homework 3).

A right ``lag_norms``, written by hand (dL/dh_T = W_hy^T dy_T carried back one
step at a time), must be accepted; reversed lags, a missing step and a wrong
scale must be refused.
"""
from __future__ import annotations

import numpy as np
import pytest

import bptt
from bptt.checks import check_lag_norms


def lag_norms(params, x, dy_T):
    # By hand: carry dL/dh_T = W_hy^T dy_T back one step at a time.
    _, h = bptt.rnn_forward(params, x)
    T = x.shape[0]
    g = dy_T @ params["W_hy"]
    out = [np.linalg.norm(g, axis=-1)]
    for t in range(T, 0, -1):
        g = ((1 - h[t] ** 2) * g) @ params["W_hh"]
        out.append(np.linalg.norm(g, axis=-1))
    return np.array(out)


@pytest.mark.parametrize("seed", [0, 4])
def test_check_lag_norms_accepts_a_right_implementation(seed):
    assert check_lag_norms(lag_norms, seed=seed) is None


@pytest.mark.parametrize("fn, match", [
    (lambda p, x, d: lag_norms(p, x, d)[::-1], r"lag_norms is reversed"),
    (lambda p, x, d: lag_norms(p, x, d)[1:], r"must return an array of shape \(T\+1, B\)"),
    (lambda p, x, d: 2 * lag_norms(p, x, d), r"lag_norms is wrong .* relative error"),
])
def test_check_lag_norms_refuses(fn, match):
    with pytest.raises(AssertionError, match=match):
        check_lag_norms(fn)
