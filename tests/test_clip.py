"""Tests for bptt.clip: expectations come from hand calculations or plain numpy."""
import copy

import numpy as np
import pytest

from bptt.clip import (clip_grad_norm, clip_grad_value, clip_step_values, grad_norm,
                       step_gradients)
from bptt.validate import PARAM_KEYS

SHAPES = [(1, 1, 1), (3, 4, 2), (2, 5, 3)]   # (D, H, O), including D != H != O


def make_grads(D, H, O, seed=0, dtype=np.float64, scale=1.0, T=3, B=2):
    """Random gradients of the five parameters plus the x and h0 that rnn_backward adds."""
    rng = np.random.default_rng(seed)
    shapes = {"W_xh": (H, D), "W_hh": (H, H), "b_h": (H,), "W_hy": (O, H), "b_y": (O,),
              "x": (T, B, D), "h0": (B, H)}
    return {k: (scale * rng.standard_normal(s)).astype(dtype) for k, s in shapes.items()}


def flat(grads):
    """The parameter gradients laid end to end, in float64."""
    return np.concatenate([np.asarray(grads[k], dtype=np.float64).ravel() for k in PARAM_KEYS])


def norm5_grads(dtype=np.float64):
    """Gradients of norm exactly 5 (a 3-4-5 triangle), with large x and h0 that must be ignored."""
    g = {"W_xh": np.zeros((2, 3)), "W_hh": np.zeros((2, 2)), "b_h": np.zeros(2),
         "W_hy": np.zeros((1, 2)), "b_y": np.zeros(1),
         "x": np.full((2, 1, 3), 100.0), "h0": np.full((1, 2), -100.0)}
    g["W_xh"][1, 2] = 3.0
    g["b_y"][0] = -4.0
    return {k: v.astype(dtype) for k, v in g.items()}


# --- grad_norm ------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_grad_norm_by_hand(dtype):
    assert grad_norm(norm5_grads(dtype)) == pytest.approx(5.0, rel=1e-12)


@pytest.mark.parametrize("D,H,O", SHAPES)
def test_grad_norm_is_norm_of_concatenated_params_only(D, H, O):
    g = make_grads(D, H, O, seed=1)
    expected = np.sqrt(np.sum(flat(g) ** 2))
    assert grad_norm(g) == pytest.approx(expected, rel=1e-12)
    g_without_extras = {k: g[k] for k in PARAM_KEYS}
    assert grad_norm(g_without_extras) == pytest.approx(expected, rel=1e-12)


def test_grad_norm_does_not_overflow():
    # Squaring 1e200 overflows float64, and 1e30 overflows float32; the norm must not.
    g = norm5_grads()
    big = {k: v * 1e200 for k, v in g.items()}
    assert grad_norm(big) == pytest.approx(5e200, rel=1e-12)
    g32 = {k: (v * 1e30).astype(np.float32) for k, v in g.items()}
    assert grad_norm(g32) == pytest.approx(5e30, rel=1e-6)


def test_grad_norm_of_zeros_is_zero():
    g = {k: np.zeros_like(v) for k, v in make_grads(2, 3, 1).items()}
    assert grad_norm(g) == 0.0


# --- clip_grad_norm -------------------------------------------------------------


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-12), (np.float32, 1e-6)])
def test_clip_grad_norm_by_hand(dtype, rtol):
    g = norm5_grads(dtype)
    out, total = clip_grad_norm(g, 1.0)
    assert total == pytest.approx(5.0, rel=1e-12)
    s = 1.0 / (5.0 + 1e-6)                    # torch's scale, computed by hand
    np.testing.assert_allclose(out["W_xh"][1, 2], 3.0 * s, rtol=rtol)
    np.testing.assert_allclose(out["b_y"][0], -4.0 * s, rtol=rtol)
    assert np.count_nonzero(flat(out)) == 2
    assert grad_norm(out) == pytest.approx(1.0, abs=1e-6)
    # x and h0 are neither measured nor clipped
    np.testing.assert_array_equal(out["x"], g["x"])
    np.testing.assert_array_equal(out["h0"], g["h0"])


