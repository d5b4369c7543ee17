r"""Self-checks for the homework: run your function and, when it is wrong, learn why.

Each ``check_*`` function takes *your* implementation of one function of the
package, with exactly the package's signature, runs it on several random
problems and compares what it returns with what the package computes:

=================================  ==================================================
``check_rnn_step_forward(fn)``     ``fn(params, x_t, h_prev) -> h_t``
``check_rnn_forward(fn)``          ``fn(params, x, h0=None) -> (y, h)``
``check_rnn_backward(fn)``         ``fn(params, x, h, dy, truncate=None) -> grads``
``check_clip_grad_norm(fn)``       ``fn(grads, max_norm) -> (clipped, total_norm)``
``check_clip_grad_value(fn)``      ``fn(grads, clip_value) -> clipped``
``check_numerical_gradient(fn)``   ``fn(f, x, eps=1e-6) -> grad``
=================================  ==================================================

A check returns ``None`` when ``fn`` is right and raises ``AssertionError``
otherwise. The message says which output (or gradient key) is wrong, for which
sizes ``(T, B, D, H, O)``, by how much (the relative error and a few entries,
expected next to what ``fn`` gave) and, when it can tell, the probable cause.
If ``fn`` raises, the message shows the exception and the shapes of the call;
``NotImplementedError`` is reported as "not implemented yet".

**How a cause is recognised.** The check knows the common mistakes (the tanh
derivative missing or taken at the wrong step, the gradient from step t+1 not
added, a weight gradient holding one step instead of the sum over time, a bias
gradient not summed over the batch, a transposed matrix, ...). On a problem
where ``fn`` is wrong, it computes what each mistake would give and compares
``fn``'s numbers with those, one output at a time: equal numbers name the
mistake. Messages show numbers and formulas, never the package's code.

**Sizes.** Every check runs several problems: ``T = 1`` and ``B = 1``, sizes
that all differ (so that a transposed matrix or a mixed-up axis has the wrong
shape), ``D = H``, a nonzero and a zero ``h0``, and float32 inputs (whose
dtype must be kept). A function that is right on some of them only is
refused, and the message says which ones pass: "right only when B = 1" often
points straight at the bug.

**Tolerances.** float64 results must agree with the package to a norm-based
relative error (:func:`bptt.gradcheck.rel_error`) of ``1e-6``, float32 ones to
``1e-4``; a correct implementation, however it is written, agrees to about
``1e-15`` in float64. Clipping is compared with a relative tolerance of
``1e-5``: torch's rule adds ``1e-6`` to the norm before dividing, and leaving
it out changes the result by a relative ``1e-6 / ||g||`` only, which is
accepted.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from .clip import clip_grad_norm as _ref_clip_grad_norm
from .clip import clip_grad_value as _ref_clip_grad_value
from .clip import grad_norm as _ref_grad_norm
from .gradcheck import rel_error
from .rnn import rnn_backward as _ref_rnn_backward
from .rnn import rnn_forward as _ref_rnn_forward
from .rnn import rnn_step_forward as _ref_rnn_step_forward
from .rnn import PARAM_KEYS
from .validate import _fmt_expected

__all__ = ["check_rnn_step_forward", "check_rnn_forward", "check_rnn_backward",
           "check_clip_grad_norm", "check_clip_grad_value", "check_numerical_gradient"]

#: The keys of the dict returned by ``rnn_backward``: the parameters, then x and h0.
GRAD_KEYS = (*PARAM_KEYS, "x", "h0")

#: Largest norm-based relative error accepted, by dtype of the inputs.
_TOL = {np.dtype(np.float64): 1e-6, np.dtype(np.float32): 1e-4}
#: Relative tolerance of the clipping checks (wide enough to accept a missing 1e-6).
_CLIP_TOL = 1e-5
#: How many entries, expected next to got, a failure message shows per output.
_N_SHOWN = 3
#: The axis letters of every array the RNN functions take or return.
_LETTERS = {"W_xh": ("H", "D"), "W_hh": ("H", "H"), "b_h": ("H",), "W_hy": ("O", "H"),
            "b_y": ("O",), "x": ("T", "B", "D"), "h0": ("B", "H"), "h": ("T+1", "B", "H"),
            "y": ("T", "B", "O"), "dy": ("T", "B", "O"), "h_t": ("B", "H"),
            "x_t": ("B", "D"), "h_prev": ("B", "H")}


# --------------------------------------------------------------------------
# Problems
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class _Sizes:
    """The sizes of one test problem, how its h0 is drawn, and its dtype."""

    T: int
    B: int
    D: int
    H: int
    O: int
    h0: str = "random"        # "random" (nonzero), "zero" (given as zeros) or "none" (not given)
    dtype: type = np.float64

    def dims(self) -> dict:
        return {"T": self.T, "T+1": self.T + 1, "B": self.B, "D": self.D, "H": self.H,
                "O": self.O}

    def shape(self, key: str) -> tuple:
        return tuple(self.dims()[letter] for letter in _LETTERS[key])

    def label(self, letters: str = "TBDHO") -> str:
        dims = self.dims()
        text = (f"({', '.join(letters)}) = "
                f"({', '.join(str(dims[c]) for c in letters)})")
        text += {"random": ", nonzero h0", "zero": ", h0 = 0", "none": ", h0=None"}[self.h0]
        if np.dtype(self.dtype) != np.float64:
            text += f", {np.dtype(self.dtype).name}"
        return text


def _problem(sz: _Sizes, seed) -> dict:
    """Random parameters, inputs, h0, the forward pass and a random dy, all of ``sz.dtype``.

    The biases are nonzero and ``W_hh`` (not symmetric) has spectral radius a
    little above 1, so that tanh works in its nonlinear range and every term
    of the gradient matters: then each common mistake changes the numbers.
    Everything is drawn in float64 and then cast.
    """
    rng = np.random.default_rng(seed)
    T, B, D, H, O = sz.T, sz.B, sz.D, sz.H, sz.O
    params = {"W_xh": rng.standard_normal((H, D)) / np.sqrt(D),
              "W_hh": 1.2 * rng.standard_normal((H, H)) / np.sqrt(H),
              "b_h": 0.3 * rng.standard_normal(H),
              "W_hy": rng.standard_normal((O, H)) / np.sqrt(H),
              "b_y": 0.3 * rng.standard_normal(O)}
    x = rng.standard_normal((T, B, D))
    h0 = 0.5 * rng.standard_normal((B, H)) if sz.h0 == "random" else np.zeros((B, H))
    dy = rng.standard_normal((T, B, O))
    dtype = np.dtype(sz.dtype)
    params = {k: v.astype(dtype) for k, v in params.items()}
    x, h0, dy = x.astype(dtype), h0.astype(dtype), dy.astype(dtype)
    y, h = _ref_rnn_forward(params, x, h0)
    return {"params": params, "x": x, "h0": h0, "y": y, "h": h, "dy": dy}


def _as64(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float64)


# --------------------------------------------------------------------------
# Calling the student's function
# --------------------------------------------------------------------------

def _check_fn(fn, seed) -> None:
    if not callable(fn):
        raise TypeError(f"fn must be the function to check (a callable), got {type(fn).__name__}")
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed!r}")


def _describe(value) -> str:
    """A short description of an argument: its shape and dtype, or its value."""
    if isinstance(value, np.ndarray):
        return f"{value.shape} {value.dtype}"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_describe(v)}" for k, v in value.items()) + "}"
    if callable(value):
        return "a function"
    return repr(value)


def _copy(value):
    """A deep copy of an argument (arrays and dicts of arrays), to detect changes."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    return value


def _changed_entry(before, after, name: str):
    """The name of the first part of an argument that ``fn`` changed, with how many entries."""
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
            found = _changed_entry(before[k], after[k], f"{name}[{k!r}]")
            if found:
                return found
    return None


_IN_PLACE_HINT = ("its caller still needs the original. Compute into new arrays: an augmented "
                  "assignment such as a += b or a *= b, or out=a, changes a in place, and a "
                  "row or slice of an argument is a view of it, not a copy")


