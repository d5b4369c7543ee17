"""The harness every self-check runs on: draw a problem, call the function, judge.

A check is three parts, kept apart so that each can run where it belongs:

(a) **draw**, ``draw(seed) -> [Problem, ...]``: the problems, from a seed, in
    numpy and the package alone. A :class:`Problem` holds the arguments of the
    call to make and, apart from them, the facts only the judge may see (the
    expected outputs, the arrays the mistakes are computed from).
(b) **call**, :func:`call` ``(fn, problem) -> Call``: the only part that runs
    the student's code. It calls ``fn`` on fresh copies of the problem's
    arguments and collects, as data, what it returned or raised, the
    arguments as they are afterwards, and which outputs alias the arguments.
(c) **judge**, ``judge(problem, call) -> Failure | None``: compares the
    outputs with the reference, diagnoses the probable cause, and words it.

:class:`Check` names the three parts of one check, and :meth:`Check.run`
composes them for one ``fn``: draw, then call and judge each problem in turn;
a failure marked final (an exception, an argument changed in place, an output
of the wrong type or shape) is raised at once, and the others are reported
together, the first in full, with the problems that pass and, when they share
a property the failing ones lack, what that points at (:func:`report`).
Because (b) alone touches ``fn`` and what it collects is data (the outputs,
the exception, the arguments after the call, aliasing), a grader can draw and
judge in its own process and run only (b) where the student's code runs.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

import numpy as np

__all__ = ["Problem", "Bound", "Call", "Failure", "Check", "call", "fresh", "report",
           "call_failure", "wrong", "check_fn"]


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
        than one, :attr:`Call.output` is the list of the outputs.
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
    """What one call of ``fn`` on a problem gave, as data.

    Attributes
    ----------
    output : object
        What ``fn`` returned (the list of the outputs when ``problem.calls > 1``),
        None when it raised.
    error : Exception or None
        What ``fn`` raised, if anything.
    args : dict
        The arguments ``fn`` was given (fresh copies of the problem's), as
        they are after the call: compare them with ``problem.args`` to see
        what ``fn`` changed.
    shared : tuple of (tuple, tuple)
        ``(output path, argument path)`` pairs of an output that is an
        argument (the same dict) or shares memory with it (an array); a path
        is the keys and indices from the output, or from the argument's name,
        e.g. ``((0, "W_xh"), ("grads", "W_xh"))``.
    """

    output: Any = None
    error: Exception | None = None
    args: dict = field(default_factory=dict)
    shared: tuple = ()


def fresh(value):
    """A deep copy of an argument: arrays, dicts of them and random generators are copied."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, Mapping):
        return {k: fresh(v) for k, v in value.items()}
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


def _aliases(output, args: dict) -> tuple:
    """The (output path, argument path) pairs that are one object or share memory."""
    given = [node for name, v in args.items() for node in _nodes(v, (name,))]
    pairs = []
    for out_path, out in _nodes(output, ()):
        for arg_path, arg in given:
            if out is arg or (isinstance(out, np.ndarray) and isinstance(arg, np.ndarray)
                              and np.shares_memory(out, arg)):
                pairs.append((out_path, arg_path))
    return tuple(pairs)


def call(fn: Callable, problem: Problem) -> Call:
    """(b) Call ``fn`` on fresh copies of ``problem``'s arguments; collect what happens.

    Any ``Exception`` that ``fn`` raises is collected, not raised.
    """
    args = {name: fresh(v) for name, v in problem.args.items()}
    args = {name: (v.make(args) if isinstance(v, Bound) else v) for name, v in args.items()}
    kwargs = {name: fresh(v) for name, v in problem.kwargs.items()}
    outputs = []
    try:
        for _ in range(problem.calls):
            outputs.append(fn(*args.values(), **kwargs))
    except Exception as exc:
        return Call(error=exc, args=args)
    output = outputs[0] if problem.calls == 1 else outputs
    return Call(output, None, args, _aliases(output, args))


# --------------------------------------------------------------------------
# (c) What every judge starts with: an exception, an argument changed
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Failure:
    """What a judge found wrong with one call.

    ``lines`` is the evidence, reported under the line ``<name> is wrong for
    <label>:`` together with the other failures of the check; when ``final``,
    the check stops at once and ``lines`` is the whole message (raised from
    ``cause``, the student's exception, if any).
    """

    lines: tuple
    final: bool = False
    cause: BaseException | None = None

    def error(self) -> AssertionError:
        err = AssertionError("\n".join(self.lines))
        err.__cause__ = self.cause
        return err


def wrong(name: str, problem: Problem, text: str) -> Failure:
    """A final failure ``<name> is wrong for <where>: <text>``."""
    return Failure((f"{name} is wrong for {problem.where}: {text}",), final=True)


def _describe(value) -> str:
    """A short description of an argument: its shape and dtype, or its value."""
    if isinstance(value, np.ndarray):
        return f"{value.shape} {value.dtype}"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_describe(v)}" for k, v in value.items()) + "}"
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


