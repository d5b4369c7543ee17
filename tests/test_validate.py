"""Tests of bptt.validate: what every generic guard accepts, refuses and returns.

The message format ("argument, expected shape, given shape") is pinned in full
once, here; every other test matches a substring that names the argument.
"""
from __future__ import annotations

import re
import sys

import numpy as np
import pytest

from bptt.validate import (check_array, check_array_dict, check_axes, check_flag,
                           check_float_dtype, check_nonneg_float, check_nonneg_int,
                           check_positive_float, check_positive_int, check_square)


def raises(exc, message):
    """pytest.raises matching ``message`` literally (it holds brackets and parentheses)."""
    return pytest.raises(exc, match=re.escape(message))


# ---------------------------------------------------------------- the message format

@pytest.mark.parametrize("call, exc, message", [
    (lambda: check_array("x", np.zeros((5, 2, 4)), ("T", "B", "D"), (None, None, 3)),
     ValueError, "x must have shape (T, B, D) = (?, ?, 3), got (5, 2, 4)"),
    (lambda: check_array("h0", np.zeros((2, 3, 1)), ("B", "H"), (2, 3)),
     ValueError, "h0 must have 2 dimensions, shape (B, H) = (2, 3), "
                 "got 3 dimensions with shape (2, 3, 1)"),
    (lambda: check_array("x", [1.0, 2.0], ("T", "B", "D"), (None, None, 3)),
     TypeError, "x must be a numpy array of shape (T, B, D) = (?, ?, 3), got list"),
    (lambda: check_array("b_h", np.zeros(3), ("H",), (4,)),
     ValueError, "b_h must have shape (H,) = (4,), got (3,)"),
    (lambda: check_array("W", [[1.0]], ("H", "D")),
     TypeError, "W must be a numpy array of shape (H, D), got list"),
    (lambda: check_array("x", np.zeros((2, 3)), ("B", "D"), dtype=np.float32),
     TypeError, "x must have dtype float32 (the dtype of params), got float64"),
    (lambda: check_array("dy", np.array([[0.0, np.nan, 1.0], [np.inf, 0.0, 0.0]]), ("B", "O")),
     ValueError, "dy contains NaN or infinity (2 of 6 entries)"),
], ids=["size", "rank", "not an array", "1-D keeps its comma", "letters only", "dtype",
        "non-finite counted"])
def test_messages_name_the_argument_the_expected_shape_and_the_given_one(call, exc, message):
    with pytest.raises(exc, match="^" + re.escape(message) + "$"):
        call()


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


@pytest.mark.parametrize("value", [[1.0, 2.0], (1.0, 2.0), 1.5, None, np.float64(1.0)])
def test_check_array_refuses_non_arrays(value):
    with raises(TypeError, "x must be a numpy array"):
        check_array("x", value, ("T", "B", "D"), (None, None, 3))


@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.uint32, bool, np.complex128, object])
def test_check_array_refuses_non_float_dtypes(dtype):
    with raises(TypeError, f"b must have a floating-point dtype, got {np.dtype(dtype)}"):
        check_array("b", np.zeros(3, dtype=dtype), ("H",))


@pytest.mark.parametrize("shape", [(), (3,), (2, 3, 1)])
def test_check_array_refuses_wrong_rank(shape):
    with raises(ValueError, "h0 must have 2 dimensions"):
        check_array("h0", np.zeros(shape), ("B", "H"), (2, 3))


@pytest.mark.parametrize("shape", [(3, 2), (2, 4), (1, 3)])
def test_check_array_refuses_wrong_size(shape):
    # (1, 3) would broadcast against (2, 3): it must be refused, not stretched.
    with raises(ValueError, f"h_prev must have shape (B, H) = (2, 3), got {shape}"):
        check_array("h_prev", np.zeros(shape), ("B", "H"), (2, 3))


