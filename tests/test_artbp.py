"""Tests for bptt.artbp: randomly truncated BPTT with compensation, unbiased."""
from __future__ import annotations

import numpy as np
import pytest

from autograd_rnn import random_problem
from bptt.artbp import _backward, artbp_backward, check_truncation_prob, draw_factors
from bptt.rnn import PARAM_KEYS, rnn_backward, rnn_forward

KEYS = (*PARAM_KEYS, "x", "h0")


def problem(T=5, B=2, D=3, H=4, O=2, seed=0):
    params, x, h0, w = random_problem(T, B, D, H, O, seed=seed)
    _, h = rnn_forward(params, x, h0)
    return params, x, h, w


@pytest.mark.parametrize("T, B", [(1, 1), (5, 2), (7, 3)])
@pytest.mark.parametrize("prob", [0, 0.0, "zeros"])
def test_probability_zero_is_rnn_backward_exactly(T, B, prob):
    params, x, h, w = problem(T, B, seed=T)
    c = np.zeros(T - 1) if prob == "zeros" else prob
    got = artbp_backward(params, x, h, w, truncation_prob=c, rng=3)
    want = rnn_backward(params, x, h, w)
    assert list(got) == list(want)
    for key in KEYS:
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_factors_of_zero_are_truncation(k):
    # xi[t-1] = 0 cuts the gradient into h_t: zeros at t = k, 2k, ... is truncate=k.
    T = 7
    params, x, h, w = problem(T, seed=k)
    xi = np.array([0.0 if t % k == 0 else 1.0 for t in range(1, T)])
    got = _backward(params, x, h, w, xi)
    want = rnn_backward(params, x, h, w, truncate=k)
    for key in KEYS:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-13, atol=1e-14, err_msg=key)


def test_one_boundary_is_cut_or_doubled():
    # c = 0.5 only at the boundary into h_3 (entry 2): each draw is either the
    # gradient with h_3 detached (A) or A + 2 C, where C = full - A crosses it.
    T = 5
    params, x, h, w = problem(T, seed=2)
    full = rnn_backward(params, x, h, w)
    cut = rnn_backward(params, x, h, w, truncate=3)          # detaches h_3 only
    seen = set()
    rng = np.random.default_rng(0)
    for _ in range(20):
        g = artbp_backward(params, x, h, w, truncation_prob=np.array([0, 0, 0.5, 0]), rng=rng)
        if np.allclose(g["W_hh"], cut["W_hh"], rtol=1e-12, atol=1e-14):
            seen.add("cut")
        else:
            np.testing.assert_allclose(g["W_hh"], 2 * full["W_hh"] - cut["W_hh"], rtol=1e-11)
            seen.add("kept")
    assert seen == {"cut", "kept"}


def mean_and_stderr(params, x, h, w, estimator, n, seed):
    rng = np.random.default_rng(seed)
    draws = {key: [] for key in KEYS}
    for _ in range(n):
        g = estimator(params, x, h, w, rng)
        for key in KEYS:
            draws[key].append(g[key])
    stats = {}
    for key in KEYS:
        a = np.array(draws[key])
        stats[key] = (a.mean(axis=0), a.std(axis=0, ddof=1) / np.sqrt(n))
    return stats


def far_from(stats, full, z=5.0):
    """Keys whose mean is further than z standard errors from the full gradient somewhere."""
    bad = []
    for key in KEYS:
        mean, se = stats[key]
        scale = np.max(np.abs(full[key]))
        if np.any(np.abs(mean - full[key]) > z * se + 1e-12 * scale):
            bad.append(key)
    return bad


C = np.array([0.3, 0.5, 0.2, 0.6, 0.4])


def artbp(params, x, h, w, rng):
    return artbp_backward(params, x, h, w, truncation_prob=C, rng=rng)


def uncompensated(params, x, h, w, rng):
    # A mutant: cut at random but never compensate; biased towards short paths.
    xi = (rng.random(C.shape) >= C).astype(float)
    return _backward(params, x, h, w, xi)


