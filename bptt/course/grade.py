"""Grading: run every student's notebooks, judge their functions, write ``grades.csv``.

The submissions folder holds one folder per student, each with that student's
notebooks (``alice/hw1-forward.ipynb``). For each notebook, in this order:

1. its check cells become call cells, and its code cells are compiled before
   anything runs: a syntax error is reported with its cell, line and message
   (:mod:`bptt.course.prepare`);
2. for every check cell the grader draws fresh problems from a seed taken
   from ``os.urandom`` and writes them, as data, to the job's ``in/``
   (:mod:`bptt.course.verdict`, :mod:`bptt.course.wire`);
3. the notebook runs in its own kernel, in its own sandbox
   (:mod:`bptt.course.sandbox`), on a student runtime whose reference
   functions raise (:mod:`bptt.course.runtime`), with a time limit per cell
   and per notebook and its printed output capped (:mod:`bptt.course.kernel`);
   the kernel and every process it started are killed when it ends;
4. the grader reads what the student's functions returned (``out/``) and
   judges it in its own process: the points come from that verdict only,
   never from what the kernel printed or replied.

When every kernel of the run has ended, the grader writes ``grades.csv`` (a
row per student and question), ``totals.csv`` (summed from the same rows),
``report.txt`` (how the run was made) and the executed notebooks, each
atomically (a temporary file, then a rename). A cell that raises, a kernel
that dies, a cell that never ends and a notebook that prints megabytes are
all recorded, and grading goes on.
"""
from __future__ import annotations

import asyncio
import csv
import io
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from . import wire
from .kernel import run_notebook
from .notebooks import (TEXT_STUB, assignment_paths, cell_text, defined_names, dumps_notebook,
                        load_notebook, nbgrader_meta, questions)
from .prepare import prepare, syntax_errors
from .sandbox import LIMITS, Job, Launcher, bwrap_problem
from .verdict import check_calls, draw, order, verdict

__all__ = ["FIELDS", "SandboxUnavailable", "grade_submission", "grade"]

#: The columns of ``grades.csv``: one row per student and question.
FIELDS = ("student", "assignment", "question", "points", "max_points", "feedback")


class SandboxUnavailable(RuntimeError):
    """Grading needs bubblewrap, and cannot use it here."""


def _plain(text: str) -> str:
    """``text`` without terminal escapes or control characters (a newline and a tab stay).

    A student's exception message reaches the feedback: in a terminal that
    shows ``grades.csv``, an escape sequence could retitle it, clear it or
    write to its clipboard.
    """
    text = re.sub(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?)", "", str(text))
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", "", text)


def _short(text: str, limit: int = 1500) -> str:
    """``text`` cut to ``limit`` characters, plain (:func:`_plain`), safe in a spreadsheet."""
    text = _plain(text).strip()
    text = text if len(text) <= limit else text[:limit] + " [...]"
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _num(x: float):
    """A whole number as an int (3, not 3.0), for the CSV."""
    return int(x) if float(x).is_integer() else x


# --------------------------------------------------------------------------
# One notebook
# --------------------------------------------------------------------------

class _Assignment:
    """What every notebook of one assignment shares in a run: checks, runtime, launcher."""

    def __init__(self, name: str, source: dict, launcher: Launcher, stubbed: list[str]):
        self.name, self.source, self.launcher = name, source, launcher
        self.stubbed = stubbed              # bptt's functions that raise in its runtime
        self.questions = questions(source, name)
        self.checks = {q.grade_id: check_calls(cell_text(source["cells"][q.index]),
                                               f"{name}, check cell {q.grade_id}")
                       for q in self.questions if not q.manual}


def _answer_row(cell: dict | None) -> dict:
    """Points and feedback of a written answer: left to the grader unless plainly missing."""
    if cell is None:
        return {"points": "", "feedback": "answer cell not found (its metadata was removed?): "
                                          "grade by hand from the notebook"}
    text = cell_text(cell).strip()
    if not text or text == TEXT_STUB:
        return {"points": 0, "feedback": f"written answer missing (still '{TEXT_STUB}')"}
    return {"points": "", "feedback": "written answer: to be graded by hand"}


