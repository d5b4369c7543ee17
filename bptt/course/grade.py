"""Grading: run every student's notebooks and write the points to ``grades.csv``.

The submissions folder holds one folder per student, each with that student's
notebooks (``alice/hw1-forward.ipynb``). Every notebook runs in a fresh kernel
(in a temporary copy, so nothing it writes lands beside the submissions) with
a time limit per cell and per notebook, and with its printed output capped
(:mod:`bptt.course.kernel`). The check cells are first put back as the
instructor wrote them (matched by ``grade_id``, re-added at the end when
deleted), and the install cell is replaced by one that installs nothing.
Before each check cell the package's reference modules are reloaded and the
student's functions are refused if they are the package's own
(:mod:`bptt.course.guard`). A cell that raises, a kernel that dies, a cell
that never ends and a notebook that prints megabytes are all recorded in the
CSV, and grading goes on with the next cell or notebook.

The grader reads only the folders it is given (the submissions and the
source assignments, whose check cells it runs) and writes only beside the CSV
it is told to write. The kernel it starts is the ``python3`` kernel of the
current environment, which must have ``bptt`` installed.

The grader runs the students' code with the instructor's permissions: run it
in a container or as an unprivileged user when the submissions are not trusted.
"""
from __future__ import annotations

import asyncio
import csv
import re
import shutil
import tempfile
from pathlib import Path

from .kernel import run_notebook
from .notebooks import (INSTALL_CELL_ID, TEXT_STUB, Question, assignment_paths, cell_text,
                        defined_names, dumps_notebook, load_notebook, nbgrader_meta, questions)

__all__ = ["GRADER_INSTALL_CELL", "FIELDS", "grade_submission", "grade"]

#: What the grader runs instead of the install cell: nothing to install, and a
#: clear error (recorded by every check) if the grading kernel lacks ``bptt``.
GRADER_INSTALL_CELL = (
    "# The grader runs this instead of the install cell: it installs nothing.\n"
    "import importlib.util\n"
    "\n"
    'if importlib.util.find_spec("bptt") is None:\n'
    '    raise ModuleNotFoundError("the grading kernel has no bptt package: install it "\n'
    '                              "in the environment of the kernel python3")')
#: The columns of ``grades.csv``: one row per student and question.
FIELDS = ("student", "assignment", "question", "points", "max_points", "feedback")


# --------------------------------------------------------------------------
# The notebook to run
# --------------------------------------------------------------------------

def _check_source(cell_source: str, names: list[str]) -> str:
    """The check cell as the grader runs it: the guard, then the instructor's code."""
    used = [n for n in names if re.search(rf"\b{n}\b", cell_source)]
    return ("import bptt.course.guard as _bptt_guard\n"
            f"_bptt_guard.prepare_check(globals(), {used!r})\n" + cell_source)


