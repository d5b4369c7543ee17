"""Tests of bptt.gated_dynamics: the gated cells' step Jacobians and the lag experiment."""
from __future__ import annotations

import numpy as np
import pytest

from bptt.dynamics import lag_norm_experiment, random_rnn_states, recurrent_matrix
from bptt.gated_dynamics import (experiment_inputs, gated_lag_norm_experiment,
                                 gru_last_step_gradients, gru_state_jacobian,
                                 lstm_last_step_gradients, lstm_state_jacobian)
from bptt.gradcheck import numerical_gradient
from bptt.gru import gru_backward, gru_forward, init_gru
from bptt.lstm import init_lstm, lstm_backward, lstm_forward, lstm_step_forward
from bptt.rnn import rnn_forward


def _lstm_problem(D=3, H=4, B=2, seed=0):
    rng = np.random.default_rng(seed)
    p = init_lstm(D, H, 2, seed=seed + 1)
    p["b_h"] = p["b_h"] + 0.3 * rng.standard_normal(4 * H)
    return (p, rng.standard_normal((B, D)), 0.5 * rng.standard_normal((B, H)),
            rng.standard_normal((B, H)), rng)


@pytest.mark.parametrize("B,D,H", [(1, 1, 1), (2, 3, 4), (3, 5, 2)])
def test_lstm_state_jacobian_matches_finite_differences(B, D, H):
    p, x, h, c, _ = _lstm_problem(D, H, B)
    J = lstm_state_jacobian(p, x, h, c)
    blocks = {"hh": (0, "h"), "hc": (0, "c"), "ch": (1, "h"), "cc": (1, "c")}
    for b in range(B):
        for name, (out, inp) in blocks.items():
            def f(v, i):
                args = (v, c[b:b + 1]) if inp == "h" else (h[b:b + 1], v)
                return lstm_step_forward(p, x[b:b + 1], *args)[out][0, i]
            base = (h if inp == "h" else c)[b:b + 1]
            num = np.stack([numerical_gradient(lambda v: f(v, i), base.copy())[0]
                            for i in range(H)])
            np.testing.assert_allclose(J[name][b], num, atol=1e-8, err_msg=name)


def test_lstm_cell_block_is_diag_f():
    p, x, h, c, _ = _lstm_problem()
    H = h.shape[1]
    f = lstm_step_forward(p, x, h, c)[2][:, H:2 * H]
    J = lstm_state_jacobian(p, x, h, c)
    for b in range(x.shape[0]):
        np.testing.assert_array_equal(J["cc"][b], np.diag(f[b]))


def test_lstm_last_step_gradients_match_lstm_backward():
    p, _, _, _, rng = _lstm_problem(D=3, H=4, B=2)
    T, B, D, H = 6, 2, 3, 4
    x = rng.standard_normal((T, B, D))
    h0, c0 = 0.3 * rng.standard_normal((B, H)), 0.3 * rng.standard_normal((B, H))
    p = dict(p, W_hy=np.eye(H), b_y=np.zeros(H))          # y_t = h_t
    _, state = lstm_forward(p, x, h0, c0)
    u = rng.standard_normal((B, H))
    g = lstm_last_step_gradients(p, x, state, u)
    dy = np.zeros((T, B, H))
    dy[-1] = u                                            # L = u^T h_T
    full = lstm_backward(p, x, state, dy)
    np.testing.assert_allclose(g["h"][0], full["h0"], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(g["c"][0], full["c0"], rtol=1e-10, atol=1e-14)
    np.testing.assert_array_equal(g["h"][T], u)


def _gru_problem(D=3, H=4, B=2, seed=0):
    rng = np.random.default_rng(seed)
    p = init_gru(D, H, 2, seed=seed + 1)
    p["b_xh"] = p["b_xh"] + 0.3 * rng.standard_normal(3 * H)
    p["b_hh"] = p["b_hh"] + 0.3 * rng.standard_normal(3 * H)
    return p, rng.standard_normal((B, D)), 0.5 * rng.standard_normal((B, H)), rng


@pytest.mark.parametrize("B,D,H", [(1, 1, 1), (2, 3, 4), (3, 5, 2)])
def test_gru_state_jacobian_matches_finite_differences(B, D, H):
    p, x, h, _ = _gru_problem(D, H, B)
    J = gru_state_jacobian(p, x, h)
    for b in range(B):
        def f(v, i):
            return gru_forward(p, x[None, b:b + 1], v)[1]["h"][1, 0, i]
        num = np.stack([numerical_gradient(lambda v: f(v, i), h[b:b + 1].copy())[0]
                        for i in range(H)])
        np.testing.assert_allclose(J[b], num, atol=1e-8)


def test_gru_last_step_gradients_match_gru_backward():
    p, _, _, rng = _gru_problem()
    T, B, D, H = 6, 2, 3, 4
    x = rng.standard_normal((T, B, D))
    h0 = 0.3 * rng.standard_normal((B, H))
    p = dict(p, W_hy=np.eye(H), b_y=np.zeros(H))
    _, state = gru_forward(p, x, h0)
    u = rng.standard_normal((B, H))
    dh = gru_last_step_gradients(p, x, state["h"], u)
    dy = np.zeros((T, B, H))
    dy[-1] = u
    np.testing.assert_allclose(dh[0], gru_backward(p, x, state, dy)["h0"], rtol=1e-10,
                               atol=1e-14)


def test_experiment_inputs_are_chapter_5s():
    T, B, H, D, seed = 5, 3, 4, 2, 7
    x, u = experiment_inputs(T=T, B=B, H=H, D=D, seed=seed)
    params, h = random_rnn_states(recurrent_matrix(H, 1.0, seed=seed + 1), 1.0, T=T, B=B,
                                  D=D, seed=seed)
    np.testing.assert_array_equal(rnn_forward(params, x)[1], h)
    np.testing.assert_allclose(np.linalg.norm(u, axis=1), 1.0)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gated_experiment_shapes_and_keep_gate(cell):
    res = gated_lag_norm_experiment(cell, 3.0, 1.0, T=12, B=4, H=5, D=3, seed=1)
    assert res["norm"].shape == (13,) and res["norms"].shape == (13, 4)
    np.testing.assert_allclose(res["norm"][0], 1.0)
    assert 0.9 < res["keep"] < 1.0                       # sigma(3) = 0.95, roughly
    assert res["keep_product"][0] == 1.0 and np.all(np.diff(res["keep_product"]) < 0)
    low = gated_lag_norm_experiment(cell, -3.0, 1.0, T=12, B=4, H=5, D=3, seed=1)
    assert low["norm"][-1] < res["norm"][-1]             # a closed gate forgets faster


def test_gated_experiment_rnn_is_chapter_5s():
    res = gated_lag_norm_experiment("rnn", rho=0.9, input_scale=0.5, T=10, B=3, H=4, D=2,
                                    seed=2)
    ref = lag_norm_experiment(0.9, 0.5, T=10, B=3, H=4, D=2, seed=2)
    np.testing.assert_array_equal(res["norm"], ref["norm"])


def test_gated_experiment_rejects_bad_arguments():
    with pytest.raises(ValueError, match="cell"):
        gated_lag_norm_experiment("elman")
    with pytest.raises(ValueError, match="keep_bias"):
        gated_lag_norm_experiment("lstm", float("inf"))
