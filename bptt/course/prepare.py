"""The notebook the grader runs: the student's, its check cells replaced by call cells.

Each check cell (matched by ``grade_id``; added at the end when the student
deleted it) becomes a call cell, which calls the student's function on the
problems the grader drew (:mod:`bptt.course.call_cell`) and decides nothing;
the install cell becomes a cell that installs nothing. Before anything runs,
every code cell is compiled as IPython would compile it
(:func:`syntax_errors`), so that a syntax error is reported as what it is,
with its cell, line and message, not as a NameError further on.
"""
from __future__ import annotations

import ast

from .notebooks import INSTALL_CELL_ID, Question, cell_text, nbgrader_meta

__all__ = ["GRADER_INSTALL_CELL", "CALL_CELL", "prepare", "syntax_errors"]

#: What the grader runs instead of the install cell.
GRADER_INSTALL_CELL = ("# The grader runs this instead of the install cell: it installs nothing\n"
                       "# (the grading kernel has its own bptt).")
#: What the grader runs instead of a check cell (``key`` names its files, q0, q1, ...).
CALL_CELL = ("# The grader runs this in place of the check cell {gid}: it calls your\n"
             "# function on problems drawn now, and judges the results outside this kernel.\n"
             "import _bptt_grading\n"
             "_bptt_grading.call_cell({key!r}, globals())")


def prepare(submission: dict, qs: list[Question]) -> tuple[dict, dict]:
    """The notebook to run, and the index of the call cell of every automatic question."""
    cells = [dict(c) for c in submission["cells"]]
    by_id = {}
    for i, cell in enumerate(cells):
        gid = nbgrader_meta(cell).get("grade_id")
        if gid and gid not in by_id and cell.get("cell_type") == "code":
            by_id[gid] = i
    where = {}
    for n, q in enumerate(qs):
        if q.manual:
            continue
        cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                "source": CALL_CELL.format(gid=q.grade_id, key=f"q{n}")}
        if q.grade_id in by_id:
            cells[by_id[q.grade_id]] = cell
        else:                              # deleted by the student: call at the end
            cells.append(cell)
        where[q.grade_id] = by_id.get(q.grade_id, len(cells) - 1)
    for i, cell in enumerate(cells):
        if cell.get("cell_type") == "code" and cell.get("id") == INSTALL_CELL_ID:
            cells[i] = cell = {"cell_type": "code", "metadata": {}, "outputs": [],
                               "execution_count": None, "source": GRADER_INSTALL_CELL}
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
        cell["source"] = cell_text(cell)
    nb = {"cells": cells, "metadata": {"kernelspec": {"name": "python3",
                                                      "display_name": "Python 3",
                                                      "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    return nb, where


def syntax_errors(nb: dict) -> list[str]:
    """Each code cell that does not compile (as IPython compiles it): cell, line, message."""
    from IPython.core.inputtransformer2 import TransformerManager

    found = []
    for i, cell in enumerate(nb["cells"]):
        if cell.get("cell_type") != "code":
            continue
        try:
            code = TransformerManager().transform_cell(cell_text(cell))
            compile(code, f"cell {i + 1}", "exec",
                    flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        except SyntaxError as exc:
            text = (exc.text or "").strip()
            found.append(f"cell {i + 1}, line {exc.lineno}: {type(exc).__name__}: {exc.msg}"
                         + (f": {text}" if text else ""))
        except Exception as exc:           # IPython could not transform the cell
            found.append(f"cell {i + 1}: {type(exc).__name__}: {exc}")
    return found
