r"""Homework tooling: release the student versions of the assignments, and grade submissions.

The assignments are written once, as notebooks *with their solutions*
(``chapters/homework/hwN-*.ipynb``), in the conventions of nbgrader so that
instructors who use nbgrader can use them unchanged:

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
  automatic test (typically ``bptt.checks.check_rnn_forward(rnn_forward)``).
  It earns its points when it runs without an error.
* **The install cell.** The first code cell (id ``install-bptt``, written by
  ``chapters/_ext/launch_cell.py``) installs the package on Colab or Binder
  when it is missing. Students need it, so the release keeps it; it is no
  question, and the grader replaces it by a cell that installs nothing.

Three commands (``python -m bptt.homework --help``)::

    release  [--source DIR] [--out DIR]     student notebooks and one zip per assignment
    pages    [--source DIR] [--out DIR]     the student versions the book shows
    grade SUBMISSIONS [--out CSV] [...]      run every submission, write a CSV of points

**Grading.** ``SUBMISSIONS`` holds one folder per student, each with that
student's notebooks (``alice/hw1-forward.ipynb``). Every notebook runs in a
fresh kernel (in a temporary copy, so nothing it writes lands here) with a
time limit per cell and per notebook, and with its printed output capped.
The check cells are first put back as the instructor wrote them (matched by
``grade_id``, re-added at the end when deleted), and the install cell is
replaced by one that installs nothing. Before each check cell the package's
reference modules are reloaded and the student's functions are refused if
they are the package's own. A cell that raises, a kernel that
dies, a cell that never ends and a notebook that prints megabytes are all
recorded in the CSV, and grading goes on with the next cell or notebook.

The grader is built on ``nbclient``, not on ``otter-grader``: otter's batch
grader (``otter grade``) runs in Docker, its container-free ``otter run`` has
no time limit, and its format (``# BEGIN QUESTION`` blocks with OK-format
test files) differs from nbgrader's, which the sources use.

The grader runs the students' code with the instructor's permissions: run it
in a container or as an unprivileged user when the submissions are not trusted.
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BEGIN_SOLUTION", "END_SOLUTION", "CODE_STUB", "TEXT_STUB", "INSTALL_CELL_ID",
    "GRADER_INSTALL_CELL",
    "Question", "load_notebook", "dumps_notebook", "questions", "solution_lines",
    "release_notebook", "release", "write_pages", "grade_submission", "grade", "main",
]

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
#: What replaces a solution region in code (nbgrader's stub for Python).
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
#: What replaces a written answer.
TEXT_STUB = "YOUR ANSWER HERE"
#: The id of every notebook's first code cell, which installs the package on
#: Colab or Binder when it is missing (``chapters/_ext/launch_cell.py``). The
#: release keeps it; it is no question; the grader runs :data:`GRADER_INSTALL_CELL`
#: in its place, so grading never installs anything.
INSTALL_CELL_ID = "install-bptt"
#: What the grader runs instead of the install cell: nothing to install, and a
#: clear error (recorded by every check) if the grading kernel lacks ``bptt``.
GRADER_INSTALL_CELL = (
    "# The grader runs this instead of the install cell: it installs nothing.\n"
    "import importlib.util\n"
    "\n"
    'if importlib.util.find_spec("bptt") is None:\n'
    '    raise ModuleNotFoundError("the grading kernel has no bptt package: install it "\n'
    '                              "in the environment of the kernel python3")')

#: The repository root, for the commands' default paths.
ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIR = ROOT / "chapters" / "homework"
PAGES_DIR = SOURCE_DIR / "student"
RELEASE_DIR = ROOT / "_build" / "homework"
GRADES_CSV = ROOT / "_build" / "grades" / "grades.csv"
#: Source assignments: hw1-forward.ipynb, hw2-backward.ipynb, ...
ASSIGNMENT_GLOB = "hw[0-9]*-*.ipynb"

#: Modules reloaded before every check, so that a submission that replaced
#: (monkeypatched) a reference function cannot make the checks compare its
#: code with itself. Dependencies first.
#: Only modules of functions: reloading one that defines classes (bptt.data,
#: bptt.optim) would break ``isinstance`` for the objects the notebook holds.
_RELOADED = ("bptt.validate", "bptt.rnn", "bptt.clip", "bptt.gradcheck", "bptt.losses",
             "bptt.spectral", "bptt.dynamics", "bptt.checks", "bptt.homework_checks")
#: Zip entries get this date, so that a release is byte-for-byte reproducible.
_ZIP_DATE = (2020, 1, 1, 0, 0, 0)


# --------------------------------------------------------------------------
# Notebooks as plain JSON (no nbformat needed to release)
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


def _text(cell: dict) -> str:
    """A cell's source as one string (files store it as a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _meta(cell: dict) -> dict:
    """The cell's nbgrader metadata (an empty dict when it has none)."""
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


