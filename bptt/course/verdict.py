"""The grader's verdicts: what a check cell checks, the problems it draws, and the judging.

A check cell of a source assignment calls self-checks,
``bptt.checks.check_rnn_backward(rnn_backward, truncation=False)``. The
grader does not run it in the student's kernel. Instead, in its own process:

1. :func:`check_calls` reads which checks the cell calls, on which of the
   student's functions, with which options (literals only);
2. :func:`draw` runs each check function once with a recorder in place of
   the harness's ``Check.run``, to learn which checks (stages) it runs, then
   draws their problems with the harness's own (a) ``draw``, from a seed
   taken from ``os.urandom`` at grading time. Each problem comes from a seed
   of its own, so no two problems share an RNN that a function could compare
   across calls;
3. :func:`order` turns the problems into data for the kernel
   (:mod:`bptt.course.wire`): arrays, dicts, generators; the functions some
   problems give (``numerical_gradient``'s ``f``, ``gradient_check``'s backward
   pass) as the data they are rebuilt from, each rebuilt here first and
   compared with the original;
4. the kernel calls the student's function (the harness's (b) ``call``, see
   :mod:`bptt.course.call_cell`) and writes back what happened, as data;
5. :func:`verdict` judges each result with the check's (c) ``judge`` and
   reports as ``Check.run`` does: the same messages a student sees; and
   confirms what a self-check takes on trust (the parameters
   ``train_char_rnn`` returns must model the text: :func:`_trained`).

Nothing the kernel computes but the outputs of the student's functions
enters a verdict, and the facts the judges compare with never leave this
process.
"""
from __future__ import annotations

import ast
import contextlib
import dataclasses
import inspect

import numpy as np

from . import wire

__all__ = ["check_calls", "Drawn", "draw", "order", "verdict"]


def check_calls(source: str, where: str = "check cell") -> list[tuple[str, str, dict]]:
    """The ``(check, function, options)`` of each ``bptt.checks.check_*(function, ...)`` call.

    Raises ValueError for a cell that is anything else: the instructor's
    check cells are calls of self-checks on one function, with literal options.
    """
    calls = []
    for statement in ast.parse(source).body:
        call = statement.value if isinstance(statement, ast.Expr) else None
        func = getattr(call, "func", None)
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if (not isinstance(call, ast.Call) or not name.startswith("check_")
                or len(call.args) != 1 or not isinstance(call.args[0], ast.Name)
                or any(k.arg is None for k in call.keywords)):
            raise ValueError(f"{where} must hold calls bptt.checks.check_*(function, "
                             f"option=literal, ...) only, got {ast.unparse(statement)!r}")
        try:
            options = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
        except ValueError:
            raise ValueError(f"{where}: the options of {name} must be literals") from None
        calls.append((name, call.args[0].id, options))
    return calls


@contextlib.contextmanager
def _recording():
    """Check.run records its check and seed instead of running (in this process only)."""
    from bptt.checks._harness import Check

    seen, run = [], Check.run
    Check.run = lambda self, fn, seed=0, *args, **kwargs: seen.append((self, seed))
    try:
        yield seen
    finally:
        Check.run = run


def _stages(check: str, options: dict, seed: int) -> list:
    """The (Check, seed) pairs the self-check ``check`` runs with these options."""
    import bptt.checks

    function = getattr(bptt.checks, check)
    if "seed" in inspect.signature(function).parameters:
        options = {**options, "seed": seed}
    with _recording() as seen:
        function(lambda *args, **kwargs: None, **options)
    if not seen:
        raise ValueError(f"bptt.checks.{check} ran no check")
    return seen


@dataclasses.dataclass
class Drawn:
    """One check call of a check cell, with the problems of each of its stages."""

    check: str
    name: str
    stages: list            # [(Check, [Problem, ...]), ...]


def draw(calls, seed: int) -> list[Drawn]:
    """Draw fresh problems for the ``(check, function, options)`` calls of one check cell."""
    rng = np.random.default_rng(seed)
    drawn = []
    for check, name, options in calls:
        stages = []
        for stage, stage_seed in _stages(check, options, int(rng.integers(2 ** 62))):
            first = stage.draw(stage_seed)
            seeds = np.random.default_rng([stage_seed, 1]).integers(2 ** 62, size=len(first))
            problems = [stage.draw(int(s))[i] for i, s in enumerate(seeds)]
            stages.append((stage, problems))
        drawn.append(Drawn(check, name, stages))
    return drawn


# --------------------------------------------------------------------------
# Problems as data
# --------------------------------------------------------------------------

