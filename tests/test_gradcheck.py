"""Tests of bptt.gradcheck: known derivatives, exact restoration of x, checks of the RNN."""
import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

from bptt.gradcheck import check_gradient, numerical_gradient, numerical_gradient_params, rel_error
from bptt.losses import last_step_mask, mse_loss, softmax_cross_entropy
from bptt.rnn import init_rnn, rnn_backward, rnn_forward
from bptt.rnn import PARAM_KEYS

SHAPES = [(), (5,), (3, 4), (2, 3, 2)]


def _bits(a):
    """The exact bit pattern of a float64 array (tells -0.0 from 0.0)."""
    return np.ascontiguousarray(a).view(np.uint64).copy()


def _raise_on_call(n, f):
    """Wrap f so that its n-th call raises RuntimeError."""
    calls = []

    def wrapped(x):
        calls.append(None)
        if len(calls) == n:
            raise RuntimeError(f"call {n} fails")
        return f(x)
    return wrapped


# ---------------------------------------------------------------- numerical_gradient

@pytest.mark.parametrize("shape", SHAPES)
def test_numerical_gradient_of_cubic(shape):
    x = np.random.default_rng(0).standard_normal(shape)
    g = numerical_gradient(lambda v: np.sum(v ** 3), x)
    assert g.shape == x.shape and g.dtype == x.dtype
    # Truncation error f''' eps^2 / 6 = 1e-12, rounding about 1e-16 |f| / eps.
    np.testing.assert_allclose(g, 3 * x ** 2, rtol=1e-7, atol=1e-8)


def test_numerical_gradient_of_quadratic_form():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((4, 4))             # not symmetric: the gradient is (A + A^T) x
    x = rng.standard_normal(4)
    g = numerical_gradient(lambda v: v @ A @ v, x)
    np.testing.assert_allclose(g, (A + A.T) @ x, rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("shape", SHAPES[1:])
def test_numerical_gradient_matches_autograd(shape):
    x = np.random.default_rng(2).standard_normal(shape)

    def f(v):
        return anp.sum(anp.sin(v) * anp.exp(v / 3))
    g = numerical_gradient(f, x)
    expected = grad(f)(x)
    assert np.linalg.norm(g - expected) / np.linalg.norm(expected) < 1e-8


def test_numerical_gradient_restores_x_exactly():
    x = np.array([[0.1, -0.0, 1e-300], [3.0, -7.25, 1.0 / 3.0]])
    before = _bits(x)
    numerical_gradient(lambda v: np.sum(np.cos(v)), x)
    np.testing.assert_array_equal(_bits(x), before)


@pytest.mark.parametrize("failing_call", [1, 2, 5])
def test_numerical_gradient_restores_x_when_f_raises(failing_call):
    x = np.random.default_rng(3).standard_normal((2, 3))
    before = _bits(x)
    with pytest.raises(RuntimeError, match=f"call {failing_call} fails"):
        numerical_gradient(_raise_on_call(failing_call, lambda v: np.sum(v ** 2)), x)
    np.testing.assert_array_equal(_bits(x), before)


def test_numerical_gradient_perturbs_views_in_place():
    # A non-contiguous view: f reads the perturbation through the base array.
    base = np.random.default_rng(4).standard_normal((3, 6))
    view = base[:, ::2]
    before = _bits(base)
    g = numerical_gradient(lambda _: np.sum(np.sin(base)), view)
    np.testing.assert_allclose(g, np.cos(view), rtol=1e-8)
    np.testing.assert_array_equal(_bits(base), before)


def test_numerical_gradient_float32_uses_the_step_actually_taken():
    # For a quadratic the centred difference is exact, whatever the step, as
    # long as it divides by the step taken after rounding to float32.
    x = np.array([0.3, -1.7, 2.9], dtype=np.float32)
    g = numerical_gradient(lambda v: float(np.sum(v.astype(np.float64) ** 2)), x, eps=1e-3)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, 2 * x.astype(np.float64), rtol=1e-6)


@pytest.mark.parametrize("f, x, eps, error, match", [
    (lambda v: (np.sum(v), v), np.ones(2), 1e-6, TypeError,
     r"got a tuple; if it returns \(loss, grad\), pass lambda x: f\(x\)\[0\]"),
    (lambda v: v * 2, np.ones(2), 1e-6, TypeError, r"real scalar, got ndarray with shape \(2,\)"),
    (lambda v: np.nan, np.ones(2), 1e-6, ValueError, r"f returned nan with x\[0\] moved by \+eps"),
    (lambda v: 1j, np.ones(2), 1e-6, TypeError, "real scalar, got complex"),
    ("f", np.ones(2), 1e-6, TypeError, "f must be a callable"),
    (np.sum, [1.0, 2.0], 1e-6, TypeError, "x must be a numpy array, got list"),
    (np.sum, np.ones(2, dtype=int), 1e-6, TypeError, "x must have a floating-point dtype"),
    (np.sum, np.array([1.0, np.inf]), 1e-6, ValueError, "x contains NaN or infinity"),
    (np.sum, np.ones(2), 0.0, ValueError, "eps must be a finite number > 0, got 0.0"),
    (np.sum, np.ones(2), "1e-6", TypeError, "eps must be a positive number"),
    (np.sum, np.full(2, 1e3, dtype=np.float32), 1e-6, ValueError,
     r"eps = 1e-06 is too small to change x\[0\] = 1000.0 in float32"),
])
def test_numerical_gradient_bad_input(f, x, eps, error, match):
    before = x.copy() if isinstance(x, np.ndarray) else None
    with pytest.raises(error, match=match):
        numerical_gradient(f, x, eps=eps)
    if before is not None:
        np.testing.assert_array_equal(x, before)


def test_numerical_gradient_refuses_read_only_x():
    x = np.ones(3)
    x.flags.writeable = False
    with pytest.raises(ValueError, match=r"x must be writeable.*x.copy\(\)"):
        numerical_gradient(np.sum, x)


# ---------------------------------------------------------------- numerical_gradient_params

def _two_params(seed=5):
    rng = np.random.default_rng(seed)
    return {"a": rng.standard_normal((2, 3)), "b": rng.standard_normal(4)}


def _f_two(p):
    return np.sum(p["a"] ** 2) + np.sum(np.sin(p["b"])) * np.sum(p["a"])


def test_numerical_gradient_params_by_hand():
    params = _two_params()
    before = {k: _bits(v) for k, v in params.items()}
    g = numerical_gradient_params(_f_two, params)
    assert list(g) == ["a", "b"]
    a, b = params["a"], params["b"]
    np.testing.assert_allclose(g["a"], 2 * a + np.sum(np.sin(b)), rtol=1e-8)
    np.testing.assert_allclose(g["b"], np.cos(b) * np.sum(a), rtol=1e-7, atol=1e-9)
    for k in params:
        np.testing.assert_array_equal(_bits(params[k]), before[k])


def test_numerical_gradient_params_restores_when_f_raises():
    params = _two_params()
    before = {k: _bits(v) for k, v in params.items()}
    # Call 15 is the 3rd of "b" ("a" has 6 entries, 12 calls).
    with pytest.raises(RuntimeError):
        numerical_gradient_params(_raise_on_call(15, _f_two), params)
    for k in params:
        np.testing.assert_array_equal(_bits(params[k]), before[k])


@pytest.mark.parametrize("params, error, match", [
    ({}, ValueError, "params must hold at least one array"),
    ([np.ones(2)], TypeError, "params must be a dict of numpy arrays, got list"),
    ({"a": [1.0]}, TypeError, r"params\['a'\] must be a numpy array, got list"),
    ({"a": np.ones(2), "b": np.array([np.nan])}, ValueError, r"params\['b'\] contains NaN"),
])
def test_numerical_gradient_params_bad_input(params, error, match):
    with pytest.raises(error, match=match):
        numerical_gradient_params(lambda p: 0.0, params)


# ---------------------------------------------------------------- rel_error

def test_rel_error_is_zero_for_equal_arrays():
    a = np.random.default_rng(6).standard_normal((3, 2))
    assert rel_error(a, a.copy()) == 0.0
    assert rel_error(np.zeros(4), np.zeros(4)) == 0.0
    assert rel_error(2.5, 2.5) == 0.0


@pytest.mark.parametrize("a, b, expected", [
    ([3.0, 0.0], [0.0, 4.0], 5.0 / 7.0),        # ||a-b|| = 5, ||a|| + ||b|| = 3 + 4
    ([1.0, 2.0], [2.0, 4.0], 1.0 / 3.0),        # b = 2a: ||a|| / 3||a||
    ([1.0, -2.0], [-1.0, 2.0], 1.0),            # b = -a
    ([0.0, 0.0], [1e-200, 0.0], 1.0),           # one of them zero
])
def test_rel_error_by_hand(a, b, expected):
    a, b = np.array(a), np.array(b)
    assert rel_error(a, b) == pytest.approx(expected, rel=1e-15)
    assert rel_error(b, a) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("scale", [1e-300, 1e-5, 1e5, 1e300])
