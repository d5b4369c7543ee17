"""Judging outputs: compare with the reference, show the differences, name the probable cause.

The tools of every judge (part (c) of :mod:`bptt.checks._harness`):

* :func:`array_problem`: why an output is not a finite float array of the
  expected shape and dtype (the output checks that stop a check at once);
* :func:`values_report`: which outputs differ from the reference, by how
  much, at which entries (and time steps), and which known mistake gives the
  same numbers. A judge lists its mistakes as ``(cause, outputs)`` pairs,
  what the reference would return with that one mistake made; the outputs
  equal to one of them name it. Otherwise the numbers alone may tell (all
  zeros, a constant factor, a transpose).
"""
from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from ..gradcheck import rel_error
from ..validate import _fmt_expected

__all__ = ["TOL", "as64", "close", "entries", "values_report", "array_problem"]

#: Largest norm-based relative error accepted, by dtype of the inputs.
TOL = {np.dtype(np.float64): 1e-6, np.dtype(np.float32): 1e-4}
#: How many entries, expected next to got, a failure message shows per output.
N_SHOWN = 3


def as64(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float64)


def close(got, want, tol: float) -> bool:
    """Same shape and a norm-based relative error of at most ``tol`` (or equal to 1e-13)."""
    got, want = as64(got), as64(want)
    if got.shape != want.shape:
        return False
    if np.max(np.abs(got - want), initial=0.0) <= 1e-13:
        return True
    return rel_error(got, want) <= tol


def entries(got: np.ndarray, want: np.ndarray) -> list[str]:
    """The entries where ``got`` and ``want`` differ most, side by side."""
    diff = np.abs(as64(got) - as64(want)).ravel()
    lines = [f"      {'index':<14}{'expected':>16}{'got':>16}"]
    for flat in np.argsort(diff, kind="stable")[::-1][:N_SHOWN]:
        idx = np.unravel_index(flat, want.shape)
        lines.append(f"      {str(tuple(int(i) for i in idx)):<14}"
                     f"{float(want[idx]):>16.8e}{float(got[idx]):>16.8e}")
    return lines


def _time_steps(key: str, got: np.ndarray, want: np.ndarray, tol: float) -> str:
    """Which slices along the time axis are wrong, e.g. "wrong at h[4] only"."""
    wrong = [i for i in range(want.shape[0]) if not close(got[i], want[i], tol)]
    if not wrong or len(wrong) == want.shape[0]:
        return ""
    names = ", ".join(f"{key}[{i}]" for i in wrong[:6]) + (", ..." if len(wrong) > 6 else "")
    right = [i for i in range(want.shape[0]) if i not in wrong]
    return (f"; wrong at {names}" + (" only" if len(wrong) == 1 else "")
            + f", right at {', '.join(f'{key}[{i}]' for i in right[:6])}"
            + (", ..." if len(right) > 6 else ""))


def _generic_causes(got, want, tol: float, factors: dict, transposed: str) -> list[str]:
    """Causes recognisable from the numbers alone: zeros, a constant factor, a transpose."""
    g, w = as64(got), as64(want)
    if not np.any(g):
        return ["it is all zeros: it is never computed, or never added to, or overwritten "
                "with zeros afterwards."]
    if not np.any(w):
        return []
    c = float(np.sum(g * w) / np.sum(w * w))
    if abs(c - 1) > 1e-9 and close(g, c * w, tol):
        if abs(c + 1) < 1e-6:
            return ["it has the wrong sign: it is exactly minus the right value (a minus sign "
                    "too many, or a term subtracted where the chain rule adds it)."]
        for value, why in factors.items():
            if abs(c - value) <= 1e-6 * abs(value):
                return [f"it is exactly {c:.6g} times the right value: {why}"]
        return [f"it is exactly {c:.6g} times the right value: a constant factor is wrong."]
    if g.ndim == 2 and g.shape[0] == g.shape[1] and close(g, w.T, tol):
        return ["it is the transpose of the right value" + (f": {transposed}" if transposed else
                                                            ".")]
    return []


def _explain(key: str, got, want, tol: float, mistakes: list, factors: dict,
             transposed: str) -> list[str]:
    """The known mistakes whose output for ``key`` equals ``got``; else the generic causes."""
    causes = []
    for cause, out in mistakes:
        v = out.get(key)
        if v is None or np.shape(v) != np.shape(got) or close(v, want, tol):
            continue               # that mistake does not change this output here
        if close(got, v, tol) and cause not in causes:
            causes.append(cause)
    return causes or _generic_causes(got, want, tol, factors, transposed)


