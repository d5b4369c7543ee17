"""Tests of bptt.losses: values by hand, gradients by finite differences and by autograd."""
import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

from bptt.losses import last_step_mask, mse_loss, softmax, softmax_cross_entropy

# (T, B, O), including T=1, B=1 and the smallest number of classes, O=2.
SHAPES = [(1, 1, 2), (1, 3, 4), (5, 1, 3), (4, 2, 5)]
MASKS = [None, "bool", "float"]


def _centred_diff(f, x, eps=1e-6):
    """Centred differences of a scalar f at x, on a copy (independent of bptt.gradcheck)."""
    x = x.copy()
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        f_up = f(x)
        x[idx] = old - eps
        f_down = f(x)
        x[idx] = old
        g[idx] = (f_up - f_down) / (2 * eps)
    return g


def _rel(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300)


def _make_mask(kind, T, B, rng, dtype=np.float64):
    if kind is None:
        return None
    if kind == "bool":
        mask = rng.random((T, B)) < 0.6
        mask.flat[0] = True                   # never all False
        return mask
    return rng.uniform(0.0, 2.0, (T, B)).astype(dtype)


def _weights(mask, T, B):
    """The mask as float weights, all ones when absent."""
    return np.ones((T, B)) if mask is None else mask.astype(np.float64)


def _ce_autograd(logits, targets, w):
    """Weighted mean cross-entropy written naively (fine for moderate logits)."""
    onehot = np.eye(logits.shape[-1])[targets]
    log_p = logits - anp.log(anp.sum(anp.exp(logits), axis=-1, keepdims=True))
    return -anp.sum(w * anp.sum(onehot * log_p, axis=-1)) / anp.sum(w)


def _mse_autograd(y, target, w):
    return anp.sum(w[..., None] * (y - target) ** 2) / (anp.sum(w) * y.shape[-1])


def _ce_case(T, B, O, seed=0):
    rng = np.random.default_rng(seed)
    return rng, 2.0 * rng.standard_normal((T, B, O)), rng.integers(0, O, (T, B))


def _naive_nll(logits_2d, targets_1d):
    """Per-row -log softmax(logits)[target] straight from the definition."""
    p = np.exp(logits_2d) / np.exp(logits_2d).sum(axis=-1, keepdims=True)
    return -np.log(p[np.arange(len(targets_1d)), targets_1d])


# ---------------------------------------------------------------- softmax

@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_matches_definition(axis):
    z = np.random.default_rng(1).standard_normal((3, 4, 5))
    p = softmax(z, axis=axis)
    expected = np.exp(z) / np.exp(z).sum(axis=axis, keepdims=True)
    np.testing.assert_allclose(p, expected, rtol=1e-14)
    np.testing.assert_allclose(p.sum(axis=axis), 1.0, rtol=1e-14)


def test_softmax_huge_logits_finite_and_shift_invariant():
    z = np.random.default_rng(2).standard_normal((2, 3, 4))
    np.testing.assert_allclose(softmax(z + 1e4), softmax(z), rtol=1e-10)
    np.testing.assert_array_equal(softmax(np.array([1e4, 0.0, -1e4])), [1.0, 0.0, 0.0])


def test_softmax_preserves_float32():
    z = np.random.default_rng(3).standard_normal((2, 5)).astype(np.float32)
    p = softmax(z)
    assert p.dtype == np.float32
    np.testing.assert_allclose(p, softmax(z.astype(np.float64)), rtol=1e-6)


@pytest.mark.parametrize("logits, axis, error, match", [
    ([[1.0, 2.0]], -1, TypeError, "logits must be a numpy array, got list"),
    (np.ones((2, 3), dtype=int), -1, TypeError, "floating-point dtype, got int64"),
    (np.array([[1.0, np.nan]]), -1, ValueError, "logits contains NaN"),
    (np.ones((2, 3)), 2, ValueError, r"axis must be in \[-2, 2\) .* shape \(2, 3\), got 2"),
    (np.ones((2, 3)), 1.0, TypeError, "axis must be an int, got float"),
])
def test_softmax_bad_input(logits, axis, error, match):
    with pytest.raises(error, match=match):
        softmax(logits, axis=axis)


