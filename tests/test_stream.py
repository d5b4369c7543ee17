"""Tests for bptt.stream.train_stream: chunked truncated BPTT on streams."""
from __future__ import annotations

import itertools

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from autograd.tracer import getval

from autograd_rnn import as_args, random_problem, rel_error
from bptt.gru import GRU, init_gru
from bptt.losses import mse_loss
from bptt.lstm import LSTM, init_lstm
from bptt.optim import SGD, Adam
from bptt.rnn import PARAM_KEYS, init_rnn
from bptt.stream import train_stream
from bptt.tbptt import tbptt_gradients
from bptt.train import train


class Record:
    """An optimizer that keeps the gradients and never changes the parameters."""

    def __init__(self):
        self.grads = []

    def step(self, params, grads):
        self.grads.append({k: v.copy() for k, v in grads.items()})


def linear_loss(y, w):
    """L = sum(w * y): dL/dy = w, so the gradients are tbptt_gradients' with dy = w."""
    return float(np.sum(w * y)), w.copy()


@pytest.mark.parametrize("N, k1, k2", [(6, 2, None), (7, 2, 3), (7, 3, 5), (5, 1, 4), (4, 2, 9)])
def test_fixed_parameters_give_tbptt_gradients(N, k1, k2):
    params, x, h0, w = random_problem(N, 2, 3, 4, 2, seed=N + k1)
    rec = Record()
    _, hist = train_stream(params, x, w, linear_loss, rec, k1=k1, k2=k2, h0=h0)
    want = tbptt_gradients(params, x, w, k1, k2 or k1, h0)
    assert len(rec.grads) == len(want) == len(hist["loss"])
    for j, (got, ref) in enumerate(zip(rec.grads, want)):
        for key in PARAM_KEYS:
            np.testing.assert_allclose(got[key], ref[key], rtol=1e-12, atol=1e-13,
                                       err_msg=f"update {j} {key}")


@pytest.mark.parametrize("make, model", [(init_lstm, LSTM), (init_gru, GRU)])
def test_gated_models_fixed_parameters_give_tbptt_gradients(make, model):
    rng = np.random.default_rng(0)
    params = make(3, 4, 2, seed=1)
    x, w = rng.standard_normal((7, 2, 3)), rng.standard_normal((7, 2, 2))
    rec = Record()
    train_stream(params, x, w, linear_loss, rec, k1=2, k2=3, model=model)
    want = tbptt_gradients(params, x, w, 2, 3, model=model)
    for got, ref in zip(rec.grads, want):
        for key in model.keys:
            np.testing.assert_allclose(got[key], ref[key], rtol=1e-11, atol=1e-12, err_msg=key)


def reference_with_resets(args, w, resets, t_prev, t, k2):
    """Autograd: losses of steps t_prev+1..t, state zeroed at resets, detached at h_{t-k2}."""
    def loss(a):
        h, total = a["h0"].T, 0.0
        for step in range(1, t + 1):
            if step - 1 == t - k2:
                h = getval(h)
            h = h * (1.0 - resets[step - 1][None, :])          # a new document: zeros
            h = anp.tanh(anp.dot(a["W_hh"], h) + anp.dot(a["W_xh"], a["x"][step - 1].T)
                         + a["b_h"][:, None])
            if step > t_prev:
                total = total + anp.sum(w[step - 1].T * (anp.dot(a["W_hy"], h)
                                                         + a["b_y"][:, None]))
        return total
    return autograd.grad(loss)(args)


@pytest.mark.parametrize("k1, k2", [(2, 2), (2, 3), (3, 5), (1, 3)])
def test_resets_match_autograd(k1, k2):
    N, B = 8, 3
    params, x, h0, w = random_problem(N, B, 2, 4, 2, seed=k1 * k2)
    resets = np.zeros((N, B), dtype=bool)
    resets[0, 2] = True          # at the very start (h0 ignored for stream 2)
    resets[3, 0] = resets[5, 0] = True     # inside windows, and at a window start
    resets[4, 1] = resets[6, 1] = True
    rec = Record()
    train_stream(params, x, w, linear_loss, rec, k1=k1, k2=k2, resets=resets, h0=h0)
    args = as_args(params, x, h0)
    times = [t for t in range(1, N + 1) if t % k1 == 0 or t == N]
    for j, (t_prev, t) in enumerate(zip([0, *times[:-1]], times)):
        want = reference_with_resets(args, w, resets.astype(float), t_prev, t, k2)
        for key in PARAM_KEYS:
            err = rel_error(rec.grads[j][key], want[key])
            assert err < 1e-10, f"update {j} (t = {t}) {key}: rel error {err:.2e}"


