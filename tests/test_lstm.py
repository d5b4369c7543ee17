"""Tests of bptt.lstm: the shared gated-model suite (gated_suite.py) plus the LSTM's own.

References: the column-vector LSTM of ``autograd_gated.py`` differentiated by
autograd, centred finite differences, and hand formulas.
"""
from __future__ import annotations

import numpy as np
import pytest

from autograd_gated import lstm_reference
from autograd_rnn import rel_error
from bptt.gradcheck import numerical_gradient
from bptt.lstm import (FORGET_BIAS, LSTM, PARAM_KEYS, check_lstm_params, init_lstm,
                       lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward)
from bptt.model import Model
from gated_suite import *  # noqa: F401,F403  (the shared tests, collected here)
from gated_suite import Spec, check_bad_inputs, random_problem

STEP_KEYS = ("W_xh", "W_hh", "b_h")


def backward_by_steps(params, x, state, dy, truncate=None):
    """lstm_backward written as the reversed loop over lstm_step_backward (its docstring)."""
    h, c, gates = state["h"], state["c"], state["gates"]
    T = x.shape[0]
    grads = {k: np.zeros_like(params[k]) for k in STEP_KEYS}
    grads["x"] = np.zeros_like(x)
    dh_next, dc_next = np.zeros_like(h[0]), np.zeros_like(c[0])
    for t in range(T, 0, -1):
        hbar_t = dy[t - 1] @ params["W_hy"] + dh_next   # loss at t meets the gradient from t+1
        g = lstm_step_backward(params, x[t - 1], h[t - 1], c[t - 1], c[t], gates[t - 1],
                               hbar_t, dc_next)
        for k in STEP_KEYS:
            grads[k] += g[k]
        grads["x"][t - 1] = g["x_t"]
        detached = truncate is not None and t - 1 > 0 and (t - 1) % truncate == 0
        dh_next = np.zeros_like(dh_next) if detached else g["h_prev"]
        dc_next = np.zeros_like(dc_next) if detached else g["c_prev"]
    grads["h0"], grads["c0"] = dh_next, dc_next
    grads["W_hy"] = np.einsum("tbo,tbh->oh", dy, h[1:])
    grads["b_y"] = dy.sum(axis=(0, 1))
    return grads


def forward_by_steps(params, x, h0, c0):
    hs, gs = [h0], []
    h_t, c_t = h0, c0
    for t in range(x.shape[0]):
        h_t, c_t, gates = lstm_step_forward(params, x[t], h_t, c_t)
        hs.append(h_t)
        gs.append(gates)
    return np.stack(hs), np.stack(gs)


@pytest.fixture(scope="module")
def spec():
    return Spec(model=LSTM, n_gates=4, biases=("b_h",), init_names=("h0", "c0"),
                reference=lstm_reference, by_steps=backward_by_steps,
                forward_by_steps=forward_by_steps)


@pytest.fixture
def small(spec):
    params, x, (h0, c0), dy = random_problem(spec, 4, 2, 3, 5, 6, seed=7)
    _, state = lstm_forward(params, x, h0, c0)
    return params, x, h0, c0, state, dy


# ---------------------------------------------------------------- the LSTM's own

def test_init_biases_open_the_forget_gate_only():
    H = 5
    b = init_lstm(3, H, 2, seed=1)["b_h"]
    np.testing.assert_array_equal(b[H:2 * H], FORGET_BIAS)
    np.testing.assert_array_equal(np.delete(b, np.s_[H:2 * H]), 0.0)
    assert FORGET_BIAS == 1.0
    np.testing.assert_array_equal(init_lstm(3, H, 2)["b_y"], 0.0)


def test_step_forward_by_hand():
    # One unit: a = (a_i, a_f, a_g, a_o) = W_hh h + W_xh x + b with x = 1, h = 0.
    params = {"W_xh": np.array([[0.5], [1.0], [-2.0], [0.25]]), "W_hh": np.zeros((4, 1)),
              "b_h": np.array([0.0, 1.0, 0.5, 0.0]), "W_hy": np.ones((1, 1)),
              "b_y": np.zeros(1)}
    h, c, gates = lstm_step_forward(params, np.ones((1, 1)), np.zeros((1, 1)),
                                    np.array([[2.0]]))
    sig = lambda a: 1 / (1 + np.exp(-a))   # noqa: E731
    i, f, g, o = sig(0.5), sig(2.0), np.tanh(-1.5), sig(0.25)
    np.testing.assert_allclose(gates, [[i, f, g, o]], rtol=1e-15)
    np.testing.assert_allclose(c, [[f * 2.0 + i * g]], rtol=1e-15)
    np.testing.assert_allclose(h, [[o * np.tanh(f * 2.0 + i * g)]], rtol=1e-15)


def test_gates_saturate_without_overflow():
    params = init_lstm(2, 3, 1)
    x = np.full((1, 2), 1e4)                    # a of order 1e4: exp(-a) would overflow
    with np.errstate(all="raise"):
        h, c, gates = lstm_step_forward(params, -x, np.zeros((1, 3)), np.zeros((1, 3)))
    assert np.all((gates[:, :6] >= 0) & (gates[:, :6] <= 1)) and np.all(np.isfinite(h))


