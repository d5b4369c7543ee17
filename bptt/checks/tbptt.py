r"""Checks of truncated BPTT on a stream: ``tbptt_gradients``, Williams and Peng's BPTT(k2; k1) (HW6).

The vanilla RNN runs forward once over the whole stream, its state carried
from ``h0``, the parameters held fixed. Every k1 steps, at t = k1, 2 k1, ...,
and at T when T is not a multiple of k1, comes an *update*: the gradient of
the losses of the steps since the previous update, backpropagated through at
most k2 steps, the state detached at :math:`h_{t_j - k2}` (at ``h0`` when
:math:`t_j - k2 \le 0`). ``fn`` returns one dict of the five parameters'
gradients per update.

On a wrong result the judge computes what each common mistake gives
(:func:`tbptt_variant`, written window by window in float64 on the package's
forward and backward passes) and names the one whose numbers ``fn``'s match:
the state not carried (each window's forward pass restarted from zeros or
from ``h0``), the gradient not cut (every update backpropagated to ``h0``),
the losses of the wrong steps (every step of the window, its first k1 steps,
the last step only, the last k1 steps for a partial last chunk), k1 and k2
swapped, k2 ignored, the window one step too long or too short, the last
partial chunk dropped, the chunks counted from the end of the stream. A list
of the wrong length is judged at once, with the mistake whose number of
updates (and numbers) it has.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Callable, Mapping

import numpy as np

from ..rnn import PARAM_KEYS
from ..rnn import rnn_backward as _rnn_backward
from ..rnn import rnn_forward as _rnn_forward
from ..tbptt import tbptt_gradients as _ref_tbptt_gradients
from ._compare import TOL, Mistake, array_problem, as64, close, values_report
from ._harness import Call, Check, Failure, Problem, call_failure, check_fn
from ._rnn import LETTERS, Sizes, draw_rnn, rnn_exception_hint

__all__ = ["check_tbptt_gradients"]


# --------------------------------------------------------------------------
# The updates, and BPTT(k2; k1) with one mistake switched on
# --------------------------------------------------------------------------

def update_times(T: int, k1: int, *, last: bool = True, from_end: bool = False) -> list[int]:
    """The t_j of the updates: k1, 2 k1, ..., and T when T is not a multiple of k1.

    ``last=False`` drops the partial last chunk; ``from_end`` counts the
    chunks back from T (T - k1, T - 2 k1, ... above 0, then T), as a
    mistake does.
    """
    if from_end:
        return sorted(range(T, 0, -k1))
    times = list(range(k1, T + 1, k1))
    if last and T % k1:
        times.append(T)
    return times


def tbptt_variant(params, x, dy, k1, k2, h0=None, *, last=True, from_end=False, cut=True,
                  lag=0, losses="since", state="carried") -> list[dict]:
    """BPTT(k2; k1) in float64, window by window, with one common mistake switched on.

    With every keyword at its default it is the right result. Update j at
    t_j backpropagates through steps a+1 .. t_j, a = max(0, t_j - k2 + lag)
    (a = 0 when not ``cut``), the losses of ``losses``: "since" the previous
    update (right), the whole "window", its "first" k1 steps, the "last"
    step only, or the last k1 steps ("chunk"). The window's forward pass
    starts from the state h_a of the one forward pass ("carried"), or again
    from "zeros" or from "h0".
    """
    p = {k: as64(v) for k, v in params.items()}
    x, dy = as64(x), as64(dy)
    T, B = x.shape[:2]
    H = p["W_hh"].shape[0]
    h0 = np.zeros((B, H)) if h0 is None else as64(h0)
    h = _rnn_forward(p, x, h0)[1]
    out, previous = [], 0
    for t in update_times(T, k1, last=last, from_end=from_end):
        a = max(0, t - k2 + lag) if cut else 0
        a = min(a, t - 1)
        start = {"carried": h[a], "zeros": np.zeros((B, H)), "h0": h0}[state]
        hw = h[a:t + 1] if state == "carried" else _rnn_forward(p, x[a:t], start)[1]
        first = {"since": previous, "window": a, "first": a, "last": t - 1,
                 "chunk": max(a, t - k1)}[losses]
        end = min(t, a + k1) if losses == "first" else t
        dyw = np.zeros_like(dy[a:t])
        lo = max(first, a)
        dyw[lo - a:end - a] = dy[lo:end]
        grads = _rnn_backward(p, x[a:t], hw, dyw)
        out.append({k: grads[k] for k in PARAM_KEYS})
        previous = t
    return out


def describe_updates(T: int, k1: int, k2: int) -> list[str]:
    """What each update of BPTT(k2; k1) holds, one line an update."""
    lines, previous = [], 0
    for j, t in enumerate(update_times(T, k1)):
        a = max(0, t - k2)
        steps = f"{previous + 1}..{t}" if t > previous + 1 else f"{t}"
        lines.append(f"      update {j} at t = {t}: the losses of steps {steps}, back through "
                     f"steps {t}..{a + 1} (h_{a} {'= h0, ' if a == 0 else ''}detached)")
        previous = t
    return lines


# --------------------------------------------------------------------------
# (a) The problems
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """One problem's sizes, k1 and k2."""

    sz: Sizes
    k1: int
    k2: int

    def label(self) -> str:
        text = self.sz.label()
        cut = text.index(")", text.index("= (")) + 1
        return f"{text[:cut]}, k1 = {self.k1}, k2 = {self.k2}{text[cut:]}"

    def short(self) -> str:
        h0 = {"random": "", "zero": ", h0 = 0", "none": ", h0=None"}[self.sz.h0]
        dtype = "" if np.dtype(self.sz.dtype) == np.float64 else f", {np.dtype(self.sz.dtype)}"
        return f"T = {self.sz.T}, k1 = {self.k1}, k2 = {self.k2}{h0}{dtype}"


