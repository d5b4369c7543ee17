"""Tests for bptt.clip: expectations come from hand calculations or plain numpy.

Clipping takes any model's gradients: most tests use the RNN's five keys, and
the tests of "any dict" use made-up keys. The comparisons with torch are in
tests/torch/ (run where torch is installed).
"""
import copy
import re

import numpy as np
import pytest

import bptt
from bptt.clip import clip_grad_norm, clip_grad_value, clip_step_values, grad_norm
from bptt.model import NON_PARAM_KEYS
from bptt.rnn import PARAM_KEYS

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


# --- any dict of parameter gradients ---------------------------------------------

ALL = [lambda g: grad_norm(g), lambda g: clip_grad_norm(g, 1.0), lambda g: clip_grad_value(g, 1.0)]
IDS = ["grad_norm", "clip_grad_norm", "clip_grad_value"]


def odd_grads(seed=0, dtype=np.float64):
    """Gradients of a made-up model: keys and shapes that no RNN has, plus input gradients."""
    rng = np.random.default_rng(seed)
    shapes = {"gate": (3, 2, 2), "a": (), "W": (4, 1), "bias_7": (5,)}
    g = {k: np.asarray(3 * rng.standard_normal(s), dtype=dtype) for k, s in shapes.items()}
    g.update(x=np.full((2, 1, 3), 50.0, dtype), h0=np.full((1, 2), -50.0, dtype),
             c0=np.full((1, 2), 70.0, dtype))
    return g


def test_norm_is_over_every_key_but_the_input_gradients():
    g = odd_grads()
    params = [k for k in g if k not in NON_PARAM_KEYS]
    expected = np.sqrt(sum(np.sum(g[k].astype(np.float64) ** 2) for k in params))
    assert grad_norm(g) == pytest.approx(expected, rel=1e-14)
    # Dropping any one parameter key changes the norm; dropping an input key does not.
    for k in params:
        without = {key: v for key, v in g.items() if key != k}
        assert grad_norm(without) < expected * (1 - 1e-6), k
    for k in NON_PARAM_KEYS:
        without = {key: v for key, v in g.items() if key != k}
        assert grad_norm(without) == grad_norm(g), k


@pytest.mark.parametrize("c", [0.5, 1e6])
def test_clip_grad_norm_scales_every_key_and_copies_the_inputs(c):
    g = odd_grads(seed=1)
    out, total = clip_grad_norm(g, c)
    scale = min(1.0, c / (total + 1e-6))
    assert list(out) == list(g)
    for k in g:
        want = g[k] if k in NON_PARAM_KEYS else g[k] * scale
        np.testing.assert_allclose(out[k], want, rtol=1e-14, err_msg=k)
        assert not np.shares_memory(out[k], g[k]), k


def test_clip_grad_value_clamps_every_key_and_copies_the_inputs():
    g = odd_grads(seed=2)
    out = clip_grad_value(g, 1.0)
    assert list(out) == list(g)
    for k in g:
        want = g[k] if k in NON_PARAM_KEYS else np.clip(g[k], -1.0, 1.0)
        np.testing.assert_array_equal(out[k], want, err_msg=k)
        assert not np.shares_memory(out[k], g[k]), k


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_norm_is_computed_in_float64(dtype):
    # Values whose squares overflow float16 (300**2 > 65504) and whose sum
    # loses digits in float32: the norm must be the float64 norm of the values.
    rng = np.random.default_rng(3)
    g = {"big": (300 * rng.standard_normal(4000)).astype(dtype),
         "tiny": (1e-3 * rng.standard_normal((30, 30))).astype(dtype)}
    want = np.sqrt(sum(np.sum(v.astype(np.float64) ** 2) for v in g.values()))
    assert grad_norm(g) == pytest.approx(want, rel=1e-13)
    assert clip_grad_norm(g, 1.0)[1] == pytest.approx(want, rel=1e-13)
    assert type(grad_norm(g)) is float


@pytest.mark.parametrize("fn", ALL, ids=IDS)
def test_non_finite_input_gradients_are_ignored(fn):
    g = make_grads(2, 3, 1)
    g["x"][0, 0, 0] = np.nan
    g["h0"][0, 1] = np.inf
    clean = {k: g[k] for k in PARAM_KEYS}
    got, want = fn(g), fn(clean)          # must not raise: x and h0 are not parameters
    if fn is ALL[1]:                      # clip_grad_norm: (clipped, norm)
        assert got[1] == want[1]
        got, want = got[0], want[0]
    if isinstance(got, dict):
        assert np.isnan(got["x"][0, 0, 0]) and np.isinf(got["h0"][0, 1])   # copied as given
        np.testing.assert_equal({k: got[k] for k in PARAM_KEYS}, want)
    else:
        assert got == want


