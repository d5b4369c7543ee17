"""Tests for bptt.spectral: expected radii come from matrices built with known eigenvalues."""
import numpy as np
import pytest

from bptt import init_rnn, rnn_forward
from bptt.spectral import (scale_to_spectral_radius, spectral_norm, spectral_radius,
                           with_spectral_radius)
from bptt.rnn import PARAM_KEYS


def rotation(theta):
    """The 2x2 rotation by theta: eigenvalues exp(+-i theta), modulus 1, not real."""
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, -s], [s, c]])


def with_eigenvalues(moduli, seed):
    """A dense, non-symmetric matrix V diag(...) V^-1 whose eigenvalue moduli are ``moduli``.

    Each modulus gets a 2x2 block r * rotation(angle) (a complex pair of modulus r),
    so the matrix is real, size 2 * len(moduli), with no real eigenvector basis.
    """
    rng = np.random.default_rng(seed)
    n = 2 * len(moduli)
    blocks = np.zeros((n, n))
    for i, r in enumerate(moduli):
        blocks[2 * i:2 * i + 2, 2 * i:2 * i + 2] = r * rotation(rng.uniform(0.2, 3.0))
    V = rng.standard_normal((n, n)) + 3 * np.eye(n)   # well conditioned, far from orthogonal
    return V @ blocks @ np.linalg.inv(V)


# --- spectral_radius --------------------------------------------------------------


@pytest.mark.parametrize("diag,expected", [([0.5], 0.5), ([-3.0, 2.0], 3.0),
                                           ([0.1, -0.2, 0.05], 0.2), ([0.0, 0.0], 0.0)])
def test_spectral_radius_of_diagonal_is_largest_absolute_entry(diag, expected):
    assert spectral_radius(np.diag(diag)) == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize("r,theta", [(1.0, 0.5), (0.3, 2.0), (2.5, np.pi / 2)])
def test_spectral_radius_of_scaled_rotation_is_the_scale(r, theta):
    # Complex eigenvalues r exp(+-i theta): the radius is their modulus, not a real part.
    assert spectral_radius(r * rotation(theta)) == pytest.approx(r, rel=1e-12)


@pytest.mark.parametrize("moduli,seed", [([0.9], 0), ([0.2, 1.7], 1), ([0.5, 0.4, 0.45], 2)])
def test_spectral_radius_of_matrix_with_known_eigenvalues(moduli, seed):
    W = with_eigenvalues(moduli, seed)
    assert spectral_radius(W) == pytest.approx(max(moduli), rel=1e-9)


def test_spectral_radius_of_triangular_is_largest_diagonal_entry_not_the_norm():
    W = np.array([[0.5, 10.0], [0.0, -0.8]])
    assert spectral_radius(W) == pytest.approx(0.8, rel=1e-14)
    assert spectral_norm(W) > 10.0   # the off-diagonal 10 counts for the norm only


def test_spectral_radius_matches_gelfand_formula():
    # rho(W) = lim ||W^k||^(1/k): an independent estimate from matrix powers.
    W = np.random.default_rng(3).standard_normal((6, 6)) / np.sqrt(6)
    k = 400
    Wk = np.linalg.matrix_power(W / spectral_norm(W), k)   # normalised to avoid overflow
    gelfand = spectral_norm(W) * np.linalg.norm(Wk, 2) ** (1 / k)
    assert spectral_radius(W) == pytest.approx(gelfand, rel=0.02)


def test_spectral_radius_accepts_float32_and_returns_float():
    W = (0.7 * rotation(1.0)).astype(np.float32)
    r = spectral_radius(W)
    assert type(r) is float
    assert r == pytest.approx(0.7, rel=1e-6)


# --- spectral_norm ----------------------------------------------------------------


@pytest.mark.parametrize("W,expected", [
    (np.diag([3.0, -4.0]), 4.0),
    (2.0 * rotation(0.7), 2.0),                       # orthogonal times 2: every sigma is 2
    (np.array([[0.0, 5.0], [0.0, 0.0]]), 5.0),        # nilpotent: radius 0, norm 5
])
def test_spectral_norm_by_hand(W, expected):
    assert spectral_norm(W) == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("H,seed", [(1, 0), (3, 1), (7, 2)])