#: T a multiple of k1 and not, k1 = k2, k1 = 1, k2 >= T, k2 > k1, T < k1, h0 given or not.
_CASES = [Case(Sizes(6, 2, 3, 4, 2), 2, 4), Case(Sizes(7, 1, 2, 3, 4), 3, 5),
          Case(Sizes(6, 2, 2, 3, 2, h0="none"), 3, 3), Case(Sizes(5, 3, 3, 2, 1), 1, 2),
          Case(Sizes(4, 2, 3, 4, 3, h0="zero"), 2, 6), Case(Sizes(8, 2, 4, 3, 2), 3, 4),
          Case(Sizes(3, 1, 2, 3, 2), 4, 4)]
_FLOAT32 = Case(Sizes(5, 2, 3, 4, 2, dtype=np.float32), 2, 3)


def _problem(case: Case, seed) -> Problem:
    prob = draw_rnn(case.sz, seed)
    args = {"params": prob["params"], "x": prob["x"], "dy": prob["dy"], "k1": case.k1,
            "k2": case.k2}
    if case.sz.h0 != "none":
        args["h0"] = prob["h0"]
    want = _ref_tbptt_gradients(*args.values())
    facts = {"case": case, "want": want, "h0": None if case.sz.h0 == "none" else prob["h0"]}
    return Problem(case.label(), args, case=case, facts=facts)


def draw_tbptt(seed) -> list[Problem]:
    """(a) Seven float64 problems (see ``_CASES``)."""
    return [_problem(case, (seed, 61, i)) for i, case in enumerate(_CASES)]


def draw_tbptt_float32(seed) -> list[Problem]:
    """(a) One float32 problem."""
    return [_problem(_FLOAT32, (seed, 61, len(_CASES)))]


# --------------------------------------------------------------------------
# (c) Judging the list of updates
# --------------------------------------------------------------------------

_SINCE = ("only the losses of the steps since the previous update, t_{j-1}+1 .. t_j, count at "
          "update j (each loss counts once over the stream); the steps of the window before "
          "them are backpropagated through, not counted")


def _mistakes(case: Case) -> list:
    """(keywords, cause, key) of each common mistake, worded for this problem."""
    k1, k2, T = case.k1, case.k2, case.sz.T
    detach = (f"update j detaches the state at h_{{t_j - k2}} = h_{{t_j - {k2}}} (at h0 when "
              f"t_j <= {k2})")
    return [
        (dict(state="zeros"), "the state is not carried: each window's forward pass starts "
         "again from zeros. The stream runs forward once, its state carried from h0 across "
         "every update; the window of update j starts from that state, h_{t_j - k2}, which is "
         "detached (no gradient flows into it) but not reset.", "state"),
        (dict(state="h0"), "the state is not carried: each window's forward pass starts again "
         "from h0. The stream runs forward once, its state carried across every update; the "
         "window of update j starts from h_{t_j - k2} of that one pass, detached but not "
         "reset.", "state"),
        (dict(cut=False), f"the gradient is not cut at the window's start: every update "
         f"backpropagates all the way to h0. {detach}: at most k2 = {k2} steps back.", "cut"),
        (dict(losses="window"), f"the losses of the wrong steps: each update counts the loss of "
         f"every step of its window, so the steps shared with the previous window count twice; "
         f"{_SINCE}.", "losses"),
        (dict(losses="first"), f"the losses of the wrong steps: each update counts the first "
         f"k1 = {k1} steps of its window, t_j - k2 + 1 .., instead of its last ones; {_SINCE}.",
         "losses"),
        (dict(losses="last"), f"the losses of the wrong steps: each update counts the loss of "
         f"step t_j only; {_SINCE}.", "losses"),
        (dict(losses="chunk"), f"the losses of the wrong steps: the last update, at t = T = "
         f"{T}, counts the last k1 = {k1} steps, some of them counted already at the previous "
         f"update; {_SINCE}.", "losses"),
        (dict(k1=k2, k2=k1), f"k1 and k2 are swapped: k1 = {k1} is how often an update comes "
         f"(every k1 steps), k2 = {k2} how far back it reaches.", "swap"),
        (dict(k2=k1), f"k2 is ignored: each update backpropagates through its own k1 = {k1} "
         f"steps only (BPTT(k1; k1)). {detach}.", "k2"),
        (dict(lag=1), f"the window is one step too short: {detach}, then backpropagates "
         f"through k2 = {k2} steps, t_j .. t_j - k2 + 1 (h[t] is h_t, h[0] = h0).", "late"),
        (dict(lag=-1), f"the window is one step too long: {detach}, then backpropagates "
         f"through k2 = {k2} steps, t_j .. t_j - k2 + 1 (h[t] is h_t, h[0] = h0).", "early"),
        (dict(last=False), f"the last partial chunk is dropped: when T = {T} is not a multiple "
         f"of k1 = {k1}, a last update at t = T holds the losses of the steps after the last "
         "multiple of k1.", "last"),
        (dict(from_end=True), f"the chunks are counted from the end of the stream: the updates "
         f"come at t = k1, 2 k1, ... = {k1}, {2 * k1}, ... from the start (as the stream "
         f"arrives), and the partial chunk, if any, is the last one, at t = T.", "end"),
    ]


def _variants(prob_args: dict, case: Case) -> list[tuple[str, str, list]]:
    """(cause, key, outputs) of every mistake that changes something on this problem."""
    base = {"params": prob_args["params"], "x": prob_args["x"], "dy": prob_args["dy"],
            "k1": case.k1, "k2": case.k2, "h0": prob_args.get("h0")}
    out = []
    for kw, cause, key in _mistakes(case):
        args = {**base, **{k: v for k, v in kw.items() if k in ("k1", "k2")}}
        rest = {k: v for k, v in kw.items() if k not in ("k1", "k2")}
        out.append((cause, key, tbptt_variant(*args.values(), **rest)))
    return out


def _flat(updates) -> dict:
    return {f"grads[{j}][{k!r}]": u[k] for j, u in enumerate(updates) for k in PARAM_KEYS}


def _same(got: list, want: list, tol: float) -> bool:
    return len(got) == len(want) and all(close(g[k], w[k], tol) for g, w in zip(got, want)
                                         for k in PARAM_KEYS)


