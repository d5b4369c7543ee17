"""Tests of bptt.checks.clipping: check_clip_grad_norm and check_clip_grad_value.

Right implementations (one long vector, loops over entries, np.minimum and
np.maximum) must be accepted, also without torch's 1e-6; each realistic bug
(no clipping, always scaling, x and h0 in the norm, the norm after clipping,
clipping in place or returning views of grads, ...) refused with its cause.
"""
from __future__ import annotations

import numpy as np
import pytest

from bptt.checks import check_clip_grad_norm, check_clip_grad_value
from bptt.clip import clip_grad_norm, clip_grad_value


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


def clip_norm_spectral(grads, max_norm):
    keys = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")
    total = float(np.sqrt(sum(np.linalg.norm(grads[k], 2) ** 2 for k in keys)))   # ord=2
    scale = min(1.0, max_norm / (total + 1e-6))
    return {k: (v * scale if k in keys else v.copy()) for k, v in grads.items()}, total


def clip_norm_numpy_scale(grads, max_norm):
    total = np.sqrt(sum(np.sum(grads[k].astype(np.float64) ** 2)
                        for k in ("W_xh", "W_hh", "b_h", "W_hy", "b_y")))
    scale = np.minimum(1.0, max_norm / (total + 1e-6))       # a NumPy float64 scalar
    return {k: (v * scale if k not in ("x", "h0") else v.copy()) for k, v in grads.items()}, total


@pytest.mark.parametrize("fn", [clip_grad_norm, clip_norm_concatenated, clip_norm_loop])
def test_clip_grad_norm_accepts_right_implementations(fn):
    assert check_clip_grad_norm(fn) is None


@pytest.mark.parametrize("fn, message", [
    (clip_norm_never, r"(?s)it does not clip.*wrong: W_xh, W_hh, b_h, W_hy, b_y"),
    (clip_norm_always, r"scales even when the norm is already at most max_norm"),
    (clip_norm_in_place, r"modified its argument grads\['W_xh'\]"),
    (clip_norm_all_keys, r"(?s)x and h0 are included in the norm.*wrong: total_norm"),
    (clip_norm_reports_after, r"(?s)norm after clipping.*wrong: total_norm;"),
    (clip_norm_each_array, r"(?s)each array is clipped to max_norm on its own"),
    (clip_norm_numpy_scale, r"W_xh has dtype float64 for float32 inputs.*Python float"),
    (clip_norm_spectral, r"(?s)^[^\n]*\n  Probable cause \(total_norm, W_xh, W_hh, b_h, W_hy, "
                         r"b_y\): the norm of a matrix is taken with ord=2, its spectral norm"),
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
    (_value_all_keys, r"(?s)x and h0 are clipped too.*wrong: x, h0;"),
    (_value_abs, r"the sign is lost"),
])
def test_clip_grad_value_refuses_mistakes(fn, message):
    with pytest.raises(AssertionError, match=message):
        check_clip_grad_value(fn)


@pytest.mark.parametrize("check, fn", [(check_clip_grad_norm, clip_norm_loop),
                                       (check_clip_grad_value, clip_value_loops)])
@pytest.mark.parametrize("seed", [1, 7])
def test_clipping_checks_accept_right_implementations_with_other_seeds(check, fn, seed):
    assert check(fn, seed=seed) is None


def test_clipping_refuses_the_grads_dict_itself():
    with pytest.raises(AssertionError, match=r"it returned the grads dict itself"):
        check_clip_grad_norm(lambda g, c: (g, _norm5(g)) if _norm5(g) <= c
                             else clip_grad_norm(g, c))
    with pytest.raises(AssertionError, match=r"it returned the grads dict itself"):
        check_clip_grad_value(lambda g, c: g)
