"""Tests of bptt.dynamics.

Expectations come from autograd (an independent column-vector RNN written
here, one sequence at a time), centred finite differences, hand formulas, or
bptt.rnn.rnn_backward (itself tested against autograd in test_rnn.py).
"""
from __future__ import annotations

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from autograd_rnn import random_problem, rel_error
from bptt.dynamics import (apply_jacobian, apply_jacobian_transpose, gradient_norm_by_lag,
                           jacobian_bound, jacobian_norms_by_lag, jacobian_product,
                           lag_norm_experiment, last_step_gradients, matrix_power_norms,
                           random_rnn_states, recurrent_matrix, step_jacobians)
from bptt.rnn import rnn_backward, rnn_forward
from bptt.spectral import spectral_norm, spectral_radius

# (T, B, D, H): sizes that differ, and the T = 1, B = 1 edges.
SHAPES = [(5, 2, 3, 4), (1, 1, 2, 3), (4, 3, 1, 2)]


def problem(T, B, D, H, seed=0, dtype=np.float64):
    """Random params (O = 2), inputs, a nonzero h0 and the forward states."""
    params, x, h0, _ = random_problem(T, B, D, H, 2, seed=seed, dtype=dtype)
    _, h = rnn_forward(params, x, h0)
    return params, x, h0, h


def states_from(params, x, b, k, t):
    """h_t as a function of h_k for sequence b, column vectors, in autograd."""
    def run(h_k):
        h = h_k
        for j in range(k + 1, t + 1):
            h = anp.tanh(anp.dot(params["W_hh"], h) + anp.dot(params["W_xh"], x[j - 1, b])
                         + params["b_h"])
        return h
    return run


# ------------------------------------------------------------------ Jacobians

@pytest.mark.parametrize("T, B, D, H", SHAPES)
def test_step_jacobians_match_autograd(T, B, D, H):
    params, x, _, h = problem(T, B, D, H, seed=1)
    J = step_jacobians(params, h)
    assert J.shape == (T, B, H, H)
    for t in range(1, T + 1):
        for b in range(B):
            want = autograd.jacobian(states_from(params, x, b, t - 1, t))(h[t - 1, b])
            np.testing.assert_allclose(J[t - 1, b], want, rtol=1e-12, atol=1e-14,
                                       err_msg=f"J_{t} for sequence {b}")


@pytest.mark.parametrize("T, B, D, H", SHAPES)
def test_jacobian_product_matches_autograd_for_every_pair(T, B, D, H):
    params, x, _, h = problem(T, B, D, H, seed=2)
    for t in range(T + 1):
        for k in range(t + 1):
            P = jacobian_product(params, h, t, k)
            assert P.shape == (B, H, H)
            for b in range(B):
                want = autograd.jacobian(states_from(params, x, b, k, t))(h[k, b])
                np.testing.assert_allclose(P[b], want, rtol=1e-11, atol=1e-13,
                                           err_msg=f"dh_{t}/dh_{k}, sequence {b}")


def test_jacobian_product_matches_finite_differences():
    T, B, D, H = 6, 2, 3, 4
    params, x, _, h = problem(T, B, D, H, seed=3)
    t, k, eps = 6, 2, 1e-6
    P = jacobian_product(params, h, t, k)
    for b in range(B):
        run = states_from(params, x, b, k, t)
        num = np.empty((H, H))
        for j in range(H):
            e = np.zeros(H)
            e[j] = eps
            num[:, j] = (run(h[k, b] + e) - run(h[k, b] - e)) / (2 * eps)
        assert rel_error(P[b], num) < 1e-8, (P[b], num)


def test_jacobian_product_order_matters():
    """Later steps on the left: the reversed product is a different matrix here."""
    params, _, _, h = problem(3, 1, 2, 3, seed=4)
    J = step_jacobians(params, h)
    right = J[2, 0] @ J[1, 0] @ J[0, 0]
    wrong = J[0, 0] @ J[1, 0] @ J[2, 0]
    P = jacobian_product(params, h, 3, 0)[0]
    np.testing.assert_allclose(P, right, rtol=1e-12)
    assert rel_error(P, wrong) > 1e-3