# --------------------------------------------------------------------------
# Solutions and questions
# --------------------------------------------------------------------------

def _split_regions(source: str, where: str):
    """Split ``source`` into ``(kind, lines)`` runs: kind "keep" or "solution".

    The marker lines are not part of either. Raises ValueError for a marker
    that is unbalanced, nested or not alone on its line.
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
        meta, where = _meta(cell), f"{name}, cell {i}"
        runs = _split_regions(_text(cell), where)
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
        if not _meta(cell).get("solution"):
            continue
        runs = _split_regions(_text(cell), f"cell {i}")
        if any(kind == "solution" for kind, _ in runs):
            text = [ln for kind, chunk in runs if kind == "solution" for ln in chunk]
        else:
            text = _text(cell).splitlines()
        lines.update(s for s in (ln.strip() for ln in text) if re.search(r"\w", s))
    return lines


# --------------------------------------------------------------------------
# Release
# --------------------------------------------------------------------------

def _stub_cell(cell: dict) -> dict:
    """The student version of one cell: solutions replaced, outputs cleared."""
    out = {"cell_type": cell["cell_type"], "id": cell.get("id"),
           "metadata": {k: v for k, v in cell.get("metadata", {}).items()
                        if k not in ("execution", "collapsed", "scrolled")},
           "source": _text(cell)}
    if out["id"] is None:
        del out["id"]
    if cell["cell_type"] == "code":
        out["execution_count"] = None
        out["outputs"] = []
    if not _meta(cell).get("solution"):
        return out
    runs = _split_regions(_text(cell), "cell")
    code = cell["cell_type"] == "code"
    if any(kind == "solution" for kind, _ in runs):
        lines, indent = [], ""
        for kind, chunk in runs:
            if kind == "indent":
                indent = chunk[0]
            elif kind == "solution":
                stub = CODE_STUB if code else TEXT_STUB
                lines += [indent + s for s in stub.splitlines()]
            else:
                lines += chunk
        out["source"] = "\n".join(lines)
    else:
        out["source"] = CODE_STUB if code else TEXT_STUB
    return out


def _book_note(filename: str) -> dict:
    """The note the book's page shows under the title: what the page is, and how to start.

    Plain Markdown, no MyST role: the same cell is what a student sees after
    opening the page's notebook on Colab (which shows roles as raw text).
    ``filename`` is kept for callers; the page's download button gives the file.
    """
    source = ("> **The assignment as you receive it.** Nothing in it has been run: its "
              "functions are stubs that raise `NotImplementedError` until you write them. "
              "Download this notebook, or open it on Colab or Binder, with the buttons at "
              "the top of the book's page; the book's Homework page explains how to run "
              "it and how to check your work.")
    return {"cell_type": "markdown", "id": "book-download-note", "metadata": {},
            "source": source}


def release_notebook(nb: dict, *, for_book: bool = False, filename: str = "notebook.ipynb"
                     ) -> dict:
    """The student version of a source notebook.

    Parameters
    ----------
    nb : dict
        The source notebook, with solutions; not modified.
    for_book : bool
        Add, under the title, the note with the download link that the
        book's page shows.
    filename : str
        The notebook's file name, for that link.

    Returns
    -------
    dict
        A new notebook: solution regions replaced by :data:`CODE_STUB`,
        written answers by :data:`TEXT_STUB`, every output and execution
        count cleared, widget state dropped.

    Raises
    ------
    ValueError
        When the source's metadata is invalid (see :func:`questions`).
    RuntimeError
        When a line of solution would survive in the student version.
    """
    questions(nb)
    cells = [_stub_cell(c) for c in nb["cells"]]
    if for_book:
        # Under the title, and under the install cell that follows it (which
        # the book hides): the install cell stays the notebook's first code cell.
        at = 2 if len(cells) > 1 and cells[1].get("id") == INSTALL_CELL_ID else 1
        cells.insert(at, _book_note(filename))
    meta = {k: v for k, v in nb.get("metadata", {}).items() if k in ("kernelspec", "language_info")}
    out = {"cells": cells, "metadata": meta, "nbformat": nb.get("nbformat", 4),
           "nbformat_minor": nb.get("nbformat_minor", 5)}
    leaked = _leaks(out, solution_lines(nb))
    if leaked:
        raise RuntimeError(f"solution text would be released: {leaked[:3]}")
    return out


def _leaks(nb: dict, lines: set[str]) -> list[str]:
    """The solution ``lines`` that appear as lines of ``nb``'s cells."""
    found = []
    for cell in nb["cells"]:
        found += [s for s in (ln.strip() for ln in _text(cell).splitlines()) if s in lines]
    return found