@pytest.mark.parametrize("D,H,O", SHAPES)
@pytest.mark.parametrize("max_norm", [0.1, 1.0, 3.0])
def test_clip_grad_norm_keeps_direction_and_caps_length(D, H, O, max_norm):
    g = make_grads(D, H, O, seed=2, scale=10.0)   # norm well above every max_norm
    before = flat(g)
    out, total = clip_grad_norm(g, max_norm)
    after = flat(out)
    n_before = np.linalg.norm(before)
    assert total == pytest.approx(n_before, rel=1e-12)
    assert np.linalg.norm(after) == pytest.approx(max_norm * n_before / (n_before + 1e-6),
                                                   rel=1e-12)
    # direction: after is a positive multiple of before
    cosine = before @ after / (np.linalg.norm(before) * np.linalg.norm(after))
    assert cosine == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(after, before * (max_norm / (n_before + 1e-6)), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_clip_grad_norm_below_threshold_returns_equal_copies(dtype):
    g = norm5_grads(dtype)
    out, total = clip_grad_norm(g, 6.0)
    assert total == pytest.approx(5.0, rel=1e-12)
    assert out is not g
    assert list(out) == list(g)
    for k in g:
        assert out[k] is not g[k]
        assert not np.shares_memory(out[k], g[k]), k
        np.testing.assert_array_equal(out[k], g[k])
        assert out[k].dtype == dtype


@pytest.mark.parametrize("clip", [lambda g: clip_grad_norm(g, 0.5)[0],
                                  lambda g: clip_grad_norm(g, 1e6)[0],
                                  lambda g: clip_grad_value(g, 0.5)],
                         ids=["norm-clipped", "norm-unclipped", "value"])
def test_input_untouched_and_output_never_shares_memory(clip):
    g = make_grads(3, 4, 2, seed=3, scale=5.0)
    before = copy.deepcopy(g)
    out = clip(g)
    assert set(g) == set(before)
    for k in g:
        np.testing.assert_array_equal(g[k], before[k])
        assert not np.shares_memory(out[k], g[k]), k
    out["W_hh"][...] = 123.0   # writing to the result must not reach the input
    np.testing.assert_array_equal(g["W_hh"], before["W_hh"])


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("clip", [lambda g: clip_grad_norm(g, 0.5)[0],
                                  lambda g: clip_grad_value(g, 0.5)],
                         ids=["norm", "value"])
def test_dtype_preserved(dtype, clip):
    g = make_grads(3, 4, 2, seed=4, dtype=dtype, scale=3.0)
    out = clip(g)
    for k in g:
        assert out[k].dtype == dtype, k
        assert out[k].shape == g[k].shape, k


def test_clip_grad_norm_matches_torch_edge_just_below_threshold():
    # torch scales by min(1, c / (norm + 1e-6)); a norm a hair below c is still scaled.
    g = norm5_grads()
    c = 5.0 + 5e-7
    out, _ = clip_grad_norm(g, c)
    np.testing.assert_allclose(out["b_y"][0], -4.0 * c / (5.0 + 1e-6), rtol=1e-15)
    assert out["b_y"][0] != -4.0


# --- clip_grad_value -----------------------------------------------------------


def test_clip_grad_value_by_hand():
    g = norm5_grads()
    g["b_h"] = np.array([-3.0, 0.5])
    g["W_hh"] = np.array([[2.0, -1.0], [1.0, -0.25]])
    out = clip_grad_value(g, 1.0)
    np.testing.assert_array_equal(out["b_h"], [-1.0, 0.5])
    np.testing.assert_array_equal(out["W_hh"], [[1.0, -1.0], [1.0, -0.25]])
    np.testing.assert_array_equal(out["W_xh"][1, 2], 1.0)
    np.testing.assert_array_equal(out["b_y"], [-1.0])
    np.testing.assert_array_equal(out["x"], g["x"])     # 100s, not clamped
    np.testing.assert_array_equal(out["h0"], g["h0"])


@pytest.mark.parametrize("D,H,O", SHAPES)
@pytest.mark.parametrize("c", [0.1, 1.0])
def test_clip_grad_value_bounds(D, H, O, c):
    g = make_grads(D, H, O, seed=5, scale=2.0)
    out = clip_grad_value(g, c)
    for k in PARAM_KEYS:
        assert np.all(np.abs(out[k]) <= c), k
        inside = np.abs(g[k]) <= c
        np.testing.assert_array_equal(out[k][inside], g[k][inside])
        np.testing.assert_array_equal(out[k][~inside], c * np.sign(g[k][~inside]))


def test_clip_grad_value_changes_direction_where_norm_clipping_does_not():
    # The module docstring's example: (10, 1) clamped at 1 becomes (1, 1), 39 degrees away.
    g = norm5_grads()
    g["W_xh"][...] = 0.0
    g["b_y"][...] = 0.0
    g["b_h"] = np.array([10.0, 1.0])
    by_value = clip_grad_value(g, 1.0)["b_h"]
    by_norm = clip_grad_norm(g, 1.0)[0]["b_h"]

    def angle(a, b):
        return np.degrees(np.arccos(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))))

    assert angle(by_value, g["b_h"]) == pytest.approx(45.0 - np.degrees(np.arctan(0.1)))
    assert angle(by_value, g["b_h"]) > 39.0
    assert angle(by_norm, g["b_h"]) == pytest.approx(0.0, abs=1e-5)