def _closure(fn) -> dict:
    return inspect.getclosurevars(fn).nonlocals


def _function_node(value, problem) -> dict | None:
    """The data a function argument is rebuilt from in the kernel; None for other arguments.

    The functions the self-checks give are known by their qualified names
    (``bptt/checks/finite_differences.py``); any other is refused, loudly.
    """
    from bptt.checks._harness import Bound

    bound = isinstance(value, Bound)
    fn = value.make if bound else value
    if not callable(fn) or isinstance(fn, type):
        return None
    name = getattr(fn, "__qualname__", "")
    if bound and name.startswith("_cubic_of_given_x."):
        return {"t": "bound", "kind": "cubic_of_given_x", "v": {"w": _closure(fn)["w"]}}
    if not bound and name.startswith(("_cubic.", "_smooth.")):
        return {"t": "fn", "kind": name[1:].split(".")[0], "v": {"w": _closure(fn)["w"]}}
    if not bound and name in ("rnn_backward", "_broken.<locals>.backward"):
        return {"t": "fn", "kind": "linear_backward", "v": _linear_map(fn, problem)}
    raise ValueError(f"the grader cannot send the function {value!r} of the problem "
                     f"{problem.label!r} to a kernel: teach bptt.course.verdict and "
                     "bptt.course.wire how to rebuild it from data")


def _linear_map(backward, problem) -> dict:
    """A backward pass at the problem's point as the matrix of each gradient against dy."""
    from bptt.rnn import rnn_forward

    params, x = problem.args["params"], problem.args["x"]
    h = rnn_forward(params, x)[1]
    T, B, O = x.shape[0], x.shape[1], params["W_hy"].shape[0]
    columns = []
    for i in range(T * B * O):
        dy = np.zeros((T, B, O), dtype=x.dtype)
        dy.flat[i] = 1.0
        columns.append(backward(params, x, h, dy))
    maps = {k: np.stack([np.asarray(c[k], dtype=np.float64).ravel() for c in columns], axis=1)
            for k in columns[0]}
    shapes = {k: tuple(np.shape(v)) for k, v in columns[0].items()}
    return {"params": params, "x": x, "h": h, "maps": maps, "shapes": shapes}


def _same_function(original, node, problem) -> None:
    """Rebuild ``node`` as the kernel will and compare it with ``original`` on a random input."""
    from bptt.checks._harness import Bound

    arrays: dict = {}
    tree = wire.encode(node["v"], arrays)
    rebuilt = wire.builders(Bound)[node["kind"]](wire.decode(tree, arrays))
    rng = np.random.default_rng(0)
    if node["kind"] == "linear_backward":
        data = wire.decode(tree, arrays)
        dy = rng.standard_normal(data["x"].shape[:2] + data["params"]["W_hy"].shape[:1])
        args = (problem.args["params"], problem.args["x"], data["h"], dy.astype(data["x"].dtype))
        want, got = original(*args), rebuilt(*args)
        same = want.keys() == got.keys() and all(np.allclose(want[k], got[k]) for k in want)
    else:
        z = rng.uniform(-1, 1, np.shape(node["v"]["w"]))
        if node["t"] == "bound":
            want, got = original.make({"x": z})(None), rebuilt.make({"x": z})(None)
        else:
            want, got = original(z), rebuilt(z)
        same = np.isclose(want, got, rtol=1e-12, atol=0)
    if not same:
        raise ValueError(f"the grader rebuilds the {node['kind']} function of the problem "
                         f"{problem.label!r} wrongly: update bptt.course.wire")


def _problem_node(problem, arrays: dict) -> dict:
    def special(value):
        node = _function_node(value, problem)
        if node is None:
            return None
        _same_function(value, node, problem)
        return {**node, "v": wire.encode(node["v"], arrays)}
    return {"t": "dict", "v": [
        [wire.encode(key, arrays), wire.encode(value, arrays, special)]
        for key, value in (("label", problem.label), ("args", problem.args),
                           ("kwargs", problem.kwargs), ("calls", problem.calls))]}


def order(drawn: list[Drawn]):
    """The problems of one check cell as the kernel reads them: a tree and its arrays."""
    arrays: dict = {}
    calls = [{"t": "dict", "v": [
        [wire.encode("name", arrays), wire.encode(d.name, arrays)],
        [wire.encode("stages", arrays), {"t": "list", "v": [
            {"t": "list", "v": [_problem_node(p, arrays) for p in problems]}
            for _, problems in d.stages]}]]} for d in drawn]
    return {"t": "dict", "v": [[wire.encode("calls", arrays), {"t": "list", "v": calls}]]}, arrays