_IN_PLACE_HINT = ("its caller still needs the original. Compute into new arrays: an augmented "
                  "assignment such as a += b or a *= b, or out=a, changes a in place, and a "
                  "row or slice of an argument is a view of it, not a copy")


def call_failure(name: str, problem: Problem, result: Call, hint: Callable = None,
                 check_args: bool = True) -> Failure | None:
    """The final failure when ``fn`` raised or (if ``check_args``) changed an argument; or None.

    ``hint(exc)`` gives a likely reason for an exception, or "". Every judge
    begins with this; ``check_args=False`` is for a function that may change
    an argument provided it restores it, which its judge then checks.
    """
    shown = ", ".join([*problem.args, *(f"{k}={v!r}" for k, v in problem.kwargs.items())])
    given = {k: (result.args[k] if isinstance(v, Bound) else v) for k, v in problem.args.items()}
    described = (f"{name}({shown}) with " + ", ".join(f"{k} {_describe(v)}"
                                                      for k, v in given.items())
                 + f"; {problem.where}")
    exc = result.error
    if isinstance(exc, NotImplementedError):
        detail = f" ({exc})" if str(exc) else ""
        return Failure((f"{name} is not implemented yet: it raised NotImplementedError{detail}. "
                        "Write it, then run this check again.",), True, exc)
    if exc is not None:
        extra = hint(exc) if hint else ""
        return Failure((f"{name} raised {type(exc).__name__}: {exc}", f"  when called as "
                        f"{described}" + (f"\n  Hint: {extra}" if extra else "")), True, exc)
    if check_args:
        for k, before in problem.args.items():
            changed = changed_entry(before, result.args[k], k)
            if changed:
                return Failure((f"{name} modified its argument {changed} in place: "
                                f"{_IN_PLACE_HINT}.\n  Called as {described}",), True)
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


def _which_pass(results: list, patterns) -> list[str]:
    """Which problems pass and fail, and what a property shared by the passing ones points at."""
    passed = [p for p, failure in results if failure is None]
    failed = [p for p, failure in results if failure is not None]
    if not passed:
        return []
    lines = ["  It is right for " + "; ".join(p.label for p in passed)
             + ", wrong for " + "; ".join(p.label for p in failed) + "."]
    for applies, hint in patterns:
        if all(applies(p.case) for p in passed) and not any(applies(p.case) for p in failed):
            lines.append("  " + hint)
    return lines


def report(name: str, results: list, patterns=(), summary: Callable = None) -> None:
    """Raise for the first failing problem of ``results``, ``(problem, failure or None)`` pairs.

    The message is ``<name> is wrong for <label>:``, that failure's lines,
    then ``summary(results)`` (by default: which problems pass, which fail,
    and the hint of each of ``patterns``, ``(predicate of problem.case,
    hint)`` pairs, whose predicate holds for every passing problem and for no
    failing one: "right only when B = 1" often points straight at the bug).
    """
    failures = [(p, failure) for p, failure in results if failure is not None]
    if not failures:
        return
    problem, failure = failures[0]
    extra = summary(results) if summary else _which_pass(results, patterns)
    raise AssertionError("\n".join([f"{name} is wrong for {problem.label}:", *failure.lines,
                                    *extra]))


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

    def run(self, fn: Callable, seed: int = 0) -> None:
        """Draw, then call and judge each problem; raise AssertionError when ``fn`` is wrong."""
        check_fn(fn, seed)
        results = []
        for problem in self.draw(seed):
            failure = self.judge(problem, call(fn, problem))
            if failure is not None and failure.final:
                raise failure.error()
            results.append((problem, failure))
        report(self.name, results, self.patterns, self.summary)
