"""Tests of bptt.rnn: the checks, init_rnn, the step and sequence passes, step_gradients, RNN.

Every expected value is derived independently of the code under test: from a
hand formula, from the column-vector reference RNN in ``autograd_rnn.py``
(differentiated by autograd), or from centred finite differences.
"""
from __future__ import annotations

import re
from types import MappingProxyType

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_rnn import (GRAD_KEYS, as_args, autograd_dh, autograd_gradients,
                          finite_difference_gradients, linear_loss, loss_gradient_wrt_y,
                          random_problem, reference_forward, rel_error, sine_loss)
from bptt.gradcheck import numerical_gradient
from bptt.model import Model
from bptt.rnn import (PARAM_KEYS, RNN, check_rnn_params, check_tanh_states, init_rnn,
                      rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward,
                      step_gradients)

# (T, B, D, H, O): the single-step/single-sequence edge and sizes that all differ.
SHAPES = [(5, 2, 3, 4, 2), (1, 1, 2, 3, 4), (6, 3, 4, 2, 5)]
LOSSES = {"linear": linear_loss, "sine": sine_loss}


def truncations(T):
    """None (full BPTT), 1, 3, T and a k > T, without repeats."""
    return list(dict.fromkeys([None, 1, 3, T, T + 2]))


def shape_and_truncate_cases():
    return [pytest.param(shape, k, id=f"TBDHO={shape}-k={k}")
            for shape in SHAPES for k in truncations(shape[0])]


def expected_shapes(T, B, D, H, O):
    return {"W_xh": (H, D), "W_hh": (H, H), "b_h": (H,), "W_hy": (O, H), "b_y": (O,),
            "x": (T, B, D), "h0": (B, H)}


def assert_grads_close(got, want, tol, label=""):
    """Every key within a norm-based relative error ``tol``; both values shown on failure."""
    assert set(got) == set(want)
    for key in want:
        err = rel_error(got[key], want[key])
        assert err < tol, (f"{label} d{key}: relative error {err:.3e} >= {tol:.0e}\n"
                           f"rnn_backward:\n{got[key]}\nreference:\n{want[key]}")


# ---------------------------------------------------------------- init_rnn

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("D, H, O", [(3, 5, 2), (1, 1, 1)])
def test_init_rnn_shapes_and_dtype(D, H, O, dtype):
    params = init_rnn(D, H, O, seed=1, dtype=dtype)
    assert list(params) == list(PARAM_KEYS)
    want = {"W_xh": (H, D), "W_hh": (H, H), "b_h": (H,), "W_hy": (O, H), "b_y": (O,)}
    for key, shape in want.items():
        assert params[key].shape == shape, key
        assert params[key].dtype == dtype, key


def test_init_rnn_defaults_to_float64():
    assert all(v.dtype == np.float64 for v in init_rnn(2, 3, 4).values())


def test_init_rnn_is_deterministic_by_seed():
    a, b, c = init_rnn(3, 5, 2, seed=4), init_rnn(3, 5, 2, seed=4), init_rnn(3, 5, 2, seed=5)
    for key in ("W_xh", "W_hh", "W_hy"):
        np.testing.assert_array_equal(a[key], b[key])
        assert not np.allclose(a[key], c[key]), f"{key} does not depend on the seed"


def test_init_rnn_biases_are_zero():
    params = init_rnn(3, 5, 2, seed=3)
    np.testing.assert_array_equal(params["b_h"], np.zeros(5))
    np.testing.assert_array_equal(params["b_y"], np.zeros(2))


def test_init_rnn_variance_is_one_over_fan_in():
    # Three different fan-ins, so a matrix scaled by the wrong one is caught.
    # With >= 2e5 entries the sample variance is within ~0.3% (one sigma) of
    # the truth; 3% is over ten sigma yet far below a wrong-fan-in error (>= 25%).
    D, H, O = 1000, 500, 400
    params = init_rnn(D, H, O, seed=0)
    for key, fan_in in (("W_xh", D), ("W_hh", H), ("W_hy", H)):
        w = params[key]
        assert abs(w.mean()) < 5 / np.sqrt(w.size * fan_in), key
        ratio = w.var() * fan_in
        assert abs(ratio - 1) < 0.03, f"{key}: var * fan_in = {ratio:.4f}, expected 1"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_init_rnn_spectral_radius_near_one(seed):
    # Circular law: i.i.d. entries of variance 1/H fill the unit disc.
    radius = np.max(np.abs(np.linalg.eigvals(init_rnn(2, 400, 2, seed=seed)["W_hh"])))
    assert 0.9 <= radius <= 1.1, f"spectral radius {radius:.4f} not in [0.9, 1.1]"


@pytest.mark.parametrize("position, name", [(0, "input_size"), (1, "hidden_size"),
                                            (2, "output_size")])
@pytest.mark.parametrize("value, exc", [(0, ValueError), (-3, ValueError), (2.5, TypeError),
                                        (3.0, TypeError), (True, TypeError), (None, TypeError),
                                        ("3", TypeError)])
def test_init_rnn_rejects_bad_sizes(position, name, value, exc):
    sizes = [3, 5, 2]
    sizes[position] = value
    with pytest.raises(exc, match=f"^{name} must be"):
        init_rnn(*sizes)


