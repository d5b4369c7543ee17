"""Tests of bptt.validate: the messages and return values of every check."""
from __future__ import annotations

import re
from types import MappingProxyType

import numpy as np
import pytest

from bptt.validate import (PARAM_KEYS, check_array, check_params, check_positive_float,
                           check_positive_int)


def raises(exc, message):
    """pytest.raises matching ``message`` literally (it holds brackets and parentheses)."""
    return pytest.raises(exc, match=re.escape(message))


def test_param_keys_are_the_books_order():
    assert PARAM_KEYS == ("W_xh", "W_hh", "b_h", "W_hy", "b_y")


# ---------------------------------------------------------------- check_array

@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.longdouble])
def test_check_array_returns_its_argument_unchanged(dtype):
    a = np.arange(6, dtype=dtype).reshape(2, 3)
    before = a.copy()
    assert check_array("a", a, ("B", "H"), (2, 3), dtype) is a
    np.testing.assert_array_equal(a, before)


def test_check_array_sizes_none_accepts_any_positive_size():
    a = np.zeros((7, 1, 2))
    assert check_array("x", a, ("T", "B", "D")) is a
    assert check_array("x", a, ("T", "B", "D"), (None, 1, None)) is a


def test_check_array_finite_false_allows_nan_and_inf():
    a = np.array([np.nan, np.inf, -np.inf, 1.0])
    assert check_array("a", a, ("H",), finite=False) is a


@pytest.mark.parametrize("value, shown", [([1.0, 2.0], "list"), ((1.0, 2.0), "tuple"),
                                          (1.5, "float"), (None, "NoneType"),
                                          (np.float64(1.0), "float64")])
def test_check_array_refuses_non_arrays(value, shown):
    with raises(TypeError, f"x must be a numpy array of shape (T, B, D) = (?, ?, 3), got {shown}"):
        check_array("x", value, ("T", "B", "D"), (None, None, 3))


def test_check_array_message_without_sizes_has_letters_only():
    with raises(TypeError, "W must be a numpy array of shape (H, D), got list"):
        check_array("W", [[1.0]], ("H", "D"))


@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.uint32, bool, np.complex128, object])
def test_check_array_refuses_non_float_dtypes(dtype):
    a = np.zeros(3, dtype=dtype)
    with raises(TypeError, f"b must have a floating-point dtype, got {np.dtype(dtype)}"):
        check_array("b", a, ("H",))


def test_check_array_refuses_another_float_dtype():
    with raises(TypeError, "x must have dtype float32 (the dtype of params), got float64"):
        check_array("x", np.zeros((2, 3)), ("B", "D"), dtype=np.float32)
    with raises(TypeError, "x must have dtype float64 (the dtype of params), got float16"):
        check_array("x", np.zeros((2, 3), dtype=np.float16), ("B", "D"), dtype=np.dtype("f8"))


@pytest.mark.parametrize("shape", [(), (3,), (2, 3, 1)])
def test_check_array_refuses_wrong_rank(shape):
    a = np.zeros(shape)
    with raises(ValueError, f"h0 must have 2 dimensions, shape (B, H) = (2, 3), "
                            f"got {len(shape)} dimensions with shape {shape}"):
        check_array("h0", a, ("B", "H"), (2, 3))


def test_check_array_one_dimensional_shapes_keep_their_comma():
    with raises(ValueError, "b_h must have shape (H,) = (4,), got (3,)"):
        check_array("b_h", np.zeros(3), ("H",), (4,))
    with raises(ValueError, "b_h must have 1 dimensions, shape (H,), got 2 dimensions "
                            "with shape (3, 1)"):
        check_array("b_h", np.zeros((3, 1)), ("H",))


@pytest.mark.parametrize("shape", [(3, 2), (2, 4), (1, 3)])
def test_check_array_refuses_wrong_size(shape):
    # (1, 3) would broadcast against (2, 3): it must be refused, not stretched.
    with raises(ValueError, f"h_prev must have shape (B, H) = (2, 3), got {shape}"):
        check_array("h_prev", np.zeros(shape), ("B", "H"), (2, 3))


@pytest.mark.parametrize("shape", [(0, 2, 3), (4, 0, 3), (4, 2, 0)])
def test_check_array_refuses_empty_axes_even_when_free(shape):
    with raises(ValueError, f"x must have shape (T, B, D) = (?, ?, 3), got {shape}"):
        check_array("x", np.zeros(shape), ("T", "B", "D"), (None, None, 3))
    with raises(ValueError, f"x must have shape (T, B, D), got {shape}"):
        check_array("x", np.zeros(shape), ("T", "B", "D"))


