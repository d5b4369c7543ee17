"""Small notebooks for the tests of bptt.course, and where the real assignments are.

Not a test module: ``tests/test_course_*.py`` import it (as ``autograd_rnn``).
"""
from __future__ import annotations

from pathlib import Path

from bptt.course.notebooks import ASSIGNMENT_GLOB, INSTALL_CELL_ID

ROOT = Path(__file__).resolve().parents[1]
#: The book's source assignments, with solutions.
HOMEWORK = ROOT / "chapters" / "homework"
SOURCES = sorted(HOMEWORK.glob(ASSIGNMENT_GLOB))
#: Sample submissions, built by hand from the student version of Homework 1.
SUBMISSIONS = ROOT / "tests" / "data" / "submissions"


def code(source, **nbgrader):
    """A code cell with an old output and execution count, and ``nbgrader`` metadata if given."""
    cell = {"cell_type": "code", "execution_count": 3, "metadata": {}, "source": source,
            "outputs": [{"output_type": "stream", "name": "stdout", "text": "old\n"}]}
    if nbgrader:
        cell["metadata"]["nbgrader"] = nbgrader
    return cell


def md(source, **nbgrader):
    """A markdown cell, with ``nbgrader`` metadata if given."""
    cell = {"cell_type": "markdown", "metadata": {}, "source": source}
    if nbgrader:
        cell["metadata"]["nbgrader"] = nbgrader
    return cell


def install(source="%pip install bptt"):
    """An install cell, as ``chapters/_ext/launch_cell.py`` writes it (hidden in the book)."""
    cell = code(source)
    cell["id"] = INSTALL_CELL_ID
    cell["metadata"]["tags"] = ["remove-cell"]
    return cell


def nb(*cells):
    """A notebook of ``cells``, with widget state in its metadata (which a release drops)."""
    return {"cells": list(cells), "metadata": {"kernelspec": {"name": "python3"},
                                               "widgets": {"state": {}}},
            "nbformat": 4, "nbformat_minor": 5}
