r"""Checks of finite differences: ``numerical_gradient`` and the homework's ``gradient_check``.

``check_numerical_gradient`` runs three stages: centred differences of cubics
(on which a right answer is known to rounding, so that forward differences,
a wrong step or a wrong divisor are told apart), then a smooth function at
the default step, then an ``f`` that reads ``x`` through a closure, which sees
the perturbation only when ``x`` itself is perturbed in place.
``check_gradient_check`` (homework 2) gives the student's gradient check the
package's backward pass, then three with a known bug.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..gradcheck import rel_error
from ..rnn import PARAM_KEYS
from ..rnn import rnn_backward as _ref_rnn_backward
from ._compare import array_problem, close, entries
from ._harness import Bound, Call, Check, Failure, Problem, call_failure, wrong
from ._rnn import Sizes, draw_rnn

__all__ = ["check_numerical_gradient", "check_gradient_check"]


# --------------------------------------------------------------------------
# numerical_gradient
# --------------------------------------------------------------------------

def _cubic(w):
    return lambda z: float(np.sum(w * z ** 3))


def _smooth(w):
    return lambda z: float(np.sum(w * np.sin(z)) + 0.5 * np.sum(z) ** 2)


def _cubic_of_given_x(w):
    """f ignores its argument and reads, through a closure, the x given to the function."""
    return Bound(lambda args: (lambda _: float(np.sum(w * args["x"] ** 3))))


def draw_numerical_gradient(seed) -> list[Problem]:
    """(a) Three cubics (eps = 0.1), a smooth function (default eps), a closure (eps = 1e-5)."""
    rng = np.random.default_rng((seed, 6))
    problems = []
    for shape in [(4,), (2, 3), (3, 2, 2)]:
        x = rng.uniform(-1.5, 1.5, shape)
        w = rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)
        problems.append(Problem(
            f"x of shape {shape}", {"f": _cubic(w), "x": x}, {"eps": 0.1}, case=shape,
            context=f"x of shape {shape}, f(x) = sum(w * x**3), eps = 0.1",
            facts={"stage": "cubic", "w": w, "want": w * (3 * x ** 2 + 0.1 ** 2)}))
    x = rng.uniform(-1.0, 1.0, (3, 2))
    w = rng.standard_normal((3, 2))
    problems.append(Problem(
        "x of shape (3, 2)", {"f": _smooth(w), "x": x}, case=(3, 2),
        context="x of shape (3, 2), f(x) = sum(w * sin(x)) + sum(x)**2 / 2, default eps",
        facts={"stage": "smooth", "want": w * np.cos(x) + np.sum(x)}))
    x = rng.uniform(-1.0, 1.0, (2, 3))
    w = rng.uniform(0.5, 1.5, (2, 3))
    problems.append(Problem(
        "x of shape (2, 3)", {"f": _cubic_of_given_x(w), "x": x}, {"eps": 1e-5}, case=(2, 3),
        context="x of shape (2, 3), f ignores its argument and reads x from a closure, "
                "eps = 1e-05",
        facts={"stage": "closure", "want": 3 * w * x ** 2}))
    return problems


def _numgrad_exception_hint(exc: Exception, line: str = "") -> str:
    if isinstance(exc, (IndexError, TypeError)):
        return ("loop over every index of x whatever its shape, e.g. for idx in "
                "np.ndindex(x.shape), and perturb x[idx].")
    return ""


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
        if close(got, v, 1e-8):
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
    if close(got, exact, 1e-8):
        return ("it is the exact derivative, not the centred difference with step eps (which "
                "is 3 x**2 + eps**2 on this cubic): compute the finite difference with eps.")
    return ""


def judge_numerical_gradient(problem: Problem, result: Call) -> Failure | None:
    """(c) x restored, the result shaped like x, then its values; the finite-difference mistakes."""
    name, facts = "numerical_gradient", problem.facts
    failure = call_failure(name, problem, result, _numgrad_exception_hint, check_args=False)
    if failure:
        return failure
    saved, x, got = problem.args["x"], result.args["x"], result.output
    if x.shape != saved.shape or not np.allclose(x, saved, rtol=1e-12, atol=1e-15):
        moved = (x.size if x.shape != saved.shape
                 else int(np.sum(~np.isclose(x, saved, rtol=1e-12, atol=1e-15))))
        return wrong(name, problem, f"x was not restored: after the call {moved} of its "
                     f"{saved.size} entries differ from before (e.g. expected "
                     f"{saved.ravel()[0]:.8g}, got {x.ravel()[0]:.8g} at the first entry). Put "
                     "each entry back to its old value after evaluating f(x + eps e_i) and "
                     "f(x - eps e_i); otherwise every later entry is differentiated at the "
                     "wrong point.")
    text = array_problem("the result", got, saved.shape, saved.dtype)
    if text:
        if isinstance(got, np.ndarray) and got.size == saved.size and got.shape != saved.shape:
            text += " Return an array shaped like x (np.zeros_like(x) to start with)."
        return wrong(name, problem, text)
    want = facts["want"]
    evidence = [f"  relative error {rel_error(got, want):.2e}", *entries(got, want)]
    if facts["stage"] == "cubic":
        if close(got, want, 1e-8):
            return None
        cause = _numgrad_cause(got, saved, facts["w"], problem.kwargs["eps"])
        return Failure(((f"  Probable cause: {cause}",) if cause else ())
                       + ("  the centred difference of f(x) = sum(w * x**3) with eps = 0.1 is "
                          "exactly w * (3 x**2 + eps**2).", *evidence), lead=1 if cause else 0)
    if close(got, want, 1e-6):
        return None
    if facts["stage"] == "smooth":
        head = "compared with the exact gradient w * cos(x) + sum(x):"
    else:
        head = ("f here reads x through a closure (as numerical_gradient_params does), so it "
                "sees a perturbation only when x itself is perturbed, in place, and restored "
                "afterwards; perturbing a copy of x leaves f unchanged.")
    return Failure((f"{name} is wrong for {problem.where}: {head}", *evidence), final=True)


#: The stages of check_numerical_gradient; each reports before the next runs.
NUMERICAL_GRADIENT = (
    Check("numerical_gradient", lambda seed: draw_numerical_gradient(seed)[:3],
          judge_numerical_gradient,
          ((lambda shape: len(shape) == 1, "It is right only for 1-D x: loop over every entry "
            "of x whatever its shape (e.g. with np.ndindex(x.shape)), perturbing one entry at "
            "a time."),)),
    Check("numerical_gradient", lambda seed: draw_numerical_gradient(seed)[3:4],
          judge_numerical_gradient),
    Check("numerical_gradient", lambda seed: draw_numerical_gradient(seed)[4:],
          judge_numerical_gradient),
)


def check_numerical_gradient(fn: Callable, *, seed: int = 0, full: bool = False) -> None:
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
    full : bool
        Show the whole report, not only its first dozen lines.

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
    __tracebackhide__ = True
    for stage in NUMERICAL_GRADIENT:
        stage.run(fn, seed, full)


# --------------------------------------------------------------------------
# gradient_check (homework 2)
# --------------------------------------------------------------------------

#: The bugs put into a backward pass, and how the messages name them.
_BUGS = {"W_hh": "a transposed W_hh gradient", "b_h": "a b_h gradient twice too big",
         "x": "an x gradient of zeros"}


def _broken(kind: str) -> Callable:
    """A backward pass with one known bug, to see that a gradient check catches it."""
    def backward(params, x, h, dy, truncate=None, *, return_dh=False):
        g = _ref_rnn_backward(params, x, h, dy)
        if kind == "W_hh":
            g["W_hh"] = g["W_hh"].T.copy()           # a transposed gradient
        elif kind == "b_h":
            g["b_h"] = 2.0 * g["b_h"]                # a factor 2 too many
        elif kind == "x":
            g["x"] = np.zeros_like(g["x"])           # the input gradient forgotten
        return g
    return backward


def draw_gradient_check(seed) -> list[Problem]:
    """(a) One RNN problem (dy serves as the target), checked with each backward pass."""
    sz = Sizes(3, 2, 3, 4, 2)
    prob = draw_rnn(sz, (seed, 8, 0))
    problems = []
    for kind in (None, *_BUGS):
        backward = _ref_rnn_backward if kind is None else _broken(kind)
        shown = "the package's rnn_backward" if kind is None else _BUGS[kind]
        args = {"backward": backward, "params": prob["params"], "x": prob["x"],
                "target": prob["dy"]}
        problems.append(Problem(f"{sz.label()}, backward with {shown}", args, {"eps": 1e-6},
                                facts={"kind": kind, "sz": sz}))
    return problems


def _factor_cause(errors: dict, keys, sz: Sizes) -> str:
    """Why every key has the same error, when it has: the two gradients differ by one factor."""
    e = [float(errors[k]) for k in keys]
    if not 0 < e[0] < 1 or max(e) - min(e) > 1e-4 * e[0]:
        return ""
    c = (1 + e[0]) / (1 - e[0])          # rel_error(g, c g) = (c - 1) / (c + 1) for c > 1
    counts = {"T": sz.T, "B": sz.B, "O": sz.O, "T*B": sz.T * sz.B, "T*O": sz.T * sz.O,
              "B*O": sz.B * sz.O, "T*B*O": sz.T * sz.B * sz.O, "2": 2}
    names = [name for name, n in counts.items() if abs(c - n) <= 1e-3 * n]
    named = f" (= {' or '.join(names)} here)" if names else ""
    return (f"every key has the same relative error {e[0]:.3g}, which is what one constant "
            f"factor {c:.4g}{named} between the two gradients gives: the loss it takes finite "
            "differences of is scaled differently from the loss whose dy it gives backward. "
            "mse_loss(y, target) is the mean over all T*B*O entries of y, and its dy is the "
            "gradient of that mean; a sum instead of a mean over an axis (time, say) "
            "multiplies one of the two gradients by the length of that axis.")


def judge_gradient_check(problem: Problem, result: Call) -> Failure | None:
    """(c) Tiny errors for the right backward; a large one, on its key only, for a bug."""
    name, kind = "gradient_check", problem.facts["kind"]
    failure = call_failure(name, problem, result)
    if failure:
        return failure
    keys, errors = (*PARAM_KEYS, "x"), result.output
    if not isinstance(errors, dict) or not set(keys) <= set(errors):
        got = list(errors) if isinstance(errors, dict) else type(errors).__name__
        return Failure((f"gradient_check must return a dict with the keys {list(keys)}, "
                        f"got {got}.",), True)
    if kind is None:
        bad = {k: float(errors[k]) for k in keys if not float(errors[k]) < 1e-6}
        if bad:
            return Failure(("gradient_check rejects the package's correct rnn_backward: "
                            + (_factor_cause(errors, keys, problem.facts["sz"]) or
                               "is the loss the mean squared error of rnn_forward's y, is each "
                               "entry perturbed by +eps and -eps, and is the difference "
                               "divided by 2 eps?"),
                            f"  relative errors {bad} (a correct check gives below 1e-6)"), True)
        return None
    if not float(errors[kind]) > 1e-3:
        return Failure((f"gradient_check does not catch {_BUGS[kind]}: it reports a relative "
                        f"error of {float(errors[kind]):.2e} for {kind!r} (expected well above "
                        "1e-3). Does it compare backward's gradient, not one computed some "
                        "other way?",), True)
    others = {k: float(errors[k]) for k in keys if k != kind and not float(errors[k]) < 1e-6}
    if others:
        return Failure((f"with only {kind!r} wrong ({_BUGS[kind]}), gradient_check also "
                        f"reports errors {others} for other keys.",), True)
    return None


GRADIENT_CHECK = Check("gradient_check", draw_gradient_check, judge_gradient_check)


def check_gradient_check(fn: Callable, *, seed: int = 0, full: bool = False) -> None:
    r"""Check a finite-difference check ``fn(backward, params, x, target, eps=1e-6) -> errors``.

    Parameters
    ----------
    fn : callable
        Compares the gradients that ``backward`` (a function with
        ``rnn_backward``'s signature) returns for the mean squared error
        ``mse_loss(rnn_forward(params, x)[0], target)`` with centred
        differences of that loss, and returns a dict of relative errors
        (:func:`bptt.gradcheck.rel_error`) for the keys ``W_xh``, ``W_hh``,
        ``b_h``, ``W_hy``, ``b_y`` and ``x``. ``params`` and ``x`` must be left
        as they were.
    seed : int, keyword-only
        Seed of the random problem (the check is deterministic for a seed).
    full : bool, keyword-only
        Show the whole report, not only its first dozen lines.

    Raises
    ------
    AssertionError
        When the correct backward pass is not accepted (an error above 1e-6),
        or when a backward pass with a known bug (a transposed ``W_hh``
        gradient, a ``b_h`` gradient twice too big, a zero ``x`` gradient) is
        not caught on the right key (an error below 1e-3) or is blamed on
        another key.
    """
    __tracebackhide__ = True
    GRADIENT_CHECK.run(fn, seed, full)