def _call(fn, name: str, args: dict, kwargs: dict, where: str, hint: Callable = None):
    """Call ``fn(*args.values(), **kwargs)``, turning every failure into an AssertionError.

    ``args`` maps the names of the positional arguments to their values (so
    that the message can show the call), ``where`` names the problem's sizes.
    The arguments are compared with copies afterwards: changing one in place
    is a failure too.
    """
    saved = {k: _copy(v) for k, v in args.items()}
    shown = ", ".join([*args, *(f"{k}={v!r}" for k, v in kwargs.items())])
    call = (f"{name}({shown}) with " + ", ".join(f"{k} {_describe(v)}" for k, v in args.items())
            + f"; {where}")
    try:
        out = fn(*args.values(), **kwargs)
    except NotImplementedError as exc:
        detail = f" ({exc})" if str(exc) else ""
        raise AssertionError(f"{name} is not implemented yet: it raised NotImplementedError"
                             f"{detail}. Write it, then run this check again.") from exc
    except Exception as exc:
        extra = hint(exc) if hint else ""
        raise AssertionError(f"{name} raised {type(exc).__name__}: {exc}\n  when called as "
                             f"{call}" + (f"\n  Hint: {extra}" if extra else "")) from exc
    for k in args:
        changed = _changed_entry(saved[k], args[k], k)
        if changed:
            raise AssertionError(f"{name} modified its argument {changed} in place: "
                                 f"{_IN_PLACE_HINT}.\n  Called as {call}")
    return out


def _rnn_exception_hint(exc: Exception) -> str:
    """A likely reason for an exception raised inside an RNN function."""
    text = str(exc)
    if isinstance(exc, TypeError) and "truncate" in text:
        return ("your function has no truncate argument. To check an rnn_backward written "
                "before truncated BPTT, call check_rnn_backward(fn, truncation=False).")
    if isinstance(exc, TypeError) and "NoneType" in text:
        return "h0=None must mean an initial state of zeros, shape (B, H)."
    if isinstance(exc, IndexError):
        return ("an index is out of range. h has T+1 entries (h[0] = h0, h[t] = h_t) while x, "
                "y and dy have T (x[t-1] is x_t, the input of step t).")
    if isinstance(exc, KeyError):
        return f"params has the keys {list(PARAM_KEYS)}."
    if isinstance(exc, ValueError) and any(
            s in text for s in ("matmul", "aligned", "broadcast", "shapes", "mismatch")):
        return ("two arrays of incompatible shapes were combined. Check each product against "
                "the shapes above: with one row per sequence, x_t is (B, D) and W_xh is (H, D), "
                "so x_t multiplies the transpose of W_xh; the same holds for W_hh and W_hy.")
    return ""


# --------------------------------------------------------------------------
# Comparing outputs and explaining the differences
# --------------------------------------------------------------------------

def _close(got, want, tol: float) -> bool:
    got, want = _as64(got), _as64(want)
    if got.shape != want.shape:
        return False
    if np.max(np.abs(got - want), initial=0.0) <= 1e-13:
        return True
    return rel_error(got, want) <= tol


def _entries(got: np.ndarray, want: np.ndarray) -> list[str]:
    """The entries where ``got`` and ``want`` differ most, side by side."""
    diff = np.abs(_as64(got) - _as64(want)).ravel()
    lines = [f"      {'index':<14}{'expected':>16}{'got':>16}"]
    for flat in np.argsort(diff, kind="stable")[::-1][:_N_SHOWN]:
        idx = np.unravel_index(flat, want.shape)
        lines.append(f"      {str(tuple(int(i) for i in idx)):<14}"
                     f"{float(want[idx]):>16.8e}{float(got[idx]):>16.8e}")
    return lines


def _time_steps(key: str, got: np.ndarray, want: np.ndarray, tol: float) -> str:
    """Which slices along the time axis are wrong, e.g. "wrong at h[4] only"."""
    wrong = [i for i in range(want.shape[0]) if not _close(got[i], want[i], tol)]
    if not wrong or len(wrong) == want.shape[0]:
        return ""
    names = ", ".join(f"{key}[{i}]" for i in wrong[:6]) + (", ..." if len(wrong) > 6 else "")
    right = [i for i in range(want.shape[0]) if i not in wrong]
    return (f"; wrong at {names}" + (" only" if len(wrong) == 1 else "")
            + f", right at {', '.join(f'{key}[{i}]' for i in right[:6])}"
            + (", ..." if len(right) > 6 else ""))


def _generic_causes(got, want, tol: float, factors: dict, transposed: str) -> list[str]:
    """Causes recognisable from the numbers alone: zeros, a constant factor, a transpose."""
    g, w = _as64(got), _as64(want)
    if not np.any(g):
        return ["it is all zeros: it is never computed, or never added to, or overwritten "
                "with zeros afterwards."]
    if not np.any(w):
        return []
    c = float(np.sum(g * w) / np.sum(w * w))
    if abs(c - 1) > 1e-9 and _close(g, c * w, tol):
        if abs(c + 1) < 1e-6:
            return ["it has the wrong sign: it is exactly minus the right value (a minus sign "
                    "too many, or a term subtracted where the chain rule adds it)."]
        for value, why in factors.items():
            if abs(c - value) <= 1e-6 * abs(value):
                return [f"it is exactly {c:.6g} times the right value: {why}"]
        return [f"it is exactly {c:.6g} times the right value: a constant factor is wrong."]
    if g.ndim == 2 and g.shape[0] == g.shape[1] and _close(g, w.T, tol):
        return ["it is the transpose of the right value" + (f": {transposed}" if transposed else
                                                            ".")]
    return []


def _explain(key: str, got, want, tol: float, mistakes: list, factors: dict,
             transposed: str) -> list[str]:
    """The known mistakes whose output for ``key`` equals ``got``; else the generic causes."""
    causes = []
    for cause, out in mistakes:
        v = out.get(key)
        if v is None or np.shape(v) != np.shape(got) or _close(v, want, tol):
            continue               # that mistake does not change this output here
        if _close(got, v, tol) and cause not in causes:
            causes.append(cause)
    return causes or _generic_causes(got, want, tol, factors, transposed)


def _values_report(keys, got: Mapping, want: Mapping, tol: float,
                   mistakes: Callable[[], list], *, time_keys=(), factors=None,
                   transposed: str = "") -> list[str] | None:
    """Compare ``got[key]`` with ``want[key]`` for each key; None when all are close.

    Otherwise lines naming the wrong keys, each with its shape, relative error
    and a few entries, followed by the probable causes, each with the keys it
    explains. ``mistakes`` is called only then (it computes every variant).
    """
    wrong = [k for k in keys if not _close(got[k], want[k], tol)]
    if not wrong:
        return None
    right = [k for k in keys if k not in wrong]
    lines = [f"  wrong: {', '.join(wrong)}" + (f"; right: {', '.join(right)}" if right else "")]
    variants = mistakes()
    by_cause: dict[str, list[str]] = {}
    unexplained = []
    for k in wrong:
        g, w = _as64(got[k]), _as64(want[k])
        where = _time_steps(k, g, w, tol) if k in time_keys else ""
        if w.ndim == 0:
            lines.append(f"  {k}: expected {float(w):.8e}, got {float(g):.8e}, relative error "
                         f"{rel_error(g, w):.2e}")
        else:
            shape = _fmt_expected(_LETTERS[k], w.shape) if k in _LETTERS else str(w.shape)
            lines.append(f"  {k}, shape {shape}: relative error {rel_error(g, w):.2e}{where}")
            lines.extend(_entries(g, w))
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


# Which passing/failing pattern over the problems points at which kind of bug.
_PATTERNS = [
    (lambda s: s.T == 1, "It is right only when T = 1: the maths of a single step is right; look "
     "at what links the steps (what flows from one step to the next, the sums over time, the "
     "loop bounds)."),
    (lambda s: s.B == 1, "It is right only when B = 1: look for a sum or mean over the batch, "
     "an index [0], or a reshape or transpose that assumes a single sequence."),
    (lambda s: s.D == s.H, "It is right only when D == H: look for W_xh and W_hh (or x and h) "
     "used in each other's place, or a transpose that only works for square matrices."),
    (lambda s: s.h0 != "random", "It is right only when h0 = 0: h0 (h[0]) is missing "
     "somewhere, for example from the first step, or from the term of step 1 in a sum over "
     "time."),
]


