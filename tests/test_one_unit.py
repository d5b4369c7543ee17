"""Tests of bptt.one_unit: the one-unit RNN h_t = tanh(w h_{t-1} + b) and its loss cliff.

Expectations come from the package's RNN (itself tested against autograd),
centred finite differences and hand formulas.
"""
from __future__ import annotations

import numpy as np
import pytest

from bptt.one_unit import (one_unit_cliff, one_unit_descent, one_unit_forward, one_unit_loss,
                           one_unit_params, one_unit_wall)
from bptt.rnn import rnn_backward, rnn_forward


@pytest.mark.parametrize("w, b, T", [(0.5, 0.1, 1), (2.0, -0.5, 7), (-1.3, 0.4, 12),
                                     (2.1, -0.45, 20)])
def test_one_unit_matches_the_package_rnn(w, b, T):
    h0, target = 0.5, 0.7
    params = one_unit_params(w, b)
    x = np.zeros((T, 1, 1))
    y, h = rnn_forward(params, x, np.array([[h0]]))
    dy = np.zeros_like(y)
    dy[-1] = 2 * (y[-1] - target)        # L = (y_T - target)^2 and y_T = h_T
    grads = rnn_backward(params, x, h, dy)
    h_T, _, _ = one_unit_forward(w, b, T=T, h0=h0)
    loss, gw, gb = one_unit_loss(w, b, T=T, h0=h0, target=target)
    np.testing.assert_allclose(h_T, h[-1, 0, 0], rtol=1e-13)
    np.testing.assert_allclose(loss, (h[-1, 0, 0] - target) ** 2, rtol=1e-12)
    np.testing.assert_allclose(gw, grads["W_hh"][0, 0], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(gb, grads["b_h"][0], rtol=1e-10, atol=1e-14)


def test_one_unit_loss_matches_finite_differences_on_a_grid():
    W, B = np.meshgrid(np.linspace(-1, 3, 7), np.linspace(-1, 1, 5))
    eps = 1e-6
    _, gw, gb = one_unit_loss(W, B, T=8)
    num_w = (one_unit_loss(W + eps, B, T=8)[0] - one_unit_loss(W - eps, B, T=8)[0]) / (2 * eps)
    num_b = (one_unit_loss(W, B + eps, T=8)[0] - one_unit_loss(W, B - eps, T=8)[0]) / (2 * eps)
    np.testing.assert_allclose(gw, num_w, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gb, num_b, rtol=1e-6, atol=1e-8)
    assert gw.shape == (5, 7)


def test_one_unit_broadcasts_a_number_against_an_array():
    w = np.linspace(0, 2, 4)
    loss, _, _ = one_unit_loss(w, 0.2, T=3)
    for i, wi in enumerate(w):
        assert loss[i] == pytest.approx(float(one_unit_loss(wi, 0.2, T=3)[0]))


@pytest.mark.parametrize("w", [1.5, 2.5, 3.0])
def test_wall_is_a_fixed_point_with_exploding_derivative(w):
    h0 = 0.5
    b = float(one_unit_wall(w, h0=h0))
    assert np.tanh(w * h0 + b) == pytest.approx(h0, abs=1e-14)
    s = 1 - h0 ** 2
    for T in (3, 10):
        _, _, dh_db = one_unit_forward(w, b, T=T, h0=h0)
        want = s * sum((w * s) ** j for j in range(T))
        assert float(dh_db) == pytest.approx(want, rel=1e-6)


@pytest.mark.parametrize("h0", [0.5, -0.3])
def test_cliff_is_the_wall_where_the_state_runs_away(h0):
    b = np.linspace(-2.0, 2.0, 41)
    w = one_unit_cliff(b, h0=h0)
    s = 1 - h0 ** 2
    inverse = (np.arctanh(h0) - b) / h0          # the whole wall, by hand
    on = np.isfinite(w)
    assert on.any() and (~on).any()
    np.testing.assert_allclose(w[on], inverse[on], rtol=1e-14)
    np.testing.assert_allclose(one_unit_wall(w[on], h0=h0), b[on], atol=1e-12)
    assert np.all(inverse[on] * s > 1) and np.all(inverse[~on] * s <= 1)
    # Across the cliff h_T jumps: just left and right of it the state runs to
    # opposite attractors.
    w_c, b_c = w[on][0], b[on][0]
    left, _, _ = one_unit_forward(w_c, b_c - 1e-3, T=200, h0=h0)
    right, _, _ = one_unit_forward(w_c, b_c + 1e-3, T=200, h0=h0)
    assert float(left) * float(right) < 0 and abs(float(left - right)) > 1


def test_descent_without_clipping_is_plain_gradient_descent():
    lr, T = 0.3, 10
    r = one_unit_descent(2.0, 0.0, lr=lr, n_steps=5, T=T)
    assert r["path"].shape == (6, 2) and r["loss"].shape == (6,) and r["grad_norm"].shape == (5,)
    for i in range(5):
        loss, gw, gb = one_unit_loss(*r["path"][i], T=T)
        np.testing.assert_allclose(r["path"][i + 1], r["path"][i] - lr * np.array([gw, gb]))
        assert r["loss"][i] == pytest.approx(float(loss))
        assert r["grad_norm"][i] == pytest.approx(float(np.hypot(gw, gb)))


def test_clipped_descent_keeps_direction_and_caps_the_step():
    lr, c = 0.5, 0.05
    r = one_unit_descent(2.5, -0.5, lr=lr, n_steps=30, T=20, clip_norm=c)
    assert np.all(r["step"] <= lr * c * (1 + 1e-9))
    for i in range(30):
        _, gw, gb = one_unit_loss(*r["path"][i], T=20)
        d = r["path"][i] - r["path"][i + 1]
        g = np.array([gw, gb])
        # parallel and same sense: the cosine is 1
        assert d @ g / (np.linalg.norm(d) * np.linalg.norm(g)) == pytest.approx(1.0, abs=1e-12)


def test_value_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"w and b must have the same shape.*\(3,\).*\(2,\)"):
        one_unit_loss(np.ones(3), np.ones(2), T=2)
    with pytest.raises(ValueError, match=r"h0 must satisfy \|h0\| < 1"):
        one_unit_wall(2.0, h0=1.0)
    with pytest.raises(ValueError, match=r"h0 must satisfy 0 < \|h0\| < 1"):
        one_unit_cliff(0.0, h0=0.0)
    with pytest.raises(ValueError, match="T must be >= 1"):
        one_unit_forward(1.0, 0.0, T=0)
    with pytest.raises(ValueError, match="clip_norm must be a finite number > 0"):
        one_unit_descent(1.0, 0.0, lr=0.1, n_steps=1, T=2, clip_norm=0.0)
    with pytest.raises(ValueError, match="b contains NaN"):
        one_unit_params(1.0, np.nan)


def test_type_errors_name_the_argument():
    with pytest.raises(TypeError, match="w must be a real number"):
        one_unit_loss([1.0], 0.0, T=2)
    with pytest.raises(TypeError, match="target must be a real number"):
        one_unit_loss(1.0, 0.0, T=2, target="0.7")
    with pytest.raises(TypeError, match="b must have a floating-point dtype"):
        one_unit_forward(1.0, np.zeros(2, dtype=int), T=2)