def test_init_rnn_accepts_numpy_ints():
    params = init_rnn(np.int64(3), np.int32(5), np.int8(2))
    assert params["W_xh"].shape == (5, 3) and params["W_hy"].shape == (2, 5)


@pytest.mark.parametrize("dtype", [int, np.int32, bool, np.complex128, "int8", object])
def test_init_rnn_rejects_non_float_dtype(dtype):
    with pytest.raises(TypeError, match="dtype must be a floating-point dtype"):
        init_rnn(3, 5, 2, dtype=dtype)


# ---------------------------------------------------------------- forward

def test_step_forward_by_hand():
    # One unit, one input: tanh(0.5 * (-0.4) + 2 * 0.3 + 0.1) = tanh(0.5).
    params = {"W_xh": np.array([[2.0]]), "W_hh": np.array([[0.5]]), "b_h": np.array([0.1]),
              "W_hy": np.array([[1.0]]), "b_y": np.array([0.0])}
    h = rnn_step_forward(params, np.array([[0.3]]), np.array([[-0.4]]))
    np.testing.assert_allclose(h, [[np.tanh(0.5)]], rtol=1e-15)


@pytest.mark.parametrize("T, B, D, H, O", SHAPES)
def test_step_forward_matches_column_formula(T, B, D, H, O):
    params, x, h0, _ = random_problem(T, B, D, H, O, seed=2)
    got = rnn_step_forward(params, x[0], h0)
    assert got.shape == (B, H)
    for b in range(B):   # the book's formula, one column vector per sequence
        want = np.tanh(params["W_hh"] @ h0[b] + params["W_xh"] @ x[0, b] + params["b_h"])
        np.testing.assert_allclose(got[b], want, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("T, B, D, H, O", SHAPES)
def test_forward_shapes_and_h0(T, B, D, H, O):
    params, x, h0, _ = random_problem(T, B, D, H, O, seed=3)
    y, h = rnn_forward(params, x, h0)
    assert y.shape == (T, B, O)
    assert h.shape == (T + 1, B, H)
    np.testing.assert_array_equal(h[0], h0)
    assert not np.shares_memory(h, h0)


def test_forward_h0_none_means_zeros(small):
    y_none, h_none = rnn_forward(small.params, small.x)
    y_zero, h_zero = rnn_forward(small.params, small.x, np.zeros((small.B, small.H)))
    np.testing.assert_array_equal(h_none[0], np.zeros((small.B, small.H)))
    np.testing.assert_array_equal(h_none, h_zero)
    np.testing.assert_array_equal(y_none, y_zero)


@pytest.mark.parametrize("T, B, D, H, O", SHAPES)
def test_forward_equals_repeated_step(T, B, D, H, O):
    params, x, h0, _ = random_problem(T, B, D, H, O, seed=4)
    y, h = rnn_forward(params, x, h0)
    h_t = h0
    for t in range(1, T + 1):
        h_t = rnn_step_forward(params, x[t - 1], h_t)
        np.testing.assert_allclose(h[t], h_t, rtol=1e-12, atol=1e-14, err_msg=f"h[{t}]")
        y_t = h_t @ params["W_hy"].T + params["b_y"]
        np.testing.assert_allclose(y[t - 1], y_t, rtol=1e-12, atol=1e-14, err_msg=f"y[{t - 1}]")


# ---------------------------------------------------------------- backward vs references

@pytest.mark.parametrize("shape, truncate", shape_and_truncate_cases())
def test_backward_matches_finite_differences(shape, truncate):
    params, x, h0, w = random_problem(*shape, seed=5)
    _, h = rnn_forward(params, x, h0)
    got = rnn_backward(params, x, h, w, truncate=truncate)   # L = sum(w * y): dL/dy = w
    want = finite_difference_gradients(as_args(params, x, h0), linear_loss(w), truncate)
    assert_grads_close(got, want, 1e-7, f"truncate={truncate}")


@pytest.mark.parametrize("loss_name", list(LOSSES))
@pytest.mark.parametrize("shape, truncate", shape_and_truncate_cases())
def test_backward_matches_autograd(shape, truncate, loss_name):
    params, x, h0, w = random_problem(*shape, seed=6)
    loss = LOSSES[loss_name](w)
    args = as_args(params, x, h0)
    y_ref, _ = reference_forward(args)
    y, h = rnn_forward(params, x, h0)
    np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-14)
    got = rnn_backward(params, x, h, loss_gradient_wrt_y(loss, y_ref), truncate=truncate)
    assert_grads_close(got, autograd_gradients(args, loss, truncate), 1e-10,
                       f"{loss_name}, truncate={truncate}")


@pytest.mark.parametrize("shape, truncate", shape_and_truncate_cases())
def test_return_dh_matches_autograd(shape, truncate):
    # dh[t] is the total derivative dL/dh_t (with detaching: at a detach point
    # only y_t's own term), for t = 0..T, and dh[0] is the "h0" gradient.
    params, x, h0, w = random_problem(*shape, seed=12)
    loss = sine_loss(w)
    args = as_args(params, x, h0)
    y, h = rnn_forward(params, x, h0)
    dy = loss_gradient_wrt_y(loss, reference_forward(args)[0])
    got = rnn_backward(params, x, h, dy, truncate=truncate, return_dh=True)
    plain = rnn_backward(params, x, h, dy, truncate=truncate)
    assert set(got) == {*GRAD_KEYS, "h"}
    assert got["h"].shape == h.shape and got["h"].dtype == h.dtype
    assert_grads_close({"h": got["h"]}, {"h": autograd_dh(args, loss, truncate)}, 1e-10,
                       f"truncate={truncate}")
    np.testing.assert_array_equal(got["h"][0], got["h0"])
    assert not np.shares_memory(got["h"], got["h0"])
    for key in GRAD_KEYS:   # asking for dh changes nothing else
        np.testing.assert_array_equal(got[key], plain[key], err_msg=key)