def _rows_not_run(student, assignment, qs, why: str) -> list[dict]:
    return [{"student": student, "assignment": assignment, "question": q.grade_id,
             "points": 0, "max_points": _num(q.points), "feedback": why} for q in qs]


async def _grade_async(student: str, a: _Assignment, path: Path | None, run_dir: Path, *,
                       timeout: float, cell_timeout: float, max_output: int):
    """The rows of one student's notebook for one assignment, and the executed notebook."""
    qs = a.questions
    if path is None:
        return _rows_not_run(student, a.name, qs, "not submitted"), None
    try:
        submission = load_notebook(path)
    except (ValueError, UnicodeDecodeError) as exc:
        return _rows_not_run(student, a.name, qs, f"not a readable notebook: {exc}"), None
    nb, where = prepare(submission, qs)
    broken = syntax_errors(nb)
    seed = int.from_bytes(os.urandom(8), "little")
    job = Job.create(run_dir)
    drawn = {}
    for n, q in enumerate(qs):
        if not q.manual:
            drawn[q.grade_id] = draw(a.checks[q.grade_id], seed + n)
            tree, arrays = order(drawn[q.grade_id])
            wire.save_tree(job.inputs / f"q{n}.npz", tree, arrays)
    (job.home / Path(path).name).write_bytes(Path(path).read_bytes())
    executed, replies, stopped = await run_notebook(
        nb, a.launcher, job, timeout=timeout, cell_timeout=cell_timeout, max_output=max_output)
    answers = {nbgrader_meta(c).get("grade_id"): c for c in submission["cells"]
               if c.get("cell_type") == "markdown"}
    note = (f"The notebook has a syntax error, so that cell never ran: {'; '.join(broken)}. "
            if broken else "")
    rows = []
    for n, q in enumerate(qs):
        row = {"student": student, "assignment": a.name, "question": q.grade_id,
               "max_points": _num(q.points)}
        if q.manual:
            row.update(_answer_row(answers.get(q.grade_id)))
        else:
            passed, feedback, details = _judged(
                drawn[q.grade_id], wire.read_file(job.outputs / f"q{n}.npz"),
                replies.get(where[q.grade_id]), stopped)
            row.update(points=_num(q.points) if passed else 0,
                       feedback=_short(feedback if passed else note + feedback))
            executed.cells[where[q.grade_id]].outputs = [{
                "output_type": "stream", "name": "stdout" if passed else "stderr",
                "text": _plain(f"[grader] {q.grade_id}: {row['points']} / {row['max_points']}: "
                               f"{'' if passed else note}{details}\n")}]
        rows.append(row)
    _remove(job.root)                       # what the notebook wrote: its kernel is gone
    return rows, executed


def _judged(drawn, results, reply, stopped) -> tuple[bool, str, str]:
    """The verdict of one check cell (passed, feedback, details), or why there is none."""
    if isinstance(results, Exception):
        why = f"the results written by the kernel cannot be read ({results})"
    elif results is not None:
        return verdict(drawn, results)
    elif reply is None:
        why = stopped or "not run"
    elif reply.get("status") == "ok":
        why = "the call cell ran but wrote no results"
    else:
        why = f"{reply.get('ename', 'Error')}: {reply.get('evalue', '')}"
    return False, why, why


# --------------------------------------------------------------------------
# A run: assignments, runtimes, notebooks
# --------------------------------------------------------------------------