def _raise_first(name: str, results: list, label: Callable = _Sizes.label,
                 patterns: list = _PATTERNS) -> None:
    """Raise for the first failing problem, saying which problems pass and which fail.

    ``results`` holds ``(case, lines)`` pairs, ``lines`` being None for a
    problem ``fn`` gets right. When the problems it gets right all share a
    property that the others lack (one of ``patterns``), the hint is added.
    """
    failed = [case for case, lines in results if lines is not None]
    if not failed:
        return
    lines = next(lines for _, lines in results if lines is not None)
    passed = [case for case, lines in results if lines is None]
    msg = [f"{name} is wrong for {label(failed[0])}:", *lines]
    if passed:
        msg.append("  It is right for " + "; ".join(map(label, passed))
                   + ", wrong for " + "; ".join(map(label, failed)) + ".")
        for applies, hint in patterns:
            if all(applies(c) for c in passed) and not any(applies(c) for c in failed):
                msg.append("  " + hint)
    raise AssertionError("\n".join(msg))


def _array_problem(key: str, got, want_shape: tuple, want_dtype,
                   shape_hint: Callable = None) -> str | None:
    """Why ``got`` is not a finite float array of ``want_shape`` and ``want_dtype``, or None."""
    letters = _LETTERS.get(key)
    expected = _fmt_expected(letters, want_shape) if letters else str(want_shape)
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


# --------------------------------------------------------------------------
# Forward: rnn_step_forward and rnn_forward
# --------------------------------------------------------------------------

def _forward_variant(params, x, h0, *, w_hh="T", w_xh="T", bias=True, act="tanh", use_h0=True,
                     x_shift=0, last_step=True, y_from=0, b_y=True) -> dict:
    """The forward pass with one common mistake switched on by a keyword (float64)."""
    p = {k: _as64(v) for k, v in params.items()}
    x, h0 = _as64(x), _as64(h0)
    T, B, _ = x.shape
    H = p["W_hh"].shape[0]
    acts = {"tanh": np.tanh, "none": lambda a: a, "sigmoid": lambda a: 1 / (1 + np.exp(-a)),
            "relu": lambda a: np.maximum(a, 0)}
    mats = {"T": lambda W: W.T, "untransposed": lambda W: W}
    h = np.zeros((T + 1, B, H))
    h[0] = h0 if use_h0 else 0.0
    for t in range(1, T + 1 if last_step else T):
        a = x[(t - 1 + x_shift) % T] @ mats[w_xh](p["W_xh"]) if w_xh else 0.0
        a = a + (h[t - 1] @ mats[w_hh](p["W_hh"]) if w_hh else 0.0)
        a = a + (p["b_h"] if bias else 0.0)
        h[t] = acts[act](a)
    hy = h[1 + y_from:T + 1 + y_from]
    y = hy @ p["W_hy"].T + (p["b_y"] if b_y else 0.0)
    return {"y": y, "h": h, "h_t": h[1]}


def _forward_mistakes(params, x, h0, *, step: bool) -> list:
    """(cause, outputs) for each common mistake of the forward pass that fits these shapes."""
    H, D = params["W_xh"].shape
    prev = "h_prev" if step else "h_{t-1}"
    knobs = [
        (dict(w_hh="untransposed"),
         f"W_hh is used untransposed. In column form a_t = W_hh {prev}; with one row per "
         f"sequence the same product multiplies the rows of {prev} by the transpose of W_hh "
         "(W_hh[i, j] is the weight from unit j at step t-1 to unit i at step t)."),
        (dict(w_hh=None), f"{prev} does not enter the step: a_t = W_hh {prev} + W_xh x_t + b_h."),
        (dict(w_xh=None), "x_t does not enter the step: a_t = W_hh h_{t-1} + W_xh x_t + b_h."),
        (dict(bias=False), "b_h is missing from the pre-activation a_t = W_hh h_{t-1} + "
         "W_xh x_t + b_h."),
        (dict(act="none"), "tanh is missing: h_t = tanh(a_t)."),
        (dict(act="sigmoid"), "the nonlinearity is the logistic sigmoid; this RNN uses tanh."),
        (dict(act="relu"), "the nonlinearity is a ReLU; this RNN uses tanh."),
    ]
    if D == H:
        knobs.append((dict(w_xh="untransposed"),
                      "W_xh is used untransposed (visible only because D == H here): with one "
                      "row per sequence, x_t multiplies the transpose of W_xh."))
    if not step:
        knobs += [
            (dict(use_h0=False), "h0 is ignored: h[0] must be the given h0, and step 1 must "
             "start from it (zeros only when h0 is None)."),
            (dict(x_shift=-1), "step t uses the input of step t-1: x[t-1] is x_t, the input "
             "of step t (x has T entries, h has T+1 with h[0] = h0)."),
            (dict(x_shift=1), "step t uses the input of step t+1: x[t-1] is x_t, the input of "
             "step t (x has T entries, h has T+1 with h[0] = h0)."),
            (dict(last_step=False), "the last step is not computed: the loop must run over "
             "t = 1, ..., T, filling h[1] to h[T]."),
            (dict(y_from=-1), "y_t is computed from h_{t-1} instead of h_t: y_t = W_hy h_t + "
             "b_y uses the state after step t, h[t], not the one before it."),
            (dict(b_y=False), "b_y is missing from the output y_t = W_hy h_t + b_y."),
        ]
    return [(cause, _forward_variant(params, x, h0, **kw)) for kw, cause in knobs]


_STEP_SIZES = [_Sizes(1, 3, 2, 5, 2), _Sizes(1, 1, 4, 3, 2), _Sizes(1, 2, 3, 3, 2),
               _Sizes(1, 4, 5, 2, 3)]
_FORWARD_SIZES = [_Sizes(4, 3, 2, 5, 6), _Sizes(1, 1, 2, 3, 4), _Sizes(6, 2, 3, 3, 2),
                  _Sizes(5, 1, 4, 2, 3, h0="none"), _Sizes(3, 2, 3, 4, 1, h0="zero")]


def check_rnn_step_forward(fn: Callable, *, seed: int = 0) -> None:
    r"""Check an implementation of :func:`bptt.rnn.rnn_step_forward`.

    Parameters
    ----------
    fn : callable
        ``fn(params, x_t, h_prev) -> h_t`` with ``x_t (B, D)``, ``h_prev (B, H)``
        and ``h_t (B, H)``, :math:`h_t = \tanh(W_{hh} h_{t-1} + W_{xh} x_t + b_h)`.
    seed : int
        Seed of the random problems (the check is deterministic for a seed).

    Raises
    ------
    AssertionError
        When ``fn`` is wrong, raises, modifies its inputs or changes the dtype,
        with a message naming the sizes ``(B, D, H)``, the error, a few
        entries and the probable cause. Recognised: ``W_hh`` untransposed,
        ``h_prev`` or ``x_t`` ignored, ``b_h`` missing, tanh missing or
        replaced, ``W_xh`` untransposed (when ``D == H``).
    """
    _check_fn(fn, seed)
    sizes = [*_STEP_SIZES, _Sizes(1, 2, 3, 4, 2, dtype=np.float32)]
    results = []
    for i, sz in enumerate(sizes):
        prob = _problem(sz, (seed, 1, i))
        params, x_t, h_prev = prob["params"], prob["x"][0], prob["h0"]
        want = {"h_t": _ref_rnn_step_forward(params, x_t, h_prev)}
        args = {"params": params, "x_t": x_t, "h_prev": h_prev}
        got = _call(fn, "rnn_step_forward", args, {}, sz.label("BDH"), _rnn_exception_hint)
        problem = _array_problem("h_t", got, sz.shape("h_t"), np.dtype(sz.dtype))
        if problem:
            raise AssertionError(f"rnn_step_forward is wrong for {sz.label('BDH')}: the "
                                 f"returned {problem}")
        lines = _values_report(
            ["h_t"], {"h_t": got}, want, _TOL[np.dtype(sz.dtype)],
            lambda: _forward_mistakes(params, prob["x"][:1], h_prev, step=True))
        results.append((sz, lines))
    _raise_first("rnn_step_forward", results, lambda s: s.label("BDH"), _PATTERNS[1:3])


def _forward_shape_hint(key, shape, sz: _Sizes) -> str:
    T, B, H, O = sz.T, sz.B, sz.H, sz.O
    if key == "h" and shape == (T, B, H):
        return ("h has T entries, but it must start with h0: h[0] = h0, then h_1, ..., h_T, "
                "shape (T+1, B, H).")
    if key == "y" and shape == (T + 1, B, O):
        return ("y has T+1 entries: there is an output y_t for t = 1, ..., T only, none for "
                "h0.")
    return ""