def test_return_dh_is_keyword_only(small):
    with pytest.raises(TypeError):
        rnn_backward(small.params, small.x, small.h, small.dy, None, True)


def test_reference_truncation_really_differs_from_full():
    # Guards the two tests above: were detaching a no-op in the reference, a
    # backward that ignored `truncate` would pass them.
    params, x, h0, w = random_problem(6, 2, 3, 4, 2, seed=6)
    args, loss = as_args(params, x, h0), linear_loss(w)
    full, trunc = autograd_gradients(args, loss), autograd_gradients(args, loss, 2)
    for key in ("W_hh", "W_xh", "b_h", "x", "h0"):
        assert rel_error(full[key], trunc[key]) > 1e-3, key
    for key in ("W_hy", "b_y"):   # the output layer is untouched by truncation
        np.testing.assert_allclose(full[key], trunc[key], rtol=1e-12)


@pytest.mark.parametrize("T", [1, 4, 7])
def test_truncate_at_least_T_is_full_bptt(T):
    params, x, h0, w = random_problem(T, 2, 3, 4, 2, seed=7)
    _, h = rnn_forward(params, x, h0)
    full = rnn_backward(params, x, h, w)
    for k in (T, T + 1, 10 * T):
        got = rnn_backward(params, x, h, w, truncate=k)
        for key in GRAD_KEYS:
            np.testing.assert_array_equal(got[key], full[key], err_msg=f"k={k}, d{key}")


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_truncated_gradient_is_sum_of_full_bptt_over_chunks(k):
    # Detaching at h_k, h_2k, ... is the same as running full BPTT on each
    # chunk alone, from the chunk's (given) initial state, and adding up.
    T = 7
    params, x, h0, dy = random_problem(T, 2, 3, 4, 2, seed=8)
    _, h = rnn_forward(params, x, h0)
    got = rnn_backward(params, x, h, dy, truncate=k)
    want = {key: np.zeros_like(params[key]) for key in PARAM_KEYS}
    dx = []
    for start in range(0, T, k):
        stop = min(start + k, T)
        chunk = rnn_backward(params, x[start:stop], h[start:stop + 1], dy[start:stop])
        for key in PARAM_KEYS:
            want[key] += chunk[key]
        dx.append(chunk["x"])
        if start == 0:
            want["h0"] = chunk["h0"]
    want["x"] = np.concatenate(dx)
    assert_grads_close(got, want, 1e-12, f"k={k}")


def test_truncate_one_by_hand(small):
    # With k=1 no gradient crosses a step: delta_t = (W_hy^T dy_t) * (1 - h_t^2).
    p = small
    got = rnn_backward(p.params, p.x, p.h, p.dy, truncate=1)
    delta = (p.dy @ p.params["W_hy"]) * (1 - p.h[1:] ** 2)          # (T, B, H)
    np.testing.assert_allclose(got["x"], delta @ p.params["W_xh"], rtol=1e-12)
    np.testing.assert_allclose(got["W_hh"], np.einsum("tbi,tbj->ij", delta, p.h[:-1]),
                               rtol=1e-12)
    np.testing.assert_allclose(got["W_xh"], np.einsum("tbi,tbj->ij", delta, p.x), rtol=1e-12)
    np.testing.assert_allclose(got["b_h"], delta.sum(axis=(0, 1)), rtol=1e-12)
    np.testing.assert_allclose(got["h0"], delta[0] @ p.params["W_hh"], rtol=1e-12)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_first_chunk_losses_still_reach_h0(k, small):
    p = small
    _, h = rnn_forward(p.params, p.x, p.h0)
    first = np.zeros_like(p.dy)
    first[:k] = p.dy[:k]
    # Losses in chunk 1 only: no detach point lies between them and h0, so
    # truncated and full BPTT agree on everything.
    got, full = rnn_backward(p.params, p.x, h, first, truncate=k), rnn_backward(
        p.params, p.x, h, first)
    assert np.linalg.norm(got["h0"]) > 0
    assert_grads_close(got, full, 1e-14, f"k={k}")
    # Losses after chunk 1 only: nothing flows back past h_k.
    later = p.dy - first
    got = rnn_backward(p.params, p.x, h, later, truncate=k)
    np.testing.assert_array_equal(got["h0"], 0)
    np.testing.assert_array_equal(got["x"][:k], 0)
    assert np.linalg.norm(got["x"][k:]) > 0


# ---------------------------------------------------------------- property-based

@st.composite
def problem_specs(draw):
    T = draw(st.integers(1, 6))
    B = draw(st.integers(1, 3))
    D, H, O = (draw(st.integers(1, 5)) for _ in range(3))
    truncate = draw(st.one_of(st.none(), st.integers(1, T + 1)))
    return (T, B, D, H, O), draw(st.integers(0, 2**32 - 1)), truncate