def _count_failure(case: Case, got: list, want: list, variants, tol) -> Failure:
    """A list of the wrong length: the mistakes with as many updates, numbers first."""
    n, T, k1 = len(want), case.sz.T, case.k1
    times = ", ".join(map(str, update_times(T, k1)))
    causes = [cause for cause, _, v in variants if len(v) == len(got) and _same(got, v, tol)]
    causes = causes or [cause for cause, _, v in variants if len(v) == len(got)]
    if not causes and len(got) == T and k1 > 1:
        causes = ["an update at every step: updates come every k1 steps only, at t = k1, "
                  "2 k1, ... and T."]
    lead = [f"  Probable cause: {c}" for c in dict.fromkeys(causes)]
    return Failure((f"tbptt_gradients is wrong for {case.label()}:", *lead,
                    f"  it returned {len(got)} dicts, one per update; there are {n}: updates come "
                    f"at t = k1, 2 k1, ..., and at t = T when T is not a multiple of k1, here at "
                    f"t = {times}.", *describe_updates(T, k1, case.k2)), True)


def _form(got, want: list, case: Case) -> str | None:
    """Why ``got`` is not a list of dicts of the five gradients of the right shapes, or None."""
    if got is None:
        return "it returned None: a return statement is missing."
    if isinstance(got, Mapping):
        return ("it returned one dict: return a list of dicts, one per update (t = k1, 2 k1, "
                "..., and T when T is not a multiple of k1).")
    if not isinstance(got, (list, tuple)):
        return f"it must return a list of dicts, one per update, got {type(got).__name__}."
    sz = case.sz
    for j, g in enumerate(got):
        if not isinstance(g, Mapping):
            return f"grads[{j}] must be a dict of the five gradients, got {type(g).__name__}."
        missing = [k for k in PARAM_KEYS if k not in g]
        if missing:
            return (f"grads[{j}] misses the key(s) {missing} (it has {list(g)}): each update's "
                    f"dict holds the gradients of {list(PARAM_KEYS)}.")
        for k in PARAM_KEYS:
            text = array_problem(k, g[k], sz.shape(k), np.dtype(sz.dtype), letters=LETTERS)
            if text:
                return f"grads[{j}]: {text}"
    return None


def _update_lines(got: list, want: list, case: Case, tol) -> list[str]:
    times = update_times(case.sz.T, case.k1)
    bad = [j for j in range(len(want)) if not all(close(got[j][k], want[j][k], tol)
                                                   for k in PARAM_KEYS)]
    good = [j for j in range(len(want)) if j not in bad]
    fmt = lambda js: ", ".join(f"{j} (t = {times[j]})" for j in js) or "none"  # noqa: E731
    return [f"  updates wrong: {fmt(bad)}; right: {fmt(good)}.",
            "  What each update holds:", *describe_updates(case.sz.T, case.k1, case.k2)]


_KEY = re.compile(r"grads\[(\d+)\]\['(\w+)'\]")


def _grouped(match_list: str) -> str:
    """``grads[0]['W_xh'], grads[0]['b_h'], grads[1]['W_xh'], ...`` grouped by update."""
    keys: dict[int, list] = {}
    for j, k in _KEY.findall(match_list):
        keys.setdefault(int(j), []).append(k)
    groups: dict[tuple, list] = {}
    for j, ks in keys.items():
        groups.setdefault(tuple(ks), []).append(j)
    return "; ".join(", ".join(f"grads[{j}]" for j in js)
                     + ("" if list(ks) == list(PARAM_KEYS) else ": " + ", ".join(ks))
                     for ks, js in groups.items())


def _shorter(line: str) -> str:
    """A line of values_report with its lists of flattened keys grouped by update."""
    line = re.sub(r"\((grads\[[^)]*)\)", lambda m: f"({_grouped(m[1])})", line)
    return re.sub(r"(wrong|right): ((?:grads\[\d+\]\['\w+'\](?:, )?)+)",
                  lambda m: f"{m[1]}: {_grouped(m[2])}", line)


def _grouped_failure(failure: Failure | None) -> Failure | None:
    if failure is None:
        return None
    return replace(failure, lines=tuple(_shorter(line) for line in failure.lines),
                   causes=tuple((key, _shorter(line)) for key, line in failure.causes))


def _summary(results: list) -> list[str]:
    """Which problems pass, by T, k1, k2."""
    passed = [p.case.short() for p, failure in results if failure is None]
    failed = [p.case.short() for p, failure in results if failure is not None]
    return [f"  It is right for {'; '.join(passed) or 'none'}, wrong for {'; '.join(failed)}."]


