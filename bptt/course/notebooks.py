"""Notebooks as plain JSON, and the nbgrader conventions of the assignments.

The assignments are written once, as notebooks *with their solutions*
(``hwN-*.ipynb`` in a source folder, the book's ``chapters/homework``), in the
conventions of nbgrader so that instructors who use nbgrader can use them
unchanged:

* **Code to write.** In a code cell whose ``metadata.nbgrader.solution`` is
  true, the solution sits between a line ``### BEGIN SOLUTION`` and a line
  ``### END SOLUTION``. The student version replaces that region with
  ``# YOUR CODE HERE`` and ``raise NotImplementedError()`` at the same
  indentation; everything around it (signature, docstring) is kept.
* **Written answers.** A markdown cell whose ``metadata.nbgrader`` has
  ``solution`` and ``grade`` true holds the model answer (the mark scheme);
  the student version replaces the whole cell by ``YOUR ANSWER HERE``. These
  questions are graded by hand.
* **Checks.** A code cell whose ``metadata.nbgrader`` has ``grade`` true and
  ``solution`` false, with ``points`` and a unique ``grade_id``, is an
  automatic test: calls of self-checks on the student's functions, with
  literal options (``bptt.checks.check_rnn_backward(rnn_backward,
  truncation=False)``). It earns its points when the checks pass; the grader
  runs them from outside the student's kernel (:mod:`bptt.course.verdict`).
* **The install cell.** The first code cell (id ``install-bptt``, written by
  the book's ``chapters/_ext/launch_cell.py``) installs the package on Colab
  or Binder when it is missing. Students need it, so the release keeps it; it
  is no question, and the grader replaces it by a cell that installs nothing.

Notebooks are read and written as JSON, as nbformat writes them: releasing
needs no Jupyter package.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BEGIN_SOLUTION", "END_SOLUTION", "CODE_STUB", "TEXT_STUB", "INSTALL_CELL_ID",
    "ASSIGNMENT_GLOB",
    "load_notebook", "dumps_notebook", "cell_text", "nbgrader_meta", "split_regions",
    "Question", "questions", "solution_lines", "defined_names", "assignment_paths",
]

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
#: What replaces a solution region in code (nbgrader's stub for Python).
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
#: What replaces a written answer.
TEXT_STUB = "YOUR ANSWER HERE"
#: The id of every notebook's first code cell, which installs the package on
#: Colab or Binder when it is missing. The release keeps it; it is no
#: question; the grader runs :data:`bptt.course.prepare.GRADER_INSTALL_CELL` in
#: its place, so grading never installs anything.
INSTALL_CELL_ID = "install-bptt"
#: Source assignments: hw1-forward.ipynb, hw2-backward.ipynb, ...
ASSIGNMENT_GLOB = "hw[0-9]*-*.ipynb"


# --------------------------------------------------------------------------
# Reading and writing
# --------------------------------------------------------------------------

def load_notebook(path) -> dict:
    """Read a notebook file as a dict, with every cell source as one string."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError(f"{path} is not a notebook: no list of cells")
    for cell in nb["cells"]:
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            raise ValueError(f"{path} is not a notebook: a cell has no cell_type")
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
    return nb


def dumps_notebook(nb: dict) -> str:
    """Serialise a notebook as nbformat does (sorted keys, indent 1, sources as line lists)."""
    nb = json.loads(json.dumps(nb))           # a deep copy
    for cell in nb["cells"]:
        if isinstance(cell.get("source"), str):
            cell["source"] = cell["source"].splitlines(keepends=True)
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def cell_text(cell: dict) -> str:
    """A cell's source as one string (files store it as a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def nbgrader_meta(cell: dict) -> dict:
    """The cell's nbgrader metadata (an empty dict when it has none)."""
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def assignment_paths(source_dir) -> list[Path]:
    """The source assignments of ``source_dir`` (:data:`ASSIGNMENT_GLOB`), sorted.

    Raises FileNotFoundError when there is none.
    """
    paths = sorted(Path(source_dir).glob(ASSIGNMENT_GLOB))
    if not paths:
        raise FileNotFoundError(f"no assignments ({ASSIGNMENT_GLOB}) in {source_dir}")
    return paths


# --------------------------------------------------------------------------
# Solutions and questions
# --------------------------------------------------------------------------