def test_mean_of_draws_is_the_full_gradient():
    params, x, h, w = problem(T=6, B=1, D=2, H=3, O=2, seed=4)
    full = rnn_backward(params, x, h, w)
    stats = mean_and_stderr(params, x, h, w, artbp, n=4000, seed=11)
    assert far_from(stats, full) == [], {k: (stats[k][0], full[k]) for k in far_from(stats, full)}
    # the test has power: the spread is real, and the uncompensated mutant fails it
    assert np.all(stats["W_hh"][1] > 0)
    mutant = mean_and_stderr(params, x, h, w, uncompensated, n=4000, seed=11)
    assert {"W_hh", "W_xh", "b_h"} <= set(far_from(mutant, full))


def test_draw_factors_mean_one():
    c = np.array([0.0, 0.25, 0.75])
    xi = np.array([draw_factors(c, np.random.default_rng(s)) for s in range(2000)])
    assert set(np.unique(xi[:, 1])) == {0.0, 4 / 3}
    np.testing.assert_array_equal(xi[:, 0], 1.0)
    se = xi.std(axis=0, ddof=1)[1:] / np.sqrt(len(xi))
    assert np.all(np.abs(xi.mean(axis=0)[1:] - 1) < 5 * se)


def test_seed_and_generator_agree():
    params, x, h, w = problem(seed=6)
    a = artbp_backward(params, x, h, w, truncation_prob=0.5, rng=7)
    b = artbp_backward(params, x, h, w, truncation_prob=0.5, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a["W_hh"], b["W_hh"])


@pytest.mark.parametrize("prob, exc, words", [
    (1.0, ValueError, ["truncation_prob must be in [0, 1)", "c_1 = 1.0"]),
    (-0.1, ValueError, ["truncation_prob must be in [0, 1)"]),
    (float("nan"), ValueError, ["truncation_prob must be in [0, 1)"]),
    (np.array([0.1, 0.2, 1.5, 0.0]), ValueError, ["c_3 = 1.5"]),
    (np.array([0.1, 0.2]), ValueError, ["truncation_prob must have shape (T-1,) = (4,)",
                                        "got (2,)"]),
    (np.zeros((4, 1)), ValueError, ["truncation_prob must have shape (T-1,) = (4,)"]),
    ([0.1] * 4, TypeError, ["truncation_prob must be a number in [0, 1) or an array", "list"]),
    (True, TypeError, ["truncation_prob must be a number"]),
])
def test_rejects_bad_probabilities(prob, exc, words):
    params, x, h, w = problem(T=5)
    with pytest.raises(exc) as info:
        artbp_backward(params, x, h, w, truncation_prob=prob, rng=0)
    for word in words:
        assert word in str(info.value), str(info.value)


@pytest.mark.parametrize("rng, exc, words", [
    (None, TypeError, ["rng must be a numpy.random.Generator or an int seed", "NoneType"]),
    (1.5, TypeError, ["rng must be"]),
    (-1, ValueError, ["rng must be >= 0"]),
])
def test_rejects_bad_rng(rng, exc, words):
    params, x, h, w = problem(T=3)
    with pytest.raises(exc) as info:
        artbp_backward(params, x, h, w, truncation_prob=0.2, rng=rng)
    for word in words:
        assert word in str(info.value)


def test_keyword_only_and_shapes_checked():
    params, x, h, w = problem(T=3)
    with pytest.raises(TypeError):
        artbp_backward(params, x, h, w, 0.2, 0)
    with pytest.raises(ValueError, match=r"dy must have shape"):
        artbp_backward(params, x, h, w[:2], truncation_prob=0.2, rng=0)


def test_check_truncation_prob_broadcasts_a_number():
    np.testing.assert_array_equal(check_truncation_prob(0.25, 4), [0.25, 0.25, 0.25])
    assert check_truncation_prob(0.5, 1).shape == (0,)
