"""Tests for bptt.tbptt: BPTT(k2; k1) gradients against an autograd reference that detaches."""
from __future__ import annotations

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from autograd.tracer import getval

from autograd_rnn import as_args, random_problem, rel_error
from bptt.gru import GRU, init_gru
from bptt.lstm import LSTM, init_lstm, lstm_backward, lstm_forward
from bptt.rnn import PARAM_KEYS, rnn_backward, rnn_forward
from bptt.tbptt import tbptt_gradients, update_windows

CASES = [  # (T, k1, k2): k1 = k2, k1 = 1, k2 >= T, T not a multiple of k1
    (6, 2, 2), (6, 3, 3), (5, 1, 1), (5, 1, 3), (7, 2, 3), (7, 3, 5), (4, 2, 9), (1, 1, 1),
    (5, 5, 5), (8, 3, 4),
]


def update_times(T, k1):
    """Where updates happen, by brute force: multiples of k1, and T."""
    return [t for t in range(1, T + 1) if t % k1 == 0 or t == T]


def reference_update(args, w, t_prev, t, k2):
    """d/d(params) of the losses of steps t_prev+1..t, h detached at h_{t-k2} (column vectors)."""
    def loss(a):
        h, total = a["h0"].T, 0.0
        for step in range(1, t + 1):
            if step - 1 == t - k2:              # h_{t-k2} is a constant for this update
                h = getval(h)
            h = anp.tanh(anp.dot(a["W_hh"], h) + anp.dot(a["W_xh"], a["x"][step - 1].T)
                         + a["b_h"][:, None])
            if step > t_prev:
                y = anp.dot(a["W_hy"], h) + a["b_y"][:, None]
                total = total + anp.sum(w[step - 1].T * y)
        return total
    return autograd.grad(loss)(args)


@pytest.mark.parametrize("T, k1, k2", CASES)
def test_matches_autograd_with_detaching(T, k1, k2):
    params, x, h0, w = random_problem(T, 2, 3, 4, 2, seed=T + 10 * k1 + 100 * k2)
    got = tbptt_gradients(params, x, w, k1, k2, h0)
    times = update_times(T, k1)
    assert len(got) == len(times)
    args = as_args(params, x, h0)
    for j, (t_prev, t) in enumerate(zip([0, *times[:-1]], times)):
        want = reference_update(args, w, t_prev, t, k2)
        for key in PARAM_KEYS:
            err = rel_error(got[j][key], want[key])
            assert err < 1e-10, f"update {j} (t = {t}) {key}: rel error {err:.2e}\n" \
                                f"got {got[j][key]}\nwant {want[key]}"


@pytest.mark.parametrize("T, k", [(6, 2), (6, 3), (6, 1), (4, 4), (3, 7)])
def test_k1_equals_k2_sums_to_truncated_bptt(T, k):
    params, x, h0, w = random_problem(T, 3, 2, 5, 3, seed=k)
    got = tbptt_gradients(params, x, w, k, k, h0)
    _, h = rnn_forward(params, x, h0)
    want = rnn_backward(params, x, h, w, truncate=k)
    for key in PARAM_KEYS:
        total = sum(g[key] for g in got)
        np.testing.assert_allclose(total, want[key], rtol=1e-12, atol=1e-13, err_msg=key)


def test_last_update_reaches_past_the_chunk_boundary():
    # T = 5, k = 2: the last update (t = 5) reaches back to h_3, not h_4, so the
    # sum differs from truncate=2 (whose last chunk is step 5 alone).
    params, x, h0, w = random_problem(5, 2, 2, 3, 2, seed=1)
    got = tbptt_gradients(params, x, w, 2, 2, h0)
    _, h = rnn_forward(params, x, h0)
    want = rnn_backward(params, x, h, w, truncate=2)
    assert rel_error(sum(g["W_hh"] for g in got), want["W_hh"]) > 1e-6


def test_full_window_is_full_bptt_of_each_updates_losses():
    T = 6
    params, x, h0, w = random_problem(T, 2, 3, 4, 2, seed=3)
    got = tbptt_gradients(params, x, w, 2, T, h0)
    _, h = rnn_forward(params, x, h0)
    want = rnn_backward(params, x, h, w)
    for key in PARAM_KEYS:   # every update reaches h0: the sum is full BPTT
        np.testing.assert_allclose(sum(g[key] for g in got), want[key], rtol=1e-12, atol=1e-13)