# --- errors ---------------------------------------------------------------------

ALL = [lambda g: grad_norm(g), lambda g: clip_grad_norm(g, 1.0), lambda g: clip_grad_value(g, 1.0)]
IDS = ["grad_norm", "clip_grad_norm", "clip_grad_value"]


@pytest.mark.parametrize("fn", ALL, ids=IDS)
def test_missing_key_is_named(fn):
    g = make_grads(2, 3, 1)
    del g["W_hh"], g["b_y"]
    with pytest.raises(ValueError, match=r"missing \['W_hh', 'b_y'\]"):
        fn(g)


@pytest.mark.parametrize("fn", ALL, ids=IDS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_is_refused_naming_the_key(fn, bad):
    g = make_grads(2, 3, 1)
    g["W_hy"][0, 1] = bad
    before = copy.deepcopy(g)
    with pytest.raises(ValueError, match=r"grads\['W_hy'\] contains NaN or infinity"):
        fn(g)
    np.testing.assert_array_equal(g["W_xh"], before["W_xh"])


@pytest.mark.parametrize("fn", ALL, ids=IDS)
def test_non_finite_x_or_h0_is_ignored(fn):
    g = make_grads(2, 3, 1)
    g["x"][0, 0, 0] = np.nan
    fn(g)   # must not raise: x is not a parameter gradient


@pytest.mark.parametrize("fn", ALL, ids=IDS)
def test_wrong_types_are_refused(fn):
    with pytest.raises(TypeError, match="grads must be a dict"):
        fn([np.zeros(3)])
    g = make_grads(2, 3, 1)
    g["b_h"] = np.arange(3)
    with pytest.raises(TypeError, match=r"grads\['b_h'\] must have a floating-point dtype"):
        fn(g)
    g = make_grads(2, 3, 1)
    g["b_h"] = g["b_h"].tolist()
    with pytest.raises(TypeError, match=r"grads\['b_h'\] must be a numpy array"):
        fn(g)


@pytest.mark.parametrize("fn", ALL, ids=IDS)
def test_inconsistent_shapes_are_refused(fn):
    g = make_grads(2, 3, 1)
    g["W_hh"] = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"grads\['W_hh'\] must have shape \(H, H\) = \(3, 3\)"):
        fn(g)


@pytest.mark.parametrize("fn,name", [(clip_grad_norm, "max_norm"), (clip_grad_value, "clip_value")])
@pytest.mark.parametrize("bad", [0.0, -1.0, np.inf, np.nan])
def test_bad_threshold_values(fn, name, bad):
    with pytest.raises(ValueError, match=f"{name} must be a finite number > 0, got {bad}"):
        fn(make_grads(2, 3, 1), bad)


@pytest.mark.parametrize("fn,name", [(clip_grad_norm, "max_norm"), (clip_grad_value, "clip_value")])
@pytest.mark.parametrize("bad", ["1", None, True])
def test_bad_threshold_types(fn, name, bad):
    with pytest.raises(TypeError, match=f"{name} must be a positive number"):
        fn(make_grads(2, 3, 1), bad)


