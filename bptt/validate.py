"""Input validation shared by every public function of :mod:`bptt`.

Every check raises at once with a message that names the argument, the shape
(or dtype) that was expected and the one that was given, so that a student's
mistake is reported where it happens instead of surfacing later as a silent
numpy broadcast. Shapes are written with the book's dimension letters, e.g.
``x must have shape (T, B, D) = (?, ?, 3), got (5, 2, 4)``.

Only generic guards live here (arrays, dicts of arrays, numbers, flags,
square matrices, dtypes, matplotlib axes); a model's own checks (the RNN's
parameter shapes) live in its module, e.g. :func:`bptt.rnn.check_rnn_params`.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

__all__ = ["check_array", "check_array_dict", "check_keys", "check_square", "check_positive_int",
           "check_nonneg_int", "check_positive_float", "check_nonneg_float", "check_flag",
           "check_float_dtype", "check_axes"]


def _fmt_expected(letters: Sequence[str], sizes: Sequence[int | None]) -> str:
    """Format an expected shape as ``(T, B, D) = (?, ?, 3)``."""
    names = "(" + ", ".join(letters) + (",)" if len(letters) == 1 else ")")
    if all(s is None for s in sizes):
        return names
    vals = ["?" if s is None else str(s) for s in sizes]
    return f"{names} = (" + ", ".join(vals) + (",)" if len(vals) == 1 else ")")


def check_array(name: str, a, letters: Sequence[str],
                sizes: Sequence[int | None] | None = None,
                dtype: np.dtype | None = None, finite: bool = True) -> np.ndarray:
    """Check that ``a`` is a floating-point ndarray of the expected shape.

    Parameters
    ----------
    name : str
        The argument's name, used in the error message.
    a : object
        The value to check. It must already be a ``numpy.ndarray``: lists are
        refused rather than converted, so that dtypes are never guessed.
    letters : sequence of str
        The book's letter for each axis, e.g. ``("T", "B", "D")``.
    sizes : sequence of int or None, optional
        The required size of each axis; ``None`` accepts any size >= 1.
    dtype : numpy.dtype, optional
        When given, ``a`` must have exactly this dtype (the parameters' dtype).
    finite : bool
        When true (the default), NaN and infinity are refused.

    Returns
    -------
    numpy.ndarray
        ``a`` itself, unchanged.
    """
    if sizes is None:
        sizes = [None] * len(letters)
    expected = _fmt_expected(letters, sizes)
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy array of shape {expected}, "
                        f"got {type(a).__name__}")
    if not np.issubdtype(a.dtype, np.floating):
        raise TypeError(f"{name} must have a floating-point dtype, got {a.dtype}")
    if dtype is not None and a.dtype != dtype:
        raise TypeError(f"{name} must have dtype {np.dtype(dtype)} (the dtype of params), "
                        f"got {a.dtype}")
    if a.ndim != len(letters):
        raise ValueError(f"{name} must have {len(letters)} dimensions, shape {expected}, "
                         f"got {a.ndim} dimensions with shape {a.shape}")
    for size, want in zip(a.shape, sizes):
        if (want is not None and size != want) or size < 1:
            raise ValueError(f"{name} must have shape {expected}, got {a.shape}")
    if finite and not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinity "
                         f"({int(np.sum(~np.isfinite(a)))} of {a.size} entries)")
    return a


def check_array_dict(name: str, arrays, *, finite: bool = True,
                     same_dtype: bool = True) -> dict:
    """Check a non-empty dict of floating-point arrays (of one dtype); return it as a dict.

    The arrays may have any shapes (at least one entry each); they are not
    compared with one another. Used for gradient and parameter dicts of any
    model, so messages name the entry, e.g. ``grads['W_hh'] contains NaN``.
    ``same_dtype=False`` lets every array have its own float dtype.
    """
    if not isinstance(arrays, Mapping):
        raise TypeError(f"{name} must be a dict of numpy arrays, got {type(arrays).__name__}")
    if not arrays:
        raise ValueError(f"{name} must hold at least one array, got an empty dict")
    dtype = None
    for key, a in arrays.items():
        entry = f"{name}[{key!r}]"
        if not isinstance(a, np.ndarray):
            raise TypeError(f"{entry} must be a numpy array, got {type(a).__name__}")
        if not np.issubdtype(a.dtype, np.floating):
            raise TypeError(f"{entry} must have a floating-point dtype, got {a.dtype}")
        if dtype is None:
            dtype, first = a.dtype, entry
        elif same_dtype and a.dtype != dtype:
            raise TypeError(f"{entry} must have the dtype of {first}, {dtype}, got {a.dtype}")
        if a.size == 0:
            raise ValueError(f"{entry} must not be empty, got shape {a.shape}")
        if finite and not np.all(np.isfinite(a)):
            raise ValueError(f"{entry} contains NaN or infinity "
                             f"({int(np.sum(~np.isfinite(a)))} of {a.size} entries)")
    return dict(arrays)


def check_keys(name: str, mapping, keys: Sequence[str], what: str = "") -> None:
    """Check that ``mapping`` is a dict holding exactly ``keys`` (a model's params or state).

    ``what`` is appended to the first message, e.g. ``" as returned by lstm_forward"``.
    """
    if not isinstance(mapping, Mapping):
        raise TypeError(f"{name} must be a dict with keys {list(keys)}{what}, "
                        f"got {type(mapping).__name__}")
    missing = [k for k in keys if k not in mapping]
    unknown = [k for k in mapping if k not in keys]
    if missing or unknown:
        raise ValueError(f"{name} must have exactly the keys {list(keys)}; "
                         f"missing {missing}, unknown {unknown}")


def check_square(name: str, W) -> np.ndarray:
    """Check that ``W`` is a finite floating-point square matrix ``(H, H)``; return it."""
    W = check_array(name, W, ("H", "H"))
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"{name} must be square, shape (H, H), got {W.shape}")
    return W


def check_positive_int(name: str, value, allow_none: bool = False):
    """Check that ``value`` is an int >= 1 (or None when allowed)."""
    if value is None and allow_none:
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a positive int{' or None' if allow_none else ''}, "
                        f"got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


def check_nonneg_int(name: str, value) -> int:
    """Check that ``value`` is an int >= 0 (a count that may be zero, a seed)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a non-negative int, got {type(value).__name__} {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return int(value)


def check_positive_float(name: str, value) -> float:
    """Check that ``value`` is a real number > 0 whose float is finite and > 0.

    The conversion to a Python float comes first, so that huge ints, and long
    doubles that over- or underflow as floats, are judged by the number the
    caller will actually get.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a positive number, got {type(value).__name__} {value!r}")
    try:
        as_float = float(value)
    except OverflowError:
        raise ValueError(f"{name} must be a finite number > 0, got {value} "
                         "(too large for a float)") from None
    if not np.isfinite(as_float) or as_float <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value}"
                         + (f" (as a float: {as_float})" if as_float != value else ""))
    return as_float


def check_nonneg_float(name: str, value) -> float:
    """Check that ``value`` is a finite real number >= 0."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a non-negative number, "
                        f"got {type(value).__name__} {value!r}")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    return float(value)


def check_flag(name: str, value) -> bool:
    """Check that ``value`` is a bool (numpy's included)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def check_float_dtype(name: str, dtype) -> np.dtype:
    """``numpy.dtype(dtype)``, refusing anything that is not floating point."""
    try:
        dt = np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"{name} must be a floating-point dtype, got {dtype!r}") from err
    if not np.issubdtype(dt, np.floating):
        raise TypeError(f"{name} must be a floating-point dtype, got {dt}")
    return dt


def check_axes(ax, name: str = "ax"):
    """Check that ``ax`` is a matplotlib ``Axes`` or None; return it.

    For the figure functions of :mod:`bptt.plots`. matplotlib is imported only
    when an Axes is given, so the core never loads it.
    """
    if ax is None:
        return None
    from matplotlib.axes import Axes
    if not isinstance(ax, Axes):
        raise TypeError(f"{name} must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax
