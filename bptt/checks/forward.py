r"""Checks of the forward pass: ``rnn_step_forward`` and ``rnn_forward`` (homework 1).

Each draws RNN problems of several sizes (:func:`bptt.checks._rnn.draw_rnn`),
compares the student's outputs with the package's and, when they differ,
with what each common mistake of the forward pass gives.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..rnn import rnn_step_forward as _ref_rnn_step_forward
from ._compare import TOL, array_problem, as64, values_report
from ._harness import Call, Check, Failure, Problem, call_failure, wrong
from ._rnn import LETTERS, PATTERNS, Sizes, draw_rnn, rnn_exception_hint

__all__ = ["check_rnn_step_forward", "check_rnn_forward"]

def _forward_variant(params, x, h0, *, w_hh="T", w_xh="T", bias=True, act="tanh", use_h0=True,
                     x_shift=0, last_step=True, y_from=0, b_y=True, one_state=None) -> dict:
    """The forward pass with one common mistake switched on by a keyword (float64).

    ``one_state`` = "h" stores the last state at every step 1..T (one array
    overwritten in place and stored T times); "h, y" computes y from those;
    "h0 too" stores it as h0 as well.
    """
    p = {k: as64(v) for k, v in params.items()}
    x, h0 = as64(x), as64(h0)
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
    y = h[1 + y_from:T + 1 + y_from] @ p["W_hy"].T + (p["b_y"] if b_y else 0.0)
    if one_state:
        h[0 if one_state == "h0 too" else 1:] = h[T]
        y = y if one_state == "h" else h[1:] @ p["W_hy"].T + p["b_y"]
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
        one = ("every stored state is the same array: the states all equal h_T, the last one. "
               "What is stored at each step is a reference to one array that every step "
               "overwrites in place (h_t[:] = ..., np.tanh(a, out=h_t), h_t *= ...): make each "
               "step's state a new array (h_t = np.tanh(a)), or write it into h[t] itself.")
        knobs += [(dict(one_state=kind), one) for kind in ("h", "h, y", "h0 too")]
    return [(cause, _forward_variant(params, x, h0, **kw)) for kw, cause in knobs]


# --------------------------------------------------------------------------
# rnn_step_forward
# --------------------------------------------------------------------------

_STEP_SIZES = [Sizes(1, 3, 2, 5, 2), Sizes(1, 1, 4, 3, 2), Sizes(1, 2, 3, 3, 2),
               Sizes(1, 4, 5, 2, 3), Sizes(1, 2, 3, 4, 2, dtype=np.float32)]


def draw_step_forward(seed) -> list[Problem]:
    """(a) One step from h_prev = h0 with input x_t = x[0], for every size."""
    problems = []
    for i, sz in enumerate(_STEP_SIZES):
        prob = draw_rnn(sz, (seed, 1, i))
        params, x_t, h_prev = prob["params"], prob["x"][0], prob["h0"]
        problems.append(Problem(
            sz.label("BDH"), {"params": params, "x_t": x_t, "h_prev": h_prev}, case=sz,
            facts={"prob": prob, "want": {"h_t": _ref_rnn_step_forward(params, x_t, h_prev)}}))
    return problems


def judge_step_forward(problem: Problem, result: Call) -> Failure | None:
    """(c) h_t against the package's; the mistakes of one step."""
    name, sz, prob = "rnn_step_forward", problem.case, problem.facts["prob"]
    failure = call_failure(name, problem, result, rnn_exception_hint, outputs="h_t")
    if failure:
        return failure
    text = array_problem("h_t", result.output, sz.shape("h_t"), np.dtype(sz.dtype),
                         letters=LETTERS)
    if text:
        return wrong(name, problem, "the returned " + text)
    return values_report(
        ["h_t"], {"h_t": result.output}, problem.facts["want"], TOL[np.dtype(sz.dtype)],
        lambda: _forward_mistakes(prob["params"], prob["x"][:1], prob["h0"], step=True),
        letters=LETTERS)


STEP_FORWARD = Check("rnn_step_forward", draw_step_forward, judge_step_forward, PATTERNS[1:3])


def check_rnn_step_forward(fn: Callable, *, seed: int = 0, full: bool = False) -> None:
    r"""Check an implementation of :func:`bptt.rnn.rnn_step_forward`.

    Parameters
    ----------
    fn : callable
        ``fn(params, x_t, h_prev) -> h_t`` with ``x_t (B, D)``, ``h_prev (B, H)``
        and ``h_t (B, H)``, :math:`h_t = \tanh(W_{hh} h_{t-1} + W_{xh} x_t + b_h)`.
    seed : int
        Seed of the random problems (the check is deterministic for a seed).
    full : bool
        Show the whole report, not only its first dozen lines.

    Raises
    ------
    AssertionError
        When ``fn`` is wrong, raises, modifies its inputs, keeps state between
        calls or changes the dtype, with a message naming the sizes ``(B, D, H)``, the error, a few
        entries and the probable cause. Recognised: ``W_hh`` untransposed,
        ``h_prev`` or ``x_t`` ignored, ``b_h`` missing, tanh missing or
        replaced, ``W_xh`` untransposed (when ``D == H``), ``*`` in place of
        ``@`` (a broadcast error), the result kept in a buffer between calls.
    """
    __tracebackhide__ = True
    STEP_FORWARD.run(fn, seed, full)


# --------------------------------------------------------------------------
# rnn_forward
# --------------------------------------------------------------------------

_FORWARD_SIZES = [Sizes(4, 3, 2, 5, 6), Sizes(1, 1, 2, 3, 4), Sizes(6, 2, 3, 3, 2),
                  Sizes(5, 1, 4, 2, 3, h0="none"), Sizes(3, 2, 3, 4, 1, h0="zero"),
                  Sizes(3, 2, 3, 4, 2, dtype=np.float32)]


def draw_forward(seed) -> list[Problem]:
    """(a) A sequence for every size; h0 is left out when ``sz.h0`` is "none"."""
    problems = []
    for i, sz in enumerate(_FORWARD_SIZES):
        prob = draw_rnn(sz, (seed, 2, i))
        args = {"params": prob["params"], "x": prob["x"]}
        if sz.h0 != "none":
            args["h0"] = prob["h0"]
        problems.append(Problem(sz.label(), args, case=sz,
                                facts={"prob": prob, "want": {"y": prob["y"], "h": prob["h"]}}))
    return problems


def _forward_shape_hint(key, shape, sz: Sizes) -> str:
    T, B, H, O = sz.T, sz.B, sz.H, sz.O
    if key == "h" and shape == (T, B, H):
        return ("h has T entries, but it must start with h0: h[0] = h0, then h_1, ..., h_T, "
                "shape (T+1, B, H).")
    if key == "y" and shape == (T + 1, B, O):
        return ("y has T+1 entries: there is an output y_t for t = 1, ..., T only, none for "
                "h0.")
    return ""


def judge_forward(problem: Problem, result: Call) -> Failure | None:
    """(c) The pair (y, h): its form, then its values step by step; the forward mistakes."""
    name, sz, prob = "rnn_forward", problem.case, problem.facts["prob"]
    failure = call_failure(name, problem, result, rnn_exception_hint, outputs=("y", "h"))
    if failure:
        return failure
    out = result.output
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        got_type = (f"a {type(out).__name__} of length {len(out)}"
                    if isinstance(out, (tuple, list)) else type(out).__name__)
        return wrong(name, problem, f"it must return the pair (y, h), got {got_type}.")
    got = {"y": out[0], "h": out[1]}
    if (all(isinstance(v, np.ndarray) for v in out) and out[0].shape == sz.shape("h")
            and out[1].shape == sz.shape("y")):
        return wrong(name, problem, "it returns (h, y); the order is (y, h).")
    for key in ("h", "y"):
        text = array_problem(key, got[key], sz.shape(key), np.dtype(sz.dtype),
                             lambda k, s: _forward_shape_hint(k, s, sz), LETTERS)
        if text:
            return wrong(name, problem, "the returned " + text)
    return values_report(["h", "y"], got, problem.facts["want"], TOL[np.dtype(sz.dtype)],
                         lambda: _forward_mistakes(prob["params"], prob["x"], prob["h0"],
                                                   step=False),
                         letters=LETTERS, time_keys=("h", "y"))


FORWARD = Check("rnn_forward", draw_forward, judge_forward, PATTERNS)


def check_rnn_forward(fn: Callable, *, seed: int = 0, full: bool = False) -> None:
    r"""Check an implementation of :func:`bptt.rnn.rnn_forward`.

    Parameters
    ----------
    fn : callable
        ``fn(params, x, h0=None) -> (y, h)`` with ``x (T, B, D)``,
        ``h0 (B, H)`` or None (zeros), ``y (T, B, O)`` and ``h (T+1, B, H)``,
        ``h[0] = h0``.
    seed : int
        Seed of the random problems (the check is deterministic for a seed).
    full : bool
        Show the whole report, not only its first dozen lines.

    Raises
    ------
    AssertionError
        When ``fn`` is wrong, raises, modifies its inputs, keeps state between
        calls or changes the dtype.
        The message names the sizes ``(T, B, D, H, O)``, the wrong output and
        the steps where it goes wrong (``h[t]``), a few entries and the probable
        cause. Recognised: ``W_hh`` untransposed, ``h0`` ignored, ``b_h`` or
        ``b_y`` missing, tanh missing or replaced, ``h`` without ``h0`` (T
        entries instead of T+1), the last step not computed, ``y_t`` computed
        from ``h_{t-1}``, ``x`` paired with the wrong step, every stored state
        one array overwritten in place.
    """
    __tracebackhide__ = True
    FORWARD.run(fn, seed, full)
