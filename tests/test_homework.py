"""Release and grading of the homework (bptt/homework.py).

The release must never leak a solution, must write only where it is told, must
keep the install cell, and must give what the book shows; the grader must give
the expected points to sample submissions that are right, partly right,
crashing, never ending, loud, tampered with (in a check cell or in the install
cell) or missing (tests/data/submissions, built by hand from the student
version of Homework 1).
"""
from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import matplotlib
import pytest
import yaml

from bptt import homework as hw

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "chapters" / "_ext"))
from launch_cell import package_url  # noqa: E402

SOURCES = sorted((ROOT / "chapters" / "homework").glob(hw.ASSIGNMENT_GLOB))
SUBMISSIONS = ROOT / "tests" / "data" / "submissions"


def _code(source, **nbgrader):
    cell = {"cell_type": "code", "execution_count": 3, "metadata": {}, "source": source,
            "outputs": [{"output_type": "stream", "name": "stdout", "text": "old\n"}]}
    if nbgrader:
        cell["metadata"]["nbgrader"] = nbgrader
    return cell


def _md(source, **nbgrader):
    cell = {"cell_type": "markdown", "metadata": {}, "source": source}
    if nbgrader:
        cell["metadata"]["nbgrader"] = nbgrader
    return cell


def _nb(*cells):
    return {"cells": list(cells), "metadata": {"kernelspec": {"name": "python3"},
                                               "widgets": {"state": {}}},
            "nbformat": 4, "nbformat_minor": 5}


# --------------------------------------------------------------------------
# Stripping solutions
# --------------------------------------------------------------------------

def test_solution_region_is_replaced_at_its_indentation():
    src = ("def f(x):\n    \"\"\"Doc.\"\"\"\n    ### BEGIN SOLUTION\n    y = x + 1\n"
           "    return y\n    ### END SOLUTION\n")
    nb = _nb(_code(src, solution=True, grade=False, grade_id="f"))
    out = hw.release_notebook(nb)
    assert out["cells"][0]["source"] == ("def f(x):\n    \"\"\"Doc.\"\"\"\n    # YOUR CODE HERE\n"
                                         "    raise NotImplementedError()")
    assert out["cells"][0]["outputs"] == [] and out["cells"][0]["execution_count"] is None
    assert "widgets" not in out["metadata"]
    # The source is not modified.
    assert "y = x + 1" in nb["cells"][0]["source"] and nb["cells"][0]["outputs"]


def test_written_answer_and_whole_solution_cells_are_replaced():
    nb = _nb(_md("The model answer.", solution=True, grade=True, grade_id="a", points=2),
             _code("x = 1", solution=True, grade=False, grade_id="b"),
             _md("Instructions stay."), _code("print('given code stays')"))
    out = hw.release_notebook(nb)
    assert [c["source"] for c in out["cells"]] == [
        hw.TEXT_STUB, hw.CODE_STUB, "Instructions stay.", "print('given code stays')"]


def _install(source="%pip install bptt"):
    cell = _code(source)
    cell["id"] = hw.INSTALL_CELL_ID
    cell["metadata"]["tags"] = ["remove-cell"]
    return cell


def test_book_version_adds_the_note_under_the_title_and_the_install_cell():
    nb = _nb(_md("# Title"), _code("x = 1"))
    out = hw.release_notebook(nb, for_book=True, filename="hw9-x.ipynb")
    assert out["cells"][0]["source"] == "# Title"
    assert out["cells"][1]["id"] == "book-download-note"
    nb = _nb(_md("# Title"), _install(), _code("x = 1"))
    out = hw.release_notebook(nb, for_book=True, filename="hw9-x.ipynb")
    assert [c.get("id") for c in out["cells"][:3]] == [None, hw.INSTALL_CELL_ID,
                                                       "book-download-note"]


def test_book_note_reads_right_outside_the_book():
    """The note is also what Colab shows (the page's launch button): plain Markdown."""
    note = hw._book_note("hw9-x.ipynb")["source"]
    assert not re.search(r"\{\w+\}`|```|:::", note), note       # no MyST role or fence
    assert "download" in note.lower() and "Colab" in note and "Binder" in note
    assert "clone" not in note and "pip install -e" not in note


