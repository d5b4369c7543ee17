"""Tests of bptt.gru: the shared gated-model suite (gated_suite.py) plus the GRU's own."""
from __future__ import annotations

import numpy as np
import pytest

from autograd_gated import gru_reference
from autograd_rnn import rel_error
from bptt.gradcheck import numerical_gradient
from bptt.gru import (GRU, PARAM_KEYS, check_gru_params, gru_backward, gru_forward,
                      gru_step_backward, gru_step_forward, init_gru)
from bptt.model import Model
from gated_suite import *  # noqa: F401,F403  (the shared tests, collected here)
from gated_suite import Spec, check_bad_inputs, random_problem

STEP_KEYS = ("W_xh", "W_hh", "b_xh", "b_hh")


def backward_by_steps(params, x, state, dy, truncate=None):
    """gru_backward written as the reversed loop over gru_step_backward (its docstring)."""
    h, gates = state["h"], state["gates"]
    grads = {k: np.zeros_like(params[k]) for k in STEP_KEYS}
    grads["x"] = np.zeros_like(x)
    dh_next = np.zeros_like(h[0])
    for t in range(x.shape[0], 0, -1):
        hbar_t = dy[t - 1] @ params["W_hy"] + dh_next   # loss at t meets the gradient from t+1
        g = gru_step_backward(params, x[t - 1], h[t - 1], gates[t - 1], hbar_t)
        for k in STEP_KEYS:
            grads[k] += g[k]
        grads["x"][t - 1] = g["x_t"]
        detached = truncate is not None and t - 1 > 0 and (t - 1) % truncate == 0
        dh_next = np.zeros_like(dh_next) if detached else g["h_prev"]
    grads["h0"] = dh_next
    grads["W_hy"] = np.einsum("tbo,tbh->oh", dy, h[1:])
    grads["b_y"] = dy.sum(axis=(0, 1))
    return grads


def forward_by_steps(params, x, h0):
    hs, gs = [h0], []
    for t in range(x.shape[0]):
        h_t, gates = gru_step_forward(params, x[t], hs[-1])
        hs.append(h_t)
        gs.append(gates)
    return np.stack(hs), np.stack(gs)


@pytest.fixture(scope="module")
def spec():
    return Spec(model=GRU, n_gates=3, biases=("b_xh", "b_hh"), init_names=("h0",),
                reference=gru_reference, by_steps=backward_by_steps,
                forward_by_steps=forward_by_steps)


@pytest.fixture
def small(spec):
    params, x, (h0,), dy = random_problem(spec, 4, 2, 3, 5, 6, seed=7)
    _, state = gru_forward(params, x, h0)
    return params, x, h0, state, dy


def test_init_biases_are_zero():
    params = init_gru(3, 5, 2)
    for key in ("b_xh", "b_hh", "b_y"):
        np.testing.assert_array_equal(params[key], 0.0)


def test_step_forward_by_hand():
    # One unit, x = 1, h_{t-1} = 0.5: torch's equations written out.
    params = {"W_xh": np.array([[0.5], [1.0], [-2.0]]), "W_hh": np.array([[1.0], [-1.0], [3.0]]),
              "b_xh": np.array([0.1, 0.2, 0.3]), "b_hh": np.array([0.0, 0.4, -0.5]),
              "W_hy": np.ones((1, 1)), "b_y": np.zeros(1)}
    h, gates = gru_step_forward(params, np.ones((1, 1)), np.array([[0.5]]))
    sig = lambda a: 1 / (1 + np.exp(-a))   # noqa: E731
    r, z = sig(0.5 + 0.1 + 0.5), sig(1.0 + 0.2 - 0.5 + 0.4)
    n = np.tanh(-2.0 + 0.3 + r * (1.5 - 0.5))
    np.testing.assert_allclose(gates, [[r, z, n]], rtol=1e-15)
    np.testing.assert_allclose(h, [[(1 - z) * n + z * 0.5]], rtol=1e-15)


