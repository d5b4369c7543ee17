"""Notebooks as JSON and the nbgrader conventions of the sources (bptt/course/notebooks.py).

The checks of a source's metadata, and what the book's real assignments must
hold: a graded check for every function to write, points that match the
Homework page, and outputs of a clean top-to-bottom run.
"""
from __future__ import annotations

import re

import pytest

from bptt.course import notebooks
from course_cells import HOMEWORK, SOURCES, code, nb


def test_duplicate_grade_ids_are_refused():
    source = nb(code("a()", grade=True, grade_id="q", points=1),
                code("b()", grade=True, grade_id="q", points=1))
    with pytest.raises(ValueError, match="grade_id 'q' is used twice"):
        notebooks.questions(source)


@pytest.mark.parametrize("text, match", [
    ("[1, 2]", "no list of cells"),
    ('{"cells": [3]}', "a cell has no cell_type"),
    ("{ nope", "Expecting property name"),
])
def test_load_notebook_refuses_what_is_not_a_notebook(tmp_path, text, match):
    path = tmp_path / "x.ipynb"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        notebooks.load_notebook(path)


def test_no_assignment_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no assignments \(hw\[0-9\]\*-\*\.ipynb\)"):
        notebooks.assignment_paths(tmp_path)


# --------------------------------------------------------------------------
# The real assignments
# --------------------------------------------------------------------------

def test_there_are_six_assignments():
    assert [p.stem for p in SOURCES] == ["hw1-forward", "hw2-backward", "hw3-gradients",
                                         "hw4-training", "hw5-lstm", "hw6-tbptt"]
    assert notebooks.assignment_paths(HOMEWORK) == SOURCES


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_every_function_is_checked_and_points_match_the_index(path):
    """Each function a student writes has a graded check; the index page's points are right."""
    source = notebooks.load_notebook(path)
    qs = notebooks.questions(source, path.name)
    checks = "\n".join(source["cells"][q.index]["source"] for q in qs if not q.manual)
    defined = notebooks.defined_names(source)
    graded = [n for n in defined if re.search(rf"check_\w+\({n}\b", checks)]
    pasted = {"rnn_step_forward", "rnn_forward", "rnn_backward", "clip_grad_norm"}
    missing = [n for n in defined if n not in graded
               and not (path.stem == "hw4-training" and n in pasted)]
    assert not missing, f"{path.name}: functions without a graded check: {missing}"
    assert any(q.manual for q in qs), f"{path.name}: no written question"
    index = (HOMEWORK / "index.md").read_text()
    row = re.search(rf"student/{path.stem}`[^\n]*\| (\d+) \|", index)
    assert row and int(row.group(1)) == sum(q.points for q in qs), path.name
    title = source["cells"][0]["source"]
    assert title.startswith("# ") and len(re.findall(r"^# ", "\n".join(
        c["source"] for c in source["cells"] if c["cell_type"] == "markdown"), flags=re.M)) == 1


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_sources_are_executed_without_errors(path):
    """nbval compares the outputs; here: every code cell ran, top to bottom, with no error."""
    source = notebooks.load_notebook(path)
    counts = [c["execution_count"] for c in source["cells"] if c["cell_type"] == "code"]
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: {counts}"
    errors = [o for c in source["cells"] if c["cell_type"] == "code" for o in c["outputs"]
              if o["output_type"] == "error"]
    assert not errors, f"{path.name}: {errors[0]['ename']}"