def check_rnn_forward(fn: Callable, *, seed: int = 0) -> None:
    r"""Check an implementation of :func:`bptt.rnn.rnn_forward`.

    Parameters
    ----------
    fn : callable
        ``fn(params, x, h0=None) -> (y, h)`` with ``x (T, B, D)``,
        ``h0 (B, H)`` or None (zeros), ``y (T, B, O)`` and ``h (T+1, B, H)``,
        ``h[0] = h0``.
    seed : int
        Seed of the random problems (the check is deterministic for a seed).

    Raises
    ------
    AssertionError
        When ``fn`` is wrong, raises, modifies its inputs or changes the dtype.
        The message names the sizes ``(T, B, D, H, O)``, the wrong output and
        the steps where it goes wrong (``h[t]``), a few entries and the probable
        cause. Recognised: ``W_hh`` untransposed, ``h0`` ignored, ``b_h`` or
        ``b_y`` missing, tanh missing or replaced, ``h`` without ``h0`` (T
        entries instead of T+1), the last step not computed, ``y_t`` computed
        from ``h_{t-1}``, ``x`` paired with the wrong step.
    """
    _check_fn(fn, seed)
    sizes = [*_FORWARD_SIZES, _Sizes(3, 2, 3, 4, 2, dtype=np.float32)]
    results = []
    for i, sz in enumerate(sizes):
        prob = _problem(sz, (seed, 2, i))
        params, x, h0 = prob["params"], prob["x"], prob["h0"]
        args = {"params": params, "x": x} if sz.h0 == "none" else {
            "params": params, "x": x, "h0": h0}
        want = {"y": prob["y"], "h": prob["h"]}
        out = _call(fn, "rnn_forward", args, {}, sz.label(), _rnn_exception_hint)
        head = f"rnn_forward is wrong for {sz.label()}: "
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            got_type = (f"a {type(out).__name__} of length {len(out)}"
                        if isinstance(out, (tuple, list)) else type(out).__name__)
            raise AssertionError(head + f"it must return the pair (y, h), got {got_type}.")
        got = {"y": out[0], "h": out[1]}
        if (all(isinstance(v, np.ndarray) for v in out) and out[0].shape == sz.shape("h")
                and out[1].shape == sz.shape("y")):
            raise AssertionError(head + "it returns (h, y); the order is (y, h).")
        for key in ("h", "y"):
            problem = _array_problem(key, got[key], sz.shape(key), np.dtype(sz.dtype),
                                     lambda k, s: _forward_shape_hint(k, s, sz))
            if problem:
                raise AssertionError(head + "the returned " + problem)
        lines = _values_report(["h", "y"], got, want, _TOL[np.dtype(sz.dtype)],
                               lambda: _forward_mistakes(params, x, h0, step=False),
                               time_keys=("h", "y"))
        results.append((sz, lines))
    _raise_first("rnn_forward", results)


# --------------------------------------------------------------------------
# Backward: rnn_backward
# --------------------------------------------------------------------------

def _backward_variant(params, x, h, dy, *, cut=frozenset(), dtanh="h_t", add_future=True,
                      future="delta", sums="all", batch="sum", hh_pair=0, xh_pair=0,
                      skip=(), h0_grad="right") -> dict:
    r"""BPTT written step by step, with one common mistake switched on by a keyword.

    With every keyword at its default this is the right gradient: for t = T..1,
    hbar_t = W_hy^T dy_t + W_hh^T delta_{t+1}, delta_t = (1 - h_t^2) * hbar_t,
    and the parameter gradients are sums over t and over the batch. ``batch``
    = "first" or "mean" uses the first sequence only, or a mean over the
    batch, in the parameter gradients. ``cut`` holds the t whose
    h_t receives nothing from step t+1 (truncated BPTT; 0 cuts h0 too).
    """
    p = {k: _as64(v) for k, v in params.items()}
    x, h, dy = _as64(x), _as64(h), _as64(dy)
    T = x.shape[0]
    g = {k: np.zeros_like(p[k]) for k in PARAM_KEYS}
    dx = np.zeros_like(x)
    derivs = {"h_t": lambda t: 1 - h[t] ** 2, "missing": lambda t: 1.0,
              "twice": lambda t: (1 - h[t] ** 2) ** 2, "h_prev": lambda t: 1 - h[t - 1] ** 2,
              "h_next": lambda t: 1 - h[t + 1] ** 2 if t < T else 1.0,
              "tanh_h": lambda t: 1 - np.tanh(h[t]) ** 2, "no_square": lambda t: 1 - h[t],
              "negated": lambda t: h[t] ** 2 - 1}
    from_future = np.zeros_like(h[0])
    delta = hbar = from_future
    for t in range(T, 0, -1):
        if t in skip:
            continue
        hbar = dy[t - 1] @ p["W_hy"] + (from_future if add_future else 0.0)
        delta = derivs[dtanh](t) * hbar
        rows = slice(0, 1) if batch == "first" else slice(None)
        d, e = delta[rows], dy[t - 1][rows]
        step = {"W_hy": e.T @ h[t][rows], "b_y": e.sum(axis=0),
                "W_xh": d.T @ x[(t - 1 + xh_pair) % T][rows],
                "W_hh": d.T @ h[(t - 1 + hh_pair) % (T + 1)][rows], "b_h": d.sum(axis=0)}
        if batch == "mean":
            step = {k: v / x.shape[1] for k, v in step.items()}
        for k in PARAM_KEYS:
            if sums == "all":
                g[k] += step[k]
            elif sums == "first" or (sums == "last" and t == T):
                g[k] = step[k]    # overwritten: "first" keeps step 1, the last one visited
        dx[t - 1] = delta @ p["W_xh"]
        if t - 1 in cut:
            from_future = np.zeros_like(from_future)
        else:
            back = {"delta": delta @ p["W_hh"], "untransposed": delta @ p["W_hh"].T,
                    "hbar": hbar @ p["W_hh"]}
            from_future = back[future]
    g["x"] = dx
    g["h0"] = {"right": from_future, "delta_1": delta, "hbar_1": hbar}[h0_grad]
    return g


def _window_backward(params, x, h, dy, k: int) -> dict:
    """Truncation of another kind: each loss sends its gradient back k steps at most."""
    p = {key: _as64(v) for key, v in params.items()}
    x, h, dy = _as64(x), _as64(h), _as64(dy)
    T = x.shape[0]
    g = {key: np.zeros_like(p[key]) for key in PARAM_KEYS}
    g["x"], g["h0"] = np.zeros_like(x), np.zeros_like(h[0])
    for s in range(1, T + 1):
        g["W_hy"] += dy[s - 1].T @ h[s]
        g["b_y"] += dy[s - 1].sum(axis=0)
        hbar = dy[s - 1] @ p["W_hy"]
        for t in range(s, max(1, s - k + 1) - 1, -1):
            delta = (1 - h[t] ** 2) * hbar
            g["W_xh"] += delta.T @ x[t - 1]
            g["W_hh"] += delta.T @ h[t - 1]
            g["b_h"] += delta.sum(axis=0)
            g["x"][t - 1] += delta @ p["W_xh"]
            hbar = delta @ p["W_hh"]
            if t == 1:
                g["h0"] += hbar
    return g


def _cut(T: int, k: int | None) -> frozenset:
    """The t whose h_t gets nothing from step t+1 with truncate=k: k, 2k, ... below T."""
    return frozenset() if k is None else frozenset(range(k, T, k))


