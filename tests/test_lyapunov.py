"""Tests of bptt.lyapunov.

Expectations come from exact cases (a diagonal W_hh at the fixed point 0, a
one-unit map with a fixed point or a 2-cycle found by bisection), from
bptt.dynamics.jacobian_product (itself tested against autograd), from
centred finite differences of the map, from an independent two-trajectory
estimate written here with column vectors, and from bptt.spectral.
"""
from __future__ import annotations

import numpy as np
import pytest

from bptt.dynamics import jacobian_product
from bptt.lyapunov import (REGIMES, find_period, long_run_regime, lyapunov_exponent,
                           regimes_by_radius, tangent_log_growth)
from bptt.rnn import init_rnn, rnn_forward
from bptt.spectral import spectral_norm, spectral_radius, with_spectral_radius


def params_with(W_hh, b_h=None, D=1):
    """RNN parameters with a given W_hh (and b_h), a random W_xh, O = 1."""
    H = W_hh.shape[0]
    rng = np.random.default_rng(123)
    return {"W_xh": rng.standard_normal((H, D)), "W_hh": np.array(W_hh, dtype=float),
            "b_h": np.zeros(H) if b_h is None else np.array(b_h, dtype=float),
            "W_hy": np.ones((1, H)), "b_y": np.zeros(1)}


def one_unit(w, b=0.0):
    return params_with(np.array([[w]]), [b])


def root(f, lo, hi, n=200):
    """The root of f in [lo, hi] by bisection (f(lo), f(hi) of opposite signs)."""
    assert f(lo) * f(hi) < 0
    for _ in range(n):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if f(lo) * f(mid) > 0 else (lo, mid)
    return 0.5 * (lo + hi)


def driven_problem(T=30, B=2, D=3, H=5, seed=0, scale=1.5):
    """A driven RNN away from its linear regime, its inputs, h0 and states."""
    params = init_rnn(D, H, 2, seed=seed)
    params["W_hh"] *= scale
    rng = np.random.default_rng(seed + 10)
    params["b_h"] = 0.3 * rng.standard_normal(H)
    x = rng.standard_normal((T, B, D))
    h0 = 0.5 * rng.standard_normal((B, H))
    _, h = rnn_forward(params, x, h0)
    return params, x, h0, h, rng.standard_normal((B, H))


# ---------------------------------------------------------------- exact cases

def test_diagonal_at_zero_gives_log_of_largest_weight():
    w = np.array([0.5, -0.2, 0.3, -0.45])
    params = params_with(np.diag(w))
    lam = lyapunov_exponent(params, h0=np.zeros((2, 4)), T=500, burn_in=300)
    assert lam.shape == (2,)
    # tanh'(0) = 1, so J_t = diag(w) at every step: the growth is max |w| once the
    # tangent vector is aligned (its other components shrink like (0.45/0.5)^t).
    np.testing.assert_allclose(lam, np.log(0.5), rtol=1e-12)


def test_diagonal_from_a_random_start_decays_to_zero_at_the_same_rate():
    w = np.array([0.5, -0.2, 0.3, -0.45])
    res = long_run_regime(params_with(np.diag(w)), B=3, T=600, burn_in=300, max_period=20)
    assert list(res["regime"]) == ["zero"] * 3
    assert list(res["period"]) == [1, 1, 1]
    np.testing.assert_allclose(res["exponent"], np.log(0.5), rtol=1e-10)
    assert np.all(res["mean_abs_h"] < 1e-30)


@pytest.mark.parametrize("rho", [0.7, 1.3])
def test_at_the_zero_fixed_point_the_exponent_is_log_spectral_radius(rho):
    # h0 = 0, no input, b_h = 0: the state stays at 0, where J = W_hh (stable or not).
    params = with_spectral_radius(init_rnn(2, 6, 1, seed=3), rho)
    lam = lyapunov_exponent(params, h0=np.zeros((1, 6)), T=4000, burn_in=200)
    np.testing.assert_allclose(lam, np.log(spectral_radius(params["W_hh"])), atol=2e-3)
    res = long_run_regime(params, h0=np.zeros((1, 6)), T=600, burn_in=300)
    assert res["regime"][0] == "zero"       # an unstable fixed point is still where it stays
    assert (res["exponent"][0] > 0) == (rho > 1)


def test_one_unit_fixed_point():
    w, b = 0.5, 0.5
    h_star = root(lambda h: np.tanh(w * h + b) - h, 0.0, 1.0)
    res = long_run_regime(one_unit(w, b), B=2, T=500, burn_in=200, max_period=10)
    assert list(res["regime"]) == ["fixed point"] * 2
    np.testing.assert_allclose(res["h_last"], h_star, rtol=1e-12)
    np.testing.assert_allclose(res["mean_abs_h"], h_star, rtol=1e-12)
    np.testing.assert_allclose(res["exponent"], np.log(w * (1 - h_star ** 2)), rtol=1e-10)