# ---------------------------------------------------------------- cross-entropy

@pytest.mark.parametrize("T, B, O", SHAPES)
def test_ce_uniform_logits_is_log_O(T, B, O):
    logits = np.full((T, B, O), 0.7)
    targets = np.random.default_rng(4).integers(0, O, (T, B))
    loss, dlogits = softmax_cross_entropy(logits, targets)
    assert isinstance(loss, float)
    assert loss == pytest.approx(np.log(O), rel=1e-14)
    # Hand calculation: p = 1/O everywhere, d/dz = (p - onehot) / (T*B).
    expected = (1.0 / O - np.eye(O)[targets]) / (T * B)
    np.testing.assert_allclose(dlogits, expected, rtol=1e-13, atol=1e-16)


def test_ce_two_classes_by_hand():
    # With O = 2, -log p_0 = log(1 + exp(z_1 - z_0)).
    logits = np.array([[[0.3, -1.2]], [[2.0, 2.5]]])
    targets = np.array([[0], [1]])
    loss, _ = softmax_cross_entropy(logits, targets)
    expected = (np.log1p(np.exp(-1.2 - 0.3)) + np.log1p(np.exp(2.0 - 2.5))) / 2
    assert loss == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("mask_kind", MASKS)
@pytest.mark.parametrize("T, B, O", SHAPES)
def test_ce_gradient_matches_finite_differences(T, B, O, mask_kind):
    rng, logits, targets = _ce_case(T, B, O, seed=5)
    mask = _make_mask(mask_kind, T, B, rng)
    _, dlogits = softmax_cross_entropy(logits, targets, mask)
    numerical = _centred_diff(lambda z: softmax_cross_entropy(z, targets, mask)[0], logits)
    assert _rel(dlogits, numerical) < 1e-7, (dlogits, numerical)


