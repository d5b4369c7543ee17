"""The student runtime: the ``bptt`` a student's kernel imports while it is graded.

One per assignment, built by the grader in a folder the sandbox mounts
read-only: a copy of the package without ``bptt.checks`` (a stand-in whose
checks do nothing takes its place: the grader checks from outside) and
without ``bptt.course``, in which every function that computes what the
assignment asks students to write is a stub that raises. So a student's
function that calls the package's reference implementation, directly,
through a wrapper, ``importlib``, ``getattr``, ``exec`` of the package's
source or any other route, finds only the stub, and earns nothing. What an
assignment gives students (``rnn_forward`` in Homework 2, ``init_rnn``,
``CharVocab``, the losses, the optimisers, ...) stays.

Beside the package sit the grader's modules that run in the kernel:
``_bptt_call`` (the self-checks' harness, ``bptt/checks/_harness.py``, whose
call step the grader uses, with the modules it imports from ``bptt/checks``;
none computes what students write), ``_bptt_wire`` (:mod:`bptt.course.wire`),
``_bptt_grading`` (:mod:`bptt.course.call_cell`) and ``_bptt_kernel``, which
starts the kernel (see :mod:`bptt.course.sandbox`).
"""
from __future__ import annotations

import ast
import os
import re
import shutil
from pathlib import Path

__all__ = ["REFERENCES", "reference_functions", "build_runtime", "write_launcher", "seal"]

_FORWARD = ("rnn.rnn_step_forward", "rnn.rnn_forward")
_FINITE_DIFFERENCES = ("gradcheck.numerical_gradient", "gradcheck.numerical_gradient_params",
                       "gradcheck.check_gradient", "gradcheck._numerical_gradient")
# Every gradient recursion: BPTT itself, one step of it, each step's share, the
# Jacobian products of bptt.dynamics (J_t^T u is the recursion's step), what
# measures truncation or trains with the package's backward pass, the one-unit
# model's derivatives, and finite differences (an accurate gradient by themselves).
_BACKWARD = ("rnn.rnn_step_backward", "rnn.rnn_backward", "rnn.step_gradients",
             "dynamics._jacobians", "dynamics.apply_jacobian",
             "dynamics.apply_jacobian_transpose", "dynamics.step_jacobians",
             "dynamics.jacobian_product", "dynamics.jacobian_norms_by_lag",
             "dynamics.last_step_gradients", "dynamics.gradient_norm_by_lag",
             "dynamics.lag_norm_experiment", "truncation.truncation_reach",
             "one_unit.one_unit_forward", "one_unit.one_unit_loss", "one_unit.one_unit_descent",
             "train.train", "artbp.artbp_backward", "artbp._backward",
             *_FINITE_DIFFERENCES)
_CLIP_NORM = ("clip.clip_grad_norm", "clip.grad_norm", "clip._norm", "train.train",
              "one_unit.one_unit_descent")
_CLIP_VALUE = ("clip.clip_grad_value", "clip.clip_step_values", "train.train")
# The LSTM (Homework 5): its step is its sequence pass with T = 1; the gate
# activation does most of a step; the local slopes most of a backward step.
_LSTM_FORWARD = ("lstm.lstm_step_forward", "lstm.lstm_forward", "gates.activate")
_LSTM_BACKWARD = ("lstm.lstm_step_backward", "lstm.lstm_backward", "lstm._local_slopes",
                  "truncation.truncation_reach", "train.train", *_FINITE_DIFFERENCES)
# Truncated BPTT on a stream (Homework 6): the package's BPTT(k2; k1), its
# update schedule, stream training, and every gradient recursion it could be
# built from (artbp's loop is rnn_backward's when nothing is cut).
_TBPTT = ("tbptt.tbptt_gradients", "tbptt.update_windows", "stream.train_stream", *_BACKWARD)

#: For each function students write (by name), the package's functions
#: (``module.function``, private helpers included) that compute the same
#: thing or give it in a line or two. The runtime of an assignment that asks
#: for the function replaces them all by stubs. A name not listed here stubs
#: the package's functions of the same name only.
REFERENCES = {
    "rnn_step_forward": _FORWARD,
    "rnn_forward": _FORWARD,
    "rnn_backward": _BACKWARD,
    "lag_norms": _BACKWARD,
    "numerical_gradient": _FINITE_DIFFERENCES,
    "gradient_check": _FINITE_DIFFERENCES,
    "clip_grad_norm": _CLIP_NORM,
    "clip_grad_value": _CLIP_VALUE,
    "train_char_rnn": ("train.train",),
    "sample": (),
    "lstm_step_forward": _LSTM_FORWARD,
    "lstm_step_backward": _LSTM_BACKWARD,
    "lstm_backward": _LSTM_BACKWARD,
    "tbptt_gradients": _TBPTT,
}

#: What the stand-in for bptt.checks says it is.
_CHECKS_STAND_IN = '''"""The self-checks do not run while a notebook is graded.

The grader checks your functions from outside this kernel, on problems it
draws itself. Here every ``check_*`` does nothing, so that a cell of yours
that calls one carries on.
"""


def _not_while_grading(*args, **kwargs):
    return None


__all__ = {names!r}
for _name in __all__:
    globals()[_name] = _not_while_grading
'''