@pytest.mark.parametrize("w, period", [(3.0, 1), (-3.0, 2)])
def test_one_unit_with_a_large_weight_fixed_point_or_two_cycle(w, period):
    # p = tanh(3 p): +-p are fixed points for w = 3, and the 2-cycle p, -p for w = -3.
    p = root(lambda h: np.tanh(3.0 * h) - h, 0.5, 1.0)
    res = long_run_regime(one_unit(w), h0=np.array([[0.2], [-0.7]]), T=300, burn_in=100,
                          max_period=10)
    assert list(res["period"]) == [period, period]
    assert list(res["regime"]) == ["fixed point" if period == 1 else "cycle"] * 2
    np.testing.assert_allclose(np.abs(res["h_last"]), p, rtol=1e-12)
    np.testing.assert_allclose(res["mean_abs_h"], p, rtol=1e-12)
    # |J| = 3 (1 - p^2) at p and at -p: the exponent of the orbit.
    np.testing.assert_allclose(res["exponent"], np.log(3.0 * (1 - p ** 2)), rtol=1e-10)
    if period == 2:                       # the sign alternates along the cycle
        _, h = rnn_forward(one_unit(w), np.zeros((4, 1, 1)), res["h_last"][:1, None][0])
        assert np.all(np.sign(h[1:, 0, 0]) == -np.sign(h[:-1, 0, 0]))


# ---------------------------------------------------------------- against independent computations

def test_log_growth_adds_up_to_the_jacobian_product():
    params, _, _, h, v0 = driven_problem()
    growth = tangent_log_growth(params, h, v0)
    assert growth.shape == (30, 2) and growth.dtype == np.float64
    unit = v0 / np.linalg.norm(v0, axis=1, keepdims=True)
    for t in (1, 2, 7, 30):
        P = jacobian_product(params, h, t, 0)                  # (B, H, H): J_t ... J_1
        want = np.log(np.linalg.norm(np.einsum("bij,bj->bi", P, unit), axis=1))
        np.testing.assert_allclose(growth[:t].sum(axis=0), want, rtol=1e-10,
                                   err_msg=f"t = {t}")


def test_log_growth_matches_finite_differences_of_the_map():
    params, x, h0, h, v0 = driven_problem(T=8)
    growth = tangent_log_growth(params, h, v0)
    unit = v0 / np.linalg.norm(v0, axis=1, keepdims=True)
    eps = 1e-6
    _, h_plus = rnn_forward(params, x, h0 + eps * unit)
    _, h_minus = rnn_forward(params, x, h0 - eps * unit)
    stretch = np.linalg.norm(h_plus[1:] - h_minus[1:], axis=2) / (2 * eps)   # (T, B)
    np.testing.assert_allclose(np.cumsum(growth, axis=0), np.log(stretch), atol=1e-8)


def two_trajectory_exponent(params, x, h, v0, burn_in, d0=1e-9):
    """Benettin's other estimate: a nearby state, pulled back to distance d0 every step.

    The reference states ``h`` are those of rnn_forward: on a chaotic orbit a
    second reference run would part from them within a few hundred steps (its
    rounding differs), and the two estimates would then average different orbits.
    """
    W, U, b = params["W_hh"], params["W_xh"], params["b_h"]
    out = []
    for s in range(x.shape[1]):               # one sequence at a time, column vectors
        u = v0[s] / np.linalg.norm(v0[s])
        logs = []
        for t in range(1, x.shape[0] + 1):
            g = np.tanh(W @ (h[t - 1, s] + d0 * u) + U @ x[t - 1, s] + b)
            d = np.linalg.norm(g - h[t, s])
            logs.append(np.log(d / d0))
            u = (g - h[t, s]) / d
        out.append(np.mean(logs[burn_in:]))
    return np.array(out)


@pytest.mark.parametrize("H, rho, sign", [(32, 3.0, 1), (6, 0.8, -1)])
def test_exponent_matches_a_two_trajectory_estimate(H, rho, sign):
    params = with_spectral_radius(init_rnn(2, H, 1, seed=1), rho)
    rng = np.random.default_rng(5)
    T, B, burn_in = 1000, 2, 200
    x = 0.3 * rng.standard_normal((T, B, 2))
    h0 = rng.uniform(-1, 1, (B, H))
    lam = lyapunov_exponent(params, x, h0, burn_in=burn_in, seed=9)
    v0 = np.random.default_rng(9).standard_normal((B, H))     # as documented: drawn first
    _, h = rnn_forward(params, x, h0)
    other = two_trajectory_exponent(params, x, h, v0, burn_in)
    np.testing.assert_allclose(lam, other, rtol=1e-5)
    assert np.all(np.sign(lam) == sign)
    assert np.all(lam <= np.log(spectral_norm(params["W_hh"])))