@pytest.mark.parametrize("cell, match", [
    (_code("### BEGIN SOLUTION\nx = 1\n", solution=True), "without"),
    (_code("x = 1\n### END SOLUTION\n", solution=True), "without a BEGIN"),
    (_code("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", solution=True),
     "inside another solution"),
    (_code("x = 1  ### BEGIN SOLUTION\n", solution=True), "alone on its line"),
    (_code("### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n"), "solution is not true"),
    (_code("check()", grade=True, points=1), "no grade_id"),
    (_code("check()", grade=True, grade_id="q", points=0), "points must be a number > 0"),
    (_code("check()", grade=True, grade_id="q", points=True), "points must be a number > 0"),
    (_code("x = 1", grade=True, solution=True, grade_id="q", points=1), "markdown answer"),
])
def test_invalid_sources_are_refused(cell, match):
    with pytest.raises(ValueError, match=match):
        hw.release_notebook(_nb(cell))


def test_duplicate_grade_ids_are_refused():
    nb = _nb(_code("a()", grade=True, grade_id="q", points=1),
             _code("b()", grade=True, grade_id="q", points=1))
    with pytest.raises(ValueError, match="grade_id 'q' is used twice"):
        hw.questions(nb)


def test_a_leak_is_refused():
    """A solution line repeated outside its region would be released: refuse."""
    nb = _nb(_code("### BEGIN SOLUTION\nsecret_answer = 42\n### END SOLUTION",
                   solution=True, grade_id="s"),
             _md("Hint:\n    secret_answer = 42"))
    with pytest.raises(RuntimeError, match="secret_answer = 42"):
        hw.release_notebook(nb)


def test_release_refuses_to_overwrite_the_sources(tmp_path):
    with pytest.raises(ValueError, match="overwrite the solutions"):
        hw.release(ROOT / "chapters" / "homework", ROOT / "chapters" / "homework")


# --------------------------------------------------------------------------
# The real assignments
# --------------------------------------------------------------------------

def test_there_are_four_assignments():
    assert [p.stem for p in SOURCES] == ["hw1-forward", "hw2-backward", "hw3-gradients",
                                         "hw4-training"]


@pytest.fixture(params=SOURCES, ids=lambda p: p.stem)
def source(request):
    return request.param, hw.load_notebook(request.param)


def test_every_function_is_checked_and_points_match_the_index(source):
    """Each function a student writes has a graded check; the index page's points are right."""
    path, nb = source
    qs = hw.questions(nb, path.name)
    checks = "\n".join(nb["cells"][q.index]["source"] for q in qs if not q.manual)
    graded = [n for n in hw._defined_names(nb)
              if re.search(rf"check_\w+\({n}\b", checks)]
    pasted = {"rnn_step_forward", "rnn_forward", "rnn_backward", "clip_grad_norm"}
    missing = [n for n in hw._defined_names(nb) if n not in graded
               and not (path.stem == "hw4-training" and n in pasted)]
    assert not missing, f"{path.name}: functions without a graded check: {missing}"
    assert any(q.manual for q in qs), f"{path.name}: no written question"
    index = (ROOT / "chapters" / "homework" / "index.md").read_text()
    row = re.search(rf"student/{path.stem}`[^\n]*\| (\d+) \|", index)
    assert row and int(row.group(1)) == sum(q.points for q in qs), path.name
    title = nb["cells"][0]["source"]
    assert title.startswith("# ") and len(re.findall(r"^# ", "\n".join(
        c["source"] for c in nb["cells"] if c["cell_type"] == "markdown"), flags=re.M)) == 1


def test_install_cell_is_first_kept_for_students_and_no_question(source):
    """The install cell follows the title, reaches every student version, is never graded."""
    path, nb = source
    first_code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    assert nb["cells"][1] is first_code and first_code.get("id") == hw.INSTALL_CELL_ID
    assert "remove-cell" in first_code["metadata"].get("tags", [])
    assert all(q.index != 1 for q in hw.questions(nb, path.name))
    for out in (hw.release_notebook(nb), hw.release_notebook(nb, for_book=True)):
        cell = out["cells"][1]
        assert cell["id"] == hw.INSTALL_CELL_ID and cell["source"] == first_code["source"]
        assert cell["outputs"] == [] and cell["metadata"]["tags"] == ["remove-cell"]


