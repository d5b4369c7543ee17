"""The homework's own self-checks (bptt/homework_checks.py).

Each check must accept a right implementation, written here independently of
the check (from the package's other functions or by hand), and refuse a
wrong one with a message that says what is wrong.
"""
from __future__ import annotations

import numpy as np
import pytest

import bptt
from bptt import homework_checks as hc
from bptt.data import CharVocab, char_batches
from bptt.gradcheck import numerical_gradient, rel_error
from bptt.losses import mse_loss, softmax, softmax_cross_entropy
from bptt.optim import Adagrad
from bptt.clip import clip_grad_norm


def _stub(*args, **kwargs):
    raise NotImplementedError()


# --------------------------------------------------------------------------
# Right implementations
# --------------------------------------------------------------------------

def gradient_check(backward, params, x, target, eps=1e-6):
    def loss(_):
        return mse_loss(bptt.rnn_forward(params, x)[0], target)[0]
    y, h = bptt.rnn_forward(params, x)
    grads = backward(params, x, h, mse_loss(y, target)[1])
    errs = {k: rel_error(grads[k], numerical_gradient(loss, params[k], eps))
            for k in bptt.PARAM_KEYS}
    errs["x"] = rel_error(grads["x"], numerical_gradient(loss, x, eps))
    return errs


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


def sample(params, h, index, n, rng, temperature=1.0):
    V = params["W_xh"].shape[1]
    out = []
    for _ in range(n):
        h = np.tanh(np.eye(V)[[index]] @ params["W_xh"].T + h @ params["W_hh"].T + params["b_h"])
        p = softmax((h @ params["W_hy"].T + params["b_y"])[0] / temperature)
        index = int(rng.choice(V, p=p))
        out.append(index)
    return np.array(out)


def train_char_rnn(text, *, hidden_size=64, seq_len=25, batch_size=4, n_steps=2000, lr=0.1,
                   max_norm=5.0, seed=0, update=True):
    vocab = CharVocab(text)
    codes = vocab.encode(text)
    params = bptt.init_rnn(vocab.size, hidden_size, vocab.size, seed=seed)
    opt, losses, it, h0 = Adagrad(lr), [], iter(()), None
    for _ in range(n_steps):
        try:
            inputs, targets = next(it)
        except StopIteration:
            it, h0 = char_batches(codes, seq_len, batch_size), None
            inputs, targets = next(it)
        x = vocab.one_hot(inputs)
        y, h = bptt.rnn_forward(params, x, h0)
        loss, dy = softmax_cross_entropy(y, targets)
        grads, _ = clip_grad_norm(bptt.rnn_backward(params, x, h, dy), max_norm)
        if update:
            opt.step(params, grads)
        h0 = h[-1]
        losses.append(loss)
    return params, vocab, np.array(losses)


@pytest.mark.parametrize("check, fn", [
    (hc.check_return_dh, bptt.rnn_backward),
    (hc.check_gradient_check, gradient_check),
    (hc.check_lag_norms, lag_norms),
    (hc.check_sample, sample),
    (hc.check_train_char_rnn, train_char_rnn),
])
def test_right_implementations_pass_and_stubs_are_not_implemented(check, fn):
    assert check(fn) is None
    with pytest.raises(AssertionError, match="is not implemented yet: it raised "
                                             "NotImplementedError"):
        check(_stub)


# --------------------------------------------------------------------------
# Wrong implementations
# --------------------------------------------------------------------------

def _no_dh(params, x, h, dy, truncate=None, *, return_dh=False):
    return bptt.rnn_backward(params, x, h, dy)


def _dh_after_tanh(params, x, h, dy, truncate=None, *, return_dh=False):
    g = bptt.rnn_backward(params, x, h, dy, return_dh=True)
    g["h"][1:] *= 1 - h[1:] ** 2       # stores delta_t instead of hbar_t
    return g


def _raises_type_error(params, x, h, dy, truncate=None, *, return_dh=False):
    raise TypeError("boom")


@pytest.mark.parametrize("fn, match", [
    (_no_dh, r"extra key 'h'"),
    (_dh_after_tanh, r"grads\['h'\] is wrong .* at t = \[1, 2, 3, 4\].*before the tanh"),
    (_raises_type_error, r"rnn_backward raised TypeError: boom"),
])
def test_check_return_dh_refuses(fn, match):
    with pytest.raises(AssertionError, match=match):
        hc.check_return_dh(fn)


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
    (_check_modifies, r"changed its argument x in place"),
    (_check_missing_key, r"must return a dict with the keys"),
])
def test_check_gradient_check_refuses(fn, match):
    with pytest.raises(AssertionError, match=match):
        hc.check_gradient_check(fn)


@pytest.mark.parametrize("fn, match", [
    (lambda p, x, d: lag_norms(p, x, d)[::-1], r"lag_norms is reversed"),
    (lambda p, x, d: lag_norms(p, x, d)[1:], r"must return an array of shape \(T\+1, B\)"),
    (lambda p, x, d: 2 * lag_norms(p, x, d), r"lag_norms is wrong .* relative error"),
])
def test_check_lag_norms_refuses(fn, match):
    with pytest.raises(AssertionError, match=match):
        hc.check_lag_norms(fn)


def _sample_no_temperature(params, h, index, n, rng, temperature=1.0):
    return sample(params, h, index, n, rng)


def _sample_uniform(params, h, index, n, rng, temperature=1.0):
    V = params["W_xh"].shape[1]
    if temperature < 0.01:
        return sample(params, h, index, n, rng, temperature)
    return rng.integers(0, V, n)


def _sample_floats(params, h, index, n, rng, temperature=1.0):
    return sample(params, h, index, n, rng, temperature).astype(float)


@pytest.mark.parametrize("fn, match", [
    (_sample_no_temperature, r"with temperature=1e-3, sample must pick the most likely"),
    (_sample_uniform, r"does not follow softmax\(y_1\)"),
    (_sample_floats, r"12 integer character indices"),
    (lambda *a, **k: sample(*a, **k)[:-1], r"12 integer character indices"),
])
def test_check_sample_refuses(fn, match):
    with pytest.raises(AssertionError, match=match):
        hc.check_sample(fn)


def _train_no_update(text, **kw):
    return train_char_rnn(text, update=False, **kw)


_calls = []


def _train_unseeded(text, *, seed=0, **kw):
    _calls.append(1)
    return train_char_rnn(text, seed=seed + len(_calls), **kw)


@pytest.mark.parametrize("fn, match", [
    (_train_no_update, r"mean loss of the last 20 steps is .*below 0\.6 log V"),
    (_train_unseeded, r"same seed give different losses"),
    (lambda text, **kw: train_char_rnn(text, **kw)[:2], r"return the triple"),
    (lambda text, **kw: (*train_char_rnn(text, **kw)[:2], [1.0]), r"n_steps = 200 finite"),
])
def test_check_train_char_rnn_refuses(fn, match):
    with pytest.raises(AssertionError, match=match):
        hc.check_train_char_rnn(fn)


def test_a_non_callable_is_a_type_error():
    with pytest.raises(TypeError, match="fn must be the function to check"):
        hc.check_lag_norms(42)
