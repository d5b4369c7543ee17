r"""Checks of backpropagation through time: ``rnn_backward``, with truncation and ``return_dh``.

``check_rnn_backward`` runs three stages, each a :class:`~bptt.checks._harness.Check`
of its own: full BPTT on five float64 problems, then one float32 problem (its
dtype must be kept), then truncated BPTT (``truncate`` = 1, 2, 3, T, T+1) on
the problems with T >= 3. A wrong gradient is compared with what each common
mistake of BPTT gives (:mod:`bptt.checks._bptt`). ``check_return_dh`` checks
the total derivatives dL/dh_t that homework 2 adds to ``rnn_backward``.
"""
from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from ..rnn import rnn_backward as _ref_rnn_backward
from ..gradcheck import rel_error
from ._bptt import TRANSPOSED_HINT, backward_mistakes, truncation_mistakes
from ._compare import TOL, array_problem, values_report
from ._harness import Call, Check, Failure, Problem, call_failure, check_fn
from ._rnn import (GRAD_KEYS, LETTERS, PATTERNS, Sizes, backward_problem, draw_rnn,
                   rnn_exception_hint, truncations)

__all__ = ["check_rnn_backward", "check_return_dh"]

_BACKWARD_SIZES = [Sizes(4, 3, 2, 5, 6), Sizes(1, 1, 2, 3, 4), Sizes(6, 2, 3, 3, 2),
                   Sizes(5, 1, 4, 2, 3), Sizes(3, 2, 3, 4, 1, h0="zero")]
_FLOAT32 = Sizes(3, 2, 3, 4, 2, dtype=np.float32)


# --------------------------------------------------------------------------
# (a) The problems of the three stages
# --------------------------------------------------------------------------

def _backward_problem(sz: Sizes, prob: dict, truncated: bool = False,
                      truncate=None) -> Problem:
    """``fn(params, x, h, dy)``, or when ``truncated`` ``fn(..., truncate=truncate)``."""
    return backward_problem(sz, prob, ("params", "x", "h", "dy"), _ref_rnn_backward,
                            truncated, truncate)


def _drawn(seed) -> list:
    return [(sz, draw_rnn(sz, (seed, 3, i))) for i, sz in enumerate(_BACKWARD_SIZES)]


def draw_backward(seed) -> list[Problem]:
    """(a) Full BPTT on the five float64 problems."""
    return [_backward_problem(sz, prob) for sz, prob in _drawn(seed)]


def draw_backward_float32(seed) -> list[Problem]:
    """(a) Full BPTT on one float32 problem."""
    return [_backward_problem(_FLOAT32, draw_rnn(_FLOAT32, (seed, 3, len(_BACKWARD_SIZES))))]


def draw_truncated(seed) -> list[Problem]:
    """(a) The problems with T >= 3, with truncate = None, 1, 2, 3, T and T + 1."""
    return [_backward_problem(sz, prob, True, k) for sz, prob in _drawn(seed) if sz.T >= 3
            for k in truncations(sz.T)]


# --------------------------------------------------------------------------
# (c) Judging a dict of gradients
# --------------------------------------------------------------------------

def _backward_shape_hint(key: str, shape: tuple, sz: Sizes) -> str:
    T, B, H, O = sz.T, sz.B, sz.H, sz.O
    n = {"b_h": H, "b_y": O}.get(key)
    if n is not None:
        if shape == (B, n):
            return ("the bias gradient is not summed over the batch: the bias is added to "
                    "every sequence, so its gradient sums over the batch as well as over time.")
        if shape == (T, B, n):
            return "the bias gradient must be summed over time and over the batch."
        if shape == (T, n):
            return "the bias gradient must be summed over time as well."
        if shape in ((1, n), (n, 1)):
            return "it has an extra axis of length 1 (keepdims=True?); a bias is a vector."
    if key == "h0" and shape in ((T + 1, B, H), (T, B, H)):
        return "the h0 gradient is dL/dh_0 only, one (B, H) array, not one per step."
    if key == "x" and shape == (T, B, H):
        return ("dL/dx_t has D entries per sequence: it flows back through W_xh "
                "(W_xh^T delta_t), not through W_hh.")
    return ""


def _factors(sz: Sizes) -> dict:
    """The constant factors a wrong averaging gives, and their likely reasons."""
    again = ("dy already holds any averaging of the loss (its mean over time and over the batch "
             "included), so backward only sums, over the steps and over the batch.")
    named: dict[float, list[str]] = {}
    for value, what in ((1 / sz.B, f"1/B, divided by the batch size B = {sz.B}"),
                        (1 / sz.T, f"1/T, divided by the number of steps T = {sz.T}"),
                        (1 / (sz.T * sz.B), f"1/(T*B), divided by T*B = {sz.T * sz.B}"),
                        (float(sz.T), f"T = {sz.T} times too big: is dy multiplied by T?")):
        if value != 1.0:
            named.setdefault(value, []).append(what)
    out = {v: " or ".join(whats) + ": " + (again if v < 1 else "dy is the gradient of the loss "
                                           "as it is: use it as given.")
           for v, whats in named.items()}
    return {**out, 2.0: "twice the right value: is a term counted twice?",
            0.5: "half the right value: is a factor 2 missing?"}