# --- against torch, when it happens to be installed ---------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_matches_torch(dtype, max_norm):
    torch = pytest.importorskip("torch")
    g = make_grads(3, 4, 2, seed=6, dtype=dtype, scale=2.0)
    tensors = [torch.tensor(g[k]).requires_grad_() for k in PARAM_KEYS]
    for t, k in zip(tensors, PARAM_KEYS):
        t.grad = torch.tensor(g[k])
    t_norm = torch.nn.utils.clip_grad_norm_(tensors, max_norm)
    out, total = clip_grad_norm(g, max_norm)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    assert total == pytest.approx(float(t_norm), rel=rtol)
    for t, k in zip(tensors, PARAM_KEYS):
        np.testing.assert_allclose(out[k], t.grad.numpy(), rtol=rtol, err_msg=k)
        t.grad = torch.tensor(g[k])
    torch.nn.utils.clip_grad_value_(tensors, 0.7)
    out = clip_grad_value(g, 0.7)
    for t, k in zip(tensors, PARAM_KEYS):
        np.testing.assert_array_equal(out[k], t.grad.numpy(), err_msg=k)


# --- step_gradients and clip_step_values (the per-step rule) ------------------

STEP_SHAPES = [(1, 1, 1, 1, 1), (4, 2, 3, 5, 2), (6, 3, 2, 4, 3)]   # (T, B, D, H, O)


def rnn_problem(T, B, D, H, O, seed=0, dtype=np.float64):
    """Parameters with nonzero biases, inputs, states and a random dL/dy."""
    from bptt import rnn_forward
    rng = np.random.default_rng(seed)
    params = {"W_xh": rng.standard_normal((H, D)) / np.sqrt(D),
              "W_hh": 1.2 * rng.standard_normal((H, H)) / np.sqrt(H),
              "b_h": 0.3 * rng.standard_normal(H),
              "W_hy": rng.standard_normal((O, H)) / np.sqrt(H),
              "b_y": 0.3 * rng.standard_normal(O)}
    params = {k: v.astype(dtype) for k, v in params.items()}
    x = rng.standard_normal((T, B, D)).astype(dtype)
    h0 = (0.5 * rng.standard_normal((B, H))).astype(dtype)
    _, h = rnn_forward(params, x, h0)
    dy = rng.standard_normal((T, B, O)).astype(dtype)
    return params, x, h, dy


@pytest.mark.parametrize("T,B,D,H,O", STEP_SHAPES)
@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-12), (np.float32, 1e-4)])
def test_step_gradients_sum_to_rnn_backward(T, B, D, H, O, dtype, rtol):
    from bptt import rnn_backward
    params, x, h, dy = rnn_problem(T, B, D, H, O, seed=T + H, dtype=dtype)
    steps = step_gradients(params, x, h, dy)
    full = rnn_backward(params, x, h, dy)
    shapes = {"W_xh": (T, H, D), "W_hh": (T, H, H), "b_h": (T, H), "W_hy": (T, O, H),
              "b_y": (T, O)}
    assert list(steps) == list(PARAM_KEYS)
    for k in PARAM_KEYS:
        assert steps[k].shape == shapes[k], k
        assert steps[k].dtype == dtype, k
        np.testing.assert_allclose(steps[k].sum(axis=0), full[k], rtol=rtol, atol=rtol,
                                   err_msg=k)


@pytest.mark.parametrize("T,B,D,H,O", STEP_SHAPES)
def test_step_gradients_are_the_gradients_of_the_untied_loss(T, B, D, H, O):
    # An independent reference: autograd through an RNN whose step t uses its
    # own copy theta^(t) of every parameter (the untied loss), column vectors.
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    params, x, h, dy = rnn_problem(T, B, D, H, O, seed=7 + T)
    h0 = h[0]

    def untied_loss(copies):
        state = h0.T                                    # (H, B)
        total = 0.0
        for t in range(1, T + 1):
            c = {k: copies[k][t - 1] for k in PARAM_KEYS}
            state = anp.tanh(anp.dot(c["W_hh"], state) + anp.dot(c["W_xh"], x[t - 1].T)
                             + c["b_h"][:, None])
            y_t = anp.dot(c["W_hy"], state) + c["b_y"][:, None]   # (O, B)
            total = total + anp.sum(dy[t - 1].T * y_t)           # dL/dy_t = dy[t-1]
        return total

    copies = {k: np.repeat(params[k][None], T, axis=0) for k in PARAM_KEYS}
    expected = autograd.grad(untied_loss)(copies)
    steps = step_gradients(params, x, h, dy)
    for k in PARAM_KEYS:
        np.testing.assert_allclose(steps[k], expected[k], rtol=1e-10, atol=1e-12, err_msg=k)