def test_sources_are_executed_without_errors(source):
    """nbval compares the outputs; here: every code cell ran, top to bottom, with no error."""
    path, nb = source
    counts = [c["execution_count"] for c in nb["cells"] if c["cell_type"] == "code"]
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: {counts}"
    errors = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"]
              if o["output_type"] == "error"]
    assert not errors, f"{path.name}: {errors[0]['ename']}"


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    out = tmp_path_factory.mktemp("release")
    before = {p: p.stat().st_mtime_ns for p in (ROOT / "chapters" / "homework").rglob("*")}
    written = hw.release(ROOT / "chapters" / "homework", out)
    after = {p: p.stat().st_mtime_ns for p in (ROOT / "chapters" / "homework").rglob("*")}
    assert before == after, "release touched the source folder"
    return out, written


def test_release_writes_a_notebook_and_a_zip_per_assignment_and_nothing_else(released):
    out, written = released
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([f"{p.stem}.ipynb" for p in SOURCES]
                           + [f"{p.stem}.zip" for p in SOURCES])
    assert sorted(written) == sorted(out.iterdir())
    for p in SOURCES:
        with zipfile.ZipFile(out / f"{p.stem}.zip") as zf:
            assert sorted(zf.namelist()) == [f"{p.stem}/README.txt", f"{p.stem}/{p.name}"]
            assert zf.read(f"{p.stem}/{p.name}") == (out / p.name).read_bytes()


def test_release_is_reproducible(released, tmp_path):
    out, _ = released
    hw.release(ROOT / "chapters" / "homework", tmp_path)
    for p in out.iterdir():
        assert (tmp_path / p.name).read_bytes() == p.read_bytes(), p.name


def test_default_release_folder_is_inside_build():
    assert hw.RELEASE_DIR == ROOT / "_build" / "homework"
    assert hw.GRADES_CSV.parent.parent == ROOT / "_build"


def _given_lines() -> set[str]:
    """Lines that the sources give to students (outside solutions): public by design."""
    given = set()
    for path in SOURCES:
        for cell in hw.load_notebook(path)["cells"]:
            if not hw._meta(cell).get("solution"):
                given.update(ln.strip() for ln in cell["source"].splitlines())
            elif cell["cell_type"] == "code":
                runs = hw._split_regions(cell["source"], path.name)
                if any(kind == "solution" for kind, _ in runs):
                    given.update(ln.strip() for kind, chunk in runs if kind == "keep"
                                 for ln in chunk)
    return given


def _released_texts(out: Path) -> dict[str, str]:
    """Every released file's text: the notebooks, what the zips hold, the book's pages."""
    texts = {}
    for p in sorted(out.iterdir()):
        if p.suffix == ".zip":
            with zipfile.ZipFile(p) as zf:
                for name in zf.namelist():
                    texts[f"{p.name}:{name}"] = zf.read(name).decode("utf-8")
        else:
            texts[p.name] = p.read_text(encoding="utf-8")
    for p in sorted((ROOT / "chapters" / "homework" / "student").iterdir()):
        texts[f"student/{p.name}"] = p.read_text(encoding="utf-8")
    return texts


def test_released_files_contain_no_solution_line(released):
    """Every solution line of every assignment, searched in every released file.

    A line counts as leaked when it equals a line of the file; lines of 16
    characters or more also when they occur anywhere in it (inside prose, a
    docstring, an output or metadata). Lines the sources give students
    anyway (a ``def`` line kept in Homework 1 and pasted in Homework 4) are
    not solutions.
    """
    out, _ = released
    lines = set()
    for path in SOURCES:
        lines |= hw.solution_lines(hw.load_notebook(path))
    lines -= _given_lines()
    assert len(lines) > 150          # the scan is not vacuous
    leaks = {}
    for name, text in _released_texts(out).items():
        if name.endswith(".ipynb"):
            nb = json.loads(text)
            text = "\n".join("".join(c["source"]) for c in nb["cells"]) + "\n" + text
        file_lines = {ln.strip() for ln in text.splitlines()}
        found = [ln for ln in lines if ln in file_lines or (len(ln) >= 16 and ln in text)]
        if found:
            leaks[name] = sorted(found)[:5]
    assert not leaks, f"solution text released: {leaks}"