_BACKWARD_MISTAKES = [
    (dict(dtanh="missing"), "the tanh derivative is missing: the gradient reaches a_t through "
     "tanh, delta_t = (1 - h_t**2) * hbar_t, before it reaches W_xh, W_hh, b_h, x_t and "
     "h_{t-1}."),
    (dict(dtanh="twice"), "the tanh derivative is applied twice: (1 - h_t**2) multiplies "
     "hbar_t once, when delta_t is formed, and delta_t is then used as it is."),
    (dict(dtanh="h_prev"), "the tanh derivative is taken at h_{t-1} instead of h_t: step t "
     "computes h_t = tanh(a_t), so its derivative is 1 - h_t**2, from the output of the step "
     "being differentiated. Remember h[t] is h_t and h[0] is h0."),
    (dict(dtanh="h_next"), "the tanh derivative is taken at h_{t+1} instead of h_t: step t "
     "computes h_t = tanh(a_t), so its derivative is 1 - h_t**2, from the output of the step "
     "being differentiated."),
    (dict(dtanh="tanh_h"), "the tanh derivative is computed as 1 - tanh(h_t)**2: h_t is already "
     "tanh(a_t), so the derivative is simply 1 - h_t**2."),
    (dict(dtanh="no_square"), "the tanh derivative is computed as 1 - h_t instead of "
     "1 - h_t**2."),
    (dict(dtanh="negated"), "the tanh derivative has the wrong sign: it is 1 - h_t**2, which is "
     "positive, not h_t**2 - 1."),
    (dict(add_future=False), "the gradient flowing back from the future is not added: "
     "hbar_t = W_hy^T dy_t + W_hh^T delta_{t+1}, the loss at step t plus everything that "
     "h_t influences through step t+1."),
    (dict(future="untransposed"), "the gradient flowing back from step t+1 uses W_hh where its "
     "transpose belongs (or the other way round): it is W_hh^T delta_{t+1} in column form, "
     "which with one row per sequence is the product of delta_{t+1} with W_hh itself."),
    (dict(future="hbar"), "the gradient passed back to h_{t-1} skips the tanh derivative: it is "
     "W_hh^T delta_t with delta_t = (1 - h_t**2) * hbar_t, not W_hh^T hbar_t."),
    (dict(sums="first"), "this gradient holds the contribution of step 1 only, the last one "
     "the reversed loop visits: the weights are shared by all steps, so their gradient is the "
     "sum over t of the contributions of every step; accumulate with += instead of = ."),
    (dict(sums="last"), "this gradient holds the contribution of the last step T only instead "
     "of the sum over t = 1, ..., T: the weights are shared by all steps, so their gradient "
     "accumulates the contribution of every step (+= instead of =)."),
    (dict(batch="first"), "it uses the first sequence of the batch only: the parameters are "
     "shared by every sequence, so their gradients sum over the batch as well as over time "
     "(for a bias the sum of delta_t over the batch; for a weight, with one row per "
     "sequence, the transpose of delta_t times all B rows of its input)."),
    (dict(batch="mean"), "it is a mean over the batch: the parameters are shared by every "
     "sequence, so their gradients are sums over the batch (and over time); dy already holds "
     "any averaging of the loss."),
    (dict(hh_pair=1), "dW_hh pairs delta_t with h_t instead of h_{t-1}: a_t = W_hh h_{t-1} + "
     "W_xh x_t + b_h, so dL/dW_hh = sum_t delta_t h_{t-1}^T; with h[0] = h0, the state "
     "entering step t is h[t-1]."),
    (dict(hh_pair=-1), "dW_hh pairs delta_t with h_{t-2} instead of h_{t-1}: x_t pairs with "
     "h_{t-1}, and x has T entries (x[t-1] is x_t) while h has T+1 (h[t-1] is h_{t-1})."),
    (dict(xh_pair=-1), "dW_xh pairs delta_t with x_{t-1} instead of x_t: x[t-1] is x_t, the "
     "input of step t, while h[t] is its output (h has one more entry, h[0] = h0)."),
    (dict(xh_pair=1), "dW_xh pairs delta_t with x_{t+1} instead of x_t: x[t-1] is x_t, the "
     "input of step t, while h[t] is its output (h has one more entry, h[0] = h0)."),
    (dict(skip=("T",)), "the last step T is missing: the reversed loop must visit every step, "
     "t = T, T-1, ..., 1."),
    (dict(skip=(1,)), "step 1 is missing: the reversed loop stops too early; step 1 (input "
     "x_1 = x[0], state h_0 = h[0]) must be visited too."),
    (dict(h0_grad="delta_1"), "the h0 gradient is delta_1 = dL/da_1; h0 enters a_1 = W_hh h_0 "
     "+ W_xh x_1 + b_h, so dL/dh_0 = W_hh^T delta_1."),
    (dict(h0_grad="hbar_1"), "the h0 gradient is dL/dh_1, one step too late: dL/dh_0 = "
     "W_hh^T delta_1, what flows back out of step 1."),
]

_TRANSPOSED_HINT = ("the gradient of W has the layout of W (W[i, j] connects input j to unit "
                    "i), so dL/dW_hh = sum_t delta_t h_{t-1}^T has delta along its rows.")


def _backward_mistakes(prob: dict, truncate: int | None) -> list:
    """(cause, gradients) for each common mistake of BPTT."""
    T = prob["x"].shape[0]
    args = (prob["params"], prob["x"], prob["h"], prob["dy"])
    cut = _cut(T, truncate)
    out = []
    for kw, cause in _BACKWARD_MISTAKES:
        kw = dict(kw)
        if kw.get("skip") == ("T",):
            kw["skip"] = (T,)
        out.append((cause, _backward_variant(*args, cut=cut, **kw)))
    return out


def _truncation_mistakes(prob: dict, k: int) -> list:
    """(cause, gradients) for each common mistake of truncated BPTT with truncate=k."""
    T = prob["x"].shape[0]
    args = (prob["params"], prob["x"], prob["h"], prob["dy"])
    right = _cut(T, k)
    cuts = [
        (frozenset(), f"it ignores truncate: the result is the full BPTT gradient. With "
         f"truncate={k} the state is detached at h_{k}, h_{2 * k}, ...: the gradient flowing "
         f"back from step j*{k}+1 into h_{{j*{k}}} is dropped (chunks of {k} step"
         f"{'s' if k > 1 else ''} from the start)."),
        (frozenset(t + 1 for t in right if t + 1 < T),
         f"it detaches one step too late, at h_{k + 1}, h_{2 * k + 1}, ... instead of "
         f"h_{k}, h_{2 * k}, ...: with truncate={k}, step k+1 is the first step that must not "
         "send its gradient back into h_k."),
        (frozenset(t - 1 for t in range(k, T + 1, k)) - {T},
         f"it detaches one step too early, at h_{k - 1}, h_{2 * k - 1}, ... instead of "
         f"h_{k}, h_{2 * k}, ... (with h[0] = h0, h[t] is h_t)."),
        (frozenset(range(T - k, 0, -k)),
         f"it counts the chunks of {k} steps from the end of the sequence; they start at step "
         f"1: the state is detached at h_{k}, h_{2 * k}, ..."),
        (right | {0}, "the h0 gradient is dropped: with truncation, the first chunk (steps 1 to "
         "k) still sends its gradient back to h0."),
    ]
    out = [(cause, _backward_variant(*args, cut=cut)) for cut, cause in cuts if cut != right]
    out.append((f"each loss sends its gradient back {k} steps at most (a sliding window). "
                f"This truncation is different: the state is detached at h_{k}, h_{2 * k}, ...,"
                " so every loss of a chunk reaches back to the start of its chunk.",
                _window_backward(*args, k)))
    return out


def _backward_shape_hint(key: str, shape: tuple, sz: _Sizes) -> str:
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


def _grads_report(got, want: dict, sz: _Sizes, prob: dict, truncate) -> list | None:
    """Lines explaining how ``got`` differs from ``want``; None when it is right."""
    if got is None:
        return ["  it returned None: a return statement is missing."]
    if not isinstance(got, Mapping):
        return [f"  it must return a dict with the keys {list(GRAD_KEYS)}, got "
                f"{type(got).__name__}."]
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
        return lines
    for k in GRAD_KEYS:
        problem = _array_problem(k, got[k], sz.shape(k), np.dtype(sz.dtype),
                                 lambda key, s: _backward_shape_hint(key, s, sz))
        if problem:
            return ["  " + problem]
    return _values_report(
        GRAD_KEYS, got, want, _TOL[np.dtype(sz.dtype)],
        lambda: (_backward_mistakes(prob, truncate) if truncate is None
                 else _truncation_mistakes(prob, truncate)),
        time_keys=("x",), transposed=_TRANSPOSED_HINT,
        factors={1 / sz.B: f"1/B, divided by the batch size B = {sz.B}: dy already holds any "
                 "averaging of the loss, so do not average again.",
                 2.0: "twice the right value: is a term counted twice?",
                 0.5: "half the right value: is a factor 2 missing?"})


_BACKWARD_SIZES = [_Sizes(4, 3, 2, 5, 6), _Sizes(1, 1, 2, 3, 4), _Sizes(6, 2, 3, 3, 2),
                   _Sizes(5, 1, 4, 2, 3), _Sizes(3, 2, 3, 4, 1, h0="zero")]


