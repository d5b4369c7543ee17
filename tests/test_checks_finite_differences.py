"""Tests of bptt.checks.finite_differences: check_numerical_gradient and check_gradient_check.

Right centred differences (CS231n's nditer loop, a flat view) must be
accepted; forward differences, a wrong divisor or step, x not restored, a copy
of x perturbed, a flattened result and a loop over the first axis only must
be refused with their cause. The homework's gradient check must accept the
package's backward pass and catch three bugs, each on its own key.
"""
from __future__ import annotations

import numpy as np
import pytest

import bptt
from bptt.checks import check_gradient_check, check_numerical_gradient
from bptt.gradcheck import numerical_gradient, rel_error
from bptt.losses import mse_loss


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
    (numgrad_first_axis, r"(?s)x of shape \(2, 3\).*right only for 1-D x.*It is right for x of "
                         r"shape \(4,\), wrong"),
    (numgrad_fixed_step, r"a step much smaller than eps instead of eps = 0.1"),
])
def test_numerical_gradient_refuses_mistakes(fn, message):
    with pytest.raises(AssertionError, match=message):
        check_numerical_gradient(fn)


@pytest.mark.parametrize("seed", [1, 7])
def test_numerical_gradient_accepts_a_right_implementation_with_other_seeds(seed):
    assert check_numerical_gradient(numgrad_nditer, seed=seed) is None


# ====================================================================== gradient_check (HW2)

def gradient_check(backward, params, x, target, eps=1e-6):
    def loss(_):
        return mse_loss(bptt.rnn_forward(params, x)[0], target)[0]
    y, h = bptt.rnn_forward(params, x)
    grads = backward(params, x, h, mse_loss(y, target)[1])
    errs = {k: rel_error(grads[k], numerical_gradient(loss, params[k], eps))
            for k in bptt.PARAM_KEYS}
    errs["x"] = rel_error(grads["x"], numerical_gradient(loss, x, eps))
    return errs


@pytest.mark.parametrize("seed", [0, 5])
def test_gradient_check_accepts_a_right_check(seed):
    assert check_gradient_check(gradient_check, seed=seed) is None


def _check_zero(backward, params, x, target, eps=1e-6):
    return {k: 0.0 for k in (*bptt.PARAM_KEYS, "x")}


def _check_forward_difference(backward, params, x, target, eps=1e-6):
    """A check that perturbs a copy: the loss never sees it, the numerical gradient is 0."""
    def loss(_):
        return mse_loss(bptt.rnn_forward(params, x)[0], target)[0]
    y, h = bptt.rnn_forward(params, x)
    grads = backward(params, x, h, mse_loss(y, target)[1])
    errs = {k: rel_error(grads[k], numerical_gradient(loss, params[k].copy(), eps))
            for k in bptt.PARAM_KEYS}
    errs["x"] = rel_error(grads["x"], numerical_gradient(loss, x.copy(), eps))
    return errs


def _check_summed_over_time(backward, params, x, target, eps=1e-6):
    """Differentiates the squared error summed over time (a mean per step), not mse_loss."""
    def loss(_):
        y = bptt.rnn_forward(params, x)[0]
        return float(np.sum(np.mean((y - target) ** 2, axis=(1, 2))))
    y, h = bptt.rnn_forward(params, x)
    grads = backward(params, x, h, mse_loss(y, target)[1])
    errs = {k: rel_error(grads[k], numerical_gradient(loss, params[k], eps))
            for k in bptt.PARAM_KEYS}
    errs["x"] = rel_error(grads["x"], numerical_gradient(loss, x, eps))
    return errs


def _check_modifies(backward, params, x, target, eps=1e-6):
    x += 1.0
    return gradient_check(backward, params, x, target, eps)


def _check_missing_key(backward, params, x, target, eps=1e-6):
    errs = gradient_check(backward, params, x, target, eps)
    del errs["x"]
    return errs


@pytest.mark.parametrize("fn, match", [
    (_check_zero, r"does not catch a transposed W_hh gradient"),
    (_check_forward_difference, r"rejects the package's correct rnn_backward"),
    (_check_summed_over_time, r"rejects the package's correct rnn_backward: every key has the "
                              r"same relative error 0\.5, which is what one constant factor 3 "
                              r"\(= T here\)"),
    (_check_modifies, r"modified its argument x \(18 of 18 entries changed\) in place"),
    (_check_missing_key, r"must return a dict with the keys"),
])
def test_check_gradient_check_refuses(fn, match):
    with pytest.raises(AssertionError, match=match):
        check_gradient_check(fn)