def test_spectral_norm_is_sqrt_of_largest_eigenvalue_of_gram_and_bounds_radius(H, seed):
    W = np.random.default_rng(seed).standard_normal((H, H))
    expected = np.sqrt(np.max(np.linalg.eigvalsh(W.T @ W)))
    assert spectral_norm(W) == pytest.approx(expected, rel=1e-10)
    assert spectral_radius(W) <= spectral_norm(W) * (1 + 1e-12)


def test_small_spectral_norm_makes_a_tanh_rnn_without_input_contract():
    # The claim of spectral_norm's Notes: ||tanh(W h)|| <= ||W||_2 ||h|| for every h.
    params = init_rnn(1, 5, 1, seed=4)
    W = params["W_hh"]
    params["W_hh"] = W * (0.9 / spectral_norm(W))
    h0 = np.random.default_rng(5).uniform(-1, 1, (3, 5))
    _, h = rnn_forward(params, np.zeros((20, 3, 1)), h0)
    norms = np.linalg.norm(h, axis=-1)                     # (T+1, B)
    assert np.all(norms[1:] <= 0.9 * norms[:-1] + 1e-15)


# --- scale_to_spectral_radius -----------------------------------------------------


@pytest.mark.parametrize("rho", [0.1, 1.0, 2.5])
@pytest.mark.parametrize("moduli,seed", [([0.9], 0), ([0.2, 1.7], 1), ([0.5, 0.4, 0.45], 2)])
def test_scale_gives_radius_rho_and_scales_every_eigenvalue(rho, moduli, seed):
    W = with_eigenvalues(moduli, seed)
    W_scaled = scale_to_spectral_radius(W, rho)
    c = rho / max(moduli)                                   # the factor, from the construction
    np.testing.assert_allclose(W_scaled, c * W, rtol=1e-9, atol=0)
    got = np.sort(np.abs(np.linalg.eigvals(W_scaled)))
    want = np.sort(np.repeat(c * np.array(moduli), 2))      # each modulus is a complex pair
    np.testing.assert_allclose(got, want, rtol=1e-8)
    assert spectral_radius(W_scaled) == pytest.approx(rho, rel=1e-10)


@pytest.mark.parametrize("H", [1, 2, 10, 64])
def test_scale_random_matrices(H):
    W = np.random.default_rng(H).standard_normal((H, H))
    out = scale_to_spectral_radius(W, 0.95)
    assert out.shape == (H, H)
    assert spectral_radius(out) == pytest.approx(0.95, rel=1e-10)
    ratio = out / W
    np.testing.assert_allclose(ratio, ratio.flat[0], rtol=1e-12)   # a single positive factor
    assert ratio.flat[0] > 0


def test_scale_negative_real_eigenvalue():
    W = np.diag([-2.0, 0.5])
    np.testing.assert_allclose(scale_to_spectral_radius(W, 1.0), np.diag([-1.0, 0.25]), rtol=1e-15)


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-12), (np.float32, 1e-6)])
def test_scale_preserves_dtype_and_does_not_modify_input(dtype, rtol):
    W = (1.3 * rotation(0.4)).astype(dtype)
    before = W.copy()
    out = scale_to_spectral_radius(W, 0.65)
    assert out.dtype == dtype
    assert out is not W
    np.testing.assert_array_equal(W, before)
    np.testing.assert_allclose(out, (0.65 * rotation(0.4)).astype(dtype), rtol=rtol, atol=rtol)
    assert spectral_radius(out) == pytest.approx(0.65, rel=rtol)


def test_scale_accepts_int_rho():
    assert spectral_radius(scale_to_spectral_radius(np.diag([0.5, 0.1]), 2)) == pytest.approx(2.0)


@pytest.mark.parametrize("W", [np.zeros((3, 3)), np.array([[0.0, 1.0], [0.0, 0.0]]),
                               np.triu(np.ones((4, 4)), k=1)])
def test_scale_refuses_zero_radius(W):
    with pytest.raises(ValueError, match="spectral radius 0"):
        scale_to_spectral_radius(W, 1.0)