def _grads_report(got, want: dict, sz: Sizes, prob: dict, truncate) -> Failure | None:
    """How ``got`` differs from ``want``; None when it is right."""
    def fail(*lines):
        return Failure(tuple(lines), lead=1)
    if got is None:
        return fail("  it returned None: a return statement is missing.")
    if not isinstance(got, Mapping):
        return fail(f"  it must return a dict with the keys {list(GRAD_KEYS)}, got "
                    f"{type(got).__name__}.")
    missing = [k for k in GRAD_KEYS if k not in got]
    if missing:
        lines = [f"  the returned dict misses the key(s) {missing} (it has {list(got)})."]
        if "h0" in missing:
            lines.append("  h0 missing: the gradient with respect to the initial state, "
                         "dL/dh_0 = W_hh^T delta_1, is part of the result (it is what "
                         "truncated BPTT passes on to the previous chunk).")
        if "x" in missing:
            lines.append("  x missing: the gradient with respect to the inputs, dL/dx_t = "
                         "W_xh^T delta_t for every step, is part of the result (a layer below "
                         "the RNN would need it).")
        return fail(*lines)
    for k in GRAD_KEYS:
        text = array_problem(k, got[k], sz.shape(k), np.dtype(sz.dtype),
                             lambda key, s: _backward_shape_hint(key, s, sz), LETTERS)
        if text:
            return fail("  " + text)
    return values_report(
        GRAD_KEYS, got, want, TOL[np.dtype(sz.dtype)],
        lambda: (backward_mistakes(prob, truncate) if truncate is None
                 else truncation_mistakes(prob, truncate)),
        letters=LETTERS, time_keys=("x",), transposed=TRANSPOSED_HINT, factors=_factors(sz))


def judge_backward(problem: Problem, result: Call) -> Failure | None:
    """(c) The gradients' keys, shapes, dtypes, then values; the mistakes of BPTT."""
    failure = call_failure("rnn_backward", problem, result, rnn_exception_hint, outputs="grads")
    if failure:
        return failure
    f = problem.facts
    return _grads_report(result.output, f["want"], f["sz"], f["prob"], f["truncate"])


def _truncation_summary(results: list) -> list[str]:
    """For each problem, the values of truncate for which ``fn`` is right and wrong."""
    by_size: dict[str, tuple[list, list]] = {}
    for problem, failure in results:
        sz, k = problem.case
        right, wrong_ks = by_size.setdefault(sz.label(), ([], []))
        (wrong_ks if failure else right).append(str(k))
    return [f"  {label}: right for truncate = {', '.join(right) or '-'}; "
            f"wrong for {', '.join(wrong_ks) or '-'}." for label, (right, wrong_ks)
            in by_size.items()]


BACKWARD = Check("rnn_backward", draw_backward, judge_backward, PATTERNS)
BACKWARD_FLOAT32 = Check("rnn_backward", draw_backward_float32, judge_backward)
TRUNCATED = Check("rnn_backward", draw_truncated, judge_backward, summary=_truncation_summary)


def check_rnn_backward(fn: Callable, *, truncation: bool = True, seed: int = 0,
                       full: bool = False) -> None:
    r"""Check an implementation of :func:`bptt.rnn.rnn_backward` (backpropagation through time).

    Parameters
    ----------
    fn : callable
        ``fn(params, x, h, dy, truncate=None) -> grads`` with ``x (T, B, D)``,
        ``h (T+1, B, H)`` from the forward pass, ``dy (T, B, O)``, and a dict
        ``grads`` holding ``W_xh (H, D)``, ``W_hh (H, H)``, ``b_h (H,)``,
        ``W_hy (O, H)``, ``b_y (O,)``, ``x (T, B, D)`` and ``h0 (B, H)``.
    truncation : bool, keyword-only
        Also check truncated BPTT (``truncate`` = 1, 2, 3, T and T+1 where they
        are below or at T+1, on the problems with T >= 3). Pass False for an
        ``fn`` written before truncation: it is then called without ``truncate``.
    seed : int, keyword-only
        Seed of the random problems (the check is deterministic for a seed).
    full : bool, keyword-only
        Show the whole report, not only its first dozen lines.

    Raises
    ------
    AssertionError
        When ``fn`` is wrong on any problem, raises, modifies its inputs,
        keeps state between calls or does not keep the dtype. The message names the sizes
        ``(T, B, D, H, O)``, the wrong keys with their relative errors and a
        few entries, expected next to got, and the probable cause.

    Notes
    -----
    Recognised mistakes: a transposed gradient; the tanh derivative missing,
    applied twice, computed as ``1 - tanh(h)**2`` or taken at ``h_{t-1}`` or
    ``h_{t+1}``; the gradient from the future not added, or passed back
    without the tanh derivative or through ``W_hh`` untransposed; a weight
    gradient from one step only instead of the sum over time; gradients not
    summed over the batch (a bias of shape ``(B, H)``, the first sequence
    only, or a mean); a sum with no axis (every entry the same number);
    ``dW_hh`` paired with ``h_t`` or ``dW_xh`` with ``x_{t-1}``; ``dW_hy``
    paired with ``h_{t-1}``; zeros in place of ``h0`` in ``dW_hh``; the
    first or last step dropped; the ``h0`` or ``x`` gradient missing or one
    step off; a wrong sign or a constant factor such as 1/B or 1/T;
    ``np.outer`` or ``*`` behind a broadcast error; gradients kept between
    calls (a mutable default or a module-level dict accumulated). For
    truncation: ``truncate`` ignored, detaching one step early or late,
    chunks counted from the end, ``h0`` cut off, or a sliding window instead
    of chunks.
    """
    __tracebackhide__ = True
    check_fn(fn, seed)
    if not isinstance(truncation, (bool, np.bool_)):
        raise TypeError(f"truncation must be True or False, got {truncation!r}")
    BACKWARD.run(fn, seed, full)
    BACKWARD_FLOAT32.run(fn, seed, full)
    if truncation:
        TRUNCATED.run(fn, seed, full)


