"""Tests of bptt.checks.char_model: check_sample and check_train_char_rnn (homework 4).

Right implementations written from the package's other functions must be
accepted; a sampler that ignores the temperature, draws uniformly or returns
floats, and a training loop that never updates or is not reproducible, must
be refused with what is wrong.
"""
from __future__ import annotations

import numpy as np
import pytest

import bptt
from bptt.checks import check_sample, check_train_char_rnn
from bptt.clip import clip_grad_norm
from bptt.data import CharVocab, char_batches
from bptt.losses import softmax, softmax_cross_entropy
from bptt.optim import Adagrad


# ====================================================================== sample

def sample(params, h, index, n, rng, temperature=1.0):
    V = params["W_xh"].shape[1]
    out = []
    for _ in range(n):
        h = np.tanh(np.eye(V)[[index]] @ params["W_xh"].T + h @ params["W_hh"].T + params["b_h"])
        p = softmax((h @ params["W_hy"].T + params["b_y"])[0] / temperature)
        index = int(rng.choice(V, p=p))
        out.append(index)
    return np.array(out)


@pytest.mark.parametrize("seed", [0, 2])
def test_check_sample_accepts_a_right_sampler(seed):
    assert check_sample(sample, seed=seed) is None


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
        check_sample(fn)


# ====================================================================== train_char_rnn

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


def test_check_train_char_rnn_accepts_a_right_training_loop():
    assert check_train_char_rnn(train_char_rnn) is None


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
        check_train_char_rnn(fn)


def test_an_exception_in_sample_shows_the_call_without_addresses():
    def broken(params, h, index, n, rng, temperature=1.0):
        return rng.choice(3, p=[0.5, 0.5])
    with pytest.raises(AssertionError) as info:
        check_sample(broken)
    msg = str(info.value)
    assert msg.startswith("sample raised ValueError: ")
    assert "index 2, n 12, rng a Generator; n = 12" in msg and " at 0x" not in msg