def _backward_call(fn, sz: _Sizes, prob: dict, kwargs: dict):
    args = {k: prob[k] for k in ("params", "x", "h", "dy")}
    return _call(fn, "rnn_backward", args, kwargs, sz.label(), _rnn_exception_hint)


def check_rnn_backward(fn: Callable, *, truncation: bool = True, seed: int = 0) -> None:
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

    Raises
    ------
    AssertionError
        When ``fn`` is wrong on any problem, raises, modifies its inputs or
        does not keep the dtype. The message names the sizes
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
    only, or a mean); ``dW_hh`` paired with ``h_t`` or ``dW_xh`` with ``x_{t-1}``; the
    first or last step dropped; the ``h0`` or ``x`` gradient missing or one
    step off; a wrong sign or a constant factor such as 1/B. For truncation:
    ``truncate`` ignored, detaching one step early or late, chunks counted
    from the end, ``h0`` cut off, or a sliding window instead of chunks.
    """
    _check_fn(fn, seed)
    if not isinstance(truncation, (bool, np.bool_)):
        raise TypeError(f"truncation must be True or False, got {truncation!r}")
    problems = [(sz, _problem(sz, (seed, 3, i))) for i, sz in enumerate(_BACKWARD_SIZES)]
    results = []
    for sz, prob in problems:
        want = _ref_rnn_backward(prob["params"], prob["x"], prob["h"], prob["dy"])
        got = _backward_call(fn, sz, prob, {})
        results.append((sz, _grads_report(got, want, sz, prob, None)))
    _raise_first("rnn_backward", results)

    sz = _Sizes(3, 2, 3, 4, 2, dtype=np.float32)
    prob = _problem(sz, (seed, 3, len(problems)))
    want = _ref_rnn_backward(prob["params"], prob["x"], prob["h"], prob["dy"])
    _raise_first("rnn_backward", [(sz, _grads_report(_backward_call(fn, sz, prob, {}), want, sz,
                                                     prob, None))])
    if truncation:
        _check_truncation(fn, [(s, p) for s, p in problems if s.T >= 3])


def _check_truncation(fn, problems: list) -> None:
    """Run every problem with T >= 3 with truncate = None, 1, 2, 3, T and T + 1."""
    first, summary = None, []
    for sz, prob in problems:
        right, wrong = [], []
        for k in dict.fromkeys([None, 1, 2, 3, sz.T, sz.T + 1]):
            want = _ref_rnn_backward(prob["params"], prob["x"], prob["h"], prob["dy"],
                                     truncate=k)
            got = _backward_call(fn, sz, prob, {"truncate": k})
            lines = _grads_report(got, want, sz, prob, k)
            (wrong if lines else right).append(str(k))
            if lines and first is None:
                first = [f"rnn_backward is wrong for {sz.label()}, truncate={k}:", *lines]
        summary.append(f"  {sz.label()}: right for truncate = {', '.join(right) or '-'}; "
                       f"wrong for {', '.join(wrong) or '-'}.")
    if first:
        raise AssertionError("\n".join(first + summary))


# --------------------------------------------------------------------------
# Gradient clipping
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class _ClipCase:
    """A clipping problem: the sizes of its gradients, the threshold, and whether it bites."""

    sz: _Sizes
    name: str            # "max_norm" or "clip_value"
    c: float
    clips: bool          # does the threshold change the parameter gradients?

    def label(self) -> str:
        sz = self.sz
        dtype = "" if np.dtype(sz.dtype) == np.float64 else f", {np.dtype(sz.dtype).name}"
        return (f"grads (with x and h0) of sizes (T, B, D, H, O) = "
                f"({sz.T}, {sz.B}, {sz.D}, {sz.H}, {sz.O})"
                f"{dtype}, {self.name} = {self.c:.6g} ("
                + ("some gradients must be clipped" if self.clips else "nothing to clip") + ")")


_CLIP_PATTERNS = [
    (lambda case: not case.clips, "It is right only when there is nothing to clip: the "
     "clipping itself is wrong."),
    (lambda case: case.clips, "It is right only when something must be clipped: when nothing "
     "must be, the gradients come back unchanged (as new arrays)."),
]


def _grads_for_clipping(sz: _Sizes, seed, explode: float) -> dict:
    """Gradients of the five parameters (one of them ``explode`` times larger) plus x and h0.

    x and h0 are made large on purpose, so that including them in the norm,
    or clipping them, changes the result a lot.
    """
    rng = np.random.default_rng(seed)
    g = {k: rng.standard_normal(sz.shape(k)) for k in GRAD_KEYS}
    g["W_hh"] *= explode
    g["x"] *= 5.0
    g["h0"] *= 5.0
    return {k: v.astype(sz.dtype) for k, v in g.items()}


def _clip_output_problem(clipped, grads: dict, dtype) -> str | None:
    """Why ``clipped`` is not a new dict of new arrays shaped like ``grads``, or None."""
    if clipped is grads:
        return ("it returned the grads dict itself: build and return a new dict (and leave "
                "grads untouched).")
    if not isinstance(clipped, Mapping):
        return f"the clipped gradients must be a dict, got {type(clipped).__name__}."
    missing = [k for k in grads if k not in clipped]
    extra = [k for k in clipped if k not in grads]
    if missing or extra:
        why = (" The keys that are not parameters (x, h0) are copied unchanged: they are "
               "neither measured nor clipped." if set(missing) & {"x", "h0"} else "")
        return (f"the returned dict must have the same keys as grads {list(grads)}; missing "
                f"{missing}, extra {extra}.{why}")
    for k in grads:
        problem = _array_problem(k, clipped[k], grads[k].shape, dtype)
        if problem:
            return problem
        if np.shares_memory(clipped[k], grads[k]):
            return (f"the returned {k} shares memory with grads[{k!r}]: return new arrays "
                    "(g.copy() when nothing is clipped), so that updating one can never "
                    "change the other.")
    return None


def _norm_of(g: dict, keys) -> float:
    return float(np.sqrt(sum(np.sum(_as64(g[k]) ** 2) for k in keys)))


def _clip_norm_mistakes(grads: dict, c: float) -> list:
    """(cause, outputs) for the common mistakes of clipping by norm."""
    total = _norm_of(grads, PARAM_KEYS)
    every = _norm_of(grads, grads)

    def scaled(s, keys=PARAM_KEYS, reported=total):
        out = {k: _as64(v) * (s if k in keys else 1.0) for k, v in grads.items()}
        out["total_norm"] = reported
        return out

    torch_scale = min(1.0, c / (total + 1e-6))
    per_key = {k: _as64(v) * (min(1.0, c / np.linalg.norm(v)) if k in PARAM_KEYS else 1.0)
               for k, v in grads.items()}
    per_key["total_norm"] = total
    value = {k: (np.clip(_as64(v), -c, c) if k in PARAM_KEYS else _as64(v))
             for k, v in grads.items()}
    value["total_norm"] = total
    sq = sum(float(np.sum(_as64(grads[k]) ** 2)) for k in PARAM_KEYS)
    return [
        ("it does not clip: the parameter gradients come back unchanged although their norm "
         f"{total:.6g} is above max_norm = {c:.6g}.", scaled(1.0)),
        ("it scales even when the norm is already at most max_norm: the rule scales by "
         "max_norm / (norm + 1e-6) only when norm > max_norm, and leaves the gradients "
         "unchanged otherwise.", scaled(c / total)),
        ("the scale is upside down: it is max_norm / norm, not norm / max_norm.",
         scaled(total / c if total > c else 1.0)),
        ("x and h0 are included in the norm: only the five parameter gradients are measured "
         "(and clipped); x and h0 are copied unchanged.",
         scaled(min(1.0, c / (every + 1e-6)), reported=every)),
        ("x and h0 are clipped too: only the five parameter gradients are scaled; x and h0 "
         "are copied unchanged.", scaled(torch_scale, keys=GRAD_KEYS)),
        ("total_norm is the norm after clipping: it must be the norm before, which tells "
         "how large the gradient really was.", scaled(torch_scale, reported=min(total, c))),
        ("each array is clipped to max_norm on its own: the norm is that of all five "
         "gradients laid end to end in one vector, and one common factor scales them all.",
         per_key),
        ("the norm is the sum of squares, without the square root.",
         scaled(min(1.0, c / (sq + 1e-6)), reported=sq)),
        ("the norm is the sum of the five arrays' norms; it is the square root of the sum of "
         "all their squared entries.",
         scaled(min(1.0, c / (s := sum(np.linalg.norm(_as64(grads[k])) for k in PARAM_KEYS))),
                reported=float(s))),
    ] + ([("it clamps each entry to [-max_norm, max_norm]: that is clipping by value; "
           "clipping by norm scales all entries by one common factor.", value)]
         if any(np.max(np.abs(grads[k])) > c for k in PARAM_KEYS) else [])


_CLIP_SIZES = [(_Sizes(4, 3, 3, 5, 2), 0.3, 1.0), (_Sizes(1, 1, 2, 3, 4), 1.2, 1.0),
               (_Sizes(3, 2, 4, 2, 3), 0.05, 100.0), (_Sizes(2, 2, 3, 4, 2, dtype=np.float32),
                                                      0.5, 1.0)]


def check_clip_grad_norm(fn: Callable, *, seed: int = 0) -> None:
    r"""Check an implementation of :func:`bptt.clip.clip_grad_norm`.

    Parameters
    ----------
    fn : callable
        ``fn(grads, max_norm) -> (clipped, total_norm)``: torch's rule. The
        norm :math:`\|g\|` is that of the five parameter gradients laid end to
        end; when :math:`\|g\| >` ``max_norm`` they are all multiplied by
        ``max_norm / (||g|| + 1e-6)``. ``clipped`` is a new dict of new arrays
        with the keys, shapes and dtypes of ``grads`` (``x`` and ``h0`` copied
        unchanged), ``total_norm`` is :math:`\|g\|` before clipping, and
        ``grads`` is left untouched.
    seed : int
        Seed of the random gradients (the check is deterministic for a seed).

    Raises
    ------
    AssertionError
        When ``fn`` is wrong, raises, modifies ``grads`` or does not keep the
        dtype. Recognised: no clipping, scaling below the threshold, an
        inverted scale, ``x``/``h0`` in the norm or clipped, the norm after
        clipping returned, each array clipped on its own, a squared norm or a
        sum of norms, clipping by value.

    Notes
    -----
    Results within a relative ``1e-5`` of torch's rule are accepted, so
    leaving out the ``1e-6`` (a relative change of ``1e-6/||g||``) passes.
    """
    _check_fn(fn, seed)
    results = []
    for i, (sz, ratio, explode) in enumerate(_CLIP_SIZES):
        grads = _grads_for_clipping(sz, (seed, 4, i), explode)
        c = float(ratio * _ref_grad_norm(grads))
        ref_clipped, ref_total = _ref_clip_grad_norm(grads, c)
        case = _ClipCase(sz, "max_norm", c, ref_total > c)
        where = f"{case.label()}, the norm of the parameter gradients is {ref_total:.6g}"
        out = _call(fn, "clip_grad_norm", {"grads": grads, "max_norm": c}, {}, where)
        head = f"clip_grad_norm is wrong for {where}: "
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise AssertionError(head + "it must return the pair (clipped, total_norm), got "
                                 f"{type(out).__name__}.")
        clipped, total = out
        problem = _clip_output_problem(clipped, grads, np.dtype(sz.dtype))
        if problem is None and (isinstance(total, (bool, np.bool_)) or np.ndim(total) != 0
                                or not np.isreal(total) or not np.isfinite(total)):
            problem = f"total_norm must be a finite real number, got {total!r}."
        if problem:
            raise AssertionError(head + problem)
        got = {**clipped, "total_norm": float(total)}
        want = {**ref_clipped, "total_norm": ref_total}
        lines = _values_report(["total_norm", *grads], got, want, _CLIP_TOL,
                               lambda: _clip_norm_mistakes(grads, c))
        if lines:
            lines.insert(0, f"  the norm of the parameter gradients is {ref_total:.6g}")
        results.append((case, lines))
    _raise_first("clip_grad_norm", results, _ClipCase.label, _CLIP_PATTERNS)


def _clip_value_mistakes(grads: dict, c: float) -> list:
    """(cause, outputs) for the common mistakes of clipping by value."""
    def apply(f, keys=PARAM_KEYS):
        return {k: (f(_as64(v)) if k in keys else _as64(v)) for k, v in grads.items()}

    total = _norm_of(grads, PARAM_KEYS)
    return [
        ("it does not clip: the gradients come back unchanged.", apply(lambda g: g)),
        ("only the entries above clip_value are clipped: the entries below -clip_value must be "
         "raised to -clip_value too.", apply(lambda g: np.minimum(g, c))),
        ("only the entries below -clip_value are clipped: the entries above clip_value must be "
         "lowered to clip_value too.", apply(lambda g: np.maximum(g, -c))),
        ("the sign is lost: clipping keeps the sign of each entry and only limits its size, "
         "to the interval [-clip_value, clip_value].", apply(lambda g: np.minimum(np.abs(g), c))),
        ("the entries are clipped to [0, clip_value]: the interval is [-clip_value, "
         "clip_value].", apply(lambda g: np.clip(g, 0, c))),
        ("x and h0 are clipped too: only the five parameter gradients are clipped; x and h0 "
         "are copied unchanged.", apply(lambda g: np.clip(g, -c, c), GRAD_KEYS)),
        ("it clips by norm: clipping by value clamps each entry on its own.",
         apply(lambda g: g * min(1.0, c / (total + 1e-6)))),
    ]


def check_clip_grad_value(fn: Callable, *, seed: int = 0) -> None:
    r"""Check an implementation of :func:`bptt.clip.clip_grad_value`.

    Parameters
    ----------
    fn : callable
        ``fn(grads, clip_value) -> clipped``: each entry of the five parameter
        gradients clamped to ``[-clip_value, clip_value]``, in a new dict of
        new arrays with the keys, shapes and dtypes of ``grads`` (``x`` and
        ``h0`` copied unchanged); ``grads`` is left untouched.
    seed : int
        Seed of the random gradients (the check is deterministic for a seed).

    Raises
    ------
    AssertionError
        When ``fn`` is wrong, raises, modifies ``grads`` or does not keep the
        dtype. Recognised: no clipping, one side only, the sign lost, clamping
        to ``[0, c]``, ``x``/``h0`` clipped, clipping by norm instead.
    """
    _check_fn(fn, seed)
    cases = [(_Sizes(4, 3, 3, 5, 2), 0.5), (_Sizes(1, 1, 2, 3, 4), 1.0),
             (_Sizes(3, 2, 4, 2, 3), 100.0), (_Sizes(2, 2, 3, 4, 2, dtype=np.float32), 0.7)]
    results = []
    for i, (sz, c) in enumerate(cases):
        grads = _grads_for_clipping(sz, (seed, 5, i), 1.0)
        want = _ref_clip_grad_value(grads, c)
        above = bool(max(np.max(np.abs(grads[k])) for k in PARAM_KEYS) > c)
        case = _ClipCase(sz, "clip_value", c, above)
        where = case.label()
        got = _call(fn, "clip_grad_value", {"grads": grads, "clip_value": c}, {}, where)
        problem = _clip_output_problem(got, grads, np.dtype(sz.dtype))
        if problem:
            raise AssertionError(f"clip_grad_value is wrong for {where}: {problem}")
        lines = _values_report(list(grads), got, want, _CLIP_TOL,
                               lambda: _clip_value_mistakes(grads, c))
        results.append((case, lines))
    _raise_first("clip_grad_value", results, _ClipCase.label, _CLIP_PATTERNS)


# --------------------------------------------------------------------------
# Finite differences: numerical_gradient
# --------------------------------------------------------------------------

def _numgrad_exception_hint(exc: Exception) -> str:
    if isinstance(exc, (IndexError, TypeError)):
        return ("loop over every index of x whatever its shape, e.g. for idx in "
                "np.ndindex(x.shape), and perturb x[idx].")
    return ""


def _numgrad_call(fn, f, x: np.ndarray, eps, what: str):
    """Call ``fn(f, x[, eps])`` and check that x is back to its value and the result's shape."""
    saved = x.copy()
    args = {"f": f, "x": x}
    kwargs = {} if eps is None else {"eps": eps}
    where = f"x of shape {x.shape}, {what}"
    try:
        out = fn(f, x, **kwargs)
    except NotImplementedError as exc:
        raise AssertionError("numerical_gradient is not implemented yet: it raised "
                             "NotImplementedError. Write it, then run this check again.") from exc
    except Exception as exc:
        hint = _numgrad_exception_hint(exc)
        shown = ", ".join([*args, *(f"{k}={v!r}" for k, v in kwargs.items())])
        raise AssertionError(f"numerical_gradient raised {type(exc).__name__}: {exc}\n  when "
                             f"called as numerical_gradient({shown}) with {where}"
                             + (f"\n  Hint: {hint}" if hint else "")) from exc
    head = f"numerical_gradient is wrong for {where}: "
    if x.shape != saved.shape or not np.allclose(x, saved, rtol=1e-12, atol=1e-15):
        moved = int(np.sum(~np.isclose(x, saved, rtol=1e-12, atol=1e-15)))
        raise AssertionError(head + f"x was not restored: after the call {moved} of its "
                             f"{x.size} entries differ from before (e.g. expected "
                             f"{saved.ravel()[0]:.8g}, got {x.ravel()[0]:.8g} at the first "
                             "entry). Put each entry back to its old value after evaluating "
                             "f(x + eps e_i) and f(x - eps e_i); otherwise every later entry is "
                             "differentiated at the wrong point.")
    problem = _array_problem("the result", out, x.shape, x.dtype)
    if problem:
        if isinstance(out, np.ndarray) and out.size == x.size and out.shape != x.shape:
            problem += " Return an array shaped like x (np.zeros_like(x) to start with)."
        raise AssertionError(head + problem)
    return head, out