@given(problem_specs())
def test_forward_matches_reference_property(spec):
    shape, seed, _ = spec
    params, x, h0, _ = random_problem(*shape, seed=seed)
    y, h = rnn_forward(params, x, h0)
    y_ref, hs_ref = reference_forward(as_args(params, x, h0))
    np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(h, np.stack(hs_ref), rtol=1e-12, atol=1e-13)


@given(problem_specs(), st.sampled_from(list(LOSSES)))
def test_backward_matches_autograd_property(spec, loss_name):
    shape, seed, truncate = spec
    params, x, h0, w = random_problem(*shape, seed=seed)
    loss = LOSSES[loss_name](w)
    args = as_args(params, x, h0)
    y, h = rnn_forward(params, x, h0)
    got = rnn_backward(params, x, h, loss_gradient_wrt_y(loss, reference_forward(args)[0]),
                       truncate=truncate)
    for key, shape_ in expected_shapes(*shape).items():
        assert got[key].shape == shape_, key
    assert_grads_close(got, autograd_gradients(args, loss, truncate), 1e-10,
                       f"{shape}, seed={seed}, {loss_name}, truncate={truncate}")


# ---------------------------------------------------------------- dtypes

def test_float32_in_float32_out_and_close_to_float64():
    shape, seed = (5, 2, 3, 4, 2), 9
    p32, x32, h032, w32 = random_problem(*shape, seed=seed, dtype=np.float32)
    p64, x64, h064, w64 = random_problem(*shape, seed=seed)
    y32, h32 = rnn_forward(p32, x32, h032)
    y64, h64 = rnn_forward(p64, x64, h064)
    assert y32.dtype == h32.dtype == np.float32
    assert rnn_step_forward(p32, x32[0], h032).dtype == np.float32
    assert rnn_forward(p32, x32)[1].dtype == np.float32     # h0=None too
    np.testing.assert_allclose(y32, y64, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(h32, h64, rtol=1e-4, atol=1e-5)
    for truncate in (None, 2):
        g32 = rnn_backward(p32, x32, h32, w32, truncate=truncate, return_dh=True)
        g64 = rnn_backward(p64, x64, h64, w64, truncate=truncate, return_dh=True)
        for key in (*GRAD_KEYS, "h"):
            assert g32[key].dtype == np.float32, f"d{key} is {g32[key].dtype}"
            assert rel_error(g32[key], g64[key]) < 1e-4, key


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.longdouble])
def test_every_float_dtype_is_preserved(dtype):
    params, x, h0, w = random_problem(3, 2, 3, 4, 2, seed=10, dtype=dtype)
    y, h = rnn_forward(params, x, h0)
    assert y.dtype == h.dtype == dtype
    grads = rnn_backward(params, x, h, w, truncate=2)
    assert {key: g.dtype for key, g in grads.items()} == {key: np.dtype(dtype)
                                                         for key in GRAD_KEYS}


# ---------------------------------------------------------------- API contract

@pytest.mark.parametrize("T, B, D, H, O", SHAPES)
def test_backward_keys_and_shapes(T, B, D, H, O):
    params, x, h0, w = random_problem(T, B, D, H, O, seed=11)
    _, h = rnn_forward(params, x, h0)
    grads = rnn_backward(params, x, h, w)
    assert set(grads) == set(GRAD_KEYS) and len(grads) == len(GRAD_KEYS)
    for key, shape in expected_shapes(T, B, D, H, O).items():
        assert grads[key].shape == shape, f"d{key}: {grads[key].shape} != {shape}"


@pytest.mark.parametrize("truncate", [None, 2])
def test_inputs_are_not_mutated(small, truncate):
    p = small
    inputs = {**{f"params[{k}]": v for k, v in p.params.items()},
              "x": p.x, "h0": p.h0, "h": p.h, "dy": p.dy}
    copies = {name: a.copy() for name, a in inputs.items()}
    rnn_step_forward(p.params, p.x[0], p.h0)
    rnn_forward(p.params, p.x, p.h0)
    grads = rnn_backward(p.params, p.x, p.h, p.dy, truncate=truncate, return_dh=True)
    for name, a in inputs.items():
        np.testing.assert_array_equal(a, copies[name], err_msg=f"{name} was modified")
    # ...nor can they be modified later through an output that aliases them.
    for key, g in grads.items():
        for name, a in inputs.items():
            assert not np.shares_memory(g, a), f"d{key} shares memory with {name}"


def test_non_contiguous_inputs_give_the_same_results(small):
    # Batch-major data swapped to time-major is a strided view, not a copy.
    p = small
    x_view = np.swapaxes(np.ascontiguousarray(np.swapaxes(p.x, 0, 1)), 0, 1)
    h0_view, dy_view = np.asfortranarray(p.h0), p.dy[:, ::-1][:, ::-1]
    assert not x_view.flags.c_contiguous and not h0_view.flags.c_contiguous
    y, h = rnn_forward(p.params, x_view, h0_view)
    np.testing.assert_allclose(y, p.y, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(h, p.h, rtol=1e-14, atol=1e-15)
    got = rnn_backward(p.params, x_view, h[:, ::-1][:, ::-1], dy_view, truncate=3)
    want = rnn_backward(p.params, p.x, p.h, p.dy, truncate=3)
    for key in GRAD_KEYS:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-14, atol=1e-15, err_msg=key)