def _launchers(sources: dict, run_dir: Path, *, unsandboxed: bool, hidden) -> dict:
    """One student runtime and launcher per assignment (the names of ``sources``)."""
    import bptt
    import bptt.checks

    from .runtime import build_runtime, seal, write_launcher
    hidden = [*hidden, Path(bptt.__file__).parent]
    out = {}
    for name, source in sources.items():
        runtime = run_dir / f"runtime-{name}"
        writes = set(defined_names(source))
        for q in questions(source, name):
            if not q.manual:
                writes |= {fn for _, fn, _ in check_calls(cell_text(source["cells"][q.index]))}
        stubbed = build_runtime(Path(bptt.__file__).parent, runtime, writes,
                                bptt.checks.__all__, course_dir=Path(__file__).parent)
        write_launcher(runtime, LIMITS)
        seal(runtime)
        out[name] = _Assignment(name, source, Launcher(runtime, sandboxed=not unsandboxed,
                                                       hidden=hidden), stubbed)
    return out


def _sandbox_or_refuse(unsandboxed: bool) -> str:
    """What the report says about isolation; raises when bwrap is missing and not waived."""
    problem = bwrap_problem()
    if unsandboxed:
        return ("WARNING: graded WITHOUT a sandbox (--unsandboxed): the students' code ran "
                "as the grader's user and could read and change this machine's files, "
                "these results included. Do not trust them for submissions you do not trust.")
    if problem:
        raise SandboxUnavailable(f"{problem}. Grading runs each notebook in a bubblewrap "
                                 "sandbox; install it (make deps), or pass --unsandboxed to "
                                 "grade without one (only for submissions you trust)")
    return "sandbox: bubblewrap, one per notebook (see bptt.course.sandbox)"


def grade_submission(path, source_path, *, student: str = "student", timeout: float = 120,
                     cell_timeout: float = 60, max_output: int = 100_000,
                     save_dir=None, unsandboxed: bool = False) -> list[dict]:
    """Grade one submitted notebook against its source assignment.

    Parameters
    ----------
    path : path or None
        The student's notebook; None for "not submitted".
    source_path : path
        The source notebook (with solutions and the check cells).
    student : str
        The student's name, copied into every row.
    timeout, cell_timeout : float
        Seconds the whole notebook, and one cell, may run.
    max_output : int
        Characters of output stored for the notebook; the rest is dropped.
    save_dir : path, optional
        Where to write the executed notebook (``<assignment>.ipynb``), for review.
    unsandboxed : bool
        Run without bubblewrap (only for trusted submissions).

    Returns
    -------
    list of dict
        One row per question: ``student``, ``assignment``, ``question``
        (the grade_id), ``points`` (empty for a written answer to be graded by
        hand), ``max_points``, ``feedback``.
    """
    source_path = Path(source_path)
    _sandbox_or_refuse(unsandboxed)
    with _run_folder() as run_dir:
        a = _launchers({source_path.stem: load_notebook(source_path)}, Path(run_dir),
                       unsandboxed=unsandboxed, hidden=[source_path.parent])[source_path.stem]
        rows, executed = asyncio.run(_grade_async(
            student, a, None if path is None else Path(path), Path(run_dir), timeout=timeout,
            cell_timeout=cell_timeout, max_output=max_output))
        _remove(Path(run_dir))
    if save_dir is not None and executed is not None:
        _write_atomic(Path(save_dir) / f"{source_path.stem}.ipynb", dumps_notebook(executed))
    return rows


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
          jobs: int = 2, unsandboxed: bool = False) -> list[dict]:
    """Grade every student's notebooks and write the CSVs of points and feedback.

    Parameters
    ----------
    submissions : path
        One folder per student, holding that student's notebooks.
    source_dir : path
        The source assignments.
    out_csv : path
        The CSV to write (one row per student and question, columns
        :data:`FIELDS`). Beside it: ``totals.csv`` (one row per student and
        assignment), ``report.txt`` and ``<student>/<assignment>.ipynb``, the
        executed notebooks. All are written once every kernel has ended.
    assignments : list of str, optional
        Assignment names (``hw1-forward``) to grade; by default every assignment
        that at least one student handed in. A student who did not hand one in
        gets 0 points on it, with the feedback "not submitted".
    timeout, cell_timeout, max_output
        See :func:`grade_submission`.
    jobs : int
        Notebooks run at the same time.
    unsandboxed : bool
        Grade without bubblewrap (only for trusted submissions); the report
        then says so. Without it, grading refuses to run where bwrap cannot
        make a sandbox (:class:`SandboxUnavailable`).

    Returns
    -------
    list of dict
        The rows written.
    """
    started = time.monotonic()
    submissions, out_csv = Path(submissions), Path(out_csv)
    if not submissions.is_dir():
        raise FileNotFoundError(f"submissions must be a folder of student folders, got "
                                f"{submissions}")
    sources = {p.stem: p for p in assignment_paths(source_dir)}
    students = sorted(p for p in submissions.iterdir() if p.is_dir())
    if assignments is None:
        names = [n for n, p in sources.items() if any(_find(s, p.name) for s in students)]
    else:
        unknown = [a for a in assignments if a not in sources]
        if unknown:
            raise ValueError(f"unknown assignments {unknown}; known: {list(sources)}")
        names = list(assignments)
    isolation = _sandbox_or_refuse(unsandboxed)
    hidden = [Path(source_dir), submissions, out_csv.parent]
    with _run_folder() as run_dir:
        run = _launchers({n: load_notebook(sources[n]) for n in names}, Path(run_dir),
                         unsandboxed=unsandboxed, hidden=hidden)

        async def run_all():
            gate = asyncio.Semaphore(max(1, int(jobs)))

            async def one(student, name):
                async with gate:
                    try:
                        return await _grade_async(
                            student.name, run[name], _find(student, sources[name].name),
                            Path(run_dir), timeout=timeout, cell_timeout=cell_timeout,
                            max_output=max_output)
                    except Exception as exc:   # one notebook never ends the whole run
                        return _rows_not_run(student.name, name, run[name].questions, _short(
                            f"the grader failed on this notebook ({type(exc).__name__}: "
                            f"{exc}): grade it by hand")), None
            return await asyncio.gather(*(one(s, n) for s in students for n in names))

        results = asyncio.run(run_all())
        _remove(Path(run_dir))
    # Every kernel has ended: only now are the results written.
    rows = [row for result, _ in results for row in result]
    for (student, name), (_, executed) in zip([(s, n) for s in students for n in names],
                                              results):
        if executed is not None:
            _write_atomic(out_csv.parent / student.name / f"{name}.ipynb",
                          dumps_notebook(executed))
    _write_csvs(out_csv, rows, [s.name for s in students], names)
    _write_atomic(out_csv.parent / "report.txt", "\n".join([
        isolation, f"students: {len(students)}",
        f"notebooks run: {sum(e is not None for _, e in results)}",
        f"seconds: {time.monotonic() - started:.1f}",
        *(f"{n}: bptt functions that raise while it is graded: {', '.join(run[n].stubbed)}"
          for n in names), ""]))
    return rows