def test_student_versions_have_stubs_and_no_outputs(released):
    out, _ = released
    for path in SOURCES:
        nb = json.loads((out / path.name).read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
        assert any("raise NotImplementedError()" in "".join(c["source"]) for c in code)
        assert any("".join(c["source"]) == hw.TEXT_STUB for c in nb["cells"])


def test_book_pages_are_what_the_release_gives(tmp_path):
    """The committed student pages cannot drift from the sources."""
    hw.write_pages(ROOT / "chapters" / "homework", tmp_path)
    pages = ROOT / "chapters" / "homework" / "student"
    assert sorted(p.name for p in pages.iterdir()) == sorted(p.name for p in tmp_path.iterdir())
    for p in tmp_path.iterdir():
        assert (pages / p.name).read_text() == p.read_text(), (
            f"chapters/homework/student/{p.name} is stale: run python -m bptt.homework pages")


def test_index_tells_students_to_start_from_the_released_notebook():
    """Students get the notebook and the package, never the repository with the solutions."""
    index = (ROOT / "chapters" / "homework" / "index.md").read_text()
    students = index.split("## For students")[1].split("## For instructors")[0]
    for never in ("clone", "make lab", "pip install -e"):
        assert never not in students, never
    for path in SOURCES:
        assert f"{{download}}`{path.name} <student/{path.name}>`" in students, path.name
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    url = package_url(cfg["url"].rstrip("/"), cfg.get("branch", "main"))
    installs = re.findall(r'"bptt @ (\S+)"', students)
    assert installs == [url], (installs, url)
    for path in SOURCES:
        install = hw.load_notebook(path)["cells"][1]["source"]
        assert f'"bptt @ {url}"' in install, path.name


def test_zip_readme_needs_no_repository():
    readme = hw._zip_readme("hw9-x")
    assert "hw9-x.ipynb" in readme and "first code cell" in readme
    assert "clone" not in readme and "pip install -e" not in readme


def test_the_book_shows_student_versions_only():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    assert [f for f in files if f.startswith("chapters/homework/")] == [
        "chapters/homework/index", *[f"chapters/homework/student/{p.stem}" for p in SOURCES]]
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["only_build_toc_files"] is True
    assert "chapters/homework/hw*.ipynb" in config["exclude_patterns"]


def _run_cells(nb: dict) -> dict:
    """Run a notebook's code cells in order in one namespace; return each cell's exception."""
    namespace, raised = {"__name__": "__main__"}, {}
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        try:
            exec(compile("".join(cell["source"]), f"cell{i}", "exec"), namespace)
        except BaseException as exc:      # noqa: BLE001 - the point is to collect them
            raised[i] = exc
    return raised


def test_student_stubs_raise_and_their_checks_say_not_implemented(released):
    out, _ = released
    for path in SOURCES:
        nb = json.loads((out / path.name).read_text())
        raised = _run_cells(nb)
        for q in hw.questions(nb, path.name):
            if q.manual:
                continue
            exc = raised.get(q.index)
            assert isinstance(exc, AssertionError), (path.name, q.grade_id, exc)
            assert "not implemented yet" in str(exc), (path.name, q.grade_id, str(exc))
        stubs = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
                 and "raise NotImplementedError()" in "".join(c["source"])]
        assert stubs, path.name
        # Defining a stub function raises nothing; a top-level stub raises at once.
        for i in stubs:
            src = "".join(nb["cells"][i]["source"])
            if src.startswith("def "):
                assert i not in raised, (path.name, i, raised.get(i))
            else:
                assert isinstance(raised.get(i), NotImplementedError), (path.name, i)


def test_cli_release(tmp_path, capsys):
    assert hw.main(["release", "--out", str(tmp_path)]) == 0
    assert "hw1-forward.zip" in capsys.readouterr().out
    assert (tmp_path / "hw4-training.ipynb").is_file()