def test_backward_accepts_any_h0(small):
    # Only h[1:] are tanh outputs; h0 is the caller's and may exceed 1.
    p = small
    h0 = np.full((p.B, p.H), 3.0)
    _, h = rnn_forward(p.params, p.x, h0)
    grads = rnn_backward(p.params, p.x, h, p.dy)
    assert np.all(np.isfinite(grads["h0"]))


def test_backward_accepts_numpy_int_truncate(small):
    p = small
    got = rnn_backward(p.params, p.x, p.h, p.dy, truncate=np.int64(2))
    want = rnn_backward(p.params, p.x, p.h, p.dy, truncate=2)
    for key in GRAD_KEYS:
        np.testing.assert_array_equal(got[key], want[key])


# ---------------------------------------------------------------- saturated states

def saturated_problem(T=4, B=2, D=3, H=5, O=2, seed=13):
    """A problem whose tanh saturates: np.tanh returns exactly +-1 for inputs above ~19."""
    params, x, h0, dy = random_problem(T, B, D, H, O, seed=seed)
    params["W_xh"] = 100.0 * params["W_xh"]
    _, h = rnn_forward(params, x, h0)
    assert np.any(np.abs(h[1:]) == 1.0), "the problem must hold states of exactly +-1"
    return params, x, h, dy


def test_backward_accepts_saturated_states():
    # |h| = 1 exactly is what tanh returns for a large input: a valid state.
    params, x, h, dy = saturated_problem()
    grads = rnn_backward(params, x, h, dy)
    # Where |h_t| = 1 the slope 1 - h_t^2 is 0: nothing passes through that unit.
    steps = step_gradients(params, x, h, dy)
    saturated = np.abs(h[1:]) == 1.0                              # (T, B, H)
    delta = (1 - h[1:] ** 2) * rnn_backward(params, x, h, dy, return_dh=True)["h"][1:]
    assert np.all(delta[saturated] == 0)
    np.testing.assert_allclose(steps["b_h"].sum(axis=0), grads["b_h"], rtol=1e-12, atol=1e-15)


def test_step_backward_and_state_checks_accept_saturated_states():
    params, x, h, dy = saturated_problem()
    assert check_tanh_states(params, h) is h
    t = int(np.argwhere(np.abs(h[1:]) == 1.0)[0, 0]) + 1
    g = rnn_step_backward(params, x[t - 1], h[t - 1], h[t], np.ones_like(h[t]))
    assert np.all(np.isfinite(g["h_prev"]))


@pytest.mark.parametrize("bad", [1.0 + 1e-12, -1.0000001, 1.5])
def test_states_just_outside_minus_one_one_are_refused(bad):
    params, x, h, dy = saturated_problem()
    h = h.copy()
    h[2, 0, 1] = bad
    with pytest.raises(ValueError, match="h must hold the tanh hidden states"):
        rnn_backward(params, x, h, dy)
    with pytest.raises(ValueError, match="h must hold the tanh hidden states"):
        check_tanh_states(params, h)
    with pytest.raises(ValueError, match="h_t must hold the tanh hidden states"):
        rnn_step_backward(params, x[1], h[1], h[2], dy[1] @ params["W_hy"])


# ---------------------------------------------------------------- rnn_step_backward

@pytest.mark.parametrize("T, B, D, H, O", SHAPES)
def test_step_backward_matches_finite_differences(T, B, D, H, O):
    # One step alone, L = sum(w * h_t), so dL/dh_t = w; differentiated numerically.
    params, x, h0, _ = random_problem(T, B, D, H, O, seed=14)
    w = np.random.default_rng(1).standard_normal((B, H))
    x_t = x[0].copy()
    h_t = rnn_step_forward(params, x_t, h0)
    got = rnn_step_backward(params, x_t, h0, h_t, w)
    assert {k: v.shape for k, v in got.items()} == {
        "W_xh": (H, D), "W_hh": (H, H), "b_h": (H,), "x_t": (B, D), "h_prev": (B, H)}

    def loss():
        return float(np.sum(w * rnn_step_forward(params, x_t, h0)))

    for key, arr in (("W_xh", params["W_xh"]), ("W_hh", params["W_hh"]),
                     ("b_h", params["b_h"]), ("x_t", x_t), ("h_prev", h0)):
        want = numerical_gradient(lambda _: loss(), arr)
        assert rel_error(got[key], want) < 1e-8, key


def backward_by_steps(params, x, h, dy, truncate=None):
    """rnn_backward written as the reversed loop over rnn_step_backward (its docstring)."""
    T = x.shape[0]
    grads = {k: np.zeros_like(params[k]) for k in ("W_xh", "W_hh", "b_h")}
    grads["x"] = np.zeros_like(x)
    dh_next = np.zeros_like(h[0])
    for t in range(T, 0, -1):
        hbar_t = dy[t - 1] @ params["W_hy"] + dh_next   # loss at t meets the gradient from t+1
        g = rnn_step_backward(params, x[t - 1], h[t - 1], h[t], hbar_t)
        for k in ("W_xh", "W_hh", "b_h"):
            grads[k] += g[k]
        grads["x"][t - 1] = g["x_t"]
        detached = truncate is not None and t - 1 > 0 and (t - 1) % truncate == 0
        dh_next = np.zeros_like(dh_next) if detached else g["h_prev"]
    grads["h0"] = dh_next
    grads["W_hy"] = np.einsum("tbo,tbh->oh", dy, h[1:])
    grads["b_y"] = dy.sum(axis=(0, 1))
    return grads