def _numgrad_cause(got, x, w, eps) -> str:
    """Why a numerical gradient of f(x) = sum(w * x**3) with step eps is what it is."""
    exact = 3 * w * x ** 2
    variants = [
        (w * (3 * x ** 2 + 3 * x * eps + eps ** 2),
         "it is a forward difference (f(x + eps e_i) - f(x)) / eps, whose error shrinks like "
         "eps only; the centred difference (f(x + eps e_i) - f(x - eps e_i)) / (2 eps) has an "
         "error of order eps**2."),
        (w * (3 * x ** 2 - 3 * x * eps + eps ** 2),
         "it is a backward difference (f(x) - f(x - eps e_i)) / eps, whose error shrinks like "
         "eps only; use the centred difference (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)."),
        (2 * w * (3 * x ** 2 + eps ** 2),
         "it is twice the centred difference: f(x + eps e_i) - f(x - eps e_i) spans a step of "
         "2 eps, so divide by 2 eps, not eps."),
        (0.5 * w * (3 * x ** 2 + eps ** 2),
         "it is half the centred difference: divide f(x + eps e_i) - f(x - eps e_i) by 2 eps."),
        (np.full_like(x, np.sum(w * (3 * x ** 2 + eps ** 2))),
         "every entry is the same number: it perturbs every entry of x at once instead of one "
         "entry e_i at a time."),
    ]
    for v, cause in variants:
        if _close(got, v, 1e-8):
            return cause
    if not np.any(got):
        return ("it is all zeros: f never saw the perturbation. Perturb x itself, in place "
                "(x[idx] = old + eps), not a copy such as x.flatten() or x.copy().")
    # A centred difference with another step h gives 3 x**2 + h**2 exactly on a cubic.
    h2 = (got / w) - 3 * x ** 2
    if np.ptp(h2) < 1e-8 * max(1.0, abs(float(np.mean(h2)))) and np.mean(h2) >= -1e-12:
        step = float(np.sqrt(max(float(np.mean(h2)), 0.0)))
        # Below about 1e-3 * eps, rounding hides the step's size: only "smaller" is known.
        size = (f"about {step:.3g}" if step > 1e-3 * eps else "much smaller than eps")
        return (f"it is a centred difference with a step {size} instead of eps = {eps:g}: "
                "use the eps argument, not a fixed step.")
    if _close(got, exact, 1e-8):
        return ("it is the exact derivative, not the centred difference with step eps (which "
                "is 3 x**2 + eps**2 on this cubic): compute the finite difference with eps.")
    return ""