@pytest.mark.parametrize("shape", [(0, 2, 3), (4, 0, 3), (4, 2, 0)])
def test_check_array_refuses_empty_axes_even_when_free(shape):
    with raises(ValueError, f"x must have shape (T, B, D), got {shape}"):
        check_array("x", np.zeros(shape), ("T", "B", "D"))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_check_array_refuses_non_finite(bad):
    a = np.zeros((2, 3), dtype=np.float32)
    a[1, 2] = bad
    with raises(ValueError, "dy contains NaN or infinity (1 of 6 entries)"):
        check_array("dy", a, ("B", "O"))


def test_check_array_order_type_then_dtype_then_rank():
    # A wrong dtype is reported before a wrong rank: the first fix to make.
    with raises(TypeError, "a must have a floating-point dtype, got int64"):
        check_array("a", np.zeros((2, 2, 2), dtype=np.int64), ("H",))


# ---------------------------------------------------------------- check_array_dict

def test_check_array_dict_accepts_any_keys_and_shapes_and_returns_a_dict():
    arrays = {"a": np.zeros(()), "W": np.ones((2, 3), np.float32), "v": np.ones(4, np.float32)}
    arrays["a"] = arrays["a"].astype(np.float32)
    got = check_array_dict("grads", arrays)
    assert got == arrays and got is not arrays and isinstance(got, dict)
    with_nan = {"a": np.array([np.nan])}
    assert check_array_dict("p", with_nan, finite=False)["a"] is with_nan["a"]
    mixed = {"a": np.zeros(1), "b": np.zeros(1, np.float32)}
    assert check_array_dict("p", mixed, same_dtype=False) == mixed


@pytest.mark.parametrize("value, exc, fragment", [
    ([np.zeros(2)], TypeError, "grads must be a dict of numpy arrays, got list"),
    ({}, ValueError, "grads must hold at least one array"),
    ({"W": [1.0]}, TypeError, "grads['W'] must be a numpy array, got list"),
    ({"W": np.zeros(2, int)}, TypeError, "grads['W'] must have a floating-point dtype"),
    ({"W": np.zeros(2), "b": np.zeros(2, np.float32)}, TypeError,
     "grads['b'] must have the dtype of grads['W'], float64, got float32"),
    ({"W": np.zeros((2, 0))}, ValueError, "grads['W'] must not be empty, got shape (2, 0)"),
    ({"W": np.array([0.0, np.inf])}, ValueError, "grads['W'] contains NaN or infinity"),
])
def test_check_array_dict_refuses(value, exc, fragment):
    with raises(exc, fragment):
        check_array_dict("grads", value)


# ---------------------------------------------------------------- check_square

def test_check_square():
    W = np.eye(3, dtype=np.float32)
    assert check_square("W_hh", W) is W
    with raises(ValueError, "W_hh must be square, shape (H, H), got (3, 2)"):
        check_square("W_hh", W[:, :2])
    with raises(ValueError, "W_hh must have 2 dimensions"):
        check_square("W_hh", np.zeros(3))
    with raises(TypeError, "W_hh must be a numpy array"):
        check_square("W_hh", [[1.0]])


# ---------------------------------------------------------------- integers

@pytest.mark.parametrize("value", [1, 7, np.int64(3), np.int8(1), np.uint16(9), 2**70])
def test_check_positive_int_returns_a_python_int(value):
    got = check_positive_int("n", value)
    assert got == value and type(got) is int


def test_check_positive_int_none_only_when_allowed():
    assert check_positive_int("truncate", None, allow_none=True) is None
    with raises(TypeError, "truncate must be a positive int, got NoneType None"):
        check_positive_int("truncate", None)


@pytest.mark.parametrize("value", [2.5, 3.0, True, False, np.True_, "3", [3], np.float64(2.0)])
@pytest.mark.parametrize("allow_none, wanted", [(False, "a positive int"),
                                                (True, "a positive int or None")])
def test_check_positive_int_refuses_non_ints(value, allow_none, wanted):
    with raises(TypeError, f"k must be {wanted}, got {type(value).__name__}"):
        check_positive_int("k", value, allow_none=allow_none)


@pytest.mark.parametrize("value", [0, -1, np.int64(0), np.int32(-7)])
def test_check_positive_int_refuses_values_below_one(value):
    with raises(ValueError, f"k must be >= 1, got {int(value)}"):
        check_positive_int("k", value)