# --------------------------------------------------------------------------
# return_dh: the total derivatives dL/dh_t (homework 2)
# --------------------------------------------------------------------------

#: grads['h'] (float64 problems only) must agree with the package to this relative error.
_DH_TOL = 1e-8


def draw_return_dh(seed) -> list[Problem]:
    """(a) Three problems with a nonzero h0, ``fn`` called with ``return_dh=True``."""
    problems = []
    for i, sz in enumerate([Sizes(4, 2, 3, 5, 2), Sizes(1, 1, 2, 3, 4), Sizes(6, 3, 2, 2, 3)]):
        prob = draw_rnn(sz, (seed, 7, i))
        args = {k: prob[k] for k in ("params", "x", "h", "dy")}
        want = _ref_rnn_backward(*args.values(), return_dh=True)["h"]
        problems.append(Problem(sz.label(), args, {"return_dh": True}, case=sz,
                                facts={"want": want}))
    return problems


def judge_return_dh(problem: Problem, result: Call) -> Failure | None:
    """(c) grads['h'] step by step: its first step is grads['h0'], the others hbar_t."""
    failure = call_failure("rnn_backward", problem, result, rnn_exception_hint, outputs="grads")
    if failure:
        return failure
    got, want, where = result.output, problem.facts["want"], problem.label
    if not isinstance(got, dict) or "h" not in got:
        keys = list(got) if isinstance(got, dict) else type(got).__name__
        return Failure((f"rnn_backward(..., return_dh=True) must return its dict with an extra "
                        f"key 'h'; got keys {keys} for {where}.",), True)
    dh = got["h"]
    if not isinstance(dh, np.ndarray) or dh.shape != want.shape:
        return Failure((f"grads['h'] must have shape (T+1, B, H) = {want.shape}, got "
                        f"{getattr(dh, 'shape', type(dh).__name__)} for {where}.",), True)
    wrong_t = [t for t in range(want.shape[0]) if rel_error(dh[t], want[t]) > _DH_TOL]
    if wrong_t:
        t = wrong_t[0]
        hint = (" grads['h'][0] is dL/dh_0, the same as grads['h0']." if t == 0 else
                " Store hbar_t, the total derivative before the tanh derivative is applied "
                "(the gradient from y_t plus the one flowing back from step t+1).")
        return Failure((f"grads['h'] is wrong at t = {wrong_t} for {where} (relative error "
                        f"{rel_error(dh[t], want[t]):.2e} at t = {t})." + hint,), True)
    return None


RETURN_DH = Check("rnn_backward", draw_return_dh, judge_return_dh)


def check_return_dh(fn: Callable, *, seed: int = 0, full: bool = False) -> None:
    r"""Check ``fn(params, x, h, dy, return_dh=True)["h"]``, the total derivatives :math:`\bar h_t`.

    Parameters
    ----------
    fn : callable
        An ``rnn_backward`` with the package's signature. With ``return_dh=True``
        its dict must also hold ``"h"``, shape ``(T+1, B, H)``:
        ``[t]`` is :math:`\partial L/\partial h_t` for t = 0..T, so ``[0]``
        equals ``"h0"``.
    seed : int, keyword-only
        Seed of the random problems (the check is deterministic for a seed).
    full : bool, keyword-only
        Show the whole report, not only its first dozen lines.

    Raises
    ------
    AssertionError
        When ``fn`` raises, modifies its inputs or keeps state between calls,
        or when ``"h"`` is missing, has the wrong shape, or differs from the
        package.
    """
    __tracebackhide__ = True
    RETURN_DH.run(fn, seed, full)
