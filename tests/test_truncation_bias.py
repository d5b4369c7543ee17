"""Tests of bptt.truncation_bias: the paths each scheme keeps, and the bias measured."""
from __future__ import annotations

import numpy as np
import pytest

from bptt.lstm import LSTM
from bptt.rnn import RNN, init_rnn, rnn_backward, rnn_forward
from bptt.spectral import with_spectral_radius
from bptt.tbptt import tbptt_gradients
from bptt.truncation import truncation_reach
from bptt.truncation_bias import (bias_problem, delayed_echo, depth_range, gradient_agreement,
                                  scheme_reach, truncation_bias)


@pytest.mark.parametrize("T,k", [(12, 4), (12, 3), (6, 6), (8, 1), (1, 1)])
def test_bptt_k_k_is_truncate_k_when_k_divides_T(T, k):
    assert np.array_equal(scheme_reach(T, k, k), truncation_reach(T, k))


def test_full_is_the_lower_triangle():
    assert np.array_equal(scheme_reach(7), np.tril(np.ones((7, 7), bool)))


@pytest.mark.parametrize("T,k1,k2", [(12, 3, 6), (13, 2, 5), (10, 4, 4), (9, 1, 3)])
def test_reach_of_each_loss_is_measured_by_tbptt(T, k1, k2):
    # The loss at step t alone: its BPTT(k2; k1) gradient of W_xh is the sum of
    # the step terms delta_s x_s^T over the steps it reaches, each seen by
    # giving step s alone a nonzero input (all others zero).
    rng = np.random.default_rng(0)
    p = init_rnn(1, 3, 2, seed=1)
    reach = scheme_reach(T, k1, k2)
    for t in range(1, T + 1):
        dy = np.zeros((T, 1, 2))
        dy[t - 1] = rng.standard_normal((1, 2))
        for s in range(1, T + 1):
            x = np.zeros((T, 1, 1))
            x[s - 1] = 1.0
            g = sum(d["W_xh"] for d in tbptt_gradients(p, x, dy, k1, k2))
            assert (np.abs(g).max() > 0) == reach[t - 1, s - 1], (t, s)


def test_depths_far_from_the_start():
    reach = scheme_reach(30, 3, 7)
    depths = reach.sum(axis=1)[7:]
    assert (depths.min(), depths.max()) == depth_range(3, 7) == (5, 7)


def test_bad_k():
    with pytest.raises(ValueError, match="k2"):
        scheme_reach(10, 4, 2)
    with pytest.raises(ValueError, match="both"):
        scheme_reach(10, 4, None)


def test_gradient_agreement():
    g = {"a": np.array([1.0, 0.0]), "b": np.array([[0.0]])}
    assert gradient_agreement(g, g) == (1.0, 0.0)
    c, e = gradient_agreement({"a": np.array([0.0, 1.0]), "b": np.zeros((1, 1))}, g)
    assert c == 0.0 and np.isclose(e, np.sqrt(2))
    with pytest.raises(ValueError, match="zero"):
        gradient_agreement(g, {"a": np.zeros(2), "b": np.zeros((1, 1))})


@pytest.mark.parametrize("model", [RNN, LSTM])
def test_bias_vanishes_at_k_T_and_shrinks_with_k(model):
    problem = bias_problem(model, T=32, B=4, H=8, seed=3)
    r = truncation_bias(model, *problem, [1, 4, 32], keys=("W_xh", "W_hh", "b_h"))
    assert r["rel_error"][-1] == 0 and r["cosine"][-1] == pytest.approx(1.0)
    assert r["rel_error"][0] > r["rel_error"][1] > 0


def test_bias_problem_prepare_and_shapes():
    p, x, h, dy = bias_problem(RNN, T=5, B=2, D=3, H=4, O=2,
                               prepare=lambda q: with_spectral_radius(q, 0.7))
    assert x.shape == (5, 2, 3) and h.shape == (6, 2, 4) and dy.shape == (5, 2, 2)
    assert np.isclose(np.abs(np.linalg.eigvals(p["W_hh"])).max(), 0.7)
    _, h2 = rnn_forward(p, x)
    np.testing.assert_array_equal(h, h2)
    rnn_backward(p, x, h, dy)


def test_delayed_echo():
    x, target, mask = delayed_echo(10, 3, 4, seed=0)
    np.testing.assert_array_equal(target[4:], x[:-4])
    assert not target[:4].any() and mask[:4].sum() == 0 and mask[4:].all()
    with pytest.raises(ValueError, match="delay"):
        delayed_echo(4, 1, 4)