def test_exponent_is_the_mean_growth_after_burn_in():
    params, x, h0, _, _ = driven_problem(T=40, B=3)
    v0 = np.random.default_rng(4).standard_normal((3, 5))    # as documented: drawn first
    _, h = rnn_forward(params, x, h0)
    growth = tangent_log_growth(params, h, v0)
    for burn_in in (0, 1, 39):
        lam = lyapunov_exponent(params, x, h0, burn_in=burn_in, seed=4)
        np.testing.assert_allclose(lam, growth[burn_in:].mean(axis=0), rtol=1e-13)


def test_batch_equals_one_sequence_at_a_time():
    params, _, _, h, v0 = driven_problem(B=3)
    growth = tangent_log_growth(params, h, v0)
    for b in range(3):
        one = tangent_log_growth(params, h[:, b:b + 1], v0[b:b + 1])
        np.testing.assert_allclose(growth[:, b:b + 1], one, rtol=1e-13)


def test_float32_parameters_are_accepted():
    params = {k: v.astype(np.float32) for k, v in init_rnn(2, 5, 1, seed=0).items()}
    lam = lyapunov_exponent(params, T=200, burn_in=50)
    assert lam.shape == (1,) and lam.dtype == np.float64 and np.isfinite(lam[0])


# ---------------------------------------------------------------- periods and regimes

def test_find_period_returns_the_smallest_period():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((3, 1, 4))                     # one period of length 3
    cycle3 = np.tile(base, (20, 1, 1))
    constant = np.ones((60, 1, 4))
    cycle2 = np.tile(rng.standard_normal((2, 1, 4)), (30, 1, 1))   # also repeats at 4, 6, ...
    noise = rng.standard_normal((60, 1, 4))
    h = np.concatenate([cycle3, constant, cycle2, noise], axis=1)
    assert list(find_period(h, max_period=10)) == [3, 1, 2, 0]
    assert list(find_period(h, max_period=2)) == [0, 1, 2, 0]


def test_find_period_finds_long_periods_and_rejects_unsettled_starts():
    rng = np.random.default_rng(2)
    long_cycle = np.tile(rng.standard_normal((157, 2, 3)), (3, 1, 1))      # period 157
    assert list(find_period(long_cycle)) == [157, 157]                   # max_period = n // 2
    assert list(find_period(long_cycle, max_period=156)) == [0, 0]
    # settled only from the middle on: the whole run does not repeat
    late = np.concatenate([rng.standard_normal((50, 1, 3)), np.zeros((100, 1, 3))])
    assert find_period(late)[0] == 0 and find_period(late[50:])[0] == 1


def test_find_period_tolerance():
    cycle = np.tile(np.array([[[0.5]], [[-0.5]]]), (20, 1, 1))
    jitter = cycle + 1e-7 * np.random.default_rng(1).standard_normal(cycle.shape)
    assert find_period(jitter, max_period=5)[0] == 0
    assert find_period(jitter, max_period=5, tol=1e-5)[0] == 2


def test_chaotic_and_aperiodic_regimes():
    chaos = long_run_regime(with_spectral_radius(init_rnn(1, 64, 1, seed=0), 3.0),
                            T=1500, burn_in=500)
    assert chaos["regime"][0] == "chaotic" and chaos["period"][0] == 0
    assert chaos["exponent"][0] > 0.1
    # At rho = 1 the state creeps to 0 like t^(-1/2): no settled orbit within the run.
    slow = long_run_regime(with_spectral_radius(init_rnn(1, 8, 1, seed=0), 1.0),
                           T=1500, burn_in=500)
    assert slow["regime"][0] == "aperiodic" and abs(slow["exponent"][0]) < 0.01
    assert 0 < slow["mean_abs_h"][0] < 0.05
    assert set(REGIMES) == {"zero", "fixed point", "cycle", "chaotic", "aperiodic"}


