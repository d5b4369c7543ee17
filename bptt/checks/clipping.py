r"""Checks of gradient clipping: ``clip_grad_norm`` and ``clip_grad_value`` (homework 3).

The gradients are those of an RNN's backward pass: the five parameters, plus
``x`` and ``h0``, made large on purpose, which must be copied unchanged
(neither measured nor clipped). Each check draws thresholds that clip and
ones that do not, and compares the result with the package's and with what
each common mistake of clipping gives.

Clipping is compared with a relative tolerance of ``1e-5``: torch's rule
adds ``1e-6`` to the norm before dividing, and leaving it out changes the
result by a relative ``1e-6 / ||g||`` only, which is accepted.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from ..clip import clip_grad_norm as _ref_clip_grad_norm
from ..clip import clip_grad_value as _ref_clip_grad_value
from ..clip import grad_norm as _ref_grad_norm
from ..rnn import PARAM_KEYS
from ._compare import Mistake, array_problem, as64, values_report
from ._harness import Call, Check, Failure, Problem, call_failure, wrong
from ._rnn import GRAD_KEYS, LETTERS, Sizes

__all__ = ["check_clip_grad_norm", "check_clip_grad_value"]

#: Relative tolerance of the clipping checks (wide enough to accept a missing 1e-6).
CLIP_TOL = 1e-5


@dataclass(frozen=True)
class ClipCase:
    """A clipping problem: the sizes of its gradients, the threshold, and whether it bites."""

    sz: Sizes
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


_CLIP_PATTERNS = (
    (lambda case: not case.clips, "It is right only when there is nothing to clip: the "
     "clipping itself is wrong."),
    (lambda case: case.clips, "It is right only when something must be clipped: when nothing "
     "must be, the gradients come back unchanged (as new arrays)."),
)


def draw_grads(sz: Sizes, seed, explode: float) -> dict:
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
    """Why ``clipped`` is not a dict of arrays shaped like ``grads``, or None.

    That it is a new dict of new arrays is checked by
    :func:`bptt.checks._harness.call_failure`, as for every output.
    """
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
        text = array_problem(k, clipped[k], grads[k].shape, dtype, letters=LETTERS)
        if text:
            return text
    return None


# --------------------------------------------------------------------------
# clip_grad_norm
# --------------------------------------------------------------------------

def _norm_of(g: dict, keys) -> float:
    return float(np.sqrt(sum(np.sum(as64(g[k]) ** 2) for k in keys)))


def _clip_norm_mistakes(grads: dict, c: float) -> list:
    """(cause, outputs) for the common mistakes of clipping by norm."""
    total = _norm_of(grads, PARAM_KEYS)
    every = _norm_of(grads, grads)

    def scaled(s, keys=PARAM_KEYS, reported=total):
        out = {k: as64(v) * (s if k in keys else 1.0) for k, v in grads.items()}
        out["total_norm"] = reported
        return out

    torch_scale = min(1.0, c / (total + 1e-6))
    per_key = {k: as64(v) * (min(1.0, c / np.linalg.norm(v)) if k in PARAM_KEYS else 1.0)
               for k, v in grads.items()}
    per_key["total_norm"] = total
    value = {k: (np.clip(as64(v), -c, c) if k in PARAM_KEYS else as64(v))
             for k, v in grads.items()}
    value["total_norm"] = total
    sq = sum(float(np.sum(as64(grads[k]) ** 2)) for k in PARAM_KEYS)
    spectral = [float(np.linalg.norm(as64(grads[k]), 2)) for k in PARAM_KEYS]
    why_spectral = ("the norm of a matrix is taken with ord=2, its spectral norm (its largest "
                    "singular value): clipping measures each array by its Frobenius norm, the "
                    "square root of the sum of its squared entries (np.linalg.norm(g) with no "
                    "ord), so that the norm is that of all the entries laid end to end.")
    s2 = float(np.sqrt(np.sum(np.square(spectral))))
    return [
        Mistake(why_spectral, scaled(min(1.0, c / (s2 + 1e-6)), reported=s2), "spectral"),
        Mistake(why_spectral, scaled(min(1.0, c / (sum(spectral) + 1e-6)),
                                     reported=sum(spectral)), "spectral"),
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
         scaled(min(1.0, c / (s := sum(np.linalg.norm(as64(grads[k])) for k in PARAM_KEYS))),
                reported=float(s))),
    ] + ([("it clamps each entry to [-max_norm, max_norm]: that is clipping by value; "
           "clipping by norm scales all entries by one common factor.", value)]
         if any(np.max(np.abs(grads[k])) > c for k in PARAM_KEYS) else [])


_CLIP_SIZES = [(Sizes(4, 3, 3, 5, 2), 0.3, 1.0), (Sizes(1, 1, 2, 3, 4), 1.2, 1.0),
               (Sizes(3, 2, 4, 2, 3), 0.05, 100.0), (Sizes(2, 2, 3, 4, 2, dtype=np.float32),
                                                     0.5, 1.0)]


def draw_clip_grad_norm(seed) -> list[Problem]:
    """(a) Gradients and thresholds, as ratios of their norm: clipping and not, float32 too."""
    problems = []
    for i, (sz, ratio, explode) in enumerate(_CLIP_SIZES):
        grads = draw_grads(sz, (seed, 4, i), explode)
        c = float(ratio * _ref_grad_norm(grads))
        ref_clipped, ref_total = _ref_clip_grad_norm(grads, c)
        case = ClipCase(sz, "max_norm", c, ref_total > c)
        problems.append(Problem(
            case.label(), {"grads": grads, "max_norm": c}, case=case,
            context=f"{case.label()}, the norm of the parameter gradients is {ref_total:.6g}",
            facts={"want": {**ref_clipped, "total_norm": ref_total}}))
    return problems


def judge_clip_grad_norm(problem: Problem, result: Call) -> Failure | None:
    """(c) A pair (new dict of new arrays, norm before clipping); the clipping mistakes."""
    name, case = "clip_grad_norm", problem.case
    grads, c, want = problem.args["grads"], problem.args["max_norm"], problem.facts["want"]
    failure = call_failure(name, problem, result, outputs=("clipped", "total_norm"))
    if failure:
        return failure
    out = result.output
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        return wrong(name, problem, "it must return the pair (clipped, total_norm), got "
                     f"{type(out).__name__}.")
    clipped, total = out
    text = _clip_output_problem(clipped, grads, np.dtype(case.sz.dtype))
    if text is None and (isinstance(total, (bool, np.bool_)) or np.ndim(total) != 0
                         or not np.isreal(total) or not np.isfinite(total)):
        text = f"total_norm must be a finite real number, got {total!r}."
    if text:
        return wrong(name, problem, text)
    got = {**clipped, "total_norm": float(total)}
    return values_report(["total_norm", *grads], got, want, CLIP_TOL,
                         lambda: _clip_norm_mistakes(grads, c), letters=LETTERS,
                         notes=(f"  the norm of the parameter gradients is "
                                f"{want['total_norm']:.6g}",))


CLIP_GRAD_NORM = Check("clip_grad_norm", draw_clip_grad_norm, judge_clip_grad_norm,
                       _CLIP_PATTERNS)


def check_clip_grad_norm(fn: Callable, *, seed: int = 0, full: bool = False) -> None:
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
    full : bool
        Show the whole report, not only its first dozen lines.

    Raises
    ------
    AssertionError
        When ``fn`` is wrong, raises, modifies ``grads``, returns arrays that
        share memory with ``grads``, keeps state between calls or does not
        keep the dtype. Recognised: no clipping, scaling below the threshold,
        an inverted scale, ``x``/``h0`` in the norm or clipped, the norm after
        clipping returned, each array clipped on its own, a squared norm or a
        sum of norms, the spectral norm of a matrix (``ord=2``) instead of its
        Frobenius norm, clipping by value.

    Notes
    -----
    Results within a relative ``1e-5`` of torch's rule are accepted, so
    leaving out the ``1e-6`` (a relative change of ``1e-6/||g||``) passes.
    """
    __tracebackhide__ = True
    CLIP_GRAD_NORM.run(fn, seed, full)