@pytest.mark.parametrize("bad, count", [(np.nan, 1), (np.inf, 1), (-np.inf, 1)])
def test_check_array_refuses_non_finite(bad, count):
    a = np.zeros((2, 3))
    a[1, 2] = bad
    with raises(ValueError, f"dy contains NaN or infinity ({count} of 6 entries)"):
        check_array("dy", a, ("B", "O"))


def test_check_array_counts_every_non_finite_entry():
    a = np.ones((2, 5), dtype=np.float32)
    a[0, :3] = np.nan
    a[1, 4] = np.inf
    with raises(ValueError, "a contains NaN or infinity (4 of 10 entries)"):
        check_array("a", a, ("B", "H"))


def test_check_array_order_type_then_dtype_then_rank():
    # A wrong dtype is reported before a wrong rank: the first fix to make.
    with raises(TypeError, "a must have a floating-point dtype, got int64"):
        check_array("a", np.zeros((2, 2, 2), dtype=np.int64), ("H",))


# ---------------------------------------------------------------- check_params

def make_params(D=3, H=5, O=2, dtype=np.float64):
    rng = np.random.default_rng(0)
    return {"W_xh": rng.standard_normal((H, D)).astype(dtype),
            "W_hh": rng.standard_normal((H, H)).astype(dtype),
            "b_h": np.zeros(H, dtype=dtype),
            "W_hy": rng.standard_normal((O, H)).astype(dtype),
            "b_y": np.zeros(O, dtype=dtype)}