def test_resets_change_the_gradient():
    params, x, h0, w = random_problem(6, 2, 2, 3, 2, seed=2)
    resets = np.zeros((6, 2), dtype=bool)
    resets[3, 1] = True
    a, b = Record(), Record()
    train_stream(params, x, w, linear_loss, a, k1=2, k2=4, h0=h0)
    train_stream(params, x, w, linear_loss, b, k1=2, k2=4, h0=h0, resets=resets)
    assert rel_error(a.grads[1]["W_hh"], b.grads[1]["W_hh"]) > 1e-6


def test_carry_false_is_training_on_independent_chunks():
    params, x, _, target = random_problem(6, 2, 3, 4, 2, seed=7)
    got, hist = train_stream(params, x, target, mse_loss, SGD(0.1), k1=2, carry=False)
    chunks = [(x[s:s + 2], target[s:s + 2]) for s in range(0, 6, 2)]
    want, ref = train(params, chunks, mse_loss, SGD(0.1), n_steps=3)
    np.testing.assert_allclose(hist["loss"], ref["loss"], rtol=1e-12)
    for key in PARAM_KEYS:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-12, err_msg=key)


def test_carrying_the_state_differs_from_not():
    params, x, _, target = random_problem(6, 2, 3, 4, 2, seed=8)
    _, carried = train_stream(params, x, target, mse_loss, SGD(0.1), k1=2)
    _, fresh = train_stream(params, x, target, mse_loss, SGD(0.1), k1=2, carry=False)
    assert carried["loss"][0] == fresh["loss"][0]       # the first chunk starts from zeros in both
    assert abs(carried["loss"][1] - fresh["loss"][1]) > 1e-6
    np.testing.assert_array_equal(carried["t"], [2, 4, 6])


def echo_stream(N, B, seed):
    """Target at step t: the input of step t-2, often across a chunk boundary."""
    x = np.random.default_rng(seed).choice([-1.0, 1.0], size=(N, B, 1))
    target = np.zeros_like(x)
    target[2:] = x[:-2]
    return x, target


def test_loss_falls_on_an_echo_stream():
    x, target = echo_stream(3000, 4, seed=0)
    params = init_rnn(1, 8, 1, seed=0)
    _, hist = train_stream(params, x, target, mse_loss, Adam(0.02), k1=4, k2=8, clip_norm=5.0)
    early, late = hist["loss"][:50].mean(), hist["loss"][-50:].mean()
    assert late < 0.25 * early, (early, late)
    assert hist["stopped"] is None


def test_final_state_is_the_stream_state():
    params, x, h0, w = random_problem(5, 2, 2, 3, 2, seed=4)
    from bptt.rnn import rnn_forward
    _, hist = train_stream(params, x, w, linear_loss, Record(), k1=2, h0=h0)
    _, h = rnn_forward(params, x, h0)
    np.testing.assert_allclose(hist["state"][0], h[-1], rtol=1e-13)


@pytest.mark.parametrize("kwargs, exc, words", [
    (dict(k1=3, k2=2), ValueError, ["k2 must be >= k1"]),
    (dict(k1=0), ValueError, ["k1 must be >= 1"]),
    (dict(k1=2, k2=3, carry=False), ValueError, ["k2 must be k1 (or None) when carry=False"]),
    (dict(k1=2, resets=np.zeros((6, 3), dtype=bool)), ValueError,
     ["resets must have shape (N, B) = (6, 2), got (6, 3)"]),
    (dict(k1=2, resets=np.zeros((6, 2))), TypeError, ["resets must be None or a boolean array",
                                                      "float64"]),
    (dict(k1=2, clip_norm=-1.0), ValueError, ["clip_norm must be a finite number > 0"]),
    (dict(k1=2, carry=1), TypeError, ["carry must be True or False"]),
    (dict(k1=2, model="lstm"), TypeError, ["model must be a bptt.model.Model"]),
])
def test_rejects_bad_arguments(kwargs, exc, words):
    params, x, _, w = random_problem(6, 2, 2, 3, 2)
    with pytest.raises(exc) as info:
        train_stream(params, x, w, linear_loss, Record(), **kwargs)
    for word in words:
        assert word in str(info.value), str(info.value)


def test_rejects_targets_of_wrong_length():
    params, x, _, w = random_problem(6, 2, 2, 3, 2)
    with pytest.raises(ValueError, match=r"targets must be an array with N = 6 steps"):
        train_stream(params, x, w[:5], linear_loss, Record(), k1=2)


def test_params_not_modified():
    params, x, _, w = random_problem(4, 1, 2, 3, 2)
    before = {k: v.copy() for k, v in params.items()}
    train_stream(params, x, w, mse_loss, SGD(0.1), k1=2)
    for k, v in itertools.chain(before.items()):
        np.testing.assert_array_equal(params[k], v)
