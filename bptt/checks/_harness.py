"""The harness every self-check runs on: draw a problem, call the function, judge.

A check is three parts, kept apart so that each can run where it belongs:

(a) **draw**, ``draw(seed) -> [Problem, ...]``: the problems, from a seed, in
    numpy and the package alone. A :class:`Problem` holds the arguments of the
    call to make and, apart from them, the facts only the judge may see (the
    expected outputs, the arrays the mistakes are computed from).
(b) **call**, :func:`call` ``(fn, problem) -> Call``: the only part that runs
    the student's code. It calls ``fn`` on fresh copies of the problem's
    arguments, then on new ones, and collects, as data, what it returned or
    raised, the arguments as they are afterwards, which outputs alias the
    arguments or each other, and what the second call did to the first's result.
(c) **judge**, ``judge(problem, call) -> Failure | None``: compares the
    outputs with the reference, diagnoses the probable cause, and words it.
    Every judge begins with :func:`call_failure`: an exception, an argument
    changed in place, an output aliasing an argument or another output, state
    kept from one call to the next.

:class:`Check` names the three parts of one check, and :meth:`Check.run`
composes them for one ``fn``: draw, then call and judge each problem in turn;
a failure marked final (an exception, an argument changed in place, an output
of the wrong type or shape) is raised at once, and the others are reported
together by :func:`~bptt.checks._compare.report`. Because (b) alone touches
``fn`` and what it collects is data, a grader can draw and judge in its own
process and run only (b) where the student's code runs. The frames of the
checks set ``__tracebackhide__``: a student's traceback shows none of them.
"""
from __future__ import annotations

import copy
import inspect
import os
import traceback
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterator, Mapping

import numpy as np

from ._compare import CheckFailure, Failure, changed_entry, describe, differences, report

__all__ = ["Problem", "Bound", "Call", "Failure", "CheckFailure", "Check", "call", "fresh",
           "report", "call_failure", "wrong", "check_fn"]


# --------------------------------------------------------------------------
# (a) What a problem is
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """One problem of a check: the call to make, and what only the judge sees.

    Attributes
    ----------
    label : str
        The problem in messages, e.g. ``(T, B, D, H, O) = (4, 3, 2, 5, 6), nonzero h0``.
    args : dict
        The positional arguments by name, in order (the names show in messages).
    kwargs : dict
        The keyword arguments.
    case : object
        What the pattern hints of :func:`report` test (the sizes, a threshold).
    facts : dict
        For the judge only, never given to ``fn``: expected outputs, the
        problem's arrays for computing the mistakes, tolerances.
    context : str
        The problem as the description of a call and the head of a final
        failure name it; ``label`` when empty.
    calls : int
        How many times ``fn`` is called, on the same argument objects (a
        random generator among them carries on from call to call). With more
        than one, :attr:`Call.output` is the list of the outputs, and the
        problem itself compares them (there is no second call on new copies).
    """

    label: str
    args: dict
    kwargs: dict = field(default_factory=dict)
    case: Any = None
    facts: dict = field(default_factory=dict)
    context: str = ""
    calls: int = 1

    @property
    def where(self) -> str:
        return self.context or self.label


@dataclass(frozen=True)
class Bound:
    """An argument made in the call step from the fresh copies of the others.

    ``make(args)`` gets the dict of copied arguments and returns the value to
    pass, e.g. a function ``f`` that reads ``x`` through a closure must read
    the copy of ``x`` that ``fn`` is given, not the problem's.
    """

    make: Callable[[dict], Any]