def test_update_windows_by_hand():
    assert update_windows(5, 2, 3) == [(0, 0, 2), (1, 2, 4), (2, 4, 5)]
    assert update_windows(4, 4, 4) == [(0, 0, 4)]
    assert update_windows(3, 5, 5) == [(0, 0, 3)]
    assert update_windows(3, 1, 1) == [(0, 0, 1), (1, 1, 2), (2, 2, 3)]


@pytest.mark.parametrize("make, model, T, k", [
    (init_lstm, LSTM, 6, 2), (init_lstm, LSTM, 6, 3), (init_gru, GRU, 6, 2), (init_gru, GRU, 4, 4),
])
def test_gated_models_k1_equals_k2_sums_to_truncated(make, model, T, k):
    rng = np.random.default_rng(k)
    params = make(3, 4, 2, seed=k)
    x, w = rng.standard_normal((T, 2, 3)), rng.standard_normal((T, 2, 2))
    h0 = 0.5 * rng.standard_normal((2, 4))
    got = tbptt_gradients(params, x, w, k, k, h0, model=model)
    _, cache = model.forward(params, x, h0)
    want = model.backward(params, x, cache, w, k)
    for key in model.keys:
        np.testing.assert_allclose(sum(g[key] for g in got), want[key], rtol=1e-11, atol=1e-12,
                                   err_msg=key)


def test_lstm_takes_h0_and_c0_as_a_tuple():
    rng = np.random.default_rng(0)
    params = init_lstm(3, 4, 2, seed=1)
    x, w = rng.standard_normal((4, 2, 3)), rng.standard_normal((4, 2, 2))
    h0, c0 = rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    got = tbptt_gradients(params, x, w, 4, 4, (h0, c0), model=LSTM)
    _, state = lstm_forward(params, x, h0, c0)
    want = lstm_backward(params, x, state, w)
    np.testing.assert_allclose(got[0]["W_hh"], want["W_hh"], rtol=1e-12)
    without_c0 = tbptt_gradients(params, x, w, 4, 4, h0, model=LSTM)
    assert rel_error(without_c0[0]["W_hh"], want["W_hh"]) > 1e-6


@pytest.mark.parametrize("k1, k2, exc, words", [
    (3, 2, ValueError, ["k2 must be >= k1", "k1 = 3", "k2 = 2"]),
    (0, 2, ValueError, ["k1 must be >= 1", "got 0"]),
    (1, 0, ValueError, ["k2 must be >= 1", "got 0"]),
    (1.5, 2, TypeError, ["k1 must be a positive int", "1.5"]),
    (1, None, TypeError, ["k2 must be a positive int", "None"]),
])
def test_rejects_bad_k(k1, k2, exc, words):
    params, x, h0, w = random_problem(4, 1, 2, 3, 2)
    with pytest.raises(exc) as info:
        tbptt_gradients(params, x, w, k1, k2, h0)
    for word in words:
        assert word in str(info.value)


def test_rejects_dy_of_wrong_shape():
    params, x, h0, w = random_problem(4, 1, 2, 3, 2)
    with pytest.raises(ValueError, match=r"dy must have shape \(T, B, O\) = \(4, 1, 2\), "
                                         r"got \(3, 1, 2\)"):
        tbptt_gradients(params, x, w[:3], 2, 2, h0)


def test_rejects_bad_h0_and_model():
    params, x, h0, w = random_problem(4, 1, 2, 3, 2)
    with pytest.raises(TypeError, match="h0 must be None, an array"):
        tbptt_gradients(params, x, w, 2, 2, 0.0)
    with pytest.raises(TypeError, match="model must be a bptt.model.Model"):
        tbptt_gradients(params, x, w, 2, 2, model="rnn")


def test_contract_order_is_positional():
    params, x, h0, w = random_problem(4, 2, 2, 3, 2, seed=5)
    a = tbptt_gradients(params, x, w, 1, 2, h0)
    b = tbptt_gradients(params=params, x=x, dy=w, k1=1, k2=2, h0=h0)
    for ga, gb in zip(a, b):
        for key in PARAM_KEYS:
            np.testing.assert_array_equal(ga[key], gb[key])