# --------------------------------------------------------------------------
# clip_grad_value
# --------------------------------------------------------------------------

def _clip_value_mistakes(grads: dict, c: float) -> list:
    """(cause, outputs) for the common mistakes of clipping by value."""
    def apply(f, keys=PARAM_KEYS):
        return {k: (f(as64(v)) if k in keys else as64(v)) for k, v in grads.items()}

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



_VALUE_CASES = [(Sizes(4, 3, 3, 5, 2), 0.5), (Sizes(1, 1, 2, 3, 4), 1.0),
                (Sizes(3, 2, 4, 2, 3), 100.0), (Sizes(2, 2, 3, 4, 2, dtype=np.float32), 0.7)]


def draw_clip_grad_value(seed) -> list[Problem]:
    """(a) Gradients and thresholds, some above every entry (nothing to clip), float32 too."""
    problems = []
    for i, (sz, c) in enumerate(_VALUE_CASES):
        grads = draw_grads(sz, (seed, 5, i), 1.0)
        above = bool(max(np.max(np.abs(grads[k])) for k in PARAM_KEYS) > c)
        case = ClipCase(sz, "clip_value", c, above)
        problems.append(Problem(case.label(), {"grads": grads, "clip_value": c}, case=case,
                                facts={"want": _ref_clip_grad_value(grads, c)}))
    return problems


def judge_clip_grad_value(problem: Problem, result: Call) -> Failure | None:
    """(c) A new dict of new arrays, each parameter gradient clamped; the mistakes."""
    name = "clip_grad_value"
    grads, c = problem.args["grads"], problem.args["clip_value"]
    failure = call_failure(name, problem, result, outputs="clipped")
    if failure:
        return failure
    text = _clip_output_problem(result.output, grads, np.dtype(problem.case.sz.dtype))
    if text:
        return wrong(name, problem, text)
    return values_report(list(grads), result.output, problem.facts["want"], CLIP_TOL,
                         lambda: _clip_value_mistakes(grads, c), letters=LETTERS)


CLIP_GRAD_VALUE = Check("clip_grad_value", draw_clip_grad_value, judge_clip_grad_value,
                        _CLIP_PATTERNS)


def check_clip_grad_value(fn: Callable, *, seed: int = 0, full: bool = False) -> None:
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
    full : bool
        Show the whole report, not only its first dozen lines.

    Raises
    ------
    AssertionError
        When ``fn`` is wrong, raises, modifies ``grads``, returns arrays that
        share memory with ``grads``, keeps state between calls or does not
        keep the dtype. Recognised: no clipping, one side only, the sign lost,
        clamping to ``[0, c]``, ``x``/``h0`` clipped, clipping by norm instead.
    """
    __tracebackhide__ = True
    CLIP_GRAD_VALUE.run(fn, seed, full)
