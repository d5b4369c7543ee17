"""The command line: ``python -m bptt.course {release,pages,grade} ...``.

Three commands (``python -m bptt.course COMMAND --help`` for each)::

    release  [--source DIR] [--out DIR]      student notebooks and one zip per assignment
    pages    [--source DIR] [--out DIR]      the student versions the book shows
    grade SUBMISSIONS [--source DIR] [--out CSV] [--unsandboxed] [...]
                                             run every submission, write a CSV of points

Every path is an argument. The defaults are relative to the current folder
and follow the book's repository, so that ``make homework`` and ``make grade``
run from its root need none; from anywhere else, give ``--source`` (and
``--out``):

=================  ==================================================
``--source``       ``chapters/homework`` (the assignments, with solutions)
release ``--out``  ``_build/homework``
pages ``--out``    ``chapters/homework/student``
grade ``--out``    ``_build/grades/grades.csv`` (``totals.csv``,
                   ``report.txt`` and the executed notebooks beside it)
=================  ==================================================
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .grade import SandboxUnavailable, grade
from .release import release, write_pages

__all__ = ["SOURCE_DIR", "RELEASE_DIR", "PAGES_DIR", "GRADES_CSV", "main"]

#: The defaults, relative to the current folder (the repository's root for ``make``).
SOURCE_DIR = Path("chapters", "homework")
RELEASE_DIR = Path("_build", "homework")
PAGES_DIR = Path("chapters", "homework", "student")
GRADES_CSV = Path("_build", "grades", "grades.csv")


def _parser() -> argparse.ArgumentParser:
    relative = "Default paths are relative to the current folder (the book's repository root)."
    parser = argparse.ArgumentParser(prog="python -m bptt.course",
                                     description="Release and grade the book's homework. "
                                                 + relative)
    sub = parser.add_subparsers(dest="command", required=True)
    source_help = "folder of the source assignments, with solutions (default: %(default)s)"
    p = sub.add_parser("release", help="write the student notebooks and zips",
                       description="Write each assignment's student notebook and a zip of it. "
                                   + relative)
    p.add_argument("--source", default=SOURCE_DIR, type=Path, help=source_help)
    p.add_argument("--out", default=RELEASE_DIR, type=Path,
                   help="folder to write them into (default: %(default)s)")
    p = sub.add_parser("pages", help="write the student versions the book shows",
                       description="Write the student versions the book shows. " + relative)
    p.add_argument("--source", default=SOURCE_DIR, type=Path, help=source_help)
    p.add_argument("--out", default=PAGES_DIR, type=Path,
                   help="folder to write them into (default: %(default)s)")
    p = sub.add_parser("grade", help="grade a folder of student folders",
                       description="Run every submitted notebook and write the points. "
                                   + relative)
    p.add_argument("submissions", type=Path,
                   help="one folder per student, holding that student's notebooks")
    p.add_argument("--source", default=SOURCE_DIR, type=Path, help=source_help)
    p.add_argument("--out", default=GRADES_CSV, type=Path,
                   help="the CSV to write; totals.csv, report.txt and the executed notebooks "
                        "go beside it (default: %(default)s)")
    p.add_argument("--assignment", action="append", dest="assignments",
                   help="grade only this assignment (repeatable), e.g. hw1-forward")
    p.add_argument("--timeout", type=float, default=120, help="seconds per notebook")
    p.add_argument("--cell-timeout", type=float, default=60, help="seconds per cell")
    p.add_argument("--max-output", type=int, default=100_000,
                   help="characters of output kept per notebook")
    p.add_argument("--jobs", type=int, default=2, help="notebooks run at once")
    p.add_argument("--unsandboxed", action="store_true",
                   help="run the notebooks without the bubblewrap sandbox (only for "
                        "submissions you trust; report.txt then says so)")
    return parser


def main(argv=None) -> int:
    """Run one command (``argv`` defaults to ``sys.argv[1:]``); see the module docstring."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "release":
            for path in release(args.source, args.out):
                print(f"wrote {path}")
        elif args.command == "pages":
            for path in write_pages(args.source, args.out):
                print(f"wrote {path}")
        else:
            _grade(args)
    except FileNotFoundError as exc:
        # Most often a relative default that does not exist here: say where we looked.
        parser.error(f"{exc} (relative paths are read from {os.getcwd()}; "
                     "see --source and --help)")
    except SandboxUnavailable as exc:
        parser.exit(3, f"{parser.prog} grade: {exc}\n")
    return 0


def _grade(args) -> None:
    """``grade``: write the CSVs, and print each student's total per assignment."""
    rows = grade(args.submissions, args.source, args.out, assignments=args.assignments,
                 timeout=args.timeout, cell_timeout=args.cell_timeout,
                 max_output=args.max_output, jobs=args.jobs, unsandboxed=args.unsandboxed)
    totals = {}
    for r in rows:
        key = (r["student"], r["assignment"])
        got, top = totals.get(key, (0, 0))
        totals[key] = (got + (r["points"] or 0), top + r["max_points"])
    for (student, assignment), (got, top) in totals.items():
        print(f"{student:<20} {assignment:<16} {got:g} / {top:g}")
    if args.unsandboxed:
        print("WARNING: graded without a sandbox (--unsandboxed); see report.txt",
              file=sys.stderr)
    print(f"wrote {args.out}")