@pytest.mark.parametrize("D, H, O", [(3, 5, 2), (1, 1, 1), (4, 2, 7)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_check_params_returns_D_H_O(D, H, O, dtype):
    params = make_params(D, H, O, dtype)
    assert check_params(params) == (D, H, O)
    assert all(type(n) is int for n in check_params(params))


def test_check_params_accepts_any_mapping_and_leaves_it_alone():
    params = make_params()
    before = {k: v.copy() for k, v in params.items()}
    assert check_params(MappingProxyType(params)) == (3, 5, 2)
    assert list(params) == list(PARAM_KEYS)
    for key in PARAM_KEYS:
        np.testing.assert_array_equal(params[key], before[key])


def test_check_params_key_order_does_not_matter():
    params = make_params()
    assert check_params(dict(reversed(list(params.items())))) == (3, 5, 2)


@pytest.mark.parametrize("value, shown", [(None, "NoneType"), ([1, 2], "list"),
                                          (("W_xh",), "tuple")])
def test_check_params_refuses_non_mappings(value, shown):
    with raises(TypeError, "params must be a dict with keys "
                           f"['W_xh', 'W_hh', 'b_h', 'W_hy', 'b_y'], got {shown}"):
        check_params(value)


@pytest.mark.parametrize("drop, add, missing, unknown", [
    (["b_y"], {}, "['b_y']", "[]"),
    (["W_xh", "b_h"], {}, "['W_xh', 'b_h']", "[]"),
    ([], {"W_xy": 0}, "[]", "['W_xy']"),
    (["W_hh"], {"w_hh": 0}, "['W_hh']", "['w_hh']"),
    (list(PARAM_KEYS), {}, str(list(PARAM_KEYS)), "[]"),
])
def test_check_params_names_missing_and_unknown_keys(drop, add, missing, unknown):
    params = {k: v for k, v in make_params().items() if k not in drop}
    params.update(add)
    with raises(ValueError, "params must have exactly the keys "
                            f"['W_xh', 'W_hh', 'b_h', 'W_hy', 'b_y']; "
                            f"missing {missing}, unknown {unknown}"):
        check_params(params)


@pytest.mark.parametrize("key, value, exc, message", [
    ("W_xh", np.zeros((5, 3), dtype=int), TypeError,
     "grads['W_xh'] must have a floating-point dtype, got int64"),
    ("W_xh", np.zeros(15), ValueError,
     "grads['W_xh'] must have 2 dimensions, shape (H, D), got 1 dimensions with shape (15,)"),
    ("W_hh", np.zeros((5, 3)), ValueError,
     "grads['W_hh'] must have shape (H, H) = (5, 5), got (5, 3)"),
    ("W_hh", np.zeros((5, 5), dtype=np.float32), TypeError,
     "grads['W_hh'] must have dtype float64 (the dtype of params), got float32"),
    ("b_h", np.zeros(3), ValueError, "grads['b_h'] must have shape (H,) = (5,), got (3,)"),
    ("b_h", np.zeros((1, 5)), ValueError,
     "grads['b_h'] must have 1 dimensions, shape (H,) = (5,), got 2 dimensions "
     "with shape (1, 5)"),
    ("W_hy", np.zeros((2, 3)), ValueError,
     "grads['W_hy'] must have shape (O, H) = (?, 5), got (2, 3)"),
    ("W_hy", [[0.0] * 5] * 2, TypeError,
     "grads['W_hy'] must be a numpy array of shape (O, H) = (?, 5), got list"),
    ("b_y", np.zeros(5), ValueError, "grads['b_y'] must have shape (O,) = (2,), got (5,)"),
    ("b_y", np.array([0.0, np.nan]), ValueError,
     "grads['b_y'] contains NaN or infinity (1 of 2 entries)"),
])
def test_check_params_uses_the_given_name(key, value, exc, message):
    params = make_params()
    params[key] = value
    with raises(exc, message):
        check_params(params, name="grads")


def test_check_params_takes_the_dtype_from_W_xh():
    params = make_params(dtype=np.float32)
    params["W_xh"] = params["W_xh"].astype(np.float64)
    with raises(TypeError, "params['W_hh'] must have dtype float64 (the dtype of params), "
                           "got float32"):
        check_params(params)


# ---------------------------------------------------------------- check_positive_int

@pytest.mark.parametrize("value", [1, 7, np.int64(3), np.int8(1), np.uint16(9), 2**70])
def test_check_positive_int_returns_a_python_int(value):
    got = check_positive_int("n", value)
    assert got == value and type(got) is int


def test_check_positive_int_none_only_when_allowed():
    assert check_positive_int("truncate", None, allow_none=True) is None
    with raises(TypeError, "truncate must be a positive int, got NoneType None"):
        check_positive_int("truncate", None)


@pytest.mark.parametrize("value, shown", [(2.5, "float 2.5"), (3.0, "float 3.0"),
                                          (True, "bool True"), (False, "bool False"),
                                          ("3", "str '3'"), ([3], "list [3]"),
                                          (np.float64(2.0), "float64 np.float64(2.0)")])
@pytest.mark.parametrize("allow_none, wanted", [(False, "a positive int"),
                                                (True, "a positive int or None")])
def test_check_positive_int_refuses_non_ints(value, shown, allow_none, wanted):
    with raises(TypeError, f"k must be {wanted}, got {shown}"):
        check_positive_int("k", value, allow_none=allow_none)


def test_check_positive_int_refuses_numpy_bool():
    with pytest.raises(TypeError, match=r"^k must be a positive int, got bool"):
        check_positive_int("k", np.True_)


@pytest.mark.parametrize("value", [0, -1, -3, np.int64(0), np.int32(-7)])
def test_check_positive_int_refuses_values_below_one(value):
    with raises(ValueError, f"k must be >= 1, got {int(value)}"):
        check_positive_int("k", value)


# ---------------------------------------------------------------- check_positive_float

@pytest.mark.parametrize("value", [1e-300, 0.5, 3, np.float32(0.25), np.int64(4), np.float16(2),
                                   1e300])
def test_check_positive_float_returns_a_python_float(value):
    got = check_positive_float("lr", value)
    assert type(got) is float and got == float(value)


@pytest.mark.parametrize("value, shown", [(0, "0"), (0.0, "0.0"), (-1e-3, "-0.001"),
                                          (-2, "-2"), (float("nan"), "nan"),
                                          (float("inf"), "inf"), (-np.inf, "-inf"),
                                          (np.float32(np.nan), "nan")])
def test_check_positive_float_refuses_non_positive_or_non_finite(value, shown):
    with raises(ValueError, f"lr must be a finite number > 0, got {shown}"):
        check_positive_float("lr", value)


@pytest.mark.parametrize("value, shown", [(True, "bool True"), (np.True_, "bool"),
                                          ("0.1", "str '0.1'"), (None, "NoneType None"),
                                          (1 + 2j, "complex (1+2j)"),
                                          (np.array(0.1), "ndarray")])
def test_check_positive_float_refuses_non_numbers(value, shown):
    message = f"lr must be a positive number, got {shown}"
    with pytest.raises(TypeError, match="^" + re.escape(message)):
        check_positive_float("lr", value)


def test_check_positive_float_accepts_large_python_ints():
    # A Python int is a real number; 2**64 is an ordinary float (1.8e19).
    assert check_positive_float("lr", 2**64) == float(2**64)


@pytest.mark.parametrize("value", [10**400, np.longdouble("1e400"), np.longdouble("1e-400")],
                         ids=["int 10**400", "longdouble 1e400", "longdouble 1e-400"])
def test_check_positive_float_result_is_finite_and_positive(value):
    # Each is finite and > 0 in its own type but not as a float64 (inf, or 0.0):
    # the check must refuse it naming the argument, not return inf or 0.0.
    try:
        got = check_positive_float("lr", value)
    except (TypeError, ValueError) as err:
        assert str(err).startswith("lr "), f"message does not name lr: {err}"
    else:
        assert np.isfinite(got) and got > 0, f"returned {got!r}"