def _sources(source_dir: Path) -> list[Path]:
    paths = sorted(Path(source_dir).glob(ASSIGNMENT_GLOB))
    if not paths:
        raise FileNotFoundError(f"no assignments ({ASSIGNMENT_GLOB}) in {source_dir}")
    return paths


def _write_zip(path: Path, members: dict) -> None:
    """A zip whose bytes depend only on ``members`` (name -> text): fixed dates and order."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, members[name].encode("utf-8"))


def _zip_readme(stem: str) -> str:
    return (f"{stem}: an assignment of the Backpropagation Through Time book.\n\n"
            f"Open {stem}.ipynb in Jupyter: on Google Colab (File > Upload notebook),\n"
            "or in JupyterLab or Jupyter Notebook on your own computer (Python 3.11 or\n"
            "later). Run its first code cell: it installs the book's `bptt` package when\n"
            "it is missing (this needs internet access, and git on your own computer),\n"
            "and does nothing otherwise.\n\n"
            f"Then fill in every cell marked `YOUR CODE HERE` or `{TEXT_STUB}`. Run the\n"
            "check cell under each function: it passes silently when the function is\n"
            "right, and otherwise says what is wrong. Before you hand in the notebook,\n"
            "restart the kernel and run every cell.\n")


def _refuse_sources(out_dir: Path, source_dir: Path) -> None:
    if Path(out_dir).resolve() == Path(source_dir).resolve():
        raise ValueError(f"out_dir must differ from the source folder {source_dir}: the "
                         "student versions would overwrite the solutions")


def release(source_dir=SOURCE_DIR, out_dir=RELEASE_DIR) -> list[Path]:
    """Write every assignment's student notebook and a zip of it into ``out_dir``.

    Parameters
    ----------
    source_dir : path
        Folder of the source notebooks (``hwN-*.ipynb``, with solutions).
    out_dir : path
        Created if needed; receives ``hwN-*.ipynb`` and ``hwN-*.zip`` (holding
        ``hwN-*/hwN-*.ipynb`` and ``hwN-*/README.txt``). Nothing is written elsewhere.

    Returns
    -------
    list of Path
        The files written.
    """
    out_dir = Path(out_dir)
    _refuse_sources(out_dir, source_dir)
    sources = _sources(source_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for src in sources:
        text = dumps_notebook(release_notebook(load_notebook(src), filename=src.name))
        nb_path = out_dir / src.name
        nb_path.write_text(text, encoding="utf-8")
        zip_path = out_dir / f"{src.stem}.zip"
        _write_zip(zip_path, {f"{src.stem}/{src.name}": text,
                              f"{src.stem}/README.txt": _zip_readme(src.stem)})
        written += [nb_path, zip_path]
    return written


def write_pages(source_dir=SOURCE_DIR, out_dir=PAGES_DIR) -> list[Path]:
    """Write the student versions that the book shows (with the download note) into ``out_dir``."""
    out_dir = Path(out_dir)
    _refuse_sources(out_dir, source_dir)
    sources = _sources(source_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for src in sources:
        path = out_dir / src.name
        path.write_text(dumps_notebook(release_notebook(load_notebook(src), for_book=True,
                                                        filename=src.name)), encoding="utf-8")
        written.append(path)
    return written


# --------------------------------------------------------------------------
# Grading
# --------------------------------------------------------------------------

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


def _defined_names(nb: dict) -> list[str]:
    """The functions the solution cells define: the ones a check may test."""
    names = []
    for cell in nb["cells"]:
        if _meta(cell).get("solution") and cell["cell_type"] == "code":
            names += re.findall(r"^def (\w+)", _text(cell), flags=re.M)
    return list(dict.fromkeys(names))


def _check_source(cell_source: str, names: list[str]) -> str:
    """The check cell as the grader runs it: the guard, then the instructor's code."""
    used = [n for n in names if re.search(rf"\b{n}\b", cell_source)]
    return ("import bptt.homework as _bptt_homework\n"
            f"_bptt_homework.prepare_check(globals(), {used!r})\n" + cell_source)


