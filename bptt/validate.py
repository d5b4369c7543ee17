"""Input validation shared by every public function of :mod:`bptt`.

Every check raises at once with a message that names the argument, the shape
(or dtype) that was expected and the one that was given, so that a student's
mistake is reported where it happens instead of surfacing later as a silent
numpy broadcast. Shapes are written with the book's dimension letters, e.g.
``x must have shape (T, B, D) = (?, ?, 3), got (5, 2, 4)``.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

#: The parameter names of the vanilla RNN, in the order the book lists them.
PARAM_KEYS = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")


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


def check_params(params: Mapping[str, np.ndarray], name: str = "params"):
    """Check an RNN parameter dict and return its sizes ``(D, H, O)``.

    The dict must hold exactly the keys ``W_xh (H, D)``, ``W_hh (H, H)``,
    ``b_h (H,)``, ``W_hy (O, H)`` and ``b_y (O,)``, all finite and of one
    floating-point dtype.
    """
    if not isinstance(params, Mapping):
        raise TypeError(f"{name} must be a dict with keys {list(PARAM_KEYS)}, "
                        f"got {type(params).__name__}")
    missing = [k for k in PARAM_KEYS if k not in params]
    unknown = [k for k in params if k not in PARAM_KEYS]
    if missing or unknown:
        raise ValueError(f"{name} must have exactly the keys {list(PARAM_KEYS)}; "
                         f"missing {missing}, unknown {unknown}")
    W_xh = check_array(f"{name}['W_xh']", params["W_xh"], ("H", "D"))
    H, D = W_xh.shape
    dtype = W_xh.dtype
    check_array(f"{name}['W_hh']", params["W_hh"], ("H", "H"), (H, H), dtype)
    check_array(f"{name}['b_h']", params["b_h"], ("H",), (H,), dtype)
    W_hy = check_array(f"{name}['W_hy']", params["W_hy"], ("O", "H"), (None, H), dtype)
    O = W_hy.shape[0]
    check_array(f"{name}['b_y']", params["b_y"], ("O",), (O,), dtype)
    return D, H, O


def check_tanh_states(params: Mapping[str, np.ndarray], h) -> np.ndarray:
    """Check ``params`` and the tanh hidden states ``h (T+1, B, H)``, T >= 1; return ``h``.

    Whatever uses the Jacobian ``diag(1 - h_t**2) W_hh`` needs states that
    ``rnn_forward`` returned: tanh'(a_t) = 1 - h_t^2 holds for tanh outputs only.
    """
    _, H, _ = check_params(params)
    h = check_array("h", h, ("T+1", "B", "H"), (None, None, H), params["W_hh"].dtype)
    if h.shape[0] < 2:
        raise ValueError(f"h must hold h_0 and at least one step, shape (T+1, B, H) with "
                         f"T >= 1, got {h.shape}")
    if np.any(np.abs(h[1:]) > 1):
        raise ValueError("h must hold the tanh hidden states returned by rnn_forward "
                         "(|h[t]| <= 1 for t >= 1); got values outside [-1, 1]")
    return h


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


def check_flag(name: str, value) -> bool:
    """Check that ``value`` is a bool (numpy's included)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)