def test_rel_error_is_scale_free_and_bounded(scale):
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal(10), rng.standard_normal(10)
    expected = np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b))
    assert 0 < expected < 1
    assert rel_error(scale * a, scale * b) == pytest.approx(expected, rel=1e-13)


def test_rel_error_ignores_noise_in_tiny_entries():
    # Entry 1 is rounding noise around 0 in both; an elementwise ratio calls it 50%.
    a, b = np.array([1.0, 1e-12]), np.array([1.0, 3e-12])
    elementwise = np.max(np.abs(a - b) / (np.abs(a) + np.abs(b)))
    assert elementwise == pytest.approx(0.5)
    assert rel_error(a, b) < 1e-11


@pytest.mark.parametrize("a, b, error, match", [
    (np.ones(2), np.ones(3), ValueError,
     r"a and b must have the same shape, got \(2,\) and \(3,\)"),
    (np.ones((2, 1)), np.ones(2), ValueError, "same shape"),
    (np.ones(0), np.ones(0), ValueError, "must not be empty"),
    ([1.0], np.ones(1), TypeError, "a must be a numpy array or a real number, got list"),
    (np.ones(1), True, TypeError, "b must be a numpy array or a real number, got bool"),
    (np.ones(1), np.array([1j]), TypeError, "b must hold real numbers, got dtype complex128"),
    (np.array([np.nan]), np.ones(1), ValueError, "a contains NaN or infinity"),
])
def test_rel_error_bad_input(a, b, error, match):
    with pytest.raises(error, match=match):
        rel_error(a, b)


# ---------------------------------------------------------------- check_gradient

# f(W) = u^T W v has gradient u v^T. With small integers and eps a power of 2,
# every evaluation is exact, so the numerical gradient is exactly u v^T.
U, V = np.array([1.0, 2.0, 3.0]), np.array([1.0, -1.0, 2.0])
EPS = 2.0 ** -20


def _bilinear(W):
    return U @ W @ V


def _W():
    return np.arange(9.0).reshape(3, 3) - 4.0


def test_check_gradient_passes_on_the_right_gradient():
    W = _W()
    err = check_gradient(_bilinear, W, np.outer(U, V), eps=EPS)
    assert err == 0.0
    np.testing.assert_array_equal(W, _W())


@pytest.mark.parametrize("wrong, err", [
    # transposed: u v^T - v u^T is antisymmetric; by hand from its entries
    (np.outer(V, U), np.sqrt(2 * (1 + 9 + 49)) / (2 * np.sqrt(14 * 6))),
    (2 * np.outer(U, V), 1.0 / 3.0),                                # scaled by 2
])
def test_check_gradient_raises_on_a_wrong_gradient(wrong, err):
    with pytest.raises(AssertionError, match=rf"failed for x: relative error {err:.3e} > tol "
                                             r"1\.0e-07") as info:
        check_gradient(_bilinear, _W(), wrong, eps=EPS)
    message = str(info.value)
    # The entry that differs most is shown with both values.
    worst = np.unravel_index(np.argmax(np.abs(wrong - np.outer(U, V))), wrong.shape)
    assert f"{str(tuple(int(i) for i in worst))}" in message
    assert f"{wrong[worst]:.8e}" in message and f"{np.outer(U, V)[worst]:.8e}" in message
    assert "analytic" in message and "numerical" in message


def test_check_gradient_tol_decides():
    # Scaled by 2 is a relative error of exactly 1/3: accepted by any tol above it.
    err = check_gradient(_bilinear, _W(), 2 * np.outer(U, V), eps=EPS, tol=0.34)
    assert err == pytest.approx(1.0 / 3.0, rel=1e-15)
    with pytest.raises(AssertionError, match=r"relative error 3\.333e-01 > tol 3\.3e-01"):
        check_gradient(_bilinear, _W(), 2 * np.outer(U, V), eps=EPS, tol=0.33)


def test_check_gradient_returns_the_worst_error_over_keys():
    params = _two_params()
    a, b = params["a"], params["b"]
    exact = {"a": 2 * a + np.sum(np.sin(b)), "b": np.cos(b) * np.sum(a)}
    # b's gradient scaled by 1.5: relative error 0.5 / 2.5 = 0.2, a's is ~1e-10.
    err = check_gradient(_f_two, params, {"a": exact["a"], "b": 1.5 * exact["b"]}, tol=0.25)
    assert err == pytest.approx(0.2, rel=1e-6)
    assert check_gradient(_f_two, params, exact) < 1e-7