@pytest.mark.parametrize("T, B, D, H", SHAPES)
def test_jacobian_norms_by_lag_are_the_norms_of_the_products(T, B, D, H):
    params, _, _, h = problem(T, B, D, H, seed=8)
    norms = jacobian_norms_by_lag(params, h)
    assert norms.shape == (T + 1, B)
    for tau in range(T + 1):
        P = jacobian_product(params, h, T, T - tau)
        want = [np.linalg.svd(P[b], compute_uv=False)[0] for b in range(B)]
        np.testing.assert_allclose(norms[tau], want, rtol=1e-12)


def test_jacobian_product_is_identity_when_t_equals_k():
    params, _, _, h = problem(3, 2, 2, 4)
    np.testing.assert_array_equal(jacobian_product(params, h, 2, 2),
                                  np.broadcast_to(np.eye(4), (2, 4, 4)))


def test_float32_is_preserved():
    params, x, h0, h = problem(4, 2, 3, 5, dtype=np.float32)
    assert step_jacobians(params, h).dtype == np.float32
    assert jacobian_product(params, h, 4, 1).dtype == np.float32
    assert last_step_gradients(params, h, np.ones((2, 5), np.float32)).dtype == np.float32
    p64, _, _, h64 = problem(4, 2, 3, 5)
    np.testing.assert_allclose(jacobian_product(params, h, 4, 1), jacobian_product(p64, h64, 4, 1),
                               rtol=1e-4, atol=1e-5)


# ---------------------------------------------- gradient of a loss at the last step

