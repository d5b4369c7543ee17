"""Judging outputs: compare with the reference, name the probable cause, word the verdict.

The tools of every judge (part (c) of :mod:`bptt.checks._harness`):
:func:`array_problem` (why an output is not a finite float array of the
expected shape and dtype), :func:`values_report` (which outputs differ from
the reference, by how much, where, and which known :class:`Mistake` gives
the same numbers; otherwise what the numbers alone tell: all zeros, one
number everywhere, a constant factor, a transpose), :func:`differences`
(where two calls' results differ). What a judge finds is a :class:`Failure`;
:func:`report` words a check's failures as the :class:`CheckFailure` a
student sees: the probable cause first, then the evidence, :data:`MAX_LINES`
lines at most (the whole report on request), no frame of the checks' code.
"""
from __future__ import annotations

import traceback
import types
from dataclasses import dataclass
from typing import Callable, Mapping, NamedTuple

import numpy as np

from ..gradcheck import rel_error
from ..validate import _fmt_expected

__all__ = ["TOL", "MAX_LINES", "Mistake", "Failure", "CheckFailure", "as64", "close", "entries",
           "values_report", "array_problem", "differences", "describe", "changed_entry", "report"]

#: Largest norm-based relative error accepted, by dtype of the inputs.
TOL = {np.dtype(np.float64): 1e-6, np.dtype(np.float32): 1e-4}
#: How many entries, expected next to got, a failure message shows per output.
N_SHOWN = 3
#: How many lines a failure message has at most; the rest is in CheckFailure.details().
MAX_LINES = 12


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


def differences(a, b, noise: bool = False, path: tuple = ()) -> tuple:
    """The paths (keys and indices through dicts, tuples and lists) where ``a`` and ``b`` differ.

    Arrays differ in shape, dtype or values (NaN equals NaN); with ``noise``,
    values within a rounding error (a relative 1e-9 in float64, 1e-6 in
    float32) do not differ. Other values differ when ``!=``.
    """
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        same = (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype == b.dtype and (np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
                                            or (noise and a.dtype.kind == "f" and close(
                                                a, b, 1e-6 if a.dtype.itemsize < 8 else 1e-9))))
        return () if same else (path,)
    if isinstance(a, Mapping):
        if not isinstance(b, Mapping) or set(a) != set(b):
            return (path,)
        return sum((differences(a[k], b[k], noise, (*path, k)) for k in a), ())
    if isinstance(a, (tuple, list)):
        if type(a) is not type(b) or len(a) != len(b):
            return (path,)
        return sum((differences(x, y, noise, (*path, i)) for i, (x, y) in enumerate(zip(a, b))),
                   ())
    try:
        same = bool(a == b) or (noise and bool(np.isclose(a, b, rtol=1e-9, atol=0.0)))
    except (TypeError, ValueError):
        same = a is b
    return () if same else (path,)


def describe(value) -> str:
    """A short description of an argument: its shape and dtype, or its value."""
    if isinstance(value, np.ndarray):
        return f"{value.shape} {value.dtype}"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {describe(v)}" for k, v in value.items()) + "}"
    if callable(value):
        return "a function"
    if value is None or isinstance(value, (bool, int, float, np.number)) or (
            isinstance(value, str) and len(value) <= 40):
        return repr(value)
    if isinstance(value, str):
        return f"a str of {len(value)} characters"
    return f"a {type(value).__name__}"


def changed_entry(before, after, name: str) -> str | None:
    """The first part of an argument that a call changed, with how many entries; or None."""
    if isinstance(before, np.ndarray):
        if after.shape != before.shape:
            return f"{name} (its shape went from {before.shape} to {after.shape})"
        differ = ~((after == before) | (np.isnan(after) & np.isnan(before)))
        if np.any(differ):
            return f"{name} ({int(differ.sum())} of {before.size} entries changed)"
        return None
    if isinstance(before, Mapping):
        if not isinstance(after, Mapping) or set(after) != set(before):
            return f"{name} (keys were added or removed)"
        for k in before:
            found = changed_entry(before[k], after[k], f"{name}[{k!r}]")
            if found:
                return found
    return None


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


def _same_number(g: np.ndarray, w: np.ndarray) -> list[str]:
    """Every entry of ``g`` is one number (and not of ``w``): a sum or mean with no axis."""
    if g.size < 2 or np.ptp(g) > 1e-12 * np.max(np.abs(g)) or np.ptp(w) == 0:
        return []
    for op, ref in (("sum", np.sum(w)), ("mean", np.mean(w))):
        if abs(g.flat[0] - ref) <= 1e-6 * abs(ref):
            return [f"every entry is the same number, the {op} of all the entries of the right "
                    f"value: a {op} with no axis (a.{op}() or np.{op}(a)) adds up the batch and "
                    "the units together into one number, which then fills the whole array; "
                    f"give the axis to {op} over (e.g. a.{op}(axis=0) for the batch)."]
    return ["every entry is the same number: a sum or mean with no axis (a.sum() or np.sum(a)) "
            "makes one number of a whole array, which then fills the result; give the axis."]


