"""Grading (bptt/course/grade.py, prepare.py, kernel.py): the sample submissions' points.

The grader must give the expected points to sample submissions that are
right, partly right, crashing, never ending, loud, tampered with (in a check
cell or in the install cell), with a syntax error, or missing
(tests/data/submissions, built by hand from the student version of Homework
1), and the solutions full marks on every assignment. It runs each notebook
in a bubblewrap sandbox; where there is none (see bptt.course.sandbox), these
tests run it without (the points are the same), and tests/test_course_attacks.py
is skipped.
"""
from __future__ import annotations

import csv
import json
import shutil
import time

import pytest

from bptt.course import grade, prepare
from bptt.course.notebooks import questions
from bptt.course.sandbox import bwrap_problem
from course_cells import HOMEWORK, SOURCES, SUBMISSIONS, code, install, md, nb

#: Without bubblewrap here, grade without it (the verdicts are the same).
UNSANDBOXED = bwrap_problem() is not None


# --------------------------------------------------------------------------
# The notebook the grader runs
# --------------------------------------------------------------------------

def test_check_cells_become_call_cells_and_the_install_cell_installs_nothing():
    source = nb(md("# T"), install(), code("check()", grade=True, grade_id="q", points=1),
                code("check()", grade=True, grade_id="gone", points=1))
    submission = nb(md("# T"), install("%pip install something-else"),
                    code("my code"), code("print('tampered')", grade=True, grade_id="q",
                                          points=1))
    run, where = prepare.prepare(submission, questions(source))
    assert run["cells"][1]["source"] == prepare.GRADER_INSTALL_CELL
    assert "pip" not in prepare.GRADER_INSTALL_CELL
    assert run["cells"][2]["source"] == "my code" and where == {"q": 3, "gone": 4}
    assert "call_cell('q0', globals())" in run["cells"][3]["source"]
    assert "tampered" not in json.dumps(run)
    assert "call_cell('q1', globals())" in run["cells"][4]["source"]   # deleted: at the end
    assert all(c["outputs"] == [] for c in run["cells"] if c["cell_type"] == "code")


def test_syntax_errors_are_found_before_anything_runs():
    notebook = nb(md("# T"), code("%pip install x\n!ls\nx = 1"), code("def f(:\n    pass"),
                  code("a = 1\n  b = 2"), code("await something()"))
    assert prepare.syntax_errors(notebook) == [
        "cell 3, line 1: SyntaxError: invalid syntax: def f(:",
        "cell 4, line 2: IndentationError: unexpected indent: b = 2"]


# --------------------------------------------------------------------------
# The sample submissions
# --------------------------------------------------------------------------