def make_steps(T=3, D=2, H=2, O=1, seed=0, scale=1.0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    shapes = {"W_xh": (T, H, D), "W_hh": (T, H, H), "b_h": (T, H), "W_hy": (T, O, H),
              "b_y": (T, O)}
    return {k: (scale * rng.standard_normal(s)).astype(dtype) for k, s in shapes.items()}


def test_clip_step_values_by_hand_turns_an_entry_uphill():
    steps = make_steps(T=3)
    steps["b_h"] = np.array([[10.0, 0.5], [-2.0, 0.25], [-2.0, -0.5]])
    out = clip_step_values(steps, 1.0)
    # Entry 0: the sum is 6, the clamped terms 1, -1, -1 sum to -1: the opposite sign.
    # Entry 1: no term exceeds 1, so the sum is kept.
    np.testing.assert_allclose(out["b_h"], [-1.0, 0.25])
    assert steps["b_h"].sum(axis=0)[0] * out["b_h"][0] < 0


@pytest.mark.parametrize("c", [0.1, 1.0])
def test_clip_step_values_is_the_sum_of_clamped_terms(c):
    steps = make_steps(T=5, D=3, H=4, O=2, seed=1, scale=2.0)
    out = clip_step_values(steps, c)
    for k in PARAM_KEYS:
        expected = np.sum(np.minimum(np.maximum(steps[k], -c), c), axis=0)
        np.testing.assert_allclose(out[k], expected, rtol=1e-14, err_msg=k)
        assert np.all(np.abs(out[k]) <= steps[k].shape[0] * c), k


def test_clip_step_values_with_one_step_is_clip_grad_value():
    steps = make_steps(T=1, D=3, H=4, O=2, seed=2, scale=3.0)
    out = clip_step_values(steps, 0.7)
    summed = {k: steps[k][0] for k in PARAM_KEYS}
    expected = clip_grad_value(summed, 0.7)
    for k in PARAM_KEYS:
        np.testing.assert_array_equal(out[k], expected[k], err_msg=k)


def test_clip_step_values_never_turns_the_sum_of_one_signed_terms():
    # If every term of an entry has the same sign, clamping keeps that sign.
    steps = {k: np.abs(v) for k, v in make_steps(T=4, seed=3, scale=5.0).items()}
    out = clip_step_values(steps, 0.5)
    for k in PARAM_KEYS:
        assert np.all(out[k] >= 0), k


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_step_values_keeps_dtype_and_input(dtype):
    steps = make_steps(T=3, seed=4, scale=3.0, dtype=dtype)
    before = copy.deepcopy(steps)
    out = clip_step_values(steps, 1.0)
    for k in PARAM_KEYS:
        assert out[k].dtype == dtype, k
        assert out[k].shape == steps[k].shape[1:], k
        np.testing.assert_array_equal(steps[k], before[k])


def test_clip_step_values_refuses_bad_input():
    with pytest.raises(TypeError, match="step_grads must be a dict"):
        clip_step_values([np.zeros((2, 2))], 1.0)
    steps = make_steps()
    del steps["b_y"]
    with pytest.raises(ValueError, match=r"missing \['b_y'\]"):
        clip_step_values(steps, 1.0)
    steps = make_steps(T=3, H=2)
    steps["W_hh"] = np.zeros((2, 2, 2))
    with pytest.raises(ValueError, match=r"step_grads\['W_hh'\] must have shape \(T, H, H\)"):
        clip_step_values(steps, 1.0)
    steps = make_steps()
    steps["b_h"] = steps["b_h"][0]           # a summed gradient, not per step
    with pytest.raises(ValueError, match=r"step_grads\['b_h'\] must have 2 dimensions"):
        clip_step_values(steps, 1.0)
    with pytest.raises(ValueError, match="clip_value must be a finite number > 0"):
        clip_step_values(make_steps(), 0.0)


def test_step_gradients_refuses_bad_input():
    params, x, h, dy = rnn_problem(3, 2, 2, 3, 1)
    with pytest.raises(ValueError, match=r"dy must have shape \(T, B, O\)"):
        step_gradients(params, x, h, dy[:2])