# --- errors: one test per error class ---------------------------------------------


@pytest.mark.parametrize("fn", ALL, ids=IDS)
def test_type_errors_name_the_argument(fn):
    g = make_grads(2, 3, 1)
    for bad, fragment in (([np.zeros(3)], "grads must be a dict"),
                          ({**g, "b_h": np.arange(3)}, "grads['b_h'] must have a floating-point"),
                          ({**g, "b_h": g["b_h"].tolist()}, "grads['b_h'] must be a numpy array"),
                          ({**g, "W_hh": g["W_hh"].astype(np.float32)},
                           "grads['W_hh'] must have the dtype of grads['W_xh'], float64")):
        with pytest.raises(TypeError, match=re.escape(fragment)):
            fn(bad)


@pytest.mark.parametrize("fn", ALL, ids=IDS)
def test_value_errors_name_the_argument(fn):
    g = make_grads(2, 3, 1)
    g["W_hy"][0, 1] = np.nan
    before = copy.deepcopy(g)
    with pytest.raises(ValueError, match=re.escape("grads['W_hy'] contains NaN or infinity")):
        fn(g)
    np.testing.assert_equal(g, before)
    with pytest.raises(ValueError, match="grads must hold at least one parameter gradient"):
        fn({"x": np.zeros((2, 1, 3)), "h0": np.zeros((1, 2))})


@pytest.mark.parametrize("fn, name", [(clip_grad_norm, "max_norm"),
                                      (clip_grad_value, "clip_value"),
                                      (clip_step_values, "clip_value")])
@pytest.mark.parametrize("bad, exc", [(0.0, ValueError), (-1.0, ValueError),
                                      (np.inf, ValueError), (np.nan, ValueError),
                                      ("1", TypeError), (None, TypeError), (True, TypeError)])
def test_bad_thresholds(fn, name, bad, exc):
    grads = make_steps() if fn is clip_step_values else make_grads(2, 3, 1)
    with pytest.raises(exc, match=f"^{name} must be a"):
        fn(grads, bad)


# --- clip_step_values (the per-step rule) -------------------------------------------


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


def test_clip_step_values_takes_any_keys_with_the_steps_first():
    rng = np.random.default_rng(5)
    steps = {"a": 4 * rng.standard_normal((3,)), "M": 4 * rng.standard_normal((3, 2, 2)),
             "x": np.full((3, 1, 2), 9.0)}
    out = clip_step_values(steps, 1.0)
    np.testing.assert_allclose(out["a"], np.clip(steps["a"], -1, 1).sum(), rtol=1e-15)
    np.testing.assert_allclose(out["M"], np.clip(steps["M"], -1, 1).sum(axis=0), rtol=1e-15)
    np.testing.assert_array_equal(out["x"], steps["x"])        # an input gradient: copied
    assert not np.shares_memory(out["x"], steps["x"])


def test_clip_step_values_refuses_bad_input():
    with pytest.raises(TypeError, match="step_grads must be a dict"):
        clip_step_values([np.zeros((2, 2))], 1.0)
    steps = make_steps(T=3, H=2)
    steps["b_h"] = steps["b_h"][0]           # a summed gradient (H,) = (2,), not (T, H)
    with pytest.raises(ValueError, match=re.escape(
            "step_grads['b_h'] must have the steps first, shape (T, ...) with T = 3 "
            "(that of step_grads['W_xh']), got (2,)")):
        clip_step_values(steps, 1.0)
    steps = make_steps()
    steps["W_hh"][0, 0, 0] = np.inf
    with pytest.raises(ValueError, match=re.escape("step_grads['W_hh'] contains NaN")):
        clip_step_values(steps, 1.0)


def test_the_hidden_state_gradients_of_return_dh_are_not_clipped():
    # rnn_backward(..., return_dh=True) adds "h", the total derivatives of the
    # states: not a parameter gradient, so neither measured nor clipped.
    p = bptt.init_rnn(2, 3, 2, seed=0)
    x = np.random.default_rng(0).standard_normal((4, 2, 2))
    _, h = bptt.rnn_forward(p, x)
    grads = bptt.rnn_backward(p, x, h, np.ones((4, 2, 2)), return_dh=True)
    plain = {k: v for k, v in grads.items() if k != "h"}
    assert grad_norm(grads) == grad_norm(plain)
    clipped, _ = clip_grad_norm(grads, 1e-3)
    np.testing.assert_array_equal(clipped["h"], grads["h"])