def check_numerical_gradient(fn: Callable, *, seed: int = 0) -> None:
    r"""Check an implementation of :func:`bptt.gradcheck.numerical_gradient`.

    Parameters
    ----------
    fn : callable
        ``fn(f, x, eps=1e-6) -> grad``: the centred difference
        :math:`(f(x + \epsilon e_i) - f(x - \epsilon e_i)) / (2\epsilon)` for
        every entry i of ``x`` (any shape), returned with the shape of ``x``.
        ``x`` is perturbed in place, one entry at a time, and restored.
    seed : int
        Seed of the random points (the check is deterministic for a seed).

    Raises
    ------
    AssertionError
        When ``fn`` is wrong or raises. Recognised: forward or backward
        differences, dividing by eps instead of 2 eps, a fixed step instead of
        ``eps``, every entry perturbed at once, ``x`` not restored, a copy of
        ``x`` perturbed (``f`` never sees it), a result of the wrong shape,
        and a function right for 1-D ``x`` only.

    Notes
    -----
    On the cubic :math:`f(x) = \sum_i w_i x_i^3` the centred difference is
    exactly :math:`w_i (3 x_i^2 + \epsilon^2)`, so with a large step
    (``eps = 0.1``) the check knows to rounding what a right ``fn`` returns,
    and tells a forward difference (:math:`+3 w_i x_i \epsilon`) or a wrong
    step from it. A smooth non-polynomial function at the default ``eps``
    follows, then an ``f`` that reads ``x`` from a closure, as
    :func:`bptt.gradcheck.numerical_gradient_params` does, which sees the
    perturbation only if ``x`` is perturbed in place. After each call ``x``
    must be back to its value within a relative ``1e-12`` (restoring with
    ``x[i] = old`` is exact; adding and subtracting eps is accepted too).
    """
    _check_fn(fn, seed)
    rng = np.random.default_rng((seed, 6))
    shapes = [(4,), (2, 3), (3, 2, 2)]
    failures = []
    for shape in shapes:
        x = rng.uniform(-1.5, 1.5, shape)
        w = rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)
        eps = 0.1
        head, got = _numgrad_call(fn, lambda z: float(np.sum(w * z ** 3)), x, eps,
                                  "f(x) = sum(w * x**3), eps = 0.1")
        want = w * (3 * x ** 2 + eps ** 2)
        if not _close(got, want, 1e-8):
            failures.append((shape, head, got, want, _numgrad_cause(got, x, w, eps)))
    if failures:
        shape, head, got, want, cause = failures[0]
        lines = [head + "the centred difference of this cubic is exactly "
                 "w * (3 x**2 + eps**2).",
                 f"  relative error {rel_error(got, want):.2e}", *_entries(got, want)]
        if cause:
            lines.append(f"  Probable cause: {cause}")
        right = [s for s in shapes if s not in [f[0] for f in failures]]
        if right:
            lines.append(f"  It is right for x of shape {', '.join(map(str, right))} only: loop "
                         "over every entry of x whatever its shape (e.g. with "
                         "np.ndindex(x.shape)), perturbing one entry at a time.")
        raise AssertionError("\n".join(lines))

    # A smooth function that couples the entries, at the default step.
    x = rng.uniform(-1.0, 1.0, (3, 2))
    w = rng.standard_normal((3, 2))
    head, got = _numgrad_call(fn, lambda z: float(np.sum(w * np.sin(z)) + 0.5 * np.sum(z) ** 2),
                              x, None, "f(x) = sum(w * sin(x)) + sum(x)**2 / 2, default eps")
    want = w * np.cos(x) + np.sum(x)
    if not _close(got, want, 1e-6):
        raise AssertionError("\n".join([head + "compared with the exact gradient "
                                        "w * cos(x) + sum(x):",
                                        f"  relative error {rel_error(got, want):.2e}",
                                        *_entries(got, want)]))

    # f reads x from a closure: only an in-place perturbation reaches it.
    x = rng.uniform(-1.0, 1.0, (2, 3))
    w = rng.uniform(0.5, 1.5, (2, 3))
    head, got = _numgrad_call(fn, lambda _: float(np.sum(w * x ** 3)), x, 1e-5,
                              "f ignores its argument and reads x from a closure, eps = 1e-05")
    want = 3 * w * x ** 2
    if not _close(got, want, 1e-6):
        raise AssertionError("\n".join([
            head + "f here reads x through a closure (as numerical_gradient_params does), so it "
            "sees a perturbation only when x itself is perturbed, in place, and restored "
            "afterwards; perturbing a copy of x leaves f unchanged.",
            f"  relative error {rel_error(got, want):.2e}", *_entries(got, want)]))