#: Points each sample submission must get, question by question ("" = by hand),
#: and a phrase its feedback must hold. Derived from how each was made.
EXPECTED = {
    "correct": ({"check_rnn_step_forward": 3, "check_rnn_forward": 4, "answer_memory": ""},
                {"check_rnn_forward": "passed", "answer_memory": "graded by hand"}),
    # Its install cell would kill the kernel: the grader must not run it.
    "installer": ({"check_rnn_step_forward": 3, "check_rnn_forward": 4, "answer_memory": ""},
                  {"check_rnn_step_forward": "passed", "check_rnn_forward": "passed"}),
    "partial": ({"check_rnn_step_forward": 3, "check_rnn_forward": 0, "answer_memory": 0},
                {"check_rnn_forward": "h0 is ignored", "answer_memory": "missing"}),
    "crashing": ({"check_rnn_step_forward": 3, "check_rnn_forward": 0, "answer_memory": ""},
                 {"check_rnn_forward": "kernel died"}),
    "never_ending": ({"check_rnn_step_forward": 3, "check_rnn_forward": 0, "answer_memory": ""},
                     {"check_rnn_forward": "did not finish within"}),
    "stubborn": ({"check_rnn_step_forward": 3, "check_rnn_forward": 0, "answer_memory": ""},
                 {"check_rnn_forward": "used up its"}),
    "loud": ({"check_rnn_step_forward": 3, "check_rnn_forward": 4, "answer_memory": ""},
             {"check_rnn_step_forward": "passed"}),
    "stub": ({"check_rnn_step_forward": 0, "check_rnn_forward": 0, "answer_memory": 0},
             {"check_rnn_step_forward": "not implemented yet",
              "check_rnn_forward": "not implemented yet"}),
    "reference": ({"check_rnn_step_forward": 0, "check_rnn_forward": 0, "answer_memory": ""},
                  {"check_rnn_forward": "the package's own"}),
    "tampered": ({"check_rnn_step_forward": 3, "check_rnn_forward": 0, "answer_memory": ""},
                 {"check_rnn_forward": "h0 is ignored"}),
    # A syntax error: named with its cell and line, and not as a NameError only.
    "syntax_error": ({"check_rnn_step_forward": 0, "check_rnn_forward": 0, "answer_memory": ""},
                     {"check_rnn_step_forward": "syntax error, so that cell never ran: cell 6, "
                                                "line 4: SyntaxError: '(' was never closed",
                      "check_rnn_forward": "cell 6, line 4: SyntaxError"}),
    "garbled": ({"check_rnn_step_forward": 0, "check_rnn_forward": 0, "answer_memory": 0},
                {"check_rnn_forward": "not a readable notebook"}),
    "absent": ({"check_rnn_step_forward": 0, "check_rnn_forward": 0, "answer_memory": 0},
               {"check_rnn_forward": "not submitted"}),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    out = tmp_path_factory.mktemp("grades") / "grades.csv"
    rows = grade.grade(SUBMISSIONS, HOMEWORK, out, timeout=12, cell_timeout=4,
                       max_output=20_000, jobs=4, unsandboxed=UNSANDBOXED)
    return out, rows


def test_sample_submissions_get_the_expected_points(graded):
    out, _ = graded
    with open(out, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames) == grade.FIELDS
        rows = list(reader)
    assert {r["student"] for r in rows} == set(EXPECTED)
    assert {r["assignment"] for r in rows} == {"hw1-forward"}
    for student, (points, phrases) in EXPECTED.items():
        mine = {r["question"]: r for r in rows if r["student"] == student}
        assert {q: r["points"] for q, r in mine.items()} == {
            q: str(p) for q, p in points.items()}, student
        assert {q: r["max_points"] for q, r in mine.items()} == {
            "check_rnn_step_forward": "3", "check_rnn_forward": "4", "answer_memory": "2"}
        for q, phrase in phrases.items():
            assert phrase in mine[q]["feedback"], (student, q, mine[q]["feedback"])


def test_totals_and_executed_notebooks(graded):
    out, _ = graded
    with open(out.parent / "totals.csv", newline="") as f:
        totals = {r["student"]: r for r in csv.DictReader(f)}
    for student, (points, _) in EXPECTED.items():
        assert float(totals[student]["points"]) == sum(p for p in points.values() if p != "")
        assert float(totals[student]["max_points"]) == 9
    executed = out.parent / "loud" / "hw1-forward.ipynb"
    run = json.loads(executed.read_text())
    stored = sum(len("".join(o.get("text", ""))) for c in run["cells"]
                 if c["cell_type"] == "code" for o in c["outputs"])
    assert 20_000 <= stored < 21_000          # 10 MB printed; the cap kept 20 000 characters
    assert "stored only the first 20000 characters" in executed.read_text()
    assert not (out.parent / "absent" / "hw1-forward.ipynb").exists()


def test_a_renamed_notebook_is_found(tmp_path):
    (tmp_path / "hw1-forward (1).ipynb").write_text("{}")
    (tmp_path / "hw10-other.ipynb").write_text("{}")
    assert grade._find(tmp_path, "hw1-forward.ipynb") == tmp_path / "hw1-forward (1).ipynb"
    (tmp_path / "hw1-forward.ipynb").write_text("{}")
    assert grade._find(tmp_path, "hw1-forward.ipynb") == tmp_path / "hw1-forward.ipynb"
    assert grade._find(tmp_path, "hw2-backward.ipynb") is None


def test_unknown_assignment_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"unknown assignments \['hw9-nothing'\]"):
        grade.grade(SUBMISSIONS, HOMEWORK, tmp_path / "g.csv", assignments=["hw9-nothing"])