# --------------------------------------------------------------------------
# Judging
# --------------------------------------------------------------------------

def _call(record):
    """The harness's Call from its record (see bptt.course.call_cell)."""
    from bptt.checks._harness import Call

    if not isinstance(record, dict) or record.get("call") is not True:
        raise ValueError("a result is not a record of a call")
    fields = {}
    for f in dataclasses.fields(Call):
        if f.name in record:
            value = record[f.name]
            nested = isinstance(value, dict) and value.get("call") is True
            fields[f.name] = _call(value) if nested and f.name not in ("output", "args") else value
    if not isinstance(fields.get("args", {}), dict):
        raise ValueError("a result holds no arguments")
    return Call(**fields)


def _calls(stage_results, problems) -> list:
    if not isinstance(stage_results, list) or len(stage_results) != len(problems):
        raise ValueError("not one result per problem")
    calls = [_call(result) for result in stage_results]
    if any(list(c.args) != list(p.args) for c, p in zip(calls, problems)):
        raise ValueError("the arguments of a result are not those of its problem")
    return calls


def _judge(stage, problems, calls) -> None:
    """As ``Check.run`` after its call step: raise AssertionError when the function is wrong."""
    from bptt.checks._harness import report

    results = []
    for problem, result in zip(problems, calls):
        failure = stage.judge(problem, result)
        if failure is not None and failure.final:
            raise failure.error()
        results.append((problem, failure))
    report(stage.name, results, stage.patterns, stage.summary)


def _trained(stage, problems, calls) -> None:
    """Raise AssertionError when ``train_char_rnn`` returned parameters that were not trained.

    ``check_train_char_rnn`` judges the losses a function *reports*: one that
    trains nothing and reports ``np.zeros(n_steps)`` passes it. The grader
    also evaluates the parameters it returned, on the text it was given (one
    sequence from h0 = 0, the package's forward pass and loss): trained, they
    score about their last losses; anything else, about log V or worse.
    """
    if stage.name != "train_char_rnn":
        return
    import bptt
    from bptt.data import CharVocab
    from bptt.losses import softmax_cross_entropy

    for problem, result in zip(problems, calls):
        text = problem.args["text"]
        vocab = CharVocab(text)
        codes, bound = vocab.encode(text), 0.6 * float(np.log(vocab.size))
        params = result.output[0][0]
        try:
            y = bptt.rnn_forward({k: np.asarray(params[k], dtype=np.float64)
                                  for k in ("W_xh", "W_hh", "b_h", "W_hy", "b_y")},
                                 vocab.one_hot(codes[:-1])[:, None, :])[0]
            loss = float(softmax_cross_entropy(y, codes[1:, None])[0])
        except Exception as exc:            # any failure is a wrong answer
            loss, why = float("nan"), f" ({type(exc).__name__}: {exc})"
        else:
            why = ""
        if not loss < bound:
            raise AssertionError(
                f"train_char_rnn is wrong: the params it returned do not model the text: their "
                f"mean loss on it is {loss:.3f}{why}, not below 0.6 log V = {bound:.3f} as the "
                "losses it reported say. Return the parameters that the training produced.")


def verdict(drawn: list[Drawn], results) -> tuple[bool, str, str]:
    """``(passed, feedback, details)`` for one check cell from what the kernel wrote (decoded).

    ``feedback`` is the message a student sees from the self-check (a dozen
    lines at most), ``details`` the whole report.
    """
    try:
        calls = results["calls"]
        if len(calls) != len(drawn):
            raise ValueError("not one result per check")
        judged = []
        for d, result in zip(drawn, calls):
            if result.get("missing"):
                text = (f"NameError: {d.name} is not defined when the grader calls it (in "
                        "place of the check cell)")
                return False, text, text
            if len(result["stages"]) != len(d.stages):
                raise ValueError("not one result per stage")
            judged.append([(stage, problems, _calls(r, problems))
                           for (stage, problems), r in zip(d.stages, result["stages"])])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        text = f"the results written by the kernel are not what was asked ({exc})"
        return False, text, text
    for stages in judged:
        try:
            for stage, problems, calls in stages:
                _judge(stage, problems, calls)
                _trained(stage, problems, calls)
        except AssertionError as exc:
            details = exc.details() if hasattr(exc, "details") else str(exc)
            return False, str(exc), details
        except Exception as exc:             # an output no judge foresaw
            text = f"the grader could not judge the result ({type(exc).__name__}: {exc})"
            return False, text, text
    return True, "passed", "passed"