#: ``_bptt_kernel``: limits first, then IPython's kernel. Run as ``python -S``,
#: so that no .pth file of the environment runs (not the editable install's
#: finder either); only the builtins that ``site`` adds are put back.
_KERNEL_LAUNCHER = '''"""Starts a grading kernel (bptt.course.sandbox): limits, then ipykernel."""
import resource
import runpy
import site
import sys

for _limit, _value in {limits!r}:
    resource.setrlimit(getattr(resource, _limit), (_value, _value))
site.setquit()
site.setcopyright()
site.sethelper()
sys.argv[0] = "ipykernel_launcher"
runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)
'''


def reference_functions(names) -> list[str]:
    """The package functions (``module.function``) to stub for an assignment writing ``names``."""
    found = []
    for name in names:
        found += REFERENCES.get(name, ())
    return sorted(set(found))


def _stub_module(path: Path, module: str, targets: set, also_named: set) -> list[str]:
    """Turn ``targets`` (and functions named in ``also_named``) into stubs that raise."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    done = []
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if node.name in targets or node.name in also_named:
            message = (f"bptt.{module}.{node.name} is the package's own reference "
                       "implementation, which is not available while grading: the graded "
                       "function must compute this itself")
            stub = ast.parse(f"def f(*args, **kwargs):\n    raise RuntimeError({message!r})")
            node.args, node.body = stub.body[0].args, stub.body[0].body
            done.append(f"{module}.{node.name}")
    if done:
        path.write_text(ast.unparse(ast.fix_missing_locations(tree)) + "\n", encoding="utf-8")
    return done


def _copy_call_step(checks_dir: Path, dest: Path) -> None:
    """``_bptt_call``: the harness and the private check modules it imports, as a package.

    Imports from the rest of the package (``from ..gradcheck``) become
    imports from the runtime's ``bptt``.
    """
    (dest / "_bptt_call").mkdir()
    (dest / "_bptt_call" / "__init__.py").write_text(
        '"""The self-checks\' call step, for the grading kernel (see bptt.course.runtime)."""\n',
        encoding="utf-8")
    todo, done = ["_harness"], set()
    while todo:
        name = todo.pop()
        if name in done:
            continue
        done.add(name)
        text = (checks_dir / f"{name}.py").read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                todo += [node.module] if node.module else [a.name for a in node.names]
        text = re.sub(r"^(\s*)from \.\.([\w.]*) import",
                      lambda m: f"{m[1]}from bptt{'.' if m[2] else ''}{m[2]} import", text,
                      flags=re.M)
        (dest / "_bptt_call" / f"{name}.py").write_text(text, encoding="utf-8")


def build_runtime(package_dir, dest, names, check_names, *, course_dir) -> list[str]:
    """Build the student runtime for an assignment whose students write ``names``.

    Parameters
    ----------
    package_dir : path
        The ``bptt`` package to copy.
    dest : path
        A new folder; the runtime's ``bptt`` and the grader's kernel modules
        go into it, and it is made read-only.
    names : iterable of str
        The functions the assignment asks for.
    check_names : list of str
        The names ``bptt.checks`` exports (the stand-in defines each).
    course_dir : path
        This package's folder (for ``wire.py`` and ``call_cell.py``).

    Returns
    -------
    list of str
        The functions stubbed, ``module.function``.
    """
    package_dir, dest = Path(package_dir), Path(dest)
    names = set(names)
    shutil.copytree(package_dir, dest / "bptt", ignore=shutil.ignore_patterns(
        "__pycache__", "*.pyc", "checks", "course"))
    (dest / "bptt" / "checks").mkdir()
    (dest / "bptt" / "checks" / "__init__.py").write_text(
        _CHECKS_STAND_IN.format(names=sorted(check_names)), encoding="utf-8")
    wanted: dict = {}
    for ref in reference_functions(names):
        module, function = ref.rsplit(".", 1)
        wanted.setdefault(module, set()).add(function)
    stubbed = []
    for path in sorted((dest / "bptt").glob("*.py")):
        stubbed += _stub_module(path, path.stem, wanted.get(path.stem, set()), names)
    missing = {f"{m}.{f}" for m, fs in wanted.items() for f in fs} - set(stubbed)
    if missing:
        raise ValueError(f"the package has no functions {sorted(missing)}: update "
                         "bptt.course.runtime.REFERENCES")
    _copy_call_step(package_dir / "checks", dest)
    shutil.copy(Path(course_dir) / "wire.py", dest / "_bptt_wire.py")
    shutil.copy(Path(course_dir) / "call_cell.py", dest / "_bptt_grading.py")
    return stubbed


def write_launcher(dest, limits) -> None:
    """``_bptt_kernel.py`` in ``dest``, setting the ``(RLIMIT_NAME, value)`` pairs ``limits``."""
    (Path(dest) / "_bptt_kernel.py").write_text(
        _KERNEL_LAUNCHER.format(limits=tuple(limits)), encoding="utf-8")


def seal(dest) -> None:
    """Make the runtime read-only (the sandbox also mounts it read-only)."""
    for root, dirs, files in os.walk(dest):
        for name in files:
            os.chmod(os.path.join(root, name), 0o444)
        os.chmod(root, 0o555)