def _run_folder():
    """A private temporary folder for one run (jobs, runtimes), removed afterwards."""
    return tempfile.TemporaryDirectory(prefix="bptt-grade-", ignore_cleanup_errors=True)


def _remove(folder: Path) -> None:
    """Remove ``folder``, whatever modes a runtime's seal or a student's notebook left in it."""
    for root, dirs, _ in os.walk(folder):
        for name in dirs:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                os.chmod(path, 0o700)
    shutil.rmtree(folder, ignore_errors=True)


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in its folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    os.replace(temporary, path)


def _write_csvs(out_csv: Path, rows: list[dict], students: list[str], names: list[str]) -> None:
    """``out_csv`` (the rows) and ``totals.csv`` beside it, summed from the same rows."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    totals = io.StringIO()
    writer = csv.writer(totals)
    writer.writerow(["student", "assignment", "points", "max_points", "by_hand_max"])
    for s in students:
        for n in names:
            mine = [r for r in rows if r["student"] == s and r["assignment"] == n]
            writer.writerow([s, n, sum(r["points"] or 0 for r in mine),
                             sum(r["max_points"] for r in mine),
                             sum(r["max_points"] for r in mine if r["points"] == "")])
    _write_atomic(out_csv, text.getvalue())
    _write_atomic(out_csv.parent / "totals.csv", totals.getvalue())