def _prepare(submission: dict, source: dict, qs: list[Question]) -> tuple[dict, dict]:
    """The notebook to run: the submission with the instructor's check cells put back.

    The install cell (id :data:`INSTALL_CELL_ID`) is replaced by
    :data:`GRADER_INSTALL_CELL`, which installs nothing. Returns the notebook
    and, for every automatic question, the index of its cell.
    """
    cells = [dict(c) for c in submission["cells"]]
    by_id = {}
    for i, cell in enumerate(cells):
        gid = _meta(cell).get("grade_id")
        if gid and gid not in by_id:
            by_id[gid] = i
    names = _defined_names(source)
    where = {}
    for q in qs:
        if q.manual:
            continue
        original = source["cells"][q.index]
        cell = {"cell_type": "code", "metadata": dict(original.get("metadata", {})),
                "source": _check_source(_text(original), names), "outputs": [],
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
        cell["source"] = _text(cell)
    nb = {"cells": cells, "metadata": {"kernelspec": {"name": "python3",
                                                      "display_name": "Python 3",
                                                      "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    return nb, where


def _short(text: str, limit: int = 1500) -> str:
    """``text`` cut to ``limit`` characters, ANSI colours removed."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(text)).strip()
    return text if len(text) <= limit else text[:limit] + " [...]"


def _make_client(nb, workdir: str, cell_timeout: float, max_output: int):
    """An nbclient NotebookClient that caps stored output and records each cell's reply."""
    import nbformat
    from nbclient import NotebookClient

    class _Client(NotebookClient):
        """Stores at most ``max_output`` characters of output for the whole notebook."""

        def output(self, outs, msg, display_id, cell_index):
            content = msg["content"]
            if msg["msg_type"] == "error":
                content["traceback"] = content.get("traceback", [])[-20:]
                return super().output(outs, msg, display_id, cell_index)
            size = len(content["text"]) if "text" in content else len(json.dumps(content))
            left = max_output - self.stored
            self.stored += size
            if size <= left:
                return super().output(outs, msg, display_id, cell_index)
            if msg["msg_type"] == "stream" and left > 0:
                content["text"] = content["text"][:left]
                super().output(outs, msg, display_id, cell_index)
            if not self.capped:
                self.capped = True
                outs.append(nbformat.v4.new_output(
                    "stream", name="stderr",
                    text=f"\n[the grader stored only the first {max_output} characters of "
                         "output]\n"))
            return None

    replies, limits = {}, {}

    def on_cell_executed(cell, cell_index, execute_reply):
        replies[cell_index] = (execute_reply or {}).get("content", {})

    client = _Client(
        nbformat.from_dict(nb), kernel_name="python3", allow_errors=True,
        interrupt_on_timeout=True, shutdown_kernel="immediate", iopub_timeout=2,
        timeout=max(1, int(cell_timeout)),
        error_on_timeout={"ename": "Timeout", "evalue": "", "traceback": []},
        resources={"metadata": {"path": workdir}}, on_cell_executed=on_cell_executed)
    client.stored, client.capped = 0, False
    client.timeout_func = lambda cell: limits.get("current")
    return client, replies, limits


async def _execute(nb: dict, workdir: str, *, timeout: float, cell_timeout: float,
                   max_output: int):
    """Run ``nb`` in a fresh kernel; return (executed notebook, replies by cell, stop reason)."""
    from nbclient.exceptions import DeadKernelError

    client, replies, limits = _make_client(nb, workdir, cell_timeout, max_output)
    stopped = None
    # One thread per kernel: several run side by side, and results do not
    # depend on the machine's core count. The kernel's own stderr (its log) is
    # not the student's output: drop it.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    try:
        async with client.async_setup_kernel(env=env, stderr=subprocess.DEVNULL):
            deadline = time.monotonic() + timeout     # starting the kernel is not counted
            for index, cell in enumerate(client.nb.cells):
                if cell.cell_type != "code" or not cell.source.strip():
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0.5:
                    stopped = (f"not run: the notebook used up its {timeout:g} s before "
                               f"cell {index + 1}")
                    break
                limits["current"] = limits[index] = max(1.0, min(cell_timeout, remaining))
                try:
                    await client.async_execute_cell(cell, index)
                except DeadKernelError:
                    replies[index] = {"status": "error", "ename": "DeadKernelError",
                                      "evalue": "the kernel died (it crashed or exited) while "
                                                "running this cell"}
                    stopped = f"not run: the kernel died in cell {index + 1}"
                    break
    except Exception as exc:      # the kernel would not start, or nbclient failed
        stopped = f"not run: the notebook could not be executed ({type(exc).__name__}: {exc})"
    for index, reply in replies.items():
        if reply.get("ename") == "Timeout":
            reply["evalue"] = (f"the cell did not finish within {limits[index]:.0f} s "
                               "(an endless loop, or far too slow); it was interrupted")
    return client.nb, replies, stopped


def _answer_row(cell: dict | None) -> dict:
    """Points and feedback of a written answer: left to the grader unless plainly missing."""
    if cell is None:
        return {"points": "", "feedback": "answer cell not found (its metadata was removed?): "
                                          "grade by hand from the notebook"}
    text = _text(cell).strip()
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
        executed, replies, stopped = await _execute(
            nb, workdir, timeout=timeout, cell_timeout=cell_timeout, max_output=max_output)
    if save_dir is not None:
        save_dir.mkdir(parents=True, exist_ok=True)
        (save_dir / f"{assignment}.ipynb").write_text(dumps_notebook(dict(executed)),
                                                      encoding="utf-8")
    answers = {_meta(c).get("grade_id"): c for c in submission["cells"]
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


FIELDS = ("student", "assignment", "question", "points", "max_points", "feedback")


def grade(submissions, source_dir=SOURCE_DIR, out_csv=GRADES_CSV, *, assignments=None,
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
    sources = {p.stem: p for p in _sources(source_dir)}
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
                mine = [r for r in rows if r["student"] == s.name and r["assignment"] == n]
                writer.writerow([s.name, n, sum(r["points"] or 0 for r in mine),
                                 sum(r["max_points"] for r in mine),
                                 sum(r["max_points"] for r in mine if r["points"] == "")])
    return rows


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

def main(argv=None) -> int:
    """``python -m bptt.homework {release,pages,grade} ...``; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m bptt.homework",
                                     description="Release and grade the book's homework.")
    sub = parser.add_subparsers(dest="command", required=True)
    source_help = "folder of the source assignments, with solutions (default: %(default)s)"
    p = sub.add_parser("release", help="write the student notebooks and zips")
    p.add_argument("--source", default=SOURCE_DIR, type=Path, help=source_help)
    p.add_argument("--out", default=RELEASE_DIR, type=Path, help="default: %(default)s")
    p = sub.add_parser("pages", help="write the student versions the book shows")
    p.add_argument("--source", default=SOURCE_DIR, type=Path, help=source_help)
    p.add_argument("--out", default=PAGES_DIR, type=Path, help="default: %(default)s")
    p = sub.add_parser("grade", help="grade a folder of student folders")
    p.add_argument("submissions", type=Path,
                   help="one folder per student, holding that student's notebooks")
    p.add_argument("--source", default=SOURCE_DIR, type=Path, help=source_help)
    p.add_argument("--out", default=GRADES_CSV, type=Path,
                   help="the CSV to write (default: %(default)s)")
    p.add_argument("--assignment", action="append", dest="assignments",
                   help="grade only this assignment (repeatable), e.g. hw1-forward")
    p.add_argument("--timeout", type=float, default=120, help="seconds per notebook")
    p.add_argument("--cell-timeout", type=float, default=60, help="seconds per cell")
    p.add_argument("--max-output", type=int, default=100_000,
                   help="characters of output kept per notebook")
    p.add_argument("--jobs", type=int, default=2, help="notebooks run at once")
    args = parser.parse_args(argv)

    if args.command == "release":
        for path in release(args.source, args.out):
            print(f"wrote {path}")
    elif args.command == "pages":
        for path in write_pages(args.source, args.out):
            print(f"wrote {path}")
    else:
        rows = grade(args.submissions, args.source, args.out, assignments=args.assignments,
                     timeout=args.timeout, cell_timeout=args.cell_timeout,
                     max_output=args.max_output, jobs=args.jobs)
        totals = {}
        for r in rows:
            key = (r["student"], r["assignment"])
            got, top = totals.get(key, (0, 0))
            totals[key] = (got + (r["points"] or 0), top + r["max_points"])
        for (student, assignment), (got, top) in totals.items():
            print(f"{student:<20} {assignment:<16} {got:g} / {top:g}")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
