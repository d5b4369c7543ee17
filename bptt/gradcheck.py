r"""Finite-difference gradient checks: the test every hand-written backward pass must pass.

A backward pass is checked by comparing its gradient with the *centred
difference* of the loss,

.. math::

    \frac{\partial f}{\partial x_i} \approx
    \frac{f(x + \epsilon e_i) - f(x - \epsilon e_i)}{2 \epsilon},

one coordinate :math:`e_i` at a time. Its truncation error is
:math:`f'''\epsilon^2/6`, about ``1e-12`` for ``eps = 1e-6``, and its rounding
error about :math:`u\,|f| / \epsilon \approx 10^{-10} |f|` in float64
(:math:`u \approx 10^{-16}`), so a correct gradient agrees to a relative
error of about ``1e-8`` or better, while a typical bug (a transposed matrix, a
missing factor 2, a forgotten term) is off by order 1. Always check in
float64: in float32, :math:`u \approx 10^{-7}` makes the rounding error alone
comparable to the gradient.

It costs two evaluations of ``f`` per parameter: backpropagation exists
because it gives all of them for about the price of one more forward pass.

Typical use, on the RNN of :mod:`bptt.rnn`::

    >>> import numpy as np
    >>> from bptt.rnn import init_rnn, rnn_forward, rnn_backward
    >>> from bptt.losses import mse_loss
    >>> from bptt.gradcheck import check_gradient
    >>> params = init_rnn(3, 4, 2)
    >>> rng = np.random.default_rng(0)
    >>> x, target = rng.standard_normal((5, 2, 3)), rng.standard_normal((5, 2, 2))
    >>> y, h = rnn_forward(params, x)
    >>> loss, dy = mse_loss(y, target)
    >>> grads = rnn_backward(params, x, h, dy)     # also holds 'x' and 'h0': ignored
    >>> def f(p):
    ...     return mse_loss(rnn_forward(p, x)[0], target)[0]
    >>> check_gradient(f, params, grads) < 1e-7    # raises AssertionError on a bug
    True
"""
from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from .validate import check_array, check_array_dict, check_positive_float

__all__ = ["numerical_gradient", "numerical_gradient_params", "rel_error", "check_gradient"]

#: How many entries of each gradient a failed check prints.
_N_SHOWN = 5


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray,
                       eps: float = 1e-6) -> np.ndarray:
    r"""Centred-difference gradient of a scalar function of one array.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``, a scalar function of ``x``.
    x : ndarray, any shape
        The point, a writeable floating-point array (float64 for a check). It
        is perturbed in place, one entry at a time, and restored exactly
        afterwards, also when ``f`` raises.
    eps : float
        The step :math:`\epsilon`.

    Returns
    -------
    grad : ndarray, the shape and dtype of ``x``
        :math:`\partial f / \partial x`.

    Notes
    -----
    Entry i of the result is :math:`(f(x + \epsilon e_i) - f(x - \epsilon e_i))
    / (2\epsilon)`, with :math:`2\epsilon` replaced by the step actually taken
    once :math:`x_i \pm \epsilon` has been rounded to the dtype of ``x``.
    Perturbing ``x`` in place (rather than a copy) means that ``f`` may reach
    ``x`` through a closure or a dict, as :func:`numerical_gradient_params` does.
    """
    return _numerical_gradient(f, x, eps, "x")


def numerical_gradient_params(f: Callable[[dict], float], params: Mapping[str, np.ndarray],
                              eps: float = 1e-6) -> dict:
    r"""Centred-difference gradient of a scalar function of a dict of arrays.

    Parameters
    ----------
    f : callable
        ``f(params) -> float``, e.g. the loss of an RNN with these parameters.
    params : dict of str to ndarray
        Writeable floating-point arrays of any shapes, e.g. from
        :func:`bptt.rnn.init_rnn`. Each is perturbed in place and restored
        exactly, also when ``f`` raises.
    eps : float
        The step :math:`\epsilon`.

    Returns
    -------
    dict
        The same keys; each value, of the shape and dtype of ``params[key]``,
        is :math:`\partial f / \partial\, \text{params[key]}`.
    """
    check_array_dict("params", params, same_dtype=False)
    # params[key] is perturbed in place, so f(params) sees each perturbation.
    return {key: _numerical_gradient(lambda _: f(params), params[key], eps, f"params[{key!r}]")
            for key in params}


