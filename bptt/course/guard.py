"""What the grader runs inside the student's kernel, before each check cell.

The only course code that runs in the student's process: the grader puts
``import bptt.course.guard`` and a call of :func:`prepare_check` at the top of
every check cell (see :mod:`bptt.course.grade`). Importing it loads nothing
but this module and the (empty) package ``bptt.course``.
"""
from __future__ import annotations

import importlib
import sys

__all__ = ["prepare_check"]

#: Modules reloaded before every check, so that a submission that replaced
#: (monkeypatched) a reference function cannot make the checks compare its
#: code with itself. Dependencies first.
#: Only modules of functions: reloading one that defines classes (bptt.data,
#: bptt.optim) would break ``isinstance`` for the objects the notebook holds.
_RELOADED = ("bptt.validate", "bptt.rnn", "bptt.clip", "bptt.gradcheck", "bptt.losses",
             "bptt.spectral", "bptt.dynamics",
             "bptt.checks._harness", "bptt.checks._compare", "bptt.checks._rnn",
             "bptt.checks._bptt", "bptt.checks.forward", "bptt.checks.backward",
             "bptt.checks.finite_differences", "bptt.checks.clipping", "bptt.checks.dynamics",
             "bptt.checks.char_model", "bptt.checks")


def prepare_check(namespace: dict, names) -> None:
    """Run by the grader inside the student's kernel before each check cell.

    Reloads the package's reference modules (undoing any monkeypatching), and
    refuses a function that is the package's own rather than the student's.

    Parameters
    ----------
    namespace : dict
        The notebook's globals.
    names : sequence of str
        The functions the next check tests.

    Raises
    ------
    AssertionError
        When one of ``names`` is a function of the ``bptt`` package.
    """
    for module in _RELOADED:
        if module in sys.modules:
            importlib.reload(sys.modules[module])
    for name in names:
        module = getattr(namespace.get(name), "__module__", None) or ""
        if module == "bptt" or module.startswith("bptt."):
            raise AssertionError(f"{name} is the package's own {module}.{name}, not yours: "
                                 f"write {name} yourself instead of importing it.")