def values_report(keys, got: Mapping, want: Mapping, tol: float,
                  mistakes: Callable[[], list], *, letters: Mapping = None, time_keys=(),
                  factors=None, transposed: str = "") -> list[str] | None:
    """Compare ``got[key]`` with ``want[key]`` for each key; None when all are close.

    Otherwise lines naming the wrong keys, each with its shape (written with
    ``letters[key]``, the axis letters, when given), relative error and a few
    entries (and, for ``time_keys``, the time steps that are wrong), followed
    by the probable causes, each with the keys it explains. ``mistakes`` is
    called only then (it computes every variant); ``factors`` maps a constant
    factor to its likely reason, ``transposed`` explains a transposed result.
    """
    letters = letters or {}
    wrong = [k for k in keys if not close(got[k], want[k], tol)]
    if not wrong:
        return None
    right = [k for k in keys if k not in wrong]
    lines = [f"  wrong: {', '.join(wrong)}" + (f"; right: {', '.join(right)}" if right else "")]
    variants = mistakes()
    by_cause: dict[str, list[str]] = {}
    unexplained = []
    for k in wrong:
        g, w = as64(got[k]), as64(want[k])
        where = _time_steps(k, g, w, tol) if k in time_keys else ""
        if w.ndim == 0:
            lines.append(f"  {k}: expected {float(w):.8e}, got {float(g):.8e}, relative error "
                         f"{rel_error(g, w):.2e}")
        else:
            shape = _fmt_expected(letters[k], w.shape) if k in letters else str(w.shape)
            lines.append(f"  {k}, shape {shape}: relative error {rel_error(g, w):.2e}{where}")
            lines.extend(entries(g, w))
        causes = _explain(k, g, w, tol, variants, factors or {}, transposed)
        for cause in causes:
            by_cause.setdefault(cause, []).append(k)
        if not causes:
            unexplained.append(k)
    # A cause that explains only some of the keys another cause explains adds nothing.
    by_cause = {c: ks for c, ks in by_cause.items()
                if not any(set(ks) < set(other) for other in by_cause.values())}
    for cause, ks in by_cause.items():
        lines.append(f"  Probable cause ({', '.join(ks)}): {cause}")
    if unexplained:
        lines.append(f"  No common mistake recognised for {', '.join(unexplained)}.")
    return lines


def array_problem(key: str, got, want_shape: tuple, want_dtype, shape_hint: Callable = None,
                  letters: Mapping = None) -> str | None:
    """Why ``got`` is not a finite float array of ``want_shape`` and ``want_dtype``, or None.

    ``shape_hint(key, shape)`` explains a wrong shape, or returns "";
    ``letters[key]``, when given, writes the expected shape with the axis letters.
    """
    axes = (letters or {}).get(key)
    expected = _fmt_expected(axes, want_shape) if axes else str(want_shape)
    if got is None:
        return f"{key} is None: a return statement is missing, or returns the wrong variable."
    if not isinstance(got, np.ndarray):
        return f"{key} must be a numpy array of shape {expected}, got {type(got).__name__}."
    if not np.issubdtype(got.dtype, np.floating):
        return f"{key} must hold floats, got dtype {got.dtype}."
    if got.shape != tuple(want_shape):
        hint = shape_hint(key, got.shape) if shape_hint else ""
        if not hint and got.shape == tuple(want_shape)[::-1]:
            hint = "it looks transposed."
        return f"{key} must have shape {expected}, got {got.shape}" + (f": {hint}" if hint else
                                                                        ".")
    if got.dtype != want_dtype:
        why = ""
        if want_dtype != np.float64 and got.dtype == np.float64:
            why = (" Something made it float64: np.zeros(shape) and np.empty(shape) are float64 "
                   "whatever the inputs (np.zeros_like(a), or dtype=a.dtype, keeps the dtype), "
                   "and so is a product with a NumPy float64 scalar (use a Python float).")
        return (f"{key} has dtype {got.dtype} for {np.dtype(want_dtype).name} inputs: results "
                f"must keep the dtype of the inputs.{why}")
    if not np.all(np.isfinite(got)):
        return f"{key} contains NaN or infinity ({int(np.sum(~np.isfinite(got)))} entries)."
    return None