def _generic_causes(got, want, tol: float, factors: dict, transposed: str) -> list[str]:
    """Causes recognisable from the numbers alone: zeros, one number, a factor, a transpose."""
    g, w = as64(got), as64(want)
    if not np.any(g):
        return ["it is all zeros: it is never computed, or never added to, or overwritten "
                "with zeros afterwards."]
    if not np.any(w):
        return []
    same = _same_number(g, w)
    if same:
        return same
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


class Mistake(NamedTuple):
    """A known mistake: what the reference returns with it made, and how to name it.

    ``key`` names it across problems (``cause`` may hold a problem's numbers;
    itself when None). A ``whole`` mistake (a step left out) is named only
    when every output it changes is wrong.
    """

    cause: str
    outputs: Mapping
    key: str | None = None
    whole: bool = False


def _fits(m: Mistake, key: str, got: Mapping, want: Mapping, tol: float) -> bool:
    """Does ``m`` turn ``want[key]`` into ``got[key]`` (and, if whole, right no output it changes)?"""
    def changes(k):
        v = m.outputs.get(k)
        return v is not None and np.shape(v) == np.shape(want[k]) and not close(v, want[k], tol)
    if not changes(key) or not close(got[key], m.outputs[key], tol):
        return False
    return not m.whole or all(not changes(k) or not close(got[k], want[k], tol) for k in want)


def values_report(keys, got: Mapping, want: Mapping, tol: float,
                  mistakes: Callable[[], list], *, letters: Mapping = None, time_keys=(),
                  factors=None, transposed: str = "", notes=()) -> Failure | None:
    """Compare ``got[key]`` with ``want[key]`` for each key; None when all are close.

    Otherwise a :class:`Failure`: the probable causes, each with the keys it
    explains, ``notes`` (the judge's own evidence), then each wrong key with
    its shape (``letters[key]``, the axis letters), relative error, a few
    entries and, for ``time_keys``, the wrong time steps. ``mistakes()``, a
    list of :class:`Mistake` or ``(cause, outputs)`` pairs, is called only
    then; ``factors`` maps a constant factor to its likely reason,
    ``transposed`` explains a transposed result.
    """
    letters = letters or {}
    wrong = [k for k in keys if not close(got[k], want[k], tol)]
    if not wrong:
        return None
    right = [k for k in keys if k not in wrong]
    evidence = [f"  wrong: {', '.join(wrong)}" + (f"; right: {', '.join(right)}" if right else "")]
    variants = [m if isinstance(m, Mistake) else Mistake(*m) for m in mistakes()]
    by_cause: dict[str, list] = {}          # cause -> [its key, the outputs it explains]
    unexplained = []
    for k in wrong:
        g, w = as64(got[k]), as64(want[k])
        if w.ndim == 0:
            evidence.append(f"  {k}: expected {float(w):.8e}, got {float(g):.8e}, relative error "
                            f"{rel_error(g, w):.2e}")
        else:
            where = _time_steps(k, g, w, tol) if k in time_keys else ""
            shape = _fmt_expected(letters[k], w.shape) if k in letters else str(w.shape)
            evidence.append(f"  {k}, shape {shape}: relative error {rel_error(g, w):.2e}{where}")
            evidence.extend(entries(g, w))
        found = {m.cause: m.key or m.cause for m in variants if _fits(m, k, got, want, tol)}
        found = found or {c: c for c in _generic_causes(g, w, tol, factors or {}, transposed)}
        for cause, key in found.items():
            by_cause.setdefault(cause, [key, []])[1].append(k)
        if not found:
            unexplained.append(k)
    # A cause that explains only some of the keys another cause explains adds nothing.
    causes = tuple((key, f"  Probable cause ({', '.join(ks)}): {cause}")
                   for cause, (key, ks) in by_cause.items()
                   if not any(set(ks) < set(other) for _, other in by_cause.values()))
    lead = [line for _, line in causes] + (
        [f"  No common mistake recognised for {', '.join(unexplained)}."] if unexplained else [])
    return Failure((*lead, *notes, *evidence), lead=len(lead), causes=causes)


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
    if len(want_shape) > 0 and (isinstance(got, (float, np.floating)) or (
            isinstance(got, np.ndarray) and got.ndim == 0)):
        return (f"{key} must be an array of shape {expected}, got one number: a sum or mean with "
                "no axis (a.sum() or np.sum(a)) adds up every entry; give the axis to sum over "
                "(e.g. a.sum(axis=0) for the batch).")
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


# --------------------------------------------------------------------------
# The verdict: a Failure, and the AssertionError a student sees
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Failure:
    """What a judge found wrong with one call.

    ``lines``: the first ``lead`` name the probable causes, the others give
    the evidence; :func:`report` puts them under ``<name> is wrong for
    <label>:``. When ``final``, the check stops at once and ``lines`` is the
    whole message (raised from ``cause``, the student's exception, if any).
    ``causes`` holds ``(key, line)`` for each cause line naming a known
    mistake: of two that fit a problem equally, :func:`report` keeps the one
    the other failing problems confirm.
    """

    lines: tuple
    final: bool = False
    cause: BaseException | None = None
    lead: int = 0
    causes: tuple = ()

    def error(self, full: bool = False) -> CheckFailure:
        err = CheckFailure(self.lines, full)
        err.__cause__ = self.cause
        return err