def _rnn_case(T, B, D=3, H=4, O=2, loss="mse", seed=8, dtype=np.float64):
    """Parameters, inputs, the loss as a function of the parameters, and dL/dy."""
    rng = np.random.default_rng(seed)
    params = init_rnn(D, H, O, seed=seed, dtype=dtype)
    x = rng.standard_normal((T, B, D)).astype(dtype)
    if loss == "mse":
        target = rng.standard_normal((T, B, O)).astype(dtype)

        def loss_fn(y):
            return mse_loss(y, target)
    else:                        # many-to-one classification: loss on the last step only
        targets, mask = rng.integers(0, O, (T, B)), last_step_mask(T, B)

        def loss_fn(y):
            return softmax_cross_entropy(y, targets, mask)

    def f(p):
        return loss_fn(rnn_forward(p, x)[0])[0]
    y, h = rnn_forward(params, x)
    grads = rnn_backward(params, x, h, loss_fn(y)[1])
    return params, f, grads


@pytest.mark.parametrize("loss", ["mse", "ce_last"])
@pytest.mark.parametrize("T, B", [(1, 1), (4, 2), (6, 1)])
def test_check_gradient_on_rnn_params(T, B, loss):
    params, f, grads = _rnn_case(T, B, loss=loss)
    before = {k: _bits(v) for k, v in params.items()}
    # rnn_backward also returns 'x' and 'h0': extra keys are ignored.
    err = check_gradient(f, params, grads)
    assert 0 <= err < 1e-7
    assert check_gradient(f, params, {k: grads[k] for k in PARAM_KEYS}) == err
    for k in params:
        np.testing.assert_array_equal(_bits(params[k]), before[k])


@pytest.mark.parametrize("key, corrupt", [
    ("W_hh", lambda g: g.T.copy()),
    ("W_xh", lambda g: 2 * g),
    ("b_y", lambda g: g + 1e-3),
])
def test_check_gradient_names_the_wrong_key(key, corrupt):
    params, f, grads = _rnn_case(5, 2)
    grads[key] = corrupt(grads[key])
    with pytest.raises(AssertionError, match=rf"failed for params\['{key}'\]: relative error "
                                             r"\S+ > tol 1\.0e-07") as info:
        check_gradient(f, params, grads)
    others = [k for k in PARAM_KEYS if k != key]
    assert not any(f"params['{k}']" in str(info.value) for k in others)


def test_check_gradient_float32_fails_with_a_hint():
    params, f, grads = _rnn_case(3, 2, dtype=np.float32)
    with pytest.raises(AssertionError, match="check gradients in float64"):
        check_gradient(f, params, grads)


def _never_called(_):
    raise AssertionError("f must not be called when the inputs are invalid")


@pytest.mark.parametrize("x_or_params, analytic, tol, error, match", [
    ({"a": np.ones(2), "b": np.ones(3)}, {"a": np.ones(2)}, 1e-7, ValueError,
     r"analytic is missing the gradients of \['b'\]"),
    ({"a": np.ones((4, 4))}, {"a": np.ones((4, 3))}, 1e-7, ValueError,
     r"analytic\['a'\] must have shape \(4, 4\) \(that of params\['a'\]\), got \(4, 3\)"),
    ({"a": np.ones(2)}, np.ones(2), 1e-7, TypeError,
     "analytic must be a dict of gradients when x_or_params is a dict, got ndarray"),
    (np.ones(2), [1.0, 1.0], 1e-7, TypeError, "analytic must be a numpy array of shape"),
    (np.ones(2), np.ones(3), 1e-7, ValueError, r"analytic must have shape \(2,\) \(that of x\)"),
    (np.ones(2), np.array([1.0, np.nan]), 1e-7, ValueError, "analytic contains NaN"),
    (np.ones(2), np.ones(2, dtype=int), 1e-7, TypeError, "analytic must have a floating-point"),
    (np.ones(2), np.ones(2), 0.0, ValueError, "tol must be a finite number > 0"),
    ([1.0, 2.0], np.ones(2), 1e-7, TypeError, "x must be a numpy array, got list"),
])
def test_check_gradient_bad_input(x_or_params, analytic, tol, error, match):
    with pytest.raises(error, match=match):
        check_gradient(_never_called, x_or_params, analytic, tol=tol)