# --------------------------------------------------------------------------
# (b) Calling the student's function
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Call:
    """What calling ``fn`` on a problem gave, as data.

    Attributes
    ----------
    output : object
        What ``fn`` returned (the list of the outputs when ``problem.calls > 1``),
        as it was when the call returned; None when it raised.
    error : Exception or None
        What ``fn`` raised, if anything (its traceback starts in ``fn``).
    args : dict
        The arguments ``fn`` was given (fresh copies of the problem's), as
        they are after the call: compare them with ``problem.args``.
    shared : tuple of (tuple, tuple)
        ``(output path, argument path)`` pairs of an output that is an
        argument (the same dict) or shares memory with it (an array); a path
        is the keys and indices from the output, or from the argument's name,
        e.g. ``((0, "W_xh"), ("grads", "W_xh"))``.
    within : tuple of (tuple, tuple)
        Pairs of output paths that are one dict or share memory.
    again : Call or None
        The call on new copies of the same arguments (when the first returned
        and ``problem.calls == 1``): with no state kept, the same values.
    changed : tuple of tuple
        The paths of ``output`` that the second call changed.
    across : tuple of (tuple, tuple)
        ``(path in output, path in again.output)`` pairs that are one dict or
        share memory: a result kept from one call to the next.
    error_line : str
        The line of the caller's code (not numpy's, not the package's) that
        raised ``error``; "" when unknown.
    """

    output: Any = None
    error: Exception | None = None
    args: dict = field(default_factory=dict)
    shared: tuple = ()
    within: tuple = ()
    again: Call | None = None
    changed: tuple = ()
    across: tuple = ()
    error_line: str = ""