def test_scale_refuses_nearly_defective_matrix():
    # A Jordan block seen in a rotated basis: rounding moves its double eigenvalue 1
    # by about sqrt(eps * 1e8) = 1e-4, so no rescaling can be trusted to give rho.
    Q = rotation(0.3)
    W = Q @ np.array([[1.0, 1e8], [0.0, 1.0]]) @ Q.T
    with pytest.raises(ValueError, match="too sensitive to rounding"):
        scale_to_spectral_radius(W, 0.7)


# --- with_spectral_radius ---------------------------------------------------------


@pytest.mark.parametrize("D,H,O", [(1, 1, 1), (3, 5, 2), (2, 8, 4)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_with_spectral_radius_changes_only_W_hh(D, H, O, dtype):
    params = init_rnn(D, H, O, seed=1, dtype=dtype)
    params["b_h"] += 0.1                                   # nonzero, so a copy is visible
    before = {k: v.copy() for k, v in params.items()}
    new = with_spectral_radius(params, 1.5)
    assert set(new) == set(PARAM_KEYS)
    for key in PARAM_KEYS:
        assert new[key] is not params[key]
        assert new[key].dtype == dtype
        np.testing.assert_array_equal(params[key], before[key])   # input untouched
        if key != "W_hh":
            np.testing.assert_array_equal(new[key], params[key])
    assert spectral_radius(new["W_hh"]) == pytest.approx(1.5, rel=1e-5)
    c = 1.5 / spectral_radius(params["W_hh"])
    np.testing.assert_allclose(new["W_hh"], c * params["W_hh"].astype(np.float64),
                               rtol=1e-6 if dtype == np.float32 else 1e-12)
    new["b_h"][0] = 99.0                                   # a real copy, not a view
    assert params["b_h"][0] != 99.0


def test_with_spectral_radius_validates_params():
    params = init_rnn(2, 3, 2)
    del params["b_y"]
    with pytest.raises(ValueError, match=r"missing \['b_y'\]"):
        with_spectral_radius(params, 1.0)
    with pytest.raises(ValueError, match="rho must be a finite number > 0"):
        with_spectral_radius(init_rnn(2, 3, 2), -1.0)


# --- input validation -------------------------------------------------------------


@pytest.mark.parametrize("func", [spectral_radius, spectral_norm,
                                  lambda W: scale_to_spectral_radius(W, 1.0)])
@pytest.mark.parametrize("W,error,match", [
    ([[1.0, 0.0], [0.0, 1.0]], TypeError, r"W must be a numpy array of shape \(H, H\), got list"),
    (np.eye(2, dtype=int), TypeError, "W must have a floating-point dtype, got int"),
    (np.eye(2, dtype=complex), TypeError, "W must have a floating-point dtype, got complex"),
    (np.ones(3), ValueError, r"W must have 2 dimensions, shape \(H, H\), got 1 dimensions"),
    (np.ones((2, 3)), ValueError, r"W must be square, shape \(H, H\), got \(2, 3\)"),
    (np.ones((0, 0)), ValueError, r"W must have shape \(H, H\), got \(0, 0\)"),
    (np.array([[1.0, np.nan], [0.0, 1.0]]), ValueError, "W contains NaN or infinity"),
    (np.array([[np.inf, 0.0], [0.0, 1.0]]), ValueError, "W contains NaN or infinity"),
])
def test_bad_W_is_refused(func, W, error, match):
    with pytest.raises(error, match=match):
        func(W)


@pytest.mark.parametrize("rho,error,match", [
    (0.0, ValueError, "rho must be a finite number > 0, got 0.0"),
    (-0.5, ValueError, "rho must be a finite number > 0, got -0.5"),
    (np.nan, ValueError, "rho must be a finite number > 0, got nan"),
    (np.inf, ValueError, "rho must be a finite number > 0, got inf"),
    (True, TypeError, "rho must be a positive number, got bool"),
    ("1", TypeError, "rho must be a positive number, got str"),
    (None, TypeError, "rho must be a positive number, got NoneType"),
])
def test_bad_rho_is_refused(rho, error, match):
    with pytest.raises(error, match=match):
        scale_to_spectral_radius(np.eye(2), rho)
