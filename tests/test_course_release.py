"""The student versions of the assignments (bptt/course/release.py).

The release must never leak a solution, must write only where it is told, must
keep the install cell, and must give what the book shows.
"""
from __future__ import annotations

import json
import re
import sys
import zipfile
from pathlib import Path

import matplotlib
import pytest
import yaml

from bptt.course import notebooks, release
from bptt.course.notebooks import CODE_STUB, INSTALL_CELL_ID, TEXT_STUB
from course_cells import HOMEWORK, ROOT, SOURCES, code, install, md, nb

matplotlib.use("Agg")

sys.path.insert(0, str(ROOT / "chapters" / "_ext"))
from launch_cell import package_url  # noqa: E402


# --------------------------------------------------------------------------
# Stripping solutions
# --------------------------------------------------------------------------

def test_solution_region_is_replaced_at_its_indentation():
    src = ("def f(x):\n    \"\"\"Doc.\"\"\"\n    ### BEGIN SOLUTION\n    y = x + 1\n"
           "    return y\n    ### END SOLUTION\n")
    source = nb(code(src, solution=True, grade=False, grade_id="f"))
    out = release.release_notebook(source)
    assert out["cells"][0]["source"] == ("def f(x):\n    \"\"\"Doc.\"\"\"\n    # YOUR CODE HERE\n"
                                         "    raise NotImplementedError()")
    assert out["cells"][0]["outputs"] == [] and out["cells"][0]["execution_count"] is None
    assert "widgets" not in out["metadata"]
    # The source is not modified.
    assert "y = x + 1" in source["cells"][0]["source"] and source["cells"][0]["outputs"]


def test_written_answer_and_whole_solution_cells_are_replaced():
    source = nb(md("The model answer.", solution=True, grade=True, grade_id="a", points=2),
                code("x = 1", solution=True, grade=False, grade_id="b"),
                md("Instructions stay."), code("print('given code stays')"))
    out = release.release_notebook(source)
    assert [c["source"] for c in out["cells"]] == [
        TEXT_STUB, CODE_STUB, "Instructions stay.", "print('given code stays')"]


def test_book_version_adds_the_note_under_the_title_and_the_install_cell():
    out = release.release_notebook(nb(md("# Title"), code("x = 1")), for_book=True,
                                   filename="hw9-x.ipynb")
    assert out["cells"][0]["source"] == "# Title"
    assert out["cells"][1]["id"] == "book-download-note"
    out = release.release_notebook(nb(md("# Title"), install(), code("x = 1")), for_book=True,
                                   filename="hw9-x.ipynb")
    assert [c.get("id") for c in out["cells"][:3]] == [None, INSTALL_CELL_ID,
                                                       "book-download-note"]


def test_book_note_reads_right_outside_the_book():
    """The note is also what Colab shows (the page's launch button): plain Markdown."""
    note = release._book_note("hw9-x.ipynb")["source"]
    assert not re.search(r"\{\w+\}`|```|:::", note), note       # no MyST role or fence
    assert "download" in note.lower() and "Colab" in note and "Binder" in note
    assert "clone" not in note and "pip install -e" not in note


@pytest.mark.parametrize("cell, match", [
    (code("### BEGIN SOLUTION\nx = 1\n", solution=True), "without"),
    (code("x = 1\n### END SOLUTION\n", solution=True), "without a BEGIN"),
    (code("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", solution=True),
     "inside another solution"),
    (code("x = 1  ### BEGIN SOLUTION\n", solution=True), "alone on its line"),
    (code("### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n"), "solution is not true"),
    (code("check()", grade=True, points=1), "no grade_id"),
    (code("check()", grade=True, grade_id="q", points=0), "points must be a number > 0"),
    (code("check()", grade=True, grade_id="q", points=True), "points must be a number > 0"),
    (code("x = 1", grade=True, solution=True, grade_id="q", points=1), "markdown answer"),
])
def test_invalid_sources_are_refused(cell, match):
    with pytest.raises(ValueError, match=match):
        release.release_notebook(nb(cell))


def test_a_leak_is_refused():
    """A solution line repeated outside its region would be released: refuse."""
    source = nb(code("### BEGIN SOLUTION\nsecret_answer = 42\n### END SOLUTION",
                     solution=True, grade_id="s"),
                md("Hint:\n    secret_answer = 42"))
    with pytest.raises(RuntimeError, match="secret_answer = 42"):
        release.release_notebook(source)


def test_release_refuses_to_overwrite_the_sources():
    with pytest.raises(ValueError, match="overwrite the solutions"):
        release.release(HOMEWORK, HOMEWORK)
    with pytest.raises(ValueError, match="overwrite the solutions"):
        release.write_pages(HOMEWORK, HOMEWORK)


# --------------------------------------------------------------------------
# The real assignments, released
# --------------------------------------------------------------------------