@pytest.mark.parametrize("value", [0, 5, np.int64(0), np.uint8(3)])
def test_check_nonneg_int_accepts_zero_and_returns_a_python_int(value):
    got = check_nonneg_int("burn_in", value)
    assert got == value and type(got) is int


@pytest.mark.parametrize("value, exc, fragment", [
    (-1, ValueError, "seed must be >= 0, got -1"),
    (1.0, TypeError, "seed must be a non-negative int, got float"),
    (True, TypeError, "seed must be a non-negative int, got bool"),
    (None, TypeError, "seed must be a non-negative int, got NoneType"),
])
def test_check_nonneg_int_refuses(value, exc, fragment):
    with raises(exc, fragment):
        check_nonneg_int("seed", value)


# ---------------------------------------------------------------- real numbers

@pytest.mark.parametrize("value", [1e-300, 0.5, 3, np.float32(0.25), np.int64(4), np.float16(2),
                                   1e300])
def test_check_positive_float_returns_a_python_float(value):
    got = check_positive_float("lr", value)
    assert type(got) is float and got == float(value)


@pytest.mark.parametrize("value", [0, 0.0, -1e-3, -2, float("nan"), float("inf"), -np.inf,
                                   np.float32(np.nan)])
def test_check_positive_float_refuses_non_positive_or_non_finite(value):
    with raises(ValueError, "lr must be a finite number > 0, got"):
        check_positive_float("lr", value)


@pytest.mark.parametrize("value", [True, np.True_, "0.1", None, 1 + 2j, np.array(0.1)])
def test_check_positive_float_refuses_non_numbers(value):
    with pytest.raises(TypeError, match=r"^lr must be a positive number, got"):
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


@pytest.mark.parametrize("value", [0, 0.0, 2, np.float32(0.5)])
def test_check_nonneg_float_accepts_zero(value):
    got = check_nonneg_float("noise", value)
    assert type(got) is float and got == float(value)


@pytest.mark.parametrize("value, exc", [(-0.1, ValueError), (np.nan, ValueError),
                                        (np.inf, ValueError), ("0", TypeError),
                                        (True, TypeError)])
def test_check_nonneg_float_refuses(value, exc):
    with raises(exc, "noise must be a"):
        check_nonneg_float("noise", value)


# ---------------------------------------------------------------- flags, dtypes, axes

@pytest.mark.parametrize("value", [True, False, np.True_])
def test_check_flag_accepts_bools(value):
    assert check_flag("return_dh", value) is bool(value)


@pytest.mark.parametrize("value", [1, 0, "yes", None, np.array([True])])
def test_check_flag_refuses_everything_else(value):
    with raises(TypeError, "return_dh must be True or False, got"):
        check_flag("return_dh", value)


@pytest.mark.parametrize("dtype", [np.float16, "float32", np.float64, np.dtype("f8")])
def test_check_float_dtype_returns_a_dtype(dtype):
    assert check_float_dtype("dtype", dtype) == np.dtype(dtype)


@pytest.mark.parametrize("dtype", [int, "int8", bool, np.complex128, object, "no such dtype"])
def test_check_float_dtype_refuses(dtype):
    with raises(TypeError, "dtype must be a floating-point dtype, got"):
        check_float_dtype("dtype", dtype)


def test_check_axes():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    assert check_axes(None) is None
    fig, ax = plt.subplots()
    try:
        assert check_axes(ax) is ax
        with raises(TypeError, "ax must be a matplotlib Axes or None, got Figure"):
            check_axes(fig)
        with raises(TypeError, "left must be a matplotlib Axes or None, got str"):
            check_axes("axes", name="left")
    finally:
        plt.close(fig)


def test_check_axes_with_none_loads_no_matplotlib():
    # The core calls no plotting code, but check_axes(None) must not import it either.
    import subprocess
    code = ("import sys; from bptt.validate import check_axes; check_axes(None); "
            "assert 'matplotlib' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