def split_regions(source: str, where: str):
    """Split ``source`` into ``(kind, lines)`` runs: kind "keep", "indent" or "solution".

    An "indent" run, holding the indentation of the ``BEGIN`` marker, comes
    before each "solution" run. The marker lines are not part of any run.
    Raises ValueError for a marker that is unbalanced, nested or not alone on
    its line.
    """
    runs, current, kind = [], [], "keep"
    for number, line in enumerate(source.splitlines(), 1):
        stripped = line.strip()
        if stripped in (BEGIN_SOLUTION, END_SOLUTION):
            opening = stripped == BEGIN_SOLUTION
            if opening == (kind == "solution"):
                raise ValueError(f"{where}, line {number}: {stripped!r} "
                                 f"{'inside another solution' if opening else 'without a BEGIN'}")
            runs.append((kind, current))
            indent = line[:len(line) - len(line.lstrip())]
            current, kind = [], "solution" if opening else "keep"
            if opening:
                runs.append(("indent", [indent]))
        elif "BEGIN SOLUTION" in line or "END SOLUTION" in line:
            raise ValueError(f"{where}, line {number}: a solution marker must be alone on its "
                             f"line, exactly {BEGIN_SOLUTION!r} or {END_SOLUTION!r}; got {line!r}")
        else:
            current.append(line)
    if kind == "solution":
        raise ValueError(f"{where}: {BEGIN_SOLUTION!r} without {END_SOLUTION!r}")
    runs.append((kind, current))
    return runs


@dataclass(frozen=True)
class Question:
    """One graded cell of an assignment.

    Attributes
    ----------
    grade_id : str
        nbgrader's ``grade_id``, unique in the notebook.
    points : float
        The points it is worth.
    manual : bool
        True for a written answer graded by hand, False for an automatic check.
    index : int
        Position of the cell in the source notebook.
    """

    grade_id: str
    points: float
    manual: bool
    index: int


def questions(nb: dict, name: str = "notebook") -> list[Question]:
    """Check a source notebook's nbgrader metadata and return its graded cells, in order.

    Parameters
    ----------
    nb : dict
        A source notebook (with solutions).
    name : str
        Used in error messages.

    Returns
    -------
    list of Question

    Raises
    ------
    ValueError
        When a solution region is malformed or sits in a cell not marked as a
        solution, when a graded cell has no ``grade_id`` or no positive
        ``points``, when a ``grade_id`` repeats, or when a code cell is both a
        solution and graded (nbgrader's "autograded answer", not used here).
    """
    found, seen = [], set()
    for i, cell in enumerate(nb["cells"]):
        meta, where = nbgrader_meta(cell), f"{name}, cell {i}"
        runs = split_regions(cell_text(cell), where)
        has_region = any(kind == "solution" for kind, _ in runs)
        if has_region and not meta.get("solution"):
            raise ValueError(f"{where} has a solution region but metadata.nbgrader.solution "
                             "is not true")
        if not meta.get("grade"):
            continue
        grade_id, points = meta.get("grade_id"), meta.get("points")
        if not grade_id or not isinstance(grade_id, str):
            raise ValueError(f"{where} is graded but has no grade_id")
        if grade_id in seen:
            raise ValueError(f"{where}: grade_id {grade_id!r} is used twice")
        seen.add(grade_id)
        if isinstance(points, bool) or not isinstance(points, (int, float)) or points <= 0:
            raise ValueError(f"{where} ({grade_id}): points must be a number > 0, got {points!r}")
        manual = bool(meta.get("solution"))
        if manual and cell["cell_type"] != "markdown":
            raise ValueError(f"{where} ({grade_id}): a graded solution must be a markdown "
                             "answer; code is graded by a separate check cell")
        found.append(Question(grade_id, float(points), manual, i))
    return found


def solution_lines(nb: dict) -> set[str]:
    """Every line of solution text in a source notebook, stripped of surrounding blanks.

    The lines of code solution regions, and of whole solution cells (written
    answers); lines made only of punctuation (such as ``)``) are left out. A
    released notebook must contain none of them.
    """
    lines = set()
    for i, cell in enumerate(nb["cells"]):
        if not nbgrader_meta(cell).get("solution"):
            continue
        runs = split_regions(cell_text(cell), f"cell {i}")
        if any(kind == "solution" for kind, _ in runs):
            text = [ln for kind, chunk in runs if kind == "solution" for ln in chunk]
        else:
            text = cell_text(cell).splitlines()
        lines.update(s for s in (ln.strip() for ln in text) if re.search(r"\w", s))
    return lines


def defined_names(nb: dict) -> list[str]:
    """The functions the solution cells define: the ones a check may test."""
    names = []
    for cell in nb["cells"]:
        if nbgrader_meta(cell).get("solution") and cell["cell_type"] == "code":
            names += re.findall(r"^def (\w+)", cell_text(cell), flags=re.M)
    return list(dict.fromkeys(names))