@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_install_cell_is_first_kept_for_students_and_no_question(path):
    """The install cell follows the title, reaches every student version, is never graded."""
    source = notebooks.load_notebook(path)
    first_code = next(c for c in source["cells"] if c["cell_type"] == "code")
    assert source["cells"][1] is first_code and first_code.get("id") == INSTALL_CELL_ID
    assert "remove-cell" in first_code["metadata"].get("tags", [])
    assert all(q.index != 1 for q in notebooks.questions(source, path.name))
    for out in (release.release_notebook(source),
                release.release_notebook(source, for_book=True)):
        cell = out["cells"][1]
        assert cell["id"] == INSTALL_CELL_ID and cell["source"] == first_code["source"]
        assert cell["outputs"] == [] and cell["metadata"]["tags"] == ["remove-cell"]


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    out = tmp_path_factory.mktemp("release")
    before = {p: p.stat().st_mtime_ns for p in HOMEWORK.rglob("*")}
    written = release.release(HOMEWORK, out)
    after = {p: p.stat().st_mtime_ns for p in HOMEWORK.rglob("*")}
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
    release.release(HOMEWORK, tmp_path)
    for p in out.iterdir():
        assert (tmp_path / p.name).read_bytes() == p.read_bytes(), p.name


def _given_lines() -> set[str]:
    """Lines that the sources give to students (outside solutions): public by design."""
    given = set()
    for path in SOURCES:
        for cell in notebooks.load_notebook(path)["cells"]:
            if not notebooks.nbgrader_meta(cell).get("solution"):
                given.update(ln.strip() for ln in cell["source"].splitlines())
            elif cell["cell_type"] == "code":
                runs = notebooks.split_regions(cell["source"], path.name)
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
    for p in sorted((HOMEWORK / "student").iterdir()):
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
        lines |= notebooks.solution_lines(notebooks.load_notebook(path))
    lines -= _given_lines()
    assert len(lines) > 150          # the scan is not vacuous
    leaks = {}
    for name, text in _released_texts(out).items():
        if name.endswith(".ipynb"):
            student = json.loads(text)
            text = "\n".join("".join(c["source"]) for c in student["cells"]) + "\n" + text
        file_lines = {ln.strip() for ln in text.splitlines()}
        found = [ln for ln in lines if ln in file_lines or (len(ln) >= 16 and ln in text)]
        if found:
            leaks[name] = sorted(found)[:5]
    assert not leaks, f"solution text released: {leaks}"


def test_student_versions_have_stubs_and_no_outputs(released):
    out, _ = released
    for path in SOURCES:
        student = json.loads((out / path.name).read_text())
        cells = [c for c in student["cells"] if c["cell_type"] == "code"]
        assert all(c["outputs"] == [] and c["execution_count"] is None for c in cells)
        assert any("raise NotImplementedError()" in "".join(c["source"]) for c in cells)
        assert any("".join(c["source"]) == TEXT_STUB for c in student["cells"])


def test_book_pages_are_what_the_release_gives(tmp_path):
    """The committed student pages cannot drift from the sources."""
    release.write_pages(HOMEWORK, tmp_path)
    pages = HOMEWORK / "student"
    assert sorted(p.name for p in pages.iterdir()) == sorted(p.name for p in tmp_path.iterdir())
    for p in tmp_path.iterdir():
        assert (pages / p.name).read_text() == p.read_text(), (
            f"chapters/homework/student/{p.name} is stale: run python -m bptt.course pages")


def test_index_tells_students_to_start_from_the_released_notebook():
    """Students get the notebook and the package, never the repository with the solutions."""
    index = (HOMEWORK / "index.md").read_text()
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
        cell = notebooks.load_notebook(path)["cells"][1]["source"]
        assert f'"bptt @ {url}"' in cell, path.name


def test_zip_readme_needs_no_repository():
    readme = release._zip_readme("hw9-x")
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


def _run_cells(student: dict) -> dict:
    """Run a notebook's code cells in order in one namespace; return each cell's exception."""
    namespace, raised = {"__name__": "__main__"}, {}
    for i, cell in enumerate(student["cells"]):
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
        student = json.loads((out / path.name).read_text())
        raised = _run_cells(student)
        for q in notebooks.questions(student, path.name):
            if q.manual:
                continue
            exc = raised.get(q.index)
            assert isinstance(exc, AssertionError), (path.name, q.grade_id, exc)
            assert "not implemented yet" in str(exc), (path.name, q.grade_id, str(exc))
        stubs = [i for i, c in enumerate(student["cells"]) if c["cell_type"] == "code"
                 and "raise NotImplementedError()" in "".join(c["source"])]
        assert stubs, path.name
        # Defining a stub function raises nothing; a top-level stub raises at once.
        for i in stubs:
            src = "".join(student["cells"][i]["source"])
            if src.startswith("def "):
                assert i not in raised, (path.name, i, raised.get(i))
            else:
                assert isinstance(raised.get(i), NotImplementedError), (path.name, i)