def fresh(value):
    """A deep copy: arrays, random generators, and the dicts, tuples and lists of them."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, Mapping):
        return {k: fresh(v) for k, v in value.items()}
    if type(value) in (tuple, list):
        return type(value)(fresh(v) for v in value)
    if isinstance(value, np.random.Generator):
        return copy.deepcopy(value)
    return value


def _nodes(value, path: tuple) -> Iterator[tuple[tuple, Any]]:
    """Every array and dict inside ``value`` (through dicts, tuples and lists), with its path."""
    if isinstance(value, np.ndarray):
        yield path, value
    elif isinstance(value, Mapping):
        yield path, value
        for k, v in value.items():
            yield from _nodes(v, (*path, k))
    elif isinstance(value, (tuple, list)):
        for i, v in enumerate(value):
            yield from _nodes(v, (*path, i))


def _one(a, b) -> bool:
    """One dict, or two arrays that share memory."""
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return np.shares_memory(a, b)
    return a is b and isinstance(a, Mapping)


def _aliases(value, others: list) -> tuple:
    """The (path in value, path in others) pairs of one dict or arrays sharing memory."""
    return tuple((p, q) for p, a in _nodes(value, ()) for q, b in others if _one(a, b))


def _within(value) -> tuple:
    nodes = list(_nodes(value, ()))
    return tuple((p, q) for i, (p, a) in enumerate(nodes) for q, b in nodes[i + 1:] if _one(a, b))


def _raising_line(exc: BaseException) -> str:
    """The last line of ``exc``'s traceback in the caller's code, not numpy's or the package's."""
    libraries = (os.path.dirname(np.__file__) + os.sep,
                 os.path.dirname(os.path.dirname(__file__)) + os.sep)
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith(libraries)]
    return (frames[-1].line or "").strip() if frames else ""


def _call_once(fn: Callable, problem: Problem) -> tuple[Call, Any]:
    """``fn`` on fresh copies of the arguments: the Call, and the output itself (not a copy)."""
    __tracebackhide__ = True
    args = {name: fresh(v) for name, v in problem.args.items()}
    args = {name: (v.make(args) if isinstance(v, Bound) else v) for name, v in args.items()}
    kwargs = {name: fresh(v) for name, v in problem.kwargs.items()}
    outputs = []
    try:
        for _ in range(problem.calls):
            outputs.append(fn(*args.values(), **kwargs))
    except Exception as exc:
        # Its traceback starts in this frame: start it in fn's, the student's.
        exc = exc.with_traceback(exc.__traceback__.tb_next)
        return Call(error=exc, args=args, error_line=_raising_line(exc)), None
    output = outputs[0] if problem.calls == 1 else outputs
    given = [node for name, v in args.items() for node in _nodes(v, (name,))]
    return Call(fresh(output), None, args, _aliases(output, given),
                _within(output) if problem.calls == 1 else ()), output


def call(fn: Callable, problem: Problem) -> Call:
    """(b) Call ``fn`` on fresh copies of ``problem``'s arguments, then again; collect what happens.

    Any ``Exception`` that ``fn`` raises is collected, not raised. The second
    call (on new copies, when the first returned and ``problem.calls == 1``)
    shows state kept between calls: a cache, a mutable default argument, an
    output buffer reused.
    """
    __tracebackhide__ = True
    first, output = _call_once(fn, problem)
    if first.error is not None or problem.calls != 1:
        return first
    again, output2 = _call_once(fn, problem)
    across = _aliases(output, list(_nodes(output2, ()))) if again.error is None else ()
    return replace(first, again=again, changed=differences(first.output, output),
                   across=across)


# --------------------------------------------------------------------------
# (c) What every judge starts with: an exception, an argument changed, aliasing, state
# --------------------------------------------------------------------------

def wrong(name: str, problem: Problem, text: str) -> Failure:
    """A final failure ``<name> is wrong for <where>: <text>``."""
    return Failure((f"{name} is wrong for {problem.where}: {text}",), final=True)


_IN_PLACE_HINT = ("its caller still needs the original. Compute into new arrays: an augmented "
                  "assignment such as a += b or a *= b, or out=a, changes a in place, and a "
                  "row or slice of an argument is a view of it, not a copy")
_STATE_HINT = ("it keeps state from one call to the next: a module-level variable (a cache, a "
               "list it appends to, a counter) or a mutable default argument (such as cache={} "
               "or out=[]) that one call changes and the next reads. Compute the result from "
               "the arguments alone, in new arrays made at every call.")
_KEPT_HINT = ("it returns the same {} at every call: its result is kept between calls, in a "
              "module-level variable or a mutable default argument (such as out={{}} or "
              "buf=np.zeros(...)), so that each call overwrites, or adds to, what the previous "
              "one returned. Make a new one at every call (np.zeros_like(a), or the value of an "
              "expression).")
_TWICE = "  called twice on the same problem, with new copies of the same arguments: "


def _named(path: tuple, outputs) -> str:
    """An output path as a message names it: ``h``, ``grads['W_xh']``, ``result[1]``."""
    if isinstance(outputs, tuple) and path and isinstance(path[0], int) and path[0] < len(
            outputs):
        root, path = outputs[path[0]], path[1:]
    else:
        root = outputs if isinstance(outputs, str) and outputs else "result"
    return root + "".join(f"[{k!r}]" for k in path)


def _alias_text(result: Call, outputs) -> str | None:
    """An output that is an argument, or that shares memory with another output."""
    for out, arg in result.shared:
        if isinstance(_at(result.args, arg), Mapping):
            return (f"it returned the {arg[0]} dict itself: build and return a new dict (and "
                    f"leave {arg[0]} untouched).")
        return (f"the returned {_named(out, outputs)} shares memory with {_named(arg[1:], arg[0])}: "
                "return new arrays (a.copy() where a result equals an argument), so that "
                "changing one can never change the other.")
    for a, b in result.within:
        return (f"the returned {_named(a, outputs)} and {_named(b, outputs)} share memory, so "
                "changing one changes the other: return separate arrays.")
    return None


def _at(value, path: tuple):
    for k in path:
        value = value[k]
    return value


def _state_lines(result: Call, outputs) -> tuple:
    """What the second call shows, cause then evidence: state kept between calls, a result reused."""
    again = result.again
    if again is None:
        return ()
    if again.error is not None:
        return (_STATE_HINT, f"{_TWICE}the first call returned, the second raised "
                             f"{type(again.error).__name__}: {again.error}")
    changed = ("; the second call changed " + ", ".join(_named(p, outputs)
                                                        for p in result.changed[:4])
               if result.changed else "")
    if result.across:
        first, second = result.across[0]
        kind = "dict" if isinstance(_at(again.output, second), Mapping) else "array"
        return (_KEPT_HINT.format(kind), f"{_TWICE}{_named(first, outputs)} of the first call is "
                                         f"{_named(second, outputs)} of the second{changed}")
    differ = result.changed or differences(result.output, again.output, noise=True)
    if not differ:
        return ()
    a, b = _at(result.output, differ[0]), _at(again.output, differ[0])
    how = (f"shape {a.shape}, then {b.shape}" if isinstance(a, np.ndarray) and isinstance(
        b, np.ndarray) and a.shape != b.shape else "" if changed else "different values")
    return (_STATE_HINT, f"{_TWICE}it returned different "
                         f"{', '.join(_named(p, outputs) for p in differ[:4])}"
                         + (f" ({how})" if how else "") + changed)


def call_failure(name: str, problem: Problem, result: Call, hint: Callable = None,
                 check_args: bool = True, outputs="") -> Failure | None:
    """The final failure when ``fn`` raised, changed an argument, aliased, or kept state; or None.

    ``hint(exc, line)`` gives a likely reason for an exception, or "" (``line``
    is the code that raised it, "" when unknown); ``outputs`` names the
    output in messages (a str), or the items of a tuple it returns. Every
    judge begins with this; ``check_args=False`` is for a function that may
    change an argument provided it restores it, which its judge then checks.
    """
    shown = ", ".join([*problem.args, *(f"{k}={v!r}" for k, v in problem.kwargs.items())])
    given = {k: (result.args[k] if isinstance(v, Bound) else v) for k, v in problem.args.items()}
    described = (f"{name}({shown}) with " + ", ".join(f"{k} {describe(v)}"
                                                      for k, v in given.items())
                 + f"; {problem.where}")
    exc = result.error
    if isinstance(exc, NotImplementedError):
        detail = f" ({exc})" if str(exc) else ""
        return Failure((f"{name} is not implemented yet: it raised NotImplementedError{detail}. "
                        "Write it, then run this check again.",), True, exc)
    if exc is not None:
        extra = ""
        if hint:    # hint(exc, line), or hint(exc) as before the line was known
            two = len(inspect.signature(hint).parameters) > 1
            extra = hint(exc, result.error_line) if two else hint(exc)
        at = f"\n  at the line: {result.error_line}" if result.error_line else ""
        return Failure((f"{name} raised {type(exc).__name__}: {exc}",
                        *((f"  Probable cause: {extra}",) if extra else ()),
                        f"  when called as {described}{at}"), True, exc)
    if check_args:
        for k, before in problem.args.items():
            changed = changed_entry(before, result.args[k], k)
            if changed:
                return Failure((f"{name} modified its argument {changed} in place: "
                                f"{_IN_PLACE_HINT}.\n  Called as {described}",), True)
    text = _alias_text(result, outputs)
    if text:
        return wrong(name, problem, text)
    lines = _state_lines(result, outputs)
    if lines:
        return Failure((f"{name} is wrong for {problem.where}: {lines[0]}", *lines[1:]), True,
                       result.again.error)
    return None


# --------------------------------------------------------------------------
# Composing the three parts
# --------------------------------------------------------------------------

def check_fn(fn, seed) -> None:
    """Refuse a ``fn`` that cannot be called and a seed that is not an int >= 0."""
    if not callable(fn):
        raise TypeError(f"fn must be the function to check (a callable), got {type(fn).__name__}")
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed!r}")


@dataclass(frozen=True)
class Check:
    """One check: the function it calls, its three parts, and how it sums up.

    Attributes
    ----------
    name : str
        The checked function's name, as messages give it.
    draw : callable
        (a) ``draw(seed) -> list of Problem``.
    judge : callable
        (c) ``judge(problem, call) -> Failure or None``.
    patterns : tuple
        ``(predicate of problem.case, hint)`` pairs for :func:`report`.
    summary : callable, optional
        ``summary(results) -> lines`` in place of :func:`report`'s default.
    """

    name: str
    draw: Callable[[int], list]
    judge: Callable[[Problem, Call], Failure | None]
    patterns: tuple = ()
    summary: Callable | None = None

    def run(self, fn: Callable, seed: int = 0, full: bool = False) -> None:
        """Draw, then call and judge each problem; raise CheckFailure when ``fn`` is wrong.

        The message is a dozen lines at most, the whole report with ``full``.
        """
        __tracebackhide__ = True
        check_fn(fn, seed)
        results = []
        for problem in self.draw(seed):
            failure = self.judge(problem, call(fn, problem))
            if failure is not None and failure.final:
                raise failure.error(full)
            results.append((problem, failure))
        report(self.name, results, self.patterns, self.summary, full)
