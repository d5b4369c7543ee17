"""Grading (bptt/course/grade.py, kernel.py and guard.py).

The grader must give the expected points to sample submissions that are
right, partly right, crashing, never ending, loud, tampered with (in a check
cell or in the install cell) or missing (tests/data/submissions, built by hand
from the student version of Homework 1).
"""
from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from bptt.course import grade, guard, notebooks
from course_cells import HOMEWORK, SUBMISSIONS, code, install, md, nb


# --------------------------------------------------------------------------
# The guard run before each check, in the student's kernel
# --------------------------------------------------------------------------

def test_prepare_check_refuses_the_package_functions(monkeypatch):
    import bptt
    monkeypatch.setattr(guard, "_RELOADED", ())
    def own(params, x, h0=None):
        return None
    guard.prepare_check({"rnn_forward": own}, ["rnn_forward"])
    with pytest.raises(AssertionError, match=r"rnn_forward is the package's own bptt\.rnn\."
                                             r"rnn_forward, not yours"):
        guard.prepare_check({"rnn_forward": bptt.rnn_forward}, ["rnn_forward"])


def test_prepare_check_undoes_monkeypatching():
    """In a fresh process: a submission that replaced the reference cannot fool the checks."""
    script = (
        "import bptt.rnn, bptt.checks, bptt.course.guard as guard\n"
        "bptt.rnn.rnn_forward = lambda params, x, h0=None: (0, 0)\n"
        "bptt.checks.check_rnn_forward = lambda fn: None\n"
        "guard.prepare_check({}, [])\n"
        "assert bptt.rnn.rnn_forward.__module__ == 'bptt.rnn'\n"
        "assert bptt.checks.check_rnn_forward.__module__.startswith('bptt.checks')\n"
        "print('restored')\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.strip() == "restored", result.stderr


def test_grader_replaces_the_install_cell_and_keeps_the_rest():
    source = nb(md("# T"), install(), code("check()", grade=True, grade_id="q", points=1))
    submission = nb(md("# T"), install("%pip install something-else"),
                    code("my code"), code("check()", grade=True, grade_id="q", points=1))
    run, where = grade._prepare(submission, source, notebooks.questions(source))
    assert run["cells"][1]["source"] == grade.GRADER_INSTALL_CELL
    assert "pip" not in grade.GRADER_INSTALL_CELL.replace("bptt package", "")
    assert run["cells"][2]["source"] == "my code" and where == {"q": 3}
    assert run["cells"][3]["source"].startswith("import bptt.course.guard")
    namespace = {}
    exec(grade.GRADER_INSTALL_CELL, namespace)        # bptt is importable: nothing happens


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
    "garbled": ({"check_rnn_step_forward": 0, "check_rnn_forward": 0, "answer_memory": 0},
                {"check_rnn_forward": "not a readable notebook"}),
    "absent": ({"check_rnn_step_forward": 0, "check_rnn_forward": 0, "answer_memory": 0},
               {"check_rnn_forward": "not submitted"}),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    out = tmp_path_factory.mktemp("grades") / "grades.csv"
    rows = grade.grade(SUBMISSIONS, HOMEWORK, out, timeout=12, cell_timeout=4,
                       max_output=20_000, jobs=4)
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