def rel_error(a, b) -> float:
    r"""Relative error :math:`\|a - b\|_2 / (\|a\|_2 + \|b\|_2)` of two arrays (0 if both are 0).

    Parameters
    ----------
    a, b : ndarray or real number
        Finite values of the same shape.

    Returns
    -------
    float
        In ``[0, 1]``: 0 exactly when ``a == b`` (including both zero), 1 when
        one of them is zero and the other is not, or when ``b = -a``.

    Notes
    -----
    The ratio is symmetric, invariant to a common scale, and for a small error
    about half of :math:`\|a - b\| / \|a\|`. It compares whole arrays rather
    than entries. CS231n's elementwise
    :math:`\max_i |a_i - b_i| / (|a_i| + |b_i|)` is dominated by tiny entries:
    an entry whose exact value is 0 comes out as, say, ``1e-12`` from one
    method and ``3e-12`` from the other (both are rounding noise), which reads
    as a 50% error even when every other entry agrees to 10 digits. In the norm
    ratio each entry counts in proportion to its size, so such noise is
    negligible, while a genuine bug in any sizeable entry still shows.
    """
    a = _as_float_array("a", a)
    b = _as_float_array("b", b)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        raise ValueError(f"a and b must not be empty, got shape {a.shape}")
    scale = max(np.max(np.abs(a)), np.max(np.abs(b)))
    if scale == 0:
        return 0.0
    # Dividing by the largest entry first keeps the squares inside the norms
    # from overflowing (entries near 1e300) or underflowing (near 1e-300).
    a, b = a / scale, b / scale
    return float(np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b)))


def check_gradient(f: Callable, x_or_params, analytic, eps: float = 1e-6,
                   tol: float = 1e-7) -> float:
    r"""Assert that an analytic gradient matches the centred-difference one.

    Parameters
    ----------
    f : callable
        ``f(x) -> float`` for an array, ``f(params) -> float`` for a dict.
    x_or_params : ndarray or dict of str to ndarray
        The point: one writeable float array of any shape, or a dict of them
        (e.g. from :func:`bptt.rnn.init_rnn`). Restored exactly afterwards.
    analytic : ndarray or dict of str to ndarray
        The gradient to check, shaped like ``x_or_params``. For a dict, every
        key of ``x_or_params`` must be present; other keys are ignored (so the
        output of :func:`bptt.rnn.rnn_backward`, which also holds ``'x'`` and
        ``'h0'``, can be passed as it is).
    eps : float
        The finite-difference step.
    tol : float
        The largest :func:`rel_error` accepted.

    Returns
    -------
    float
        The worst relative error over the arrays checked.

    Raises
    ------
    AssertionError
        If some array's relative error exceeds ``tol``. The message names each
        failing array, its relative error and ``tol``, and shows the entries
        where the two gradients differ most, side by side.
    """
    tol = check_positive_float("tol", tol)
    if isinstance(x_or_params, Mapping):
        if not isinstance(analytic, Mapping):
            raise TypeError("analytic must be a dict of gradients when x_or_params is a dict, "
                            f"got {type(analytic).__name__}")
        missing = [key for key in x_or_params if key not in analytic]
        if missing:
            raise ValueError(f"analytic is missing the gradients of {missing} "
                             f"(x_or_params has keys {list(x_or_params)})")
        points = dict(x_or_params)
        names = {key: f"params[{key!r}]" for key in points}
        analytic_names = {key: f"analytic[{key!r}]" for key in points}
    else:
        points, names, analytic_names = {"x": x_or_params}, {"x": "x"}, {"x": "analytic"}
        analytic = {"x": analytic}
    # Cheap checks of every analytic gradient before the expensive numerical one.
    for key, x in points.items():
        _check_point(names[key], x)
        _check_like(analytic_names[key], analytic[key], names[key], x)

    if isinstance(x_or_params, Mapping):
        numerical = numerical_gradient_params(f, x_or_params, eps)
    else:
        numerical = {"x": numerical_gradient(f, x_or_params, eps)}
    errors = {key: rel_error(analytic[key], numerical[key]) for key in points}
    failed = [key for key in points if errors[key] > tol]
    if failed:
        raise AssertionError("\n".join(
            _failure_report(names[key], errors[key], tol, analytic[key], numerical[key])
            for key in failed))
    return max(errors.values())