def test_the_solutions_get_every_automatic_point(tmp_path):
    """The source notebooks, graded as a submission: the function arguments rebuilt in the
    kernel (finite differences, a gradient check's backward pass), random generators and a
    CharVocab all cross the sandbox's wall."""
    (tmp_path / "teacher").mkdir()
    for path in SOURCES:
        shutil.copy(path, tmp_path / "teacher")
    rows = grade.grade(tmp_path, HOMEWORK, tmp_path / "out" / "grades.csv", jobs=2,
                       unsandboxed=UNSANDBOXED)
    automatic = [r for r in rows if r["question"].startswith("check_")]
    assert len(automatic) == 17
    assert all(r["points"] == r["max_points"] and r["feedback"] == "passed"
               for r in automatic), [r for r in automatic if r["feedback"] != "passed"]


def test_no_sandbox_no_grading_unless_asked(tmp_path, monkeypatch):
    monkeypatch.setattr(grade, "bwrap_problem", lambda: "bubblewrap is not installed")
    with pytest.raises(grade.SandboxUnavailable, match="bubblewrap is not installed.*"
                                                       "--unsandboxed"):
        grade.grade(SUBMISSIONS, HOMEWORK, tmp_path / "g.csv")
    assert not (tmp_path / "g.csv").exists()
    (tmp_path / "in" / "correct").mkdir(parents=True)
    shutil.copy(SUBMISSIONS / "correct" / "hw1-forward.ipynb", tmp_path / "in" / "correct")
    rows = grade.grade(tmp_path / "in", HOMEWORK, tmp_path / "g.csv", unsandboxed=True)
    assert [r["points"] for r in rows] == [3, 4, ""]
    assert (tmp_path / "report.txt").read_text().startswith("WARNING: graded WITHOUT a sandbox")


def test_ten_ordinary_submissions_take_under_a_minute(tmp_path):
    """Ten students' Homework 1 on two notebooks at a time (two cores): about 8 s here."""
    samples = ["correct", "partial", "tampered", "loud", "stub", "correct", "partial",
               "installer", "correct", "reference"]
    for i, sample in enumerate(samples):
        (tmp_path / f"s{i}").mkdir()
        shutil.copy(SUBMISSIONS / sample / "hw1-forward.ipynb", tmp_path / f"s{i}")
    started = time.monotonic()
    rows = grade.grade(tmp_path, HOMEWORK, tmp_path / "out" / "grades.csv", jobs=2,
                       unsandboxed=UNSANDBOXED)
    assert time.monotonic() - started < 60
    assert sum(r["points"] or 0 for r in rows) == 4 * 7 + 2 * 3 + 3 + 7


def test_one_notebook_graded_alone(tmp_path):
    rows = grade.grade_submission(SUBMISSIONS / "partial" / "hw1-forward.ipynb",
                                  HOMEWORK / "hw1-forward.ipynb", student="p",
                                  save_dir=tmp_path, unsandboxed=UNSANDBOXED)
    assert [(r["student"], r["points"]) for r in rows] == [("p", 3), ("p", 0), ("p", 0)]
    executed = (tmp_path / "hw1-forward.ipynb").read_text()
    assert "[grader] check_rnn_forward: 0 / 4: rnn_forward is wrong" in executed
    assert grade.grade_submission(None, HOMEWORK / "hw1-forward.ipynb")[0]["feedback"] == (
        "not submitted")