@pytest.mark.parametrize("shape, truncate", shape_and_truncate_cases())
def test_backward_is_the_reversed_loop_over_step_backward(shape, truncate):
    params, x, h0, dy = random_problem(*shape, seed=15)
    _, h = rnn_forward(params, x, h0)
    got = rnn_backward(params, x, h, dy, truncate=truncate)
    assert_grads_close(got, backward_by_steps(params, x, h, dy, truncate), 1e-13,
                       f"truncate={truncate}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_step_backward_keeps_dtype_and_leaves_inputs_alone(small, dtype):
    p = {k: v.astype(dtype) for k, v in small.params.items()}
    x_t, h_prev, h_t = small.x[0].astype(dtype), small.h[0].astype(dtype), small.h[1].astype(dtype)
    dh_t = np.ones_like(h_t)
    inputs = [x_t, h_prev, h_t, dh_t, *p.values()]
    before = [a.copy() for a in inputs]
    g = rnn_step_backward(p, x_t, h_prev, h_t, dh_t)
    assert all(v.dtype == dtype for v in g.values())
    for a, b in zip(inputs, before):
        np.testing.assert_array_equal(a, b)
        assert not any(np.shares_memory(a, v) for v in g.values())


# ---------------------------------------------------------------- step_gradients

@pytest.mark.parametrize("T, B, D, H, O", SHAPES)
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_step_gradients_sum_to_rnn_backward(T, B, D, H, O, dtype, tol):
    params, x, h0, dy = random_problem(T, B, D, H, O, seed=T + H, dtype=dtype)
    _, h = rnn_forward(params, x, h0)
    steps = step_gradients(params, x, h, dy)
    full = rnn_backward(params, x, h, dy)
    assert list(steps) == list(PARAM_KEYS)
    for k in PARAM_KEYS:
        assert steps[k].shape == (T, *params[k].shape), k
        assert steps[k].dtype == dtype, k
        assert rel_error(steps[k].sum(axis=0), full[k]) < tol, k


@pytest.mark.parametrize("T, B, D, H, O", SHAPES)
def test_step_gradients_are_the_gradients_of_the_untied_loss(T, B, D, H, O):
    # An independent reference: autograd through an RNN whose step t uses its
    # own copy theta^(t) of every parameter (the untied loss), column vectors.
    import autograd
    import autograd.numpy as anp

    params, x, h0, dy = random_problem(T, B, D, H, O, seed=7 + T)
    _, h = rnn_forward(params, x, h0)

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


def test_step_gradients_refuses_bad_input(small):
    with pytest.raises(ValueError, match=r"dy must have shape \(T, B, O\)"):
        step_gradients(small.params, small.x, small.h, small.dy[:2])


# ---------------------------------------------------------------- check_rnn_params

@pytest.mark.parametrize("D, H, O", [(3, 5, 2), (1, 1, 1), (4, 2, 7)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_check_rnn_params_returns_D_H_O(D, H, O, dtype):
    params = init_rnn(D, H, O, dtype=dtype)
    assert check_rnn_params(params) == (D, H, O)
    assert all(type(n) is int for n in check_rnn_params(params))


def test_check_rnn_params_accepts_any_mapping_in_any_order_and_leaves_it_alone():
    params = init_rnn(3, 5, 2)
    before = {k: v.copy() for k, v in params.items()}
    assert check_rnn_params(MappingProxyType(params)) == (3, 5, 2)
    assert check_rnn_params(dict(reversed(list(params.items())))) == (3, 5, 2)
    assert list(params) == list(PARAM_KEYS)
    for key in PARAM_KEYS:
        np.testing.assert_array_equal(params[key], before[key])


def _with(params, key, value):
    new = dict(params)
    new[key] = value
    return new


def _poke(a, index, value):
    a = a.copy()
    a[index] = value
    return a


# Every way a params dict can be wrong, each refused with the class and a
# message naming the entry and its expected shape (T=4, B=2, D=3, H=5, O=6).
BAD_PARAMS = {
    TypeError: [
        (lambda P: list(P.values()), "params must be a dict with keys ['W_xh', 'W_hh'"),
        (lambda P: _with(P, "W_hh", P["W_hh"].tolist()),
         "params['W_hh'] must be a numpy array of shape (H, H) = (5, 5)"),
        (lambda P: _with(P, "W_xh", np.ones((5, 3), dtype=int)),
         "params['W_xh'] must have a floating-point dtype"),
        (lambda P: _with(P, "b_y", P["b_y"].astype(np.float32)),
         "params['b_y'] must have dtype float64 (the dtype of params)"),
    ],
    ValueError: [
        (lambda P: {k: v for k, v in P.items() if k != "b_y"}, "missing ['b_y'], unknown []"),
        (lambda P: {("Whh" if k == "W_hh" else k): v for k, v in P.items()},
         "missing ['W_hh'], unknown ['Whh']"),
        (lambda P: _with(P, "W_xh", P["W_xh"].ravel()), "params['W_xh'] must have 2 dimensions"),
        (lambda P: _with(P, "W_xh", np.zeros((5, 0))), "params['W_xh'] must have shape (H, D)"),
        (lambda P: _with(P, "W_hh", P["W_hh"][:, :4]),
         "params['W_hh'] must have shape (H, H) = (5, 5), got (5, 4)"),
        (lambda P: _with(P, "b_h", P["b_h"][:4]), "params['b_h'] must have shape (H,) = (5,)"),
        (lambda P: _with(P, "W_hy", P["W_hy"].T),
         "params['W_hy'] must have shape (O, H) = (?, 5), got (5, 6)"),
        (lambda P: _with(P, "b_y", P["b_y"][:5]), "params['b_y'] must have shape (O,) = (6,)"),
        (lambda P: _with(P, "W_hh", _poke(P["W_hh"], (1, 2), np.nan)),
         "params['W_hh'] contains NaN or infinity"),
    ],
}


@pytest.mark.parametrize("exc", [TypeError, ValueError], ids=["TypeError", "ValueError"])
def test_check_rnn_params_refuses(small, exc):
    for change, fragment in BAD_PARAMS[exc]:
        with pytest.raises(exc, match=re.escape(fragment)):
            check_rnn_params(change(small.params))


def test_check_rnn_params_names_the_argument_and_takes_the_dtype_from_W_xh(small):
    grads = _with(small.params, "W_hh", small.params["W_hh"][:4, :4])
    with pytest.raises(ValueError, match=re.escape("grads['W_hh'] must have shape (H, H)")):
        check_rnn_params(grads, name="grads")
    p32 = {k: v.astype(np.float32) for k, v in small.params.items()}
    p32["W_xh"] = small.params["W_xh"]
    with pytest.raises(TypeError, match=re.escape("params['W_hh'] must have dtype float64")):
        check_rnn_params(p32)


@pytest.mark.parametrize("function", ["rnn_step_forward", "rnn_step_backward", "rnn_forward",
                                      "rnn_backward", "step_gradients", "check_tanh_states"])
def test_every_function_checks_its_params(small, function):
    p = small
    params = {k: v for k, v in p.params.items() if k != "W_hh"}
    call = {"rnn_step_forward": lambda: rnn_step_forward(params, p.x[0], p.h0),
            "rnn_step_backward": lambda: rnn_step_backward(params, p.x[0], p.h[0], p.h[1],
                                                           p.h0),
            "rnn_forward": lambda: rnn_forward(params, p.x, p.h0),
            "rnn_backward": lambda: rnn_backward(params, p.x, p.h, p.dy),
            "step_gradients": lambda: step_gradients(params, p.x, p.h, p.dy),
            "check_tanh_states": lambda: check_tanh_states(params, p.h)}[function]
    with pytest.raises(ValueError, match=re.escape("missing ['W_hh']")):
        call()


# ---------------------------------------------------------------- the other arguments
# One test per function and error class. Each case is one way an argument can
# be wrong that matters for this function (a wrong size along each axis it
# shares with another argument, a broadcastable shape, a non-finite value);
# check_array's own variants are tested in test_validate.py.

BAD_ARGS = {
    ("rnn_step_forward", TypeError): [
        ({"x_t": lambda p: p.x[0].tolist()}, "x_t must be a numpy array of shape (B, D)"),
        ({"h_prev": lambda p: p.h0.astype(np.float32)}, "h_prev must have dtype float64"),
    ],
    ("rnn_step_forward", ValueError): [
        ({"x_t": lambda p: p.x}, "x_t must have 2 dimensions, shape (B, D) = (?, 3)"),
        ({"x_t": lambda p: np.zeros((2, 4))}, "x_t must have shape (B, D) = (?, 3), got (2, 4)"),
        ({"h_prev": lambda p: p.h0[:1]}, "h_prev must have shape (B, H) = (2, 5), got (1, 5)"),
        ({"h_prev": lambda p: p.h0[:, :4]}, "h_prev must have shape (B, H) = (2, 5)"),
        ({"x_t": lambda p: _poke(p.x[0], (1, 1), np.nan)}, "x_t contains NaN"),
    ],
    ("rnn_step_backward", TypeError): [
        ({"h_t": lambda p: p.h[1].tolist()}, "h_t must be a numpy array of shape (B, H)"),
        ({"dh_t": lambda p: np.ones((2, 5), dtype=int)}, "dh_t must have a floating-point"),
    ],
    ("rnn_step_backward", ValueError): [
        ({"x_t": lambda p: p.x[0, :1]}, "h_prev must have shape (B, H) = (1, 5)"),
        ({"h_prev": lambda p: p.h[0, :, :4]}, "h_prev must have shape (B, H) = (2, 5)"),
        ({"h_t": lambda p: p.h[1, :1]}, "h_t must have shape (B, H) = (2, 5), got (1, 5)"),
        ({"dh_t": lambda p: p.h0[:, :4]}, "dh_t must have shape (B, H) = (2, 5), got (2, 4)"),
        ({"h_t": lambda p: 3 * p.h[1]}, "h_t must hold the tanh hidden states"),
        ({"dh_t": lambda p: _poke(p.h0, (0, 0), np.inf)}, "dh_t contains NaN"),
    ],
    ("rnn_forward", TypeError): [
        ({"x": lambda p: np.ones((4, 2, 3), dtype=int)}, "x must have a floating-point dtype"),
        ({"h0": lambda p: p.h0.tolist()}, "h0 must be a numpy array of shape (B, H) = (2, 5)"),
        ({"h0": lambda p: p.h0.astype(np.float32)}, "h0 must have dtype float64"),
    ],
    ("rnn_forward", ValueError): [
        ({"x": lambda p: p.x[0]}, "x must have 3 dimensions, shape (T, B, D) = (?, ?, 3)"),
        ({"x": lambda p: np.zeros((4, 2, 4))}, "x must have shape (T, B, D) = (?, ?, 3)"),
        ({"x": lambda p: p.x[:0]}, "x must have shape (T, B, D) = (?, ?, 3), got (0, 2, 3)"),
        ({"h0": lambda p: p.h0[:1]}, "h0 must have shape (B, H) = (2, 5), got (1, 5)"),
        ({"h0": lambda p: p.h0.T}, "h0 must have shape (B, H) = (2, 5), got (5, 2)"),
        ({"x": lambda p: _poke(p.x, (3, 1, 2), np.nan)}, "x contains NaN"),
        ({"h0": lambda p: _poke(p.h0, (1, 3), np.inf)}, "h0 contains NaN"),
    ],
    ("rnn_backward", TypeError): [
        ({"x": lambda p: p.x.tolist()}, "x must be a numpy array of shape (T, B, D)"),
        ({"h": lambda p: p.h.astype(np.float32)}, "h must have dtype float64"),
        ({"dy": lambda p: np.ones((4, 2, 6), dtype=int)}, "dy must have a floating-point dtype"),
        ({"truncate": lambda p: 2.0}, "truncate must be a positive int or None, got float"),
        ({"truncate": lambda p: True}, "truncate must be a positive int or None, got bool"),
        ({"return_dh": lambda p: 1}, "return_dh must be True or False, got int"),
    ],
    ("rnn_backward", ValueError): [
        ({"x": lambda p: np.zeros((4, 2, 4))}, "x must have shape (T, B, D) = (?, ?, 3)"),
        ({"h": lambda p: p.h[1:]}, "h must have shape (T+1, B, H) = (5, 2, 5), got (4, 2, 5)"),
        ({"h": lambda p: p.h[:, :1]}, "h must have shape (T+1, B, H) = (5, 2, 5), got (5, 1, 5)"),
        ({"h": lambda p: p.h[..., :4]}, "h must have shape (T+1, B, H) = (5, 2, 5)"),
        ({"h": lambda p: 3 * p.h}, "h must hold the tanh hidden states"),
        ({"h": lambda p: _poke(p.h, (4, 1, 4), -1.0001)}, "h must hold the tanh hidden states"),
        ({"dy": lambda p: np.zeros((5, 2, 6))}, "dy must have shape (T, B, O) = (4, 2, 6)"),
        ({"dy": lambda p: p.dy[:, :1]}, "dy must have shape (T, B, O) = (4, 2, 6), got (4, 1, 6)"),
        ({"dy": lambda p: p.dy[..., :5]}, "dy must have shape (T, B, O) = (4, 2, 6)"),
        ({"dy": lambda p: _poke(p.dy, (0, 1, 5), np.nan)}, "dy contains NaN"),
        ({"truncate": lambda p: 0}, "truncate must be >= 1, got 0"),
    ],
}


def _call(function, p, change):
    args = {"rnn_step_forward": {"x_t": p.x[0], "h_prev": p.h0},
            "rnn_step_backward": {"x_t": p.x[0], "h_prev": p.h[0], "h_t": p.h[1],
                                  "dh_t": p.h0.copy()},
            "rnn_forward": {"x": p.x, "h0": p.h0},
            "rnn_backward": {"x": p.x, "h": p.h, "dy": p.dy}}[function]
    args.update({name: make(p) for name, make in change.items()})
    return {"rnn_step_forward": rnn_step_forward, "rnn_step_backward": rnn_step_backward,
            "rnn_forward": rnn_forward, "rnn_backward": rnn_backward}[function](p.params, **args)


@pytest.mark.parametrize("function, exc", list(BAD_ARGS),
                         ids=[f"{f}-{e.__name__}" for f, e in BAD_ARGS])
def test_bad_arguments_are_refused(small, function, exc):
    for change, fragment in BAD_ARGS[function, exc]:
        with pytest.raises(exc, match=re.escape(fragment)):
            _call(function, small, change)


def test_float32_params_refuse_float64_inputs(small):
    p32 = {k: v.astype(np.float32) for k, v in small.params.items()}
    with pytest.raises(TypeError, match=re.escape("x must have dtype float32")):
        rnn_forward(p32, small.x)


# ---------------------------------------------------------------- the model object

def test_param_keys_are_the_books_order():
    assert PARAM_KEYS == ("W_xh", "W_hh", "b_h", "W_hy", "b_y")


def test_RNN_is_the_model_of_this_module():
    assert isinstance(RNN, Model) and RNN.name == "rnn" and RNN.keys == PARAM_KEYS
    assert (RNN.init, RNN.forward, RNN.backward, RNN.check) == (
        init_rnn, rnn_forward, rnn_backward, check_rnn_params)
    params = RNN.init(3, 5, 2, seed=1)
    x = np.random.default_rng(0).standard_normal((4, 2, 3))
    y, cache = RNN.forward(params, x)
    grads = RNN.backward(params, x, cache, np.ones_like(y), 2)
    assert RNN.check(params) == (3, 5, 2)
    assert set(RNN.keys) <= set(grads)