@pytest.mark.parametrize("shape", [(2, 3, 4), (1, 2, 1)])
def test_step_backward_matches_finite_differences(shape):
    B, D, H = shape
    rng = np.random.default_rng(3)
    params = {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in init_lstm(D, H, 2).items()}
    x_t, h_prev, c_prev = (rng.standard_normal((B, n)) for n in (D, H, H))
    wh, wc = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    h_t, c_t, gates = lstm_step_forward(params, x_t, h_prev, c_prev)
    got = lstm_step_backward(params, x_t, h_prev, c_prev, c_t, gates, wh, wc)
    assert {k: v.shape for k, v in got.items()} == {
        "W_xh": (4 * H, D), "W_hh": (4 * H, H), "b_h": (4 * H,), "x_t": (B, D),
        "h_prev": (B, H), "c_prev": (B, H)}

    def loss(_):      # L = sum(wh * h_t) + sum(wc * c_t): dL/dh_t = wh, and dc_t = wc
        h, c, _ = lstm_step_forward(params, x_t, h_prev, c_prev)
        return float(np.sum(wh * h) + np.sum(wc * c))

    for key, arr in (("W_xh", params["W_xh"]), ("W_hh", params["W_hh"]),
                     ("b_h", params["b_h"]), ("x_t", x_t), ("h_prev", h_prev),
                     ("c_prev", c_prev)):
        assert rel_error(got[key], numerical_gradient(loss, arr)) < 1e-7, key


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_step_functions_keep_the_dtype(small, dtype):
    params, x, h0, c0, _, _ = small
    p = {k: v.astype(dtype) for k, v in params.items()}
    x_t, h0, c0 = x[0].astype(dtype), h0.astype(dtype), c0.astype(dtype)
    h, c, gates = lstm_step_forward(p, x_t, h0, c0)
    g = lstm_step_backward(p, x_t, h0, c0, c, gates, np.ones_like(h), np.ones_like(c))
    assert all(a.dtype == dtype for a in (h, c, gates, *g.values()))


def test_cell_path_carries_the_gradient_with_the_forget_gate():
    # With the forget gate open (f = 1), the input gate shut (i = 0) and the
    # output gate shut (o = 0), a loss at the last step reaches c0 undiminished.
    H = 2
    params = init_lstm(1, H, 1)
    params["W_xh"][:] = 0
    params["W_hh"][:] = 0
    params["b_h"][:] = np.repeat([-50.0, 50.0, 0.0, -50.0], H)
    params["b_h"][3 * H:] = 50.0               # o open at every step...
    x = np.zeros((6, 1, 1))
    _, state = lstm_forward(params, x, c0=np.ones((1, H)))
    dy = np.zeros((6, 1, 1))
    dy[-1] = 1.0
    g = lstm_backward(params, x, state, dy)
    # ...so dL/dc0 = W_hy o (1 - tanh^2 c) at every step's c = c0 = 1, f = 1.
    want = params["W_hy"][0] * (1 - np.tanh(1.0) ** 2)
    np.testing.assert_allclose(g["c0"][0], want, rtol=1e-12)
    np.testing.assert_allclose(g["h0"], 0.0, atol=1e-20)


# ---------------------------------------------------------------- bad input

def _with(d, key, value):
    return {**d, key: value}


def test_check_lstm_params_refuses(small):
    params = small[0]                              # D=3, H=5, O=6
    cases = [
        (list(params.values()), TypeError, "params must be a dict with keys ['W_xh', 'W_hh'"),
        ({k: v for k, v in params.items() if k != "b_y"}, ValueError,
         "missing ['b_y'], unknown []"),
        (_with(params, "W_xh", params["W_xh"][:19]), ValueError,
         "params['W_xh'] must have shape (4H, D), 4 blocks of H rows (the gates i, f, g, o)"),
        (_with(params, "W_hh", params["W_hh"][:, :4]), ValueError,
         "params['W_hh'] must have shape (4H, H) = (20, 5), got (20, 4)"),
        (_with(params, "b_h", params["b_h"][:5]), ValueError,
         "params['b_h'] must have shape (4H,) = (20,), got (5,)"),
        (_with(params, "W_hy", params["W_hy"].T), ValueError,
         "params['W_hy'] must have shape (O, H) = (?, 5), got (5, 6)"),
        (_with(params, "b_y", params["b_y"].astype(np.float32)), TypeError,
         "params['b_y'] must have dtype float64"),
        (_with(params, "W_hh", np.full((20, 5), np.nan)), ValueError,
         "params['W_hh'] contains NaN or infinity"),
    ]
    check_bad_inputs(cases, check_lstm_params)
    with pytest.raises(ValueError, match=r"grads\['W_hh'\] must have shape"):
        check_lstm_params(_with(params, "W_hh", params["W_hh"][:4]), name="grads")