def judge_tbptt(problem: Problem, result: Call) -> Failure | None:
    """(c) A list of one dict per update, each the five gradients; the mistakes of BPTT(k2; k1)."""
    failure = call_failure("tbptt_gradients", problem, result, rnn_exception_hint,
                           outputs="grads")
    if failure:
        return failure
    case, want, got = problem.case, problem.facts["want"], result.output
    tol = TOL[np.dtype(case.sz.dtype)]
    text = _form(got, want, case)
    if text:
        return Failure((f"tbptt_gradients is wrong for {case.label()}: {text}",), True)
    got = list(got)
    if len(got) != len(want):
        return _count_failure(case, got, want, _variants(problem.args, case), tol)
    letters = {f"grads[{j}][{k!r}]": LETTERS[k] for j in range(len(want)) for k in PARAM_KEYS}
    return _grouped_failure(values_report(
        list(_flat(want)), _flat(got), _flat(want), tol,
        lambda: [Mistake(cause, _flat(v), key, whole=True)
                 for cause, key, v in _variants(problem.args, case) if len(v) == len(want)],
        letters=letters, notes=_update_lines(got, want, case, tol)))


_PATTERNS = (
    (lambda c: c.sz.T % c.k1 == 0, "It is right only when T is a multiple of k1: look at the "
     "last update, at t = T, which holds the losses of the steps after the last multiple of "
     "k1."),
    (lambda c: c.k1 == c.k2, "It is right only when k1 = k2: with k2 > k1 an update "
     "backpropagates through k2 steps but counts the losses of the last k1 only (those since "
     "the previous update)."),
    (lambda c: c.k2 >= c.sz.T, "It is right only when k2 >= T, when no update is cut: look at "
     "where the window starts, h_{t_j - k2}, and at the state it starts from."),
    (lambda c: c.sz.h0 != "random", "It is right only when h0 = 0: h0 is missing somewhere, "
     "for example from the forward pass that the first windows start from."),
)

TBPTT = Check("tbptt_gradients", draw_tbptt, judge_tbptt, _PATTERNS, _summary)
TBPTT_FLOAT32 = Check("tbptt_gradients", draw_tbptt_float32, judge_tbptt)


def check_tbptt_gradients(fn: Callable, *, seed: int = 0, full: bool = False) -> None:
    r"""Check an implementation of :func:`bptt.tbptt.tbptt_gradients`, BPTT(k2; k1).

    Parameters
    ----------
    fn : callable
        ``fn(params, x, dy, k1, k2, h0=None) -> list of dict``: the RNN's
        parameters, ``x (T, B, D)``, ``dy (T, B, O)`` the gradient of the loss
        with respect to every output, ``1 <= k1 <= k2``, ``h0 (B, H)`` or None
        (zeros). One dict per update, at t = k1, 2 k1, ... and at T when T is
        not a multiple of k1, holding ``W_xh (H, D)``, ``W_hh (H, H)``,
        ``b_h (H,)``, ``W_hy (O, H)``, ``b_y (O,)``: the gradient of the losses
        of the steps since the previous update, backpropagated through at most
        k2 steps (the state detached at h_{t_j - k2}), the parameters fixed.
    seed : int, keyword-only
        Seed of the random problems (the check is deterministic for a seed).
    full : bool, keyword-only
        Show the whole report, not only its first dozen lines.

    Raises
    ------
    AssertionError
        When ``fn`` is wrong on any problem (T a multiple of k1 and not,
        k1 = k2, k1 = 1, k2 > k1, k2 >= T, T < k1, h0 nonzero, zero or not
        given, float32), raises, modifies its inputs, keeps state between
        calls or does not keep the dtype. The message names the probable
        cause: the state not carried (each window restarted from zeros or
        h0), the gradient not cut (back to h0 at every update), the losses of
        the wrong steps (the whole window, its first k1 steps, the last step
        only, the last k1 steps at a partial last chunk), k1 and k2 swapped,
        k2 ignored, the window one step too long or too short, the last
        partial chunk dropped, chunks counted from the end, an update at every
        step; then which updates are wrong.
    """
    __tracebackhide__ = True
    check_fn(fn, seed)
    TBPTT.run(fn, seed, full)
    TBPTT_FLOAT32.run(fn, seed, full)