def test_state_hn_is_the_reset_gates_operand(small):
    params, x, h0, state, _ = small
    H = 5
    want = state["h"][:-1] @ params["W_hh"][2 * H:].T + params["b_hh"][2 * H:]
    np.testing.assert_allclose(state["hn"], want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("shape", [(2, 3, 4), (1, 2, 1)])
def test_step_backward_matches_finite_differences(shape):
    B, D, H = shape
    rng = np.random.default_rng(3)
    params = {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in init_gru(D, H, 2).items()}
    x_t, h_prev = rng.standard_normal((B, D)), rng.standard_normal((B, H))
    w = rng.standard_normal((B, H))
    _, gates = gru_step_forward(params, x_t, h_prev)
    got = gru_step_backward(params, x_t, h_prev, gates, w)
    assert {k: v.shape for k, v in got.items()} == {
        "W_xh": (3 * H, D), "W_hh": (3 * H, H), "b_xh": (3 * H,), "b_hh": (3 * H,),
        "x_t": (B, D), "h_prev": (B, H)}

    def loss(_):
        return float(np.sum(w * gru_step_forward(params, x_t, h_prev)[0]))

    for key, arr in [*((k, params[k]) for k in STEP_KEYS), ("x_t", x_t), ("h_prev", h_prev)]:
        assert rel_error(got[key], numerical_gradient(loss, arr)) < 1e-7, key


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_step_functions_keep_the_dtype(small, dtype):
    params, x, h0, _, _ = small
    p = {k: v.astype(dtype) for k, v in params.items()}
    h, gates = gru_step_forward(p, x[0].astype(dtype), h0.astype(dtype))
    g = gru_step_backward(p, x[0].astype(dtype), h0.astype(dtype), gates, np.ones_like(h))
    assert all(a.dtype == dtype for a in (h, gates, *g.values()))


def _with(d, key, value):
    return {**d, key: value}


def _poke(a, index, value):
    a = a.copy()
    a[index] = value
    return a


def test_check_gru_params_refuses(small):
    params = small[0]
    check_bad_inputs([
        ({k: v for k, v in params.items() if k != "b_hh"}, ValueError,
         "missing ['b_hh'], unknown []"),
        (_with(params, "W_xh", params["W_xh"][:14]), ValueError,
         "params['W_xh'] must have shape (3H, D), 3 blocks of H rows (the gates r, z, n)"),
        (_with(params, "b_hh", params["b_hh"][:5]), ValueError,
         "params['b_hh'] must have shape (3H,) = (15,), got (5,)"),
        (_with(params, "W_hh", params["W_hh"][:, :4]), ValueError,
         "params['W_hh'] must have shape (3H, H) = (15, 5), got (15, 4)"),
        (_with(params, "b_xh", params["b_xh"].astype(np.float32)), TypeError,
         "params['b_xh'] must have dtype float64"),
    ], check_gru_params)


def test_forward_and_backward_refuse_bad_arguments(small):
    params, x, h0, state, dy = small
    check_bad_inputs([
        ({"x": x[0]}, ValueError, "x must have 3 dimensions, shape (T, B, D) = (?, ?, 3)"),
        ({"h0": h0[:1]}, ValueError, "h0 must have shape (B, H) = (2, 5), got (1, 5)"),
        ({"h0": h0.astype(np.float32)}, TypeError, "h0 must have dtype float64"),
    ], lambda ch: gru_forward(params, **{"x": x, "h0": h0, **ch}))
    gates = state["gates"]
    check_bad_inputs([
        ({"state": state["h"]}, TypeError,
         "state must be a dict with keys ['h', 'gates', 'hn'] as returned by gru_forward"),
        ({"state": _with(state, "hn", state["hn"][1:])}, ValueError,
         "state['hn'] must have shape (T, B, H) = (4, 2, 5), got (3, 2, 5)"),
        ({"state": _with(state, "gates", _poke(gates, (0, 1, 6), -0.5))}, ValueError,
         "state['gates'] must hold the activated gates returned by gru_forward "
         "(r in [0, 1], z in [0, 1], n in [-1, 1]); gate z"),
        ({"dy": dy[:, :1]}, ValueError, "dy must have shape (T, B, O) = (4, 2, 6), got (4, 1, 6)"),
        ({"truncate": True}, TypeError, "truncate must be a positive int or None, got bool"),
    ], lambda ch: gru_backward(params, **{"x": x, "state": state, "dy": dy, **ch}))


def test_step_functions_refuse_bad_arguments(small):
    params, x, h0, state, _ = small
    check_bad_inputs([
        ({"h_prev": h0[:, :4]}, ValueError, "h_prev must have shape (B, H) = (2, 5)"),
    ], lambda ch: gru_step_forward(params, **{"x_t": x[0], "h_prev": h0, **ch}))
    bwd = {"x_t": x[0], "h_prev": h0, "gates": state["gates"][0], "dh_t": h0}
    check_bad_inputs([
        ({"gates": state["gates"][0, :, :10]}, ValueError,
         "gates must have shape (B, 3H) = (2, 15)"),
        ({"gates": 3 * state["gates"][0]}, ValueError,
         "gates must hold the activated gates returned by gru_step_forward"),
        ({"dh_t": _poke(h0, (0, 0), np.nan)}, ValueError, "dh_t contains NaN"),
    ], lambda ch: gru_step_backward(params, **{**bwd, **ch}))


def test_GRU_is_the_model_of_this_module():
    assert isinstance(GRU, Model) and GRU.name == "gru" and GRU.keys == PARAM_KEYS
    assert (GRU.init, GRU.forward, GRU.backward, GRU.check) == (
        init_gru, gru_forward, gru_backward, check_gru_params)
