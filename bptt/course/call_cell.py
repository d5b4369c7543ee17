"""The grader's code in the student's kernel: call the student's functions, write what they gave.

During grading every check cell is replaced by a call of :func:`call_cell`
(see :mod:`bptt.course.grade`). It reads the problems the grader drew for that
cell (``in/<cell>.npz``, read-only for the kernel), rebuilds the arguments that
are functions from their data, calls the student's function on each problem
with the self-checks' own call step (``bptt.checks._harness.call``: fresh
copies of the arguments, what it returned or raised, the arguments after the
call, aliasing), and writes all of it, as data, to ``out/<cell>.npz``.

It decides nothing. Whatever the kernel does to this module, to the harness or
to the files, it can only change the data it hands back, which the grader
judges in its own process against problems the kernel never saw the answers
to. The grader copies this file into the kernel's runtime as
``_bptt_grading``, beside ``_bptt_call`` (the harness) and ``_bptt_wire``
(:mod:`bptt.course.wire`); it runs nowhere else.
"""
from __future__ import annotations

import dataclasses
import os

__all__ = ["FOLDER_VARIABLE", "call_cell"]

#: The environment variable naming the folder that holds ``in/`` and ``out/``.
FOLDER_VARIABLE = "BPTT_GRADING"


def _record(result) -> dict:
    """A Call of the harness as a dict of its fields (a Call inside one, such as ``again``, too)."""
    return {"call": True, **{f.name: (_record(getattr(result, f.name))
                                      if dataclasses.is_dataclass(getattr(result, f.name))
                                      and f.name not in ("output", "args")
                                      else getattr(result, f.name))
                             for f in dataclasses.fields(result)}}


def _call_all(harness, fn, stages) -> list:
    """Every problem of every stage called, as records of the harness's Calls."""
    out = []
    for stage in stages:
        calls = []
        for p in stage:
            problem = harness.Problem(label=str(p.get("label", "")), args=p["args"],
                                      kwargs=p["kwargs"], calls=p["calls"])
            calls.append(_record(harness.call(fn, problem)))
        out.append(calls)
    return out


def call_cell(cell_id: str, namespace: dict) -> None:
    """Call the functions that check cell ``cell_id`` tests, as found in ``namespace``.

    A function that is not defined is written as missing; what a function
    raises is collected by the harness, not raised here.
    """
    import _bptt_call._harness as harness
    import _bptt_wire as wire

    folder = os.environ.get(FOLDER_VARIABLE, "/home/student/grading")
    order = wire.load(os.path.join(folder, "in", f"{cell_id}.npz"),
                      wire.builders(harness.Bound))
    results = []
    for request in order["calls"]:
        name = request["name"]
        if name not in namespace:
            results.append({"missing": True, "stages": []})
        else:
            results.append({"missing": False,
                            "stages": _call_all(harness, namespace[name], request["stages"])})
    wire.save(os.path.join(folder, "out", f"{cell_id}.npz"), {"calls": results})