def test_regimes_by_radius_uses_the_chapters_construction():
    kw = dict(T=400, burn_in=200, max_period=20)
    sweep = regimes_by_radius([3, 8], [0.5, 2.0], [0, 2], n_starts=2, **kw)
    assert sweep["exponent"].shape == sweep["regime"].shape == (2, 2, 2, 2)
    assert list(sweep["sizes"]) == [3, 8] and list(sweep["seeds"]) == [0, 2]
    direct = long_run_regime(with_spectral_radius(init_rnn(1, 8, 1, seed=2), 2.0),
                             B=2, seed=2, **kw)
    for key in ("regime", "period", "exponent", "mean_abs_h"):
        np.testing.assert_array_equal(sweep[key][1, 1, 1], direct[key], err_msg=key)
    assert np.all(sweep["regime"][:, 0] == "zero")             # rho = 0.5 < 1


# ---------------------------------------------------------------- bad input

def test_value_errors_name_the_argument():
    params, x, h0, h, v0 = driven_problem(T=6, B=2, D=3, H=5)
    with pytest.raises(ValueError, match=r"x must have shape \(T, B, D\) = \(\?, \?, 3\), "
                                         r"got \(6, 2, 4\)"):
        lyapunov_exponent(params, np.zeros((6, 2, 4)), burn_in=1)
    with pytest.raises(ValueError, match=r"x must have shape \(T, B, D\) = \(7, \?, 3\)"):
        lyapunov_exponent(params, x, T=7, burn_in=1)
    with pytest.raises(ValueError, match=r"h0 must have shape \(B, H\) = \(2, 5\), got \(2, 4\)"):
        lyapunov_exponent(params, x, np.zeros((2, 4)), burn_in=1)
    with pytest.raises(ValueError, match="burn_in must be smaller than the number of steps "
                                         "T = 6, got burn_in = 6"):
        lyapunov_exponent(params, x, h0, burn_in=6)
    with pytest.raises(ValueError, match="burn_in must be >= 0, got -1"):
        lyapunov_exponent(params, x, h0, burn_in=-1)
    with pytest.raises(ValueError, match=r"v0 must have shape \(B, H\) = \(2, 5\), got \(2, 3\)"):
        tangent_log_growth(params, h, np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"v0 must have no zero row, got zero rows at batch "
                                         r"indices \[1\]"):
        tangent_log_growth(params, h, np.vstack([np.ones(5), np.zeros(5)]))
    with pytest.raises(ValueError, match=r"outside \[-1, 1\]"):
        tangent_log_growth(params, 2 * h, v0)


def test_type_errors_name_the_argument():
    params, x, h0, h, v0 = driven_problem(T=6, B=2, D=3, H=5)
    with pytest.raises(TypeError, match="burn_in must be a non-negative int, got float"):
        lyapunov_exponent(params, x, h0, burn_in=1.5)
    with pytest.raises(TypeError, match=r"seeds\[0\] must be a non-negative int"):
        regimes_by_radius([4], [1.0], [0.5])
    with pytest.raises(TypeError, match="v0 must have dtype float64"):
        tangent_log_growth(params, h, v0.astype(np.float32))
    with pytest.raises(TypeError, match="params must be a dict"):
        long_run_regime([params["W_hh"]])


def test_bad_regime_settings_are_refused_with_a_message():
    params = init_rnn(1, 4, 1)
    with pytest.raises(ValueError, match=r"T - burn_in \+ 1 \(the states judged\) must be >= "
                                         r"2 \* max_period = 200"):
        long_run_regime(params, T=300, burn_in=200, max_period=100)
    with pytest.raises(ValueError, match="lyap_tol must be a finite number > 0"):
        long_run_regime(params, T=300, burn_in=50, lyap_tol=-1.0)
    with pytest.raises(ValueError, match=r"h must hold at least 2 \* max_period = 20 states, "
                                         r"shape \(n, B, H\), got \(5, 1, 4\)"):
        find_period(np.zeros((5, 1, 4)), max_period=10)
    with pytest.raises(ValueError, match="tol must be a finite number > 0"):
        find_period(np.zeros((5, 1, 4)), max_period=2, tol=0.0)
    with pytest.raises(ValueError, match=r"radii\[1\] must be a finite number > 0"):
        regimes_by_radius([4], [1.0, 0.0], [0])
    with pytest.raises(ValueError, match="must each hold at least one value"):
        regimes_by_radius([4], [1.0], [])


def test_mean_abs_h_averages_the_steps_after_burn_in():
    params = with_spectral_radius(init_rnn(1, 5, 1, seed=0), 1.0)   # decays slowly to 0
    h0 = np.random.default_rng(0).uniform(-1, 1, (2, 5))
    res = long_run_regime(params, h0, T=300, burn_in=100, max_period=10)
    _, h = rnn_forward(params, np.zeros((300, 2, 1)), h0)
    np.testing.assert_allclose(res["mean_abs_h"], np.abs(h[101:]).mean(axis=(0, 2)), rtol=1e-13)
    np.testing.assert_array_equal(res["h_last"], h[-1])