def _poke(a, index, value):
    a = a.copy()
    a[index] = value
    return a


def test_forward_refuses_bad_arguments(small):
    params, x, h0, c0, _, _ = small
    cases = [
        ({"x": x.tolist()}, TypeError, "x must be a numpy array of shape (T, B, D)"),
        ({"x": x[0]}, ValueError, "x must have 3 dimensions, shape (T, B, D) = (?, ?, 3)"),
        ({"x": x[:0]}, ValueError, "x must have shape (T, B, D) = (?, ?, 3), got (0, 2, 3)"),
        ({"x": x.astype(np.float32)}, TypeError, "x must have dtype float64"),
        ({"h0": h0[:1]}, ValueError, "h0 must have shape (B, H) = (2, 5), got (1, 5)"),
        ({"c0": c0.T}, ValueError, "c0 must have shape (B, H) = (2, 5), got (5, 2)"),
        ({"c0": _poke(c0, (0, 0), np.inf)}, ValueError, "c0 contains NaN"),
    ]
    check_bad_inputs(cases, lambda ch: lstm_forward(params, **{"x": x, "h0": h0, "c0": c0,
                                                                **ch}))


def test_backward_refuses_bad_arguments(small):
    params, x, _, _, state, dy = small
    gates = state["gates"]
    cases = [
        ({"state": state["h"]}, TypeError,
         "state must be a dict with keys ['h', 'c', 'gates'] as returned by lstm_forward, "
         "got ndarray"),
        ({"state": {"h": state["h"], "c": state["c"]}}, ValueError, "missing ['gates']"),
        ({"state": _with(state, "c", state["c"][1:])}, ValueError,
         "state['c'] must have shape (T+1, B, H) = (5, 2, 5), got (4, 2, 5)"),
        ({"state": _with(state, "gates", gates[..., :15])}, ValueError,
         "state['gates'] must have shape (T, B, 4H) = (4, 2, 20), got (4, 2, 15)"),
        ({"state": _with(state, "gates", _poke(gates, (1, 0, 7), 1.5))}, ValueError,
         "state['gates'] must hold the activated gates returned by lstm_forward "
         "(i in [0, 1], f in [0, 1], g in [-1, 1], o in [0, 1]); gate f"),
        ({"state": _with(state, "gates", _poke(gates, (1, 0, 12), -1.5))}, ValueError,
         "gate g has values outside its range"),
        ({"x": x[:, :1]}, ValueError, "state['h'] must have shape (T+1, B, H) = (5, 1, 5)"),
        ({"dy": dy[..., :5]}, ValueError, "dy must have shape (T, B, O) = (4, 2, 6)"),
        ({"dy": _poke(dy, (0, 0, 0), np.nan)}, ValueError, "dy contains NaN"),
        ({"truncate": 0}, ValueError, "truncate must be >= 1, got 0"),
        ({"truncate": 2.0}, TypeError, "truncate must be a positive int or None, got float"),
    ]
    args = {"x": x, "state": state, "dy": dy}
    check_bad_inputs(cases, lambda ch: lstm_backward(params, **{**args, **ch}))


def test_step_functions_refuse_bad_arguments(small):
    params, x, h0, c0, state, _ = small
    c1, gates = state["c"][1], state["gates"][0]
    fwd = {"x_t": x[0], "h_prev": h0, "c_prev": c0}
    check_bad_inputs([
        ({"x_t": x}, ValueError, "x_t must have 2 dimensions, shape (B, D) = (?, 3)"),
        ({"c_prev": c0[:, :4]}, ValueError, "c_prev must have shape (B, H) = (2, 5)"),
        ({"h_prev": h0.tolist()}, TypeError, "h_prev must be a numpy array of shape (B, H)"),
    ], lambda ch: lstm_step_forward(params, **{**fwd, **ch}))
    bwd = {**fwd, "c_t": c1, "gates": gates, "dh_t": h0, "dc_t": c0}
    check_bad_inputs([
        ({"gates": gates[:, :15]}, ValueError, "gates must have shape (B, 4H) = (2, 20)"),
        ({"gates": 3 * gates}, ValueError,
         "gates must hold the activated gates returned by lstm_step_forward"),
        ({"c_t": c1[:1]}, ValueError, "c_t must have shape (B, H) = (2, 5), got (1, 5)"),
        ({"dc_t": c0.astype(np.float32)}, TypeError, "dc_t must have dtype float64"),
        ({"dh_t": _poke(h0, (0, 0), np.nan)}, ValueError, "dh_t contains NaN"),
    ], lambda ch: lstm_step_backward(params, **{**bwd, **ch}))


def test_LSTM_is_the_model_of_this_module():
    assert isinstance(LSTM, Model) and LSTM.name == "lstm" and LSTM.keys == PARAM_KEYS
    assert (LSTM.init, LSTM.forward, LSTM.backward, LSTM.check) == (
        init_lstm, lstm_forward, lstm_backward, check_lstm_params)