def _numerical_gradient(f, x, eps, name: str) -> np.ndarray:
    """:func:`numerical_gradient`, naming ``x`` as ``name`` in its error messages."""
    if not callable(f):
        raise TypeError(f"f must be a callable returning a float, got {type(f).__name__}")
    _check_point(name, x)
    eps = check_positive_float("eps", eps)
    grad = np.empty_like(x)
    # np.ndindex walks x by its indices, so views (even non-contiguous ones)
    # are perturbed where they live, not in a reshaped copy.
    for idx in np.ndindex(x.shape):
        old = x[idx]                   # a numpy scalar: a copy of the exact bits
        try:
            x[idx] = old + eps
            up, f_up = x[idx], _scalar(f(x), name, idx, "+")
            x[idx] = old - eps
            down, f_down = x[idx], _scalar(f(x), name, idx, "-")
        finally:
            x[idx] = old               # restore, even if f raised
        # The step actually taken: x +- eps was rounded to the dtype of x.
        step = np.float64(up) - np.float64(down)
        if step == 0:
            raise ValueError(f"eps = {eps} is too small to change {name}{list(idx)} = {old} "
                             f"in {x.dtype}; use float64 or a larger eps")
        grad[idx] = (f_up - f_down) / step
    return grad


def _scalar(value, name: str, idx: tuple, sign: str) -> float:
    """Check that ``f`` returned a finite real scalar and return it as a float."""
    if isinstance(value, (tuple, list)):
        raise TypeError(f"f must return a scalar, got a {type(value).__name__}; if it returns "
                        "(loss, grad), pass lambda x: f(x)[0] instead")
    arr = np.asarray(value)
    if arr.ndim != 0 or arr.dtype.kind not in "fiu":
        raise TypeError(f"f must return a real scalar, got {type(value).__name__} with "
                        f"shape {arr.shape} and dtype {arr.dtype}")
    result = float(arr)
    if not np.isfinite(result):
        raise ValueError(f"f returned {result} with {name}{list(idx)} moved by {sign}eps")
    return result


def _check_point(name: str, x) -> None:
    """Check a writeable, finite, floating-point array of any shape."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(x).__name__}")
    # Any rank is allowed, so the axes get neutral names in check_array's messages.
    check_array(name, x, tuple(f"n{i}" for i in range(x.ndim)))
    if not x.flags.writeable:
        raise ValueError(f"{name} must be writeable: it is perturbed in place "
                         "(pass a copy, e.g. x.copy())")


def _check_like(name: str, a, like_name: str, like: np.ndarray) -> None:
    """Check a finite float array of the shape of ``like``."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy array of shape {like.shape} "
                        f"(that of {like_name}), got {type(a).__name__}")
    if a.shape != like.shape:
        raise ValueError(f"{name} must have shape {like.shape} (that of {like_name}), "
                         f"got {a.shape}")
    check_array(name, a, tuple(f"n{i}" for i in range(a.ndim)))


def _as_float_array(name: str, a) -> np.ndarray:
    """A finite real array or number as a float64 array (lists are refused)."""
    if isinstance(a, (bool, np.bool_)) or not isinstance(
            a, (np.ndarray, int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a numpy array or a real number, got {type(a).__name__}")
    a = np.asarray(a)
    if a.dtype.kind not in "fiu":
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinity")
    return a


def _failure_report(name: str, err: float, tol: float, analytic: np.ndarray,
                    numerical: np.ndarray) -> str:
    """Name the failing array and show, side by side, the entries that differ most."""
    diff = np.abs(analytic.astype(np.float64) - numerical).ravel()
    worst = np.argsort(diff)[::-1][:_N_SHOWN]
    lines = [f"gradient check failed for {name}: relative error {err:.3e} > tol {tol:.1e}",
             f"  {'index':<14}{'analytic':>16}{'numerical':>16}"]
    for flat in worst:
        idx = np.unravel_index(flat, analytic.shape)
        lines.append(f"  {str(tuple(int(i) for i in idx)):<14}"
                     f"{analytic[idx]:>16.8e}{numerical[idx]:>16.8e}")
    if not analytic.dtype == numerical.dtype == np.float64:
        lines.append(f"  (analytic is {analytic.dtype} and the point {numerical.dtype}: "
                     "check gradients in float64)")
    return "\n".join(lines)