# --------------------------------------------------------------------------
# Grading
# --------------------------------------------------------------------------

def test_prepare_check_refuses_the_package_functions(monkeypatch):
    import bptt
    monkeypatch.setattr(hw, "_RELOADED", ())
    def own(params, x, h0=None):
        return None
    hw.prepare_check({"rnn_forward": own}, ["rnn_forward"])
    with pytest.raises(AssertionError, match=r"rnn_forward is the package's own bptt\.rnn\."
                                             r"rnn_forward, not yours"):
        hw.prepare_check({"rnn_forward": bptt.rnn_forward}, ["rnn_forward"])


def test_prepare_check_undoes_monkeypatching():
    """In a fresh process: a submission that replaced the reference cannot fool the checks."""
    code = (
        "import bptt.rnn, bptt.checks, bptt.homework as hw\n"
        "bptt.rnn.rnn_forward = lambda params, x, h0=None: (0, 0)\n"
        "bptt.checks.check_rnn_forward = lambda fn: None\n"
        "hw.prepare_check({}, [])\n"
        "assert bptt.rnn.rnn_forward.__module__ == 'bptt.rnn'\n"
        "assert bptt.checks.check_rnn_forward.__module__ == 'bptt.checks'\n"
        "print('restored')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.strip() == "restored", result.stderr


def test_grader_replaces_the_install_cell_and_keeps_the_rest():
    source = _nb(_md("# T"), _install(), _code("check()", grade=True, grade_id="q", points=1))
    submission = _nb(_md("# T"), _install("%pip install something-else"),
                     _code("my code"), _code("check()", grade=True, grade_id="q", points=1))
    nb, where = hw._prepare(submission, source, hw.questions(source))
    assert nb["cells"][1]["source"] == hw.GRADER_INSTALL_CELL
    assert "pip" not in hw.GRADER_INSTALL_CELL.replace("bptt package", "")
    assert nb["cells"][2]["source"] == "my code" and where == {"q": 3}
    namespace = {}
    exec(hw.GRADER_INSTALL_CELL, namespace)         # bptt is importable: nothing happens


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
    rows = hw.grade(SUBMISSIONS, ROOT / "chapters" / "homework", out, timeout=12,
                    cell_timeout=4, max_output=20_000, jobs=4)
    return out, rows


def test_sample_submissions_get_the_expected_points(graded):
    out, _ = graded
    with open(out, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames) == hw.FIELDS
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
    nb = json.loads(executed.read_text())
    stored = sum(len("".join(o.get("text", ""))) for c in nb["cells"]
                 if c["cell_type"] == "code" for o in c["outputs"])
    assert 20_000 <= stored < 21_000          # 10 MB printed; the cap kept 20 000 characters
    assert "stored only the first 20000 characters" in executed.read_text()
    assert not (out.parent / "absent" / "hw1-forward.ipynb").exists()


@pytest.mark.parametrize("text, match", [
    ("[1, 2]", "no list of cells"),
    ('{"cells": [3]}', "a cell has no cell_type"),
    ("{ nope", "Expecting property name"),
])
def test_load_notebook_refuses_what_is_not_a_notebook(tmp_path, text, match):
    path = tmp_path / "x.ipynb"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        hw.load_notebook(path)


def test_a_renamed_notebook_is_found(tmp_path):
    (tmp_path / "hw1-forward (1).ipynb").write_text("{}")
    (tmp_path / "hw10-other.ipynb").write_text("{}")
    assert hw._find(tmp_path, "hw1-forward.ipynb") == tmp_path / "hw1-forward (1).ipynb"
    (tmp_path / "hw1-forward.ipynb").write_text("{}")
    assert hw._find(tmp_path, "hw1-forward.ipynb") == tmp_path / "hw1-forward.ipynb"
    assert hw._find(tmp_path, "hw2-backward.ipynb") is None


def test_unknown_assignment_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"unknown assignments \['hw9-nothing'\]"):
        hw.grade(SUBMISSIONS, ROOT / "chapters" / "homework", tmp_path / "g.csv",
                 assignments=["hw9-nothing"])