def _short(lines: tuple) -> tuple:
    """At most MAX_LINES lines: whole groups (a line and the deeper-indented lines under it)."""
    if len(lines) <= MAX_LINES:
        return lines
    groups: list[list[str]] = []
    for line in lines:
        if groups and len(line) - len(line.lstrip()) >= 6:
            groups[-1].append(line)          # a row of a table belongs to the line above it
        else:
            groups.append([line])
    kept: list[str] = []
    for group in groups:
        if len(kept) + len(group) > MAX_LINES - 1:
            break
        kept += group
    kept = kept or list(lines[:MAX_LINES - 1])
    return (*kept, f"  ... {len(lines) - len(kept)} more lines: run the check again with "
                   "full=True to see the whole report.")


def _visible(tb: types.TracebackType | None) -> types.TracebackType | None:
    """``tb`` without the frames that hide themselves (``__tracebackhide__`` among their locals)."""
    shown = []
    while tb is not None:
        if not tb.tb_frame.f_locals.get("__tracebackhide__"):
            shown.append(tb)
        tb = tb.tb_next
    out = None
    for entry in reversed(shown):
        out = types.TracebackType(out, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return out


class CheckFailure(AssertionError):
    """What a check raises when the function is wrong.

    ``str(err)`` has at most :data:`MAX_LINES` lines (all with ``full``), the
    last saying how to see the rest; ``err.details()`` is the whole report.
    In IPython the traceback leaves out the frames that set
    ``__tracebackhide__`` (every frame of the checks; pytest hides them too).
    """

    def __init__(self, lines, full: bool = False):
        if isinstance(lines, str):
            lines = (lines,)
        self.lines = tuple(part for line in lines for part in str(line).split("\n"))
        self.full = full
        super().__init__("\n".join(self.lines if full else _short(self.lines)))

    def __reduce__(self):
        return type(self), (self.lines, self.full)

    def details(self) -> str:
        """The whole report."""
        return "\n".join(self.lines)

    def _render_traceback_(self) -> list[str]:
        """IPython's traceback of this error, without the frames of the checks."""
        tb = _visible(self.__traceback__)
        try:
            from IPython import get_ipython
            return get_ipython().InteractiveTB.structured_traceback(type(self), self, tb,
                                                                    tb_offset=0)
        except Exception:                    # not in IPython after all: Python's own format
            return traceback.format_exception(type(self), self, tb)


def _which_pass(results: list, patterns) -> tuple[list[str], list[str]]:
    """The hints of ``patterns`` that the passing problems share, and which problems pass."""
    passed = [p for p, failure in results if failure is None]
    failed = [p for p, failure in results if failure is not None]
    if not passed:
        return [], []
    hints = ["  " + hint for applies, hint in patterns
             if all(applies(p.case) for p in passed) and not any(applies(p.case) for p in failed)]
    return hints, ["  It is right for " + "; ".join(p.label for p in passed)
                   + ", wrong for " + "; ".join(p.label for p in failed) + "."]


def _confirmed(first: Failure, failures: list) -> tuple[list[str], int]:
    """``first``'s lines and lead without the causes that fewer of ``failures`` share than another."""
    keys = dict.fromkeys(key for key, _ in first.causes)
    if len(keys) < 2:
        return list(first.lines), first.lead
    count = {k: sum(k in {key for key, _ in f.causes} for f in failures) for k in keys}
    dropped = {line for key, line in first.causes if count[key] < max(count.values())}
    lead = first.lines[:first.lead]
    return ([line for line in first.lines if line not in dropped],
            first.lead - sum(line in dropped for line in lead))


def report(name: str, results: list, patterns=(), summary: Callable = None,
           full: bool = False) -> None:
    """Raise a CheckFailure for the first failing problem of ``(problem, failure or None)`` pairs.

    ``<name> is wrong for <label>:``, that failure's probable causes (of two
    it fits equally, the one more failing problems fit), the hints of
    ``patterns``, ``(predicate of problem.case, hint)`` pairs, that hold for
    every passing problem and no failing one ("right only when B = 1"), then
    the evidence: ``summary(results)`` (by default, which problems pass) and
    the failure's other lines; short unless ``full``.
    """
    __tracebackhide__ = True
    failures = [(p, failure) for p, failure in results if failure is not None]
    if not failures:
        return
    problem, failure = failures[0]
    lines, lead = _confirmed(failure, [f for _, f in failures])
    hints, passing = _which_pass(results, patterns)
    raise CheckFailure([f"{name} is wrong for {problem.label}:", *lines[:lead], *hints,
                        *(summary(results) if summary else passing), *lines[lead:]], full)