@pytest.mark.parametrize("T, B, D, H", SHAPES)
def test_last_step_gradients_equal_rnn_backward(T, B, D, H):
    """rnn_backward with an identity read-out and dy only at step T gives dL/dh_t = dh[t]."""
    params, x, h0, h = problem(T, B, D, H, seed=5)
    rng = np.random.default_rng(0)
    dh_T = rng.standard_normal((B, H))
    readout = dict(params, W_hy=np.eye(H), b_y=np.zeros(H))
    dy = np.zeros((T, B, H))
    dy[-1] = dh_T                      # dL/dh_T = W_hy^T dy_T = dh_T
    want = rnn_backward(readout, x, h, dy, return_dh=True)["h"]
    np.testing.assert_allclose(last_step_gradients(params, h, dh_T), want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("T, B, D, H", SHAPES)
def test_last_step_gradients_match_autograd_and_the_transposed_product(T, B, D, H):
    params, x, _, h = problem(T, B, D, H, seed=6)
    u = np.random.default_rng(1).standard_normal((B, H))
    dh = last_step_gradients(params, h, u)
    for t in range(T + 1):
        for b in range(B):
            run = states_from(params, x, b, t, T)
            want = autograd.grad(lambda v: anp.dot(u[b], run(v)))(h[t, b])
            np.testing.assert_allclose(dh[t, b], want, rtol=1e-11, atol=1e-13)
        # dL/dh_t = (dh_T/dh_t)^T dL/dh_T, for every sequence at once.
        P = jacobian_product(params, h, T, t)
        np.testing.assert_allclose(dh[t], np.einsum("bij,bi->bj", P, u), rtol=1e-11, atol=1e-13)


def test_gradient_norm_by_lag_is_indexed_by_lag():
    T, B, D, H = 5, 3, 2, 4
    params, _, _, h = problem(T, B, D, H, seed=7)
    u = np.random.default_rng(2).standard_normal((B, H))
    norms = gradient_norm_by_lag(params, h, u)
    dh = last_step_gradients(params, h, u)
    assert norms.shape == (T + 1, B)
    for tau in range(T + 1):
        np.testing.assert_allclose(norms[tau], np.sqrt(np.sum(dh[T - tau] ** 2, axis=1)))
    np.testing.assert_allclose(norms[0], np.linalg.norm(u, axis=1))


# ------------------------------------------------------------ the bound

@pytest.mark.parametrize("scale", [0.5, 1.0, 3.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_products_never_exceed_the_bound(scale, seed):
    T, B, D, H = 8, 3, 2, 5
    params, x, h0, _ = problem(T, B, D, H, seed=seed)
    params = dict(params, W_hh=scale * params["W_hh"])
    _, h = rnn_forward(params, x, h0)
    sigma = np.linalg.svd(params["W_hh"], compute_uv=False)[0]
    for k in range(T + 1):
        bound = jacobian_bound(params["W_hh"], T - k)
        np.testing.assert_allclose(bound, sigma ** (T - k), rtol=1e-12)
        norms = np.linalg.norm(jacobian_product(params, h, T, k), ord=2, axis=(1, 2))
        assert np.all(norms <= bound * (1 + 1e-12)), (k, norms, bound)


def test_bound_by_hand_and_gamma():
    W = np.diag([2.0, 0.5])
    np.testing.assert_allclose(jacobian_bound(W, np.arange(4)), [1, 2, 4, 8])
    np.testing.assert_allclose(jacobian_bound(W, 3, gamma=0.25), 0.5 ** 3)


def test_bound_is_tight_for_a_linear_regime_diagonal_matrix():
    """h = 0, no input, no bias: every slope is 1 and the product is W^tau exactly."""
    H, T = 3, 6
    W = np.diag([1.5, -0.4, 0.2])
    params = {"W_xh": np.zeros((H, 1)), "W_hh": W, "b_h": np.zeros(H),
              "W_hy": np.zeros((1, H)), "b_y": np.zeros(1)}
    _, h = rnn_forward(params, np.zeros((T, 1, 1)))
    P = jacobian_product(params, h, T, 0)[0]
    np.testing.assert_allclose(np.linalg.norm(P, 2), jacobian_bound(W, T), rtol=1e-12)


def test_matrix_power_norms():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((4, 4)) / 2
    norms = matrix_power_norms(W, 6)
    want = [np.linalg.norm(np.linalg.matrix_power(W, n), 2) for n in range(7)]
    np.testing.assert_allclose(norms, want, rtol=1e-12)


def test_orthogonal_powers_keep_norm_one():
    Q = recurrent_matrix(6, 1.0, kind="orthogonal", seed=3)
    np.testing.assert_allclose(matrix_power_norms(Q, 50), 1.0, rtol=1e-12)


def test_non_normal_matrix_grows_before_it_decays_like_rho():
    """sigma_max > 1 > rho: transient growth, then the rate rho (Gelfand's formula)."""
    W = np.array([[0.9, 3.0], [0.0, 0.8]])
    assert spectral_norm(W) > 1 > spectral_radius(W) == pytest.approx(0.9)
    norms = matrix_power_norms(W, 400)
    assert norms[3] > 1.0 and norms[400] < 1e-15
    assert norms[400] / norms[399] == pytest.approx(0.9, rel=1e-2)


# ------------------------------------------------------------ the experiment

@pytest.mark.parametrize("kind", ["gaussian", "orthogonal"])
@pytest.mark.parametrize("rho", [0.5, 1.7])
def test_recurrent_matrix(kind, rho):
    W = recurrent_matrix(7, rho, kind=kind, seed=2)
    assert W.shape == (7, 7)
    assert spectral_radius(W) == pytest.approx(rho, rel=1e-10)
    if kind == "orthogonal":
        np.testing.assert_allclose(W.T @ W, rho ** 2 * np.eye(7), atol=1e-12)
        assert spectral_norm(W) == pytest.approx(rho, rel=1e-12)
    else:
        assert spectral_norm(W) > 1.2 * rho     # non-normal


def test_lag_norm_experiment_reports_and_obeys_the_bound():
    res = lag_norm_experiment(0.8, 1.0, T=30, B=4, H=8, D=3, kind="orthogonal", seed=1)
    assert res["norms"].shape == (31, 4) and res["norm"].shape == (31,)
    np.testing.assert_array_equal(res["lag"], np.arange(31))
    np.testing.assert_allclose(res["norm"][0], 1.0)            # u has unit length
    np.testing.assert_allclose(res["norm"], np.exp(np.log(res["norms"]).mean(axis=1)))
    assert res["rho"] == pytest.approx(0.8) and res["sigma_max"] == pytest.approx(0.8)
    assert np.all(res["norms"] <= 0.8 ** res["lag"][:, None] * (1 + 1e-10))
    assert 0 < res["slope"] < 1


def test_lag_norm_experiment_saturation_makes_gradients_vanish():
    """sigma_max = rho = 1.5 (orthogonal): small inputs explode, large inputs vanish."""
    small = lag_norm_experiment(1.5, 0.01, T=60, B=8, H=32, kind="orthogonal")
    large = lag_norm_experiment(1.5, 3.0, T=60, B=8, H=32, kind="orthogonal")
    assert small["norm"][-1] > 10 and large["norm"][-1] < 1e-6
    assert large["slope"] < small["slope"]


def test_lag_norm_experiment_is_deterministic():
    a = lag_norm_experiment(1.1, 0.5, T=10, B=2, H=4, seed=3)
    b = lag_norm_experiment(1.1, 0.5, T=10, B=2, H=4, seed=3)
    np.testing.assert_array_equal(a["norms"], b["norms"])


# ------------------------------------------------------------ the Jacobian, written once

@pytest.mark.parametrize("T, B, D, H", SHAPES)
def test_the_products_with_J_are_the_matrix_products(T, B, D, H):
    # J_t v (forward, Lyapunov) and J_t^T u (backward, BPTT) without forming J_t.
    params, _, _, h = problem(T, B, D, H, seed=9)
    J = step_jacobians(params, h)                          # (T, B, H, H)
    rng = np.random.default_rng(2)
    for t in range(1, T + 1):
        v, u = rng.standard_normal((B, H)), rng.standard_normal((B, H))
        np.testing.assert_allclose(apply_jacobian(params["W_hh"], h[t], v),
                                   np.einsum("bij,bj->bi", J[t - 1], v), rtol=1e-13)
        np.testing.assert_allclose(apply_jacobian_transpose(params["W_hh"], h[t], u),
                                   np.einsum("bji,bj->bi", J[t - 1], u), rtol=1e-13)


# ------------------------------------------------------------ bad input

def test_value_errors_name_the_argument():
    params, _, _, h = problem(3, 2, 2, 4)
    with pytest.raises(ValueError, match=r"need 0 <= k <= t <= T = 3, got t = 2, k = 3"):
        jacobian_product(params, h, 2, 3)
    with pytest.raises(ValueError, match=r"got t = 4"):
        jacobian_product(params, h, 4, 0)
    with pytest.raises(ValueError, match=r"h must have shape \(T\+1, B, H\) = \(\?, \?, 4\)"):
        step_jacobians(params, h[..., :3])
    with pytest.raises(ValueError, match="outside"):
        step_jacobians(params, 2 * h)
    with pytest.raises(ValueError, match=r"dh_T must have shape \(B, H\) = \(2, 4\), got \(3, 4\)"):
        last_step_gradients(params, h, np.ones((3, 4)))
    with pytest.raises(ValueError, match="lags must be integers >= 0"):
        jacobian_bound(params["W_hh"], -1)
    with pytest.raises(ValueError, match="kind must be 'gaussian' or 'orthogonal'"):
        recurrent_matrix(3, 1.0, kind="uniform")
    with pytest.raises(ValueError, match=r"W must be square, shape \(H, H\), got \(2, 3\)"):
        matrix_power_norms(np.ones((2, 3)), 2)
    with pytest.raises(ValueError, match=r"W_hh must be square"):
        random_rnn_states(np.ones((2, 3)))


def test_type_errors_name_the_argument():
    params, _, _, h = problem(3, 2, 2, 4)
    with pytest.raises(TypeError, match="t must be an int"):
        jacobian_product(params, h, 2.0, 0)
    with pytest.raises(TypeError, match="h must have dtype float64"):
        last_step_gradients(params, h.astype(np.float32), np.ones((2, 4)))
    with pytest.raises(TypeError, match="W must be a numpy array"):
        matrix_power_norms([[1.0]], 2)


def test_random_rnn_states_runs_the_given_matrix():
    W = recurrent_matrix(5, 1.2, seed=4)
    params, h = random_rnn_states(W, 0.3, T=7, B=2, D=3, seed=1)
    assert h.shape == (8, 2, 5)
    np.testing.assert_array_equal(params["W_hh"], W)
    np.testing.assert_array_equal(h[0], 0.0)
    rng = np.random.default_rng(1)
    W_xh = 0.3 * rng.standard_normal((5, 3)) / np.sqrt(3)
    x = rng.standard_normal((7, 2, 3))
    h_t = np.zeros((2, 5))
    for t in range(7):                 # the recurrence, written out
        h_t = np.tanh(h_t @ W.T + x[t] @ W_xh.T)
    np.testing.assert_allclose(h[-1], h_t, rtol=1e-12)