@pytest.mark.parametrize("mask_kind", MASKS)
@pytest.mark.parametrize("T, B, O", SHAPES)
def test_ce_matches_autograd(T, B, O, mask_kind):
    rng, logits, targets = _ce_case(T, B, O, seed=6)
    mask = _make_mask(mask_kind, T, B, rng)
    w = _weights(mask, T, B)
    loss, dlogits = softmax_cross_entropy(logits, targets, mask)
    assert loss == pytest.approx(_ce_autograd(logits, targets, w), rel=1e-12)
    expected = grad(_ce_autograd)(logits, targets, w)
    np.testing.assert_allclose(dlogits, expected, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("T, B, O", SHAPES)
def test_ce_bool_mask_is_mean_over_selected_entries(T, B, O):
    rng, logits, targets = _ce_case(T, B, O, seed=7)
    mask = _make_mask("bool", T, B, rng)
    loss, dlogits = softmax_cross_entropy(logits, targets, mask)
    assert loss == pytest.approx(np.mean(_naive_nll(logits[mask], targets[mask])), rel=1e-13)
    assert np.all(dlogits[~mask] == 0)
    assert np.all(dlogits[mask] != 0)


@pytest.mark.parametrize("scale", [1.0, 1e-300, 1e308])
def test_ce_float_weights_are_scale_free(scale):
    # Only the ratios of the weights matter, even when their sum would overflow.
    rng, logits, targets = _ce_case(3, 2, 4, seed=18)
    mask = rng.uniform(0.5, 1.0, (3, 2))
    loss, dlogits = softmax_cross_entropy(logits, targets, scale * mask)
    w = mask / mask.sum()
    assert loss == pytest.approx(np.sum(w * _naive_nll(logits.reshape(6, 4), targets.ravel())
                                        .reshape(3, 2)), rel=1e-13)
    np.testing.assert_allclose(dlogits, grad(_ce_autograd)(logits, targets, mask), rtol=1e-12)


def test_ce_float_weights_count_entries_repeatedly():
    # Weight 2 counts an entry twice: the same as the plain mean of [e0, e0, e2].
    _, logits, targets = _ce_case(1, 3, 4, seed=8)
    loss, dlogits = softmax_cross_entropy(logits, targets, np.array([[2.0, 0.0, 1.0]]))
    nll = _naive_nll(logits[0], targets[0])
    assert loss == pytest.approx((2 * nll[0] + nll[2]) / 3, rel=1e-13)
    assert np.all(dlogits[0, 1] == 0)


@pytest.mark.parametrize("T, B, O", SHAPES)
def test_ce_last_step_mask_is_loss_on_last_step_alone(T, B, O):
    _, logits, targets = _ce_case(T, B, O, seed=9)
    loss, dlogits = softmax_cross_entropy(logits, targets, last_step_mask(T, B))
    assert loss == pytest.approx(np.mean(_naive_nll(logits[-1], targets[-1])), rel=1e-13)
    assert np.all(dlogits[:-1] == 0)
    p_last = np.exp(logits[-1]) / np.exp(logits[-1]).sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(dlogits[-1], (p_last - np.eye(O)[targets[-1]]) / B, rtol=1e-12)


@pytest.mark.parametrize("mask_kind", MASKS)
def test_ce_preserves_float32(mask_kind):
    rng, logits, targets = _ce_case(3, 2, 4, seed=10)
    mask = _make_mask(mask_kind, 3, 2, rng, dtype=np.float32)
    loss32, d32 = softmax_cross_entropy(logits.astype(np.float32), targets, mask)
    mask64 = mask if mask is None or mask.dtype == bool else mask.astype(np.float64)
    loss64, d64 = softmax_cross_entropy(logits, targets, mask64)
    assert d32.dtype == np.float32 and isinstance(loss32, float)
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    np.testing.assert_allclose(d32, d64, rtol=1e-4, atol=1e-6)


def test_ce_huge_logits_stay_finite():
    # logsumexp(1e4, 0, -1e4) = 1e4 in float64, so -log p_1 = 1e4 - 0 and
    # p = (1, 0, 0): d/dz = p - e_1 = (1, -1, 0). A naive exp would overflow.
    logits = np.array([[[1e4, 0.0, -1e4]]])
    loss, dlogits = softmax_cross_entropy(logits, np.array([[1]]))
    assert loss == 1e4
    np.testing.assert_array_equal(dlogits, [[[1.0, -1.0, 0.0]]])
    loss, dlogits = softmax_cross_entropy(logits, np.array([[0]]))
    assert loss == 0.0
    np.testing.assert_array_equal(dlogits, 0.0)
    for dtype in (np.float64, np.float32):
        _, big, targets = _ce_case(4, 3, 5, seed=11)
        loss, dlogits = softmax_cross_entropy((1e4 * big).astype(dtype), targets)
        assert np.isfinite(loss) and np.all(np.isfinite(dlogits))


@pytest.mark.parametrize("logits, targets, error, match", [
    (np.zeros((2, 3, 4)), np.zeros((2, 3)), TypeError, r"targets must have an integer dtype"),
    (np.zeros((2, 3, 4)), np.zeros((2, 3), dtype=bool), TypeError, "integer dtype.*got bool"),
    (np.zeros((2, 3, 4)), [[0, 1, 2], [0, 1, 2]], TypeError, "targets must be a numpy array"),
    (np.zeros((2, 3, 4)), np.full((2, 3), 4), ValueError,
     r"class indices in \[0, O\) = \[0, 4\), got 6 outside it \(e.g. 4\)"),
    (np.zeros((2, 3, 4)), np.array([[0, 1, 2], [3, -1, 0]]), ValueError,
     r"\[0, O\) = \[0, 4\), got 1 outside it \(e.g. -1\)"),
    (np.zeros((2, 3, 4)), np.zeros((3, 2), dtype=int), ValueError,
     r"targets must have shape \(T, B\) = \(2, 3\), got \(3, 2\)"),
    (np.zeros((2, 3, 4)), np.zeros(3, dtype=int), ValueError, "targets must have 2 dimensions"),
    (np.zeros((3, 4)), np.zeros((2, 3), dtype=int), ValueError,
     r"logits must have 3 dimensions, shape \(T, B, O\)"),
    (np.zeros((2, 3, 4), dtype=int), np.zeros((2, 3), dtype=int), TypeError,
     "logits must have a floating-point dtype"),
    (np.full((2, 3, 4), np.inf), np.zeros((2, 3), dtype=int), ValueError,
     "logits contains NaN or infinity"),
])
def test_ce_bad_input(logits, targets, error, match):
    with pytest.raises(error, match=match):
        softmax_cross_entropy(logits, targets)


def _call_loss(which, mask, dtype=np.float64):
    """Call one of the losses on small valid inputs with the given mask."""
    z = np.zeros((2, 3, 4), dtype=dtype)
    if which == "ce":
        return softmax_cross_entropy(z, np.zeros((2, 3), dtype=int), mask)
    return mse_loss(z, np.ones_like(z), mask)


@pytest.mark.parametrize("which", ["ce", "mse"])
@pytest.mark.parametrize("mask, error, match", [
    (np.zeros((2, 3)), ValueError, "mask must give some entry a weight > 0, got all zeros"),
    (np.zeros((2, 3), dtype=bool), ValueError, "got all zeros"),
    (np.array([[1.0, -0.5, 1.0], [1.0, 1.0, 1.0]]), ValueError,
     r"mask weights must be >= 0, got a minimum of -0.5"),
    (np.array([[1.0, np.nan, 1.0], [1.0, 1.0, 1.0]]), ValueError, "mask contains NaN"),
    (np.array([[1.0, np.inf, 1.0], [1.0, 1.0, 1.0]]), ValueError, "mask contains NaN or infinity"),
    (np.ones((3, 2), dtype=bool), ValueError, r"mask must have shape \(T, B\) = \(2, 3\), got"),
    (np.ones((2, 3, 1)), ValueError, "mask must have 2 dimensions"),
    (np.ones((2, 3), dtype=int), TypeError,
     r"mask must have dtype bool or .*\(float64\), got int64"),
    (np.ones((2, 3), dtype=np.float32), TypeError, "dtype bool or .*got float32"),
    ([[1, 1, 1], [1, 1, 1]], TypeError, "mask must be a numpy array"),
])
def test_bad_mask(which, mask, error, match):
    with pytest.raises(error, match=match):
        _call_loss(which, mask)


# ---------------------------------------------------------------- mean squared error

def _mse_case(T, B, O, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return (rng, rng.standard_normal((T, B, O)).astype(dtype),
            rng.standard_normal((T, B, O)).astype(dtype))


@pytest.mark.parametrize("T, B, O", SHAPES)
def test_mse_without_mask_is_mean_over_all_elements(T, B, O):
    # torch.nn.MSELoss(reduction='mean') is the mean over all T*B*O elements.
    _, y, target = _mse_case(T, B, O, seed=12)
    loss, dy = mse_loss(y, target)
    assert isinstance(loss, float)
    assert loss == pytest.approx(np.mean((y - target) ** 2), rel=1e-13)
    np.testing.assert_allclose(dy, 2 * (y - target) / y.size, rtol=1e-13)


@pytest.mark.parametrize("mask_kind", MASKS)
@pytest.mark.parametrize("T, B, O", SHAPES)
def test_mse_gradient_matches_finite_differences(T, B, O, mask_kind):
    rng, y, target = _mse_case(T, B, O, seed=13)
    mask = _make_mask(mask_kind, T, B, rng)
    _, dy = mse_loss(y, target, mask)
    numerical = _centred_diff(lambda v: mse_loss(v, target, mask)[0], y)
    assert _rel(dy, numerical) < 1e-7, (dy, numerical)


@pytest.mark.parametrize("mask_kind", MASKS)
@pytest.mark.parametrize("T, B, O", SHAPES)
def test_mse_matches_autograd(T, B, O, mask_kind):
    rng, y, target = _mse_case(T, B, O, seed=14)
    mask = _make_mask(mask_kind, T, B, rng)
    w = _weights(mask, T, B)
    loss, dy = mse_loss(y, target, mask)
    assert loss == pytest.approx(_mse_autograd(y, target, w), rel=1e-12)
    np.testing.assert_allclose(dy, grad(_mse_autograd)(y, target, w), rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize("T, B, O", SHAPES)
def test_mse_bool_mask_is_mean_over_selected_elements(T, B, O):
    rng, y, target = _mse_case(T, B, O, seed=15)
    mask = _make_mask("bool", T, B, rng)
    loss, dy = mse_loss(y, target, mask)
    assert loss == pytest.approx(np.mean((y[mask] - target[mask]) ** 2), rel=1e-13)
    assert np.all(dy[~mask] == 0)


@pytest.mark.parametrize("T, B, O", SHAPES)
def test_mse_last_step_mask_is_loss_on_last_step_alone(T, B, O):
    _, y, target = _mse_case(T, B, O, seed=16)
    loss, dy = mse_loss(y, target, last_step_mask(T, B))
    assert loss == pytest.approx(np.mean((y[-1] - target[-1]) ** 2), rel=1e-13)
    assert np.all(dy[:-1] == 0)
    np.testing.assert_allclose(dy[-1], 2 * (y[-1] - target[-1]) / (B * O), rtol=1e-13)


def test_mse_preserves_float32():
    _, y, target = _mse_case(3, 2, 4, seed=17)
    loss32, dy32 = mse_loss(y.astype(np.float32), target.astype(np.float32))
    loss64, dy64 = mse_loss(y, target)
    assert dy32.dtype == np.float32 and isinstance(loss32, float)
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    np.testing.assert_allclose(dy32, dy64, rtol=1e-5)


@pytest.mark.parametrize("y, target, error, match", [
    (np.zeros((2, 3, 4)), np.zeros((2, 3, 5)), ValueError,
     r"target must have shape \(T, B, O\) = \(2, 3, 4\), got \(2, 3, 5\)"),
    (np.zeros((2, 3, 4)), np.zeros((2, 3, 4), dtype=np.float32), TypeError,
     r"target must have the dtype of y \(float64\), got float32"),
    (np.zeros((3, 4)), np.zeros((3, 4)), ValueError, "y must have 3 dimensions"),
    (np.zeros((2, 3, 4)), np.full((2, 3, 4), np.nan), ValueError, "target contains NaN"),
    (np.zeros((2, 3, 4)), [0.0], TypeError, "target must be a numpy array"),
    (np.zeros((2, 3, 4), dtype=int), np.zeros((2, 3, 4)), TypeError,
     "y must have a floating-point dtype"),
])
def test_mse_bad_input(y, target, error, match):
    with pytest.raises(error, match=match):
        mse_loss(y, target)


# ---------------------------------------------------------------- last_step_mask

@pytest.mark.parametrize("T, B", [(1, 1), (1, 4), (5, 1), (3, 2)])
def test_last_step_mask_values(T, B):
    mask = last_step_mask(T, B)
    assert mask.dtype == bool and mask.shape == (T, B)
    assert mask[-1].all() and not mask[:-1].any()


@pytest.mark.parametrize("T, B, error, match", [
    (0, 2, ValueError, "T must be >= 1, got 0"),
    (3, -1, ValueError, "B must be >= 1, got -1"),
    (2.0, 2, TypeError, "T must be a positive int, got float"),
    (2, True, TypeError, "B must be a positive int, got bool"),
])
def test_last_step_mask_bad_input(T, B, error, match):
    with pytest.raises(error, match=match):
        last_step_mask(T, B)
