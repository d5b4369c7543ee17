"""Tests of bptt.rnn: init_rnn, rnn_step_forward, rnn_forward, rnn_backward.

Every expected value is derived independently of the code under test: from a
hand formula, from the column-vector reference RNN in ``autograd_rnn.py``
(differentiated by autograd), or from centred finite differences.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_rnn import (GRAD_KEYS, as_args, autograd_dh, autograd_gradients,
                          finite_difference_gradients, linear_loss, loss_gradient_wrt_y,
                          random_problem, reference_forward, rel_error, sine_loss)
from bptt import PARAM_KEYS, init_rnn, rnn_backward, rnn_forward, rnn_step_forward

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
@pytest.mark.parametrize("value, exc, message", [
    (0, ValueError, "{name} must be >= 1, got 0"),
    (-3, ValueError, "{name} must be >= 1, got -3"),
    (2.5, TypeError, "{name} must be a positive int, got float 2.5"),
    (3.0, TypeError, "{name} must be a positive int, got float 3.0"),
    (True, TypeError, "{name} must be a positive int, got bool True"),
    (None, TypeError, "{name} must be a positive int, got NoneType None"),
    ("3", TypeError, "{name} must be a positive int, got str '3'"),
])
def test_init_rnn_rejects_bad_sizes(position, name, value, exc, message):
    sizes = [3, 5, 2]
    sizes[position] = value
    with pytest.raises(exc, match=re.escape(message.format(name=name))):
        init_rnn(*sizes)


def test_init_rnn_accepts_numpy_ints():
    params = init_rnn(np.int64(3), np.int32(5), np.int8(2))
    assert params["W_xh"].shape == (5, 3) and params["W_hy"].shape == (2, 5)


@pytest.mark.parametrize("dtype, shown", [(int, "int64"), (np.int32, "int32"), (bool, "bool"),
                                          (np.complex128, "complex128"), ("int8", "int8"),
                                          (object, "object")])
def test_init_rnn_rejects_non_float_dtype(dtype, shown):
    with pytest.raises(TypeError, match=re.escape(f"dtype must be a floating-point dtype, "
                                                  f"got {shown}")):
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


# ---------------------------------------------------------------- bad input
# T=4, B=2, D=3, H=5, O=6 in the `small` fixture: every size differs.

def _with(params, key, value):
    new = dict(params)
    new[key] = value
    return new


def _poke(a, index, value):
    a = a.copy()
    a[index] = value
    return a


_KEYS = "['W_xh', 'W_hh', 'b_h', 'W_hy', 'b_y']"
BAD_PARAMS = [
    ("not a dict", lambda P: list(P.values()), TypeError,
     f"params must be a dict with keys {_KEYS}, got list"),
    ("missing", lambda P: {k: v for k, v in P.items() if k != "b_y"}, ValueError,
     f"params must have exactly the keys {_KEYS}; missing ['b_y'], unknown []"),
    ("unknown", lambda P: _with(P, "W_yy", P["W_hy"]), ValueError,
     f"params must have exactly the keys {_KEYS}; missing [], unknown ['W_yy']"),
    ("misspelt", lambda P: {("Whh" if k == "W_hh" else k): v for k, v in P.items()}, ValueError,
     f"params must have exactly the keys {_KEYS}; missing ['W_hh'], unknown ['Whh']"),
    ("W_xh list", lambda P: _with(P, "W_xh", P["W_xh"].tolist()), TypeError,
     "params['W_xh'] must be a numpy array of shape (H, D), got list"),
    ("W_hh list", lambda P: _with(P, "W_hh", P["W_hh"].tolist()), TypeError,
     "params['W_hh'] must be a numpy array of shape (H, H) = (5, 5), got list"),
    ("W_xh int", lambda P: _with(P, "W_xh", np.ones((5, 3), dtype=int)), TypeError,
     "params['W_xh'] must have a floating-point dtype, got int64"),
    ("b_h int", lambda P: _with(P, "b_h", np.zeros(5, dtype=np.int32)), TypeError,
     "params['b_h'] must have a floating-point dtype, got int32"),
    ("W_hh float32", lambda P: _with(P, "W_hh", P["W_hh"].astype(np.float32)), TypeError,
     "params['W_hh'] must have dtype float64 (the dtype of params), got float32"),
    ("b_y float32", lambda P: _with(P, "b_y", P["b_y"].astype(np.float32)), TypeError,
     "params['b_y'] must have dtype float64 (the dtype of params), got float32"),
    ("W_xh 1-D", lambda P: _with(P, "W_xh", P["W_xh"].ravel()), ValueError,
     "params['W_xh'] must have 2 dimensions, shape (H, D), got 1 dimensions with shape (15,)"),
    ("W_xh empty", lambda P: _with(P, "W_xh", np.zeros((5, 0))), ValueError,
     "params['W_xh'] must have shape (H, D), got (5, 0)"),
    ("W_hh not square", lambda P: _with(P, "W_hh", P["W_hh"][:, :4]), ValueError,
     "params['W_hh'] must have shape (H, H) = (5, 5), got (5, 4)"),
    ("W_hh H disagrees", lambda P: _with(P, "W_hh", P["W_hh"][:4, :4]), ValueError,
     "params['W_hh'] must have shape (H, H) = (5, 5), got (4, 4)"),
    ("b_h column", lambda P: _with(P, "b_h", P["b_h"][:, None]), ValueError,
     "params['b_h'] must have 1 dimensions, shape (H,) = (5,), got 2 dimensions "
     "with shape (5, 1)"),
    ("b_h H disagrees", lambda P: _with(P, "b_h", P["b_h"][:4]), ValueError,
     "params['b_h'] must have shape (H,) = (5,), got (4,)"),
    ("W_hy H disagrees", lambda P: _with(P, "W_hy", P["W_hy"][:, :4]), ValueError,
     "params['W_hy'] must have shape (O, H) = (?, 5), got (6, 4)"),
    ("W_hy transposed", lambda P: _with(P, "W_hy", P["W_hy"].T), ValueError,
     "params['W_hy'] must have shape (O, H) = (?, 5), got (5, 6)"),
    ("b_y O disagrees", lambda P: _with(P, "b_y", P["b_y"][:5]), ValueError,
     "params['b_y'] must have shape (O,) = (6,), got (5,)"),
    ("W_hh NaN", lambda P: _with(P, "W_hh", _poke(P["W_hh"], (1, 2), np.nan)), ValueError,
     "params['W_hh'] contains NaN or infinity (1 of 25 entries)"),
    ("W_xh -inf", lambda P: _with(P, "W_xh", _poke(P["W_xh"], (0, 0), -np.inf)), ValueError,
     "params['W_xh'] contains NaN or infinity (1 of 15 entries)"),
    ("b_y inf", lambda P: _with(P, "b_y", _poke(P["b_y"], slice(0, 2), np.inf)), ValueError,
     "params['b_y'] contains NaN or infinity (2 of 6 entries)"),
]
BAD_PARAMS_IDS = [case[0] for case in BAD_PARAMS]


@pytest.mark.parametrize("_, change, exc, message", BAD_PARAMS, ids=BAD_PARAMS_IDS)
@pytest.mark.parametrize("function", ["rnn_step_forward", "rnn_forward", "rnn_backward"])
def test_bad_params_are_rejected(small, function, _, change, exc, message):
    p = small
    params = change(p.params)
    call = {"rnn_step_forward": lambda: rnn_step_forward(params, p.x[0], p.h0),
            "rnn_forward": lambda: rnn_forward(params, p.x, p.h0),
            "rnn_backward": lambda: rnn_backward(params, p.x, p.h, p.dy)}[function]
    with pytest.raises(exc, match=re.escape(message)):
        call()


BAD_STEP = [
    ("x_t 3-D", lambda p: {"x_t": p.x}, ValueError,
     "x_t must have 2 dimensions, shape (B, D) = (?, 3), got 3 dimensions with shape (4, 2, 3)"),
    ("x_t 1-D", lambda p: {"x_t": p.x[0, 0]}, ValueError,
     "x_t must have 2 dimensions, shape (B, D) = (?, 3), got 1 dimensions with shape (3,)"),
    ("x_t D disagrees", lambda p: {"x_t": np.zeros((2, 4))}, ValueError,
     "x_t must have shape (B, D) = (?, 3), got (2, 4)"),
    ("x_t list", lambda p: {"x_t": p.x[0].tolist()}, TypeError,
     "x_t must be a numpy array of shape (B, D) = (?, 3), got list"),
    ("x_t int", lambda p: {"x_t": np.ones((2, 3), dtype=int)}, TypeError,
     "x_t must have a floating-point dtype, got int64"),
    ("x_t float32", lambda p: {"x_t": p.x[0].astype(np.float32)}, TypeError,
     "x_t must have dtype float64 (the dtype of params), got float32"),
    ("x_t NaN", lambda p: {"x_t": _poke(p.x[0], (1, 1), np.nan)}, ValueError,
     "x_t contains NaN or infinity (1 of 6 entries)"),
    ("h_prev 3-D", lambda p: {"h_prev": p.h}, ValueError,
     "h_prev must have 2 dimensions, shape (B, H) = (2, 5), got 3 dimensions "
     "with shape (5, 2, 5)"),
    ("h_prev B disagrees", lambda p: {"h_prev": p.h0[:1]}, ValueError,
     "h_prev must have shape (B, H) = (2, 5), got (1, 5)"),
    ("h_prev H disagrees", lambda p: {"h_prev": p.h0[:, :4]}, ValueError,
     "h_prev must have shape (B, H) = (2, 5), got (2, 4)"),
    ("h_prev list", lambda p: {"h_prev": p.h0.tolist()}, TypeError,
     "h_prev must be a numpy array of shape (B, H) = (2, 5), got list"),
    ("h_prev float32", lambda p: {"h_prev": p.h0.astype(np.float32)}, TypeError,
     "h_prev must have dtype float64 (the dtype of params), got float32"),
    ("h_prev inf", lambda p: {"h_prev": _poke(p.h0, (0, 4), np.inf)}, ValueError,
     "h_prev contains NaN or infinity (1 of 10 entries)"),
]


@pytest.mark.parametrize("_, change, exc, message", BAD_STEP, ids=[c[0] for c in BAD_STEP])
def test_step_forward_rejects_bad_input(small, _, change, exc, message):
    kwargs = {"x_t": small.x[0], "h_prev": small.h0, **change(small)}
    with pytest.raises(exc, match=re.escape(message)):
        rnn_step_forward(small.params, **kwargs)


BAD_FORWARD = [
    ("x 2-D", lambda p: {"x": p.x[0]}, ValueError,
     "x must have 3 dimensions, shape (T, B, D) = (?, ?, 3), got 2 dimensions with shape (2, 3)"),
    ("x 4-D", lambda p: {"x": p.x[..., None]}, ValueError,
     "x must have 3 dimensions, shape (T, B, D) = (?, ?, 3), got 4 dimensions "
     "with shape (4, 2, 3, 1)"),
    ("x D disagrees", lambda p: {"x": np.zeros((4, 2, 4))}, ValueError,
     "x must have shape (T, B, D) = (?, ?, 3), got (4, 2, 4)"),
    ("x no steps", lambda p: {"x": p.x[:0]}, ValueError,
     "x must have shape (T, B, D) = (?, ?, 3), got (0, 2, 3)"),
    ("x empty batch", lambda p: {"x": p.x[:, :0], "h0": None}, ValueError,
     "x must have shape (T, B, D) = (?, ?, 3), got (4, 0, 3)"),
    ("x list", lambda p: {"x": p.x.tolist()}, TypeError,
     "x must be a numpy array of shape (T, B, D) = (?, ?, 3), got list"),
    ("x int", lambda p: {"x": np.ones((4, 2, 3), dtype=int)}, TypeError,
     "x must have a floating-point dtype, got int64"),
    ("x float32", lambda p: {"x": p.x.astype(np.float32)}, TypeError,
     "x must have dtype float64 (the dtype of params), got float32"),
    ("x NaN", lambda p: {"x": _poke(p.x, (3, 1, 2), np.nan)}, ValueError,
     "x contains NaN or infinity (1 of 24 entries)"),
    ("x inf", lambda p: {"x": _poke(p.x, (0, 0, 0), np.inf)}, ValueError,
     "x contains NaN or infinity (1 of 24 entries)"),
    ("h0 1-D", lambda p: {"h0": p.h0[0]}, ValueError,
     "h0 must have 2 dimensions, shape (B, H) = (2, 5), got 1 dimensions with shape (5,)"),
    ("h0 3-D", lambda p: {"h0": p.h0[None]}, ValueError,
     "h0 must have 2 dimensions, shape (B, H) = (2, 5), got 3 dimensions with shape (1, 2, 5)"),
    ("h0 broadcastable B", lambda p: {"h0": p.h0[:1]}, ValueError,
     "h0 must have shape (B, H) = (2, 5), got (1, 5)"),
    ("h0 H disagrees", lambda p: {"h0": np.zeros((2, 4))}, ValueError,
     "h0 must have shape (B, H) = (2, 5), got (2, 4)"),
    ("h0 transposed", lambda p: {"h0": p.h0.T}, ValueError,
     "h0 must have shape (B, H) = (2, 5), got (5, 2)"),
    ("h0 list", lambda p: {"h0": p.h0.tolist()}, TypeError,
     "h0 must be a numpy array of shape (B, H) = (2, 5), got list"),
    ("h0 int", lambda p: {"h0": np.zeros((2, 5), dtype=int)}, TypeError,
     "h0 must have a floating-point dtype, got int64"),
    ("h0 float32", lambda p: {"h0": p.h0.astype(np.float32)}, TypeError,
     "h0 must have dtype float64 (the dtype of params), got float32"),
    ("h0 NaN", lambda p: {"h0": _poke(p.h0, (1, 3), np.nan)}, ValueError,
     "h0 contains NaN or infinity (1 of 10 entries)"),
]


@pytest.mark.parametrize("_, change, exc, message", BAD_FORWARD, ids=[c[0] for c in BAD_FORWARD])
def test_forward_rejects_bad_input(small, _, change, exc, message):
    kwargs = {"x": small.x, "h0": small.h0, **change(small)}
    with pytest.raises(exc, match=re.escape(message)):
        rnn_forward(small.params, **kwargs)


def test_float32_params_reject_float64_x(small):
    p32 = {k: v.astype(np.float32) for k, v in small.params.items()}
    with pytest.raises(TypeError, match=re.escape(
            "x must have dtype float32 (the dtype of params), got float64")):
        rnn_forward(p32, small.x)


H_OUT_OF_RANGE = ("h must hold the tanh hidden states returned by rnn_forward "
                  "(|h[t]| <= 1 for t >= 1); got values outside [-1, 1]")
BAD_BACKWARD = [
    ("x 2-D", lambda p: {"x": p.x[0]}, ValueError,
     "x must have 3 dimensions, shape (T, B, D) = (?, ?, 3), got 2 dimensions with shape (2, 3)"),
    ("x D disagrees", lambda p: {"x": np.zeros((4, 2, 4))}, ValueError,
     "x must have shape (T, B, D) = (?, ?, 3), got (4, 2, 4)"),
    ("x list", lambda p: {"x": p.x.tolist()}, TypeError,
     "x must be a numpy array of shape (T, B, D) = (?, ?, 3), got list"),
    ("x inf", lambda p: {"x": _poke(p.x, (1, 1, 1), -np.inf)}, ValueError,
     "x contains NaN or infinity (1 of 24 entries)"),
    ("h without h0", lambda p: {"h": p.h[1:]}, ValueError,
     "h must have shape (T+1, B, H) = (5, 2, 5), got (4, 2, 5)"),
    ("h 2-D", lambda p: {"h": p.h.reshape(5, 10)}, ValueError,
     "h must have 3 dimensions, shape (T+1, B, H) = (5, 2, 5), got 2 dimensions "
     "with shape (5, 10)"),
    ("h B disagrees", lambda p: {"h": p.h[:, :1]}, ValueError,
     "h must have shape (T+1, B, H) = (5, 2, 5), got (5, 1, 5)"),
    ("h H disagrees", lambda p: {"h": p.h[..., :4]}, ValueError,
     "h must have shape (T+1, B, H) = (5, 2, 5), got (5, 2, 4)"),
    ("h list", lambda p: {"h": p.h.tolist()}, TypeError,
     "h must be a numpy array of shape (T+1, B, H) = (5, 2, 5), got list"),
    ("h float32", lambda p: {"h": p.h.astype(np.float32)}, TypeError,
     "h must have dtype float64 (the dtype of params), got float32"),
    ("h NaN", lambda p: {"h": _poke(p.h, (2, 0, 1), np.nan)}, ValueError,
     "h contains NaN or infinity (1 of 50 entries)"),
    ("h above 1", lambda p: {"h": _poke(p.h, (2, 0, 1), 1.5)}, ValueError, H_OUT_OF_RANGE),
    ("h below -1", lambda p: {"h": _poke(p.h, (4, 1, 4), -1.0001)}, ValueError,
     H_OUT_OF_RANGE),
    ("h pre-activations", lambda p: {"h": 3 * p.h}, ValueError, H_OUT_OF_RANGE),
    ("dy 2-D", lambda p: {"dy": p.dy.reshape(8, 6)}, ValueError,
     "dy must have 3 dimensions, shape (T, B, O) = (4, 2, 6), got 2 dimensions "
     "with shape (8, 6)"),
    ("dy O disagrees", lambda p: {"dy": p.dy[..., :5]}, ValueError,
     "dy must have shape (T, B, O) = (4, 2, 6), got (4, 2, 5)"),
    ("dy T disagrees", lambda p: {"dy": np.zeros((5, 2, 6))}, ValueError,
     "dy must have shape (T, B, O) = (4, 2, 6), got (5, 2, 6)"),
    ("dy broadcastable B", lambda p: {"dy": p.dy[:, :1]}, ValueError,
     "dy must have shape (T, B, O) = (4, 2, 6), got (4, 1, 6)"),
    ("dy list", lambda p: {"dy": p.dy.tolist()}, TypeError,
     "dy must be a numpy array of shape (T, B, O) = (4, 2, 6), got list"),
    ("dy int", lambda p: {"dy": np.ones((4, 2, 6), dtype=int)}, TypeError,
     "dy must have a floating-point dtype, got int64"),
    ("dy float32", lambda p: {"dy": p.dy.astype(np.float32)}, TypeError,
     "dy must have dtype float64 (the dtype of params), got float32"),
    ("dy NaN", lambda p: {"dy": _poke(p.dy, (0, 1, 5), np.nan)}, ValueError,
     "dy contains NaN or infinity (1 of 48 entries)"),
    ("truncate 0", lambda p: {"truncate": 0}, ValueError, "truncate must be >= 1, got 0"),
    ("truncate -1", lambda p: {"truncate": -1}, ValueError, "truncate must be >= 1, got -1"),
    ("truncate 2.5", lambda p: {"truncate": 2.5}, TypeError,
     "truncate must be a positive int or None, got float 2.5"),
    ("truncate 2.0", lambda p: {"truncate": 2.0}, TypeError,
     "truncate must be a positive int or None, got float 2.0"),
    ("truncate True", lambda p: {"truncate": True}, TypeError,
     "truncate must be a positive int or None, got bool True"),
    ("truncate np.True_", lambda p: {"truncate": np.True_}, TypeError,
     "truncate must be a positive int or None, got bool"),
    ("truncate str", lambda p: {"truncate": "3"}, TypeError,
     "truncate must be a positive int or None, got str '3'"),
]


@pytest.mark.parametrize("_, change, exc, message", BAD_BACKWARD,
                         ids=[c[0] for c in BAD_BACKWARD])
def test_backward_rejects_bad_input(small, _, change, exc, message):
    kwargs = {"x": small.x, "h": small.h, "dy": small.dy, "truncate": None, **change(small)}
    with pytest.raises(exc, match=re.escape(message)):
        rnn_backward(small.params, **kwargs)


@pytest.mark.parametrize("bad", ["no", 1, None, np.array([True])])
def test_return_dh_must_be_a_flag(bad):
    params, x, h0, w = random_problem(3, 2, 2, 3, 2)
    _, h = rnn_forward(params, x, h0)
    with pytest.raises(TypeError, match=r"return_dh must be True or False, got"):
        rnn_backward(params, x, h, w, return_dh=bad)