def _prepare(submission: dict, source: dict, qs: list[Question]) -> tuple[dict, dict]:
    """The notebook to run: the submission with the instructor's check cells put back.

    The install cell (id :data:`~bptt.course.notebooks.INSTALL_CELL_ID`) is replaced by
    :data:`GRADER_INSTALL_CELL`, which installs nothing. Returns the notebook
    and, for every automatic question, the index of its cell.
    """
    cells = [dict(c) for c in submission["cells"]]
    by_id = {}
    for i, cell in enumerate(cells):
        gid = nbgrader_meta(cell).get("grade_id")
        if gid and gid not in by_id:
            by_id[gid] = i
    names = defined_names(source)
    where = {}
    for q in qs:
        if q.manual:
            continue
        original = source["cells"][q.index]
        cell = {"cell_type": "code", "metadata": dict(original.get("metadata", {})),
                "source": _check_source(cell_text(original), names), "outputs": [],
                "execution_count": None}
        if q.grade_id in by_id and cells[by_id[q.grade_id]].get("cell_type") == "code":
            cells[by_id[q.grade_id]] = cell
            where[q.grade_id] = by_id[q.grade_id]
        else:                              # deleted by the student: run it at the end
            cells.append(cell)
            where[q.grade_id] = len(cells) - 1
    for i, cell in enumerate(cells):
        if cell.get("cell_type") == "code" and cell.get("id") == INSTALL_CELL_ID:
            # Never install during grading: the kernel must already have bptt.
            cells[i] = cell = {"cell_type": "code", "id": INSTALL_CELL_ID, "metadata": {},
                               "outputs": [],
                               "execution_count": None, "source": GRADER_INSTALL_CELL}
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
        cell["source"] = cell_text(cell)
    nb = {"cells": cells, "metadata": {"kernelspec": {"name": "python3",
                                                      "display_name": "Python 3",
                                                      "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    return nb, where


def _short(text: str, limit: int = 1500) -> str:
    """``text`` cut to ``limit`` characters, ANSI colours removed."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(text)).strip()
    return text if len(text) <= limit else text[:limit] + " [...]"


# --------------------------------------------------------------------------
# Rows of points
# --------------------------------------------------------------------------

def _answer_row(cell: dict | None) -> dict:
    """Points and feedback of a written answer: left to the grader unless plainly missing."""
    if cell is None:
        return {"points": "", "feedback": "answer cell not found (its metadata was removed?): "
                                          "grade by hand from the notebook"}
    text = cell_text(cell).strip()
    if not text or text == TEXT_STUB:
        return {"points": 0, "feedback": f"written answer missing (still '{TEXT_STUB}')"}
    return {"points": "", "feedback": "written answer: to be graded by hand"}


def _num(x: float):
    """A whole number as an int (3, not 3.0), for the CSV."""
    return int(x) if float(x).is_integer() else x


def _rows_not_run(student, assignment, qs, why: str) -> list[dict]:
    return [{"student": student, "assignment": assignment, "question": q.grade_id,
             "points": 0, "max_points": _num(q.points), "feedback": why} for q in qs]


async def _grade_async(student: str, assignment: str, path: Path | None, source: dict,
                       *, timeout: float, cell_timeout: float, max_output: int,
                       save_dir: Path | None) -> list[dict]:
    """The rows of one student's notebook for one assignment (see :func:`grade_submission`)."""
    qs = questions(source, assignment)
    if path is None:
        return _rows_not_run(student, assignment, qs, "not submitted")
    try:
        submission = load_notebook(path)
    except (ValueError, UnicodeDecodeError) as exc:
        return _rows_not_run(student, assignment, qs, f"not a readable notebook: {exc}")
    nb, where = _prepare(submission, source, qs)
    with tempfile.TemporaryDirectory(prefix="bptt-grade-") as workdir:
        shutil.copy(path, Path(workdir) / Path(path).name)
        executed, replies, stopped = await run_notebook(
            nb, workdir, timeout=timeout, cell_timeout=cell_timeout, max_output=max_output)
    if save_dir is not None:
        save_dir.mkdir(parents=True, exist_ok=True)
        (save_dir / f"{assignment}.ipynb").write_text(dumps_notebook(dict(executed)),
                                                      encoding="utf-8")
    answers = {nbgrader_meta(c).get("grade_id"): c for c in submission["cells"]
               if c.get("cell_type") == "markdown"}
    rows = []
    for q in qs:
        row = {"student": student, "assignment": assignment, "question": q.grade_id,
               "max_points": _num(q.points)}
        if q.manual:
            row.update(_answer_row(answers.get(q.grade_id)))
        else:
            reply = replies.get(where[q.grade_id])
            if reply is None:
                row.update(points=0, feedback=stopped or "not run")
            elif reply.get("status") == "ok":
                row.update(points=_num(q.points), feedback="passed")
            else:
                row.update(points=0, feedback=_short(f"{reply.get('ename', 'Error')}: "
                                                     f"{reply.get('evalue', '')}"))
        rows.append(row)
    return rows


def grade_submission(path, source_path, *, student: str = "student", timeout: float = 120,
                     cell_timeout: float = 60, max_output: int = 100_000,
                     save_dir=None) -> list[dict]:
    """Grade one submitted notebook against its source assignment.

    Parameters
    ----------
    path : path or None
        The student's notebook; None for "not submitted".
    source_path : path
        The source notebook (with solutions and the check cells).
    student : str
        The student's name, copied into every row.
    timeout : float
        Seconds the whole notebook may run; cells not reached get 0 points.
    cell_timeout : float
        Seconds one cell may run before it is interrupted (and fails).
    max_output : int
        Characters of output stored for the notebook; the rest is dropped.
    save_dir : path, optional
        Where to write the executed notebook (``<assignment>.ipynb``), for review.

    Returns
    -------
    list of dict
        One row per question: ``student``, ``assignment``, ``question``
        (the grade_id), ``points`` (empty for a written answer to be graded by
        hand), ``max_points``, ``feedback``.
    """
    source_path = Path(source_path)
    return asyncio.run(_grade_async(
        student, source_path.stem, None if path is None else Path(path),
        load_notebook(source_path), timeout=timeout, cell_timeout=cell_timeout,
        max_output=max_output, save_dir=None if save_dir is None else Path(save_dir)))


# --------------------------------------------------------------------------
# A folder of submissions
# --------------------------------------------------------------------------

def _find(folder: Path, name: str) -> Path | None:
    """The student's notebook for assignment ``name``.

    ``hw1-forward.ipynb`` itself, else the only notebook whose name starts with
    ``hw1`` and a non-digit (such as ``hw1-forward (1).ipynb``), else None.
    """
    exact = folder / name
    if exact.is_file():
        return exact
    prefix = name.split("-")[0]
    matches = sorted(p for p in folder.glob(f"{prefix}*.ipynb")
                     if re.match(rf"{prefix}\D", p.name))
    return matches[0] if len(matches) == 1 else None


def grade(submissions, source_dir, out_csv, *, assignments=None,
          timeout: float = 120, cell_timeout: float = 60, max_output: int = 100_000,
          jobs: int = 2) -> list[dict]:
    """Grade every student's notebooks and write the CSV of points and feedback.

    Parameters
    ----------
    submissions : path
        One folder per student, holding that student's notebooks.
    source_dir : path
        The source assignments.
    out_csv : path
        The CSV to write (one row per student and question, columns
        :data:`FIELDS`). Beside it: ``totals.csv`` (one row per student and
        assignment) and ``<student>/<assignment>.ipynb``, the executed notebooks.
    assignments : list of str, optional
        Assignment names (``hw1-forward``) to grade; by default every assignment
        that at least one student handed in. A student who did not hand one in
        gets 0 points on it, with the feedback "not submitted".
    timeout, cell_timeout, max_output
        See :func:`grade_submission`.
    jobs : int
        Notebooks run at the same time.

    Returns
    -------
    list of dict
        The rows written.
    """
    submissions, out_csv = Path(submissions), Path(out_csv)
    if not submissions.is_dir():
        raise FileNotFoundError(f"submissions must be a folder of student folders, got "
                                f"{submissions}")
    sources = {p.stem: p for p in assignment_paths(source_dir)}
    students = sorted(p for p in submissions.iterdir() if p.is_dir())
    if assignments is None:
        names = [n for n, p in sources.items()
                 if any(_find(s, p.name) for s in students)]
    else:
        unknown = [a for a in assignments if a not in sources]
        if unknown:
            raise ValueError(f"unknown assignments {unknown}; known: {list(sources)}")
        names = list(assignments)
    jobs = max(1, int(jobs))

    async def run_all():
        gate = asyncio.Semaphore(jobs)

        async def one(student, name):
            async with gate:
                return await _grade_async(
                    student.name, name, _find(student, sources[name].name),
                    load_notebook(sources[name]), timeout=timeout, cell_timeout=cell_timeout,
                    max_output=max_output, save_dir=out_csv.parent / student.name)
        return await asyncio.gather(*(one(s, n) for s in students for n in names))

    rows = [row for result in asyncio.run(run_all()) for row in result]
    _write_csvs(out_csv, rows, [s.name for s in students], names)
    return rows


def _write_csvs(out_csv: Path, rows: list[dict], students: list[str], names: list[str]) -> None:
    """``out_csv`` (the rows) and ``totals.csv`` beside it (one row per student and assignment)."""
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    with open(out_csv, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    with open(out_csv.parent / "totals.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "assignment", "points", "max_points", "by_hand_max"])
        for s in students:
            for n in names:
                mine = [r for r in rows if r["student"] == s and r["assignment"] == n]
                writer.writerow([s, n, sum(r["points"] or 0 for r in mine),
                                 sum(r["max_points"] for r in mine),
                                 sum(r["max_points"] for r in mine if r["points"] == "")])
