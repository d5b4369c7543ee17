"""The book's own build tools in chapters/_ext: running notebooks, {eval}, the install cell."""
from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from myst_nb.core.variables import RetrievalError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "chapters" / "_ext"))

import book_html  # noqa: E402
import launch_cell  # noqa: E402
import run_notebook  # noqa: E402
import stored_eval  # noqa: E402


def _md(source, results=None):
    cell = nbformat.v4.new_markdown_cell(source)
    if results is not None:
        cell.metadata["user_expressions"] = [
            {"expression": e, "result": r} for e, r in results.items()]
    return cell


def _ok(text):
    return {"status": "ok", "data": {"text/plain": text}, "metadata": {}}


# --- stored_eval: the build renders what the notebook stored -------------------------

def test_stored_result_is_found_in_any_markdown_cell():
    nb = nbformat.v4.new_notebook(cells=[_md("a"), _md("{eval}`prose.x`", {"prose.x": _ok("1.5")})])
    assert stored_eval.stored_result(nb, "prose.x")["data"]["text/plain"] == "1.5"


def test_missing_result_says_how_to_make_it():
    nb = nbformat.v4.new_notebook(cells=[_md("{eval}`prose.x`")])
    with pytest.raises(RetrievalError, match="run_notebook.py"):
        stored_eval.stored_result(nb, "prose.x")


def test_two_different_results_for_one_expression_are_an_error():
    nb = nbformat.v4.new_notebook(cells=[_md("", {"prose.x": _ok("1")}),
                                         _md("", {"prose.x": _ok("2")})])
    with pytest.raises(RetrievalError, match="different results"):
        stored_eval.stored_result(nb, "prose.x")


def test_a_failed_expression_is_an_error_naming_it():
    failed = {"status": "error", "ename": "AttributeError", "evalue": "no x", "traceback": []}
    nb = nbformat.v4.new_notebook(cells=[_md("", {"prose.x": failed})])
    with pytest.raises(RetrievalError, match="AttributeError: no x"):
        stored_eval.stored_result(nb, "prose.x")


# --- run_notebook: code cells, and the Markdown cells' expressions in order ----------

def test_expressions_in_a_cell_in_order_once():
    text = "a {eval}`prose.b` c {eval}`prose.a` and {eval}`prose.b` again; `{not}` this"
    assert run_notebook.expressions_in(text) == ["prose.b", "prose.a"]


def _notebook(tmp_path, cells) -> Path:
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    return path


SETUP = "from bptt.plots.prose import Prose\nprose = Prose()"


def test_runs_and_stores_results_as_jupyterlab_myst_does(tmp_path):
    path = _notebook(tmp_path, [
        _md("# Title"),
        nbformat.v4.new_code_cell(SETUP + "\nprose.x = f'{2/3:.3f}'"),
        _md("x is {eval}`prose.x`."),
        nbformat.v4.new_code_cell("prose"),
    ])
    run_notebook.run_notebook(path)
    nb = nbformat.read(path, 4)
    assert nb.cells[2].metadata["user_expressions"] == [
        {"expression": "prose.x", "result": _ok("0.667")}]
    assert nb.cells[3].outputs[0]["data"]["text/plain"] == "x: 0.667"
    assert [c.execution_count for c in nb.cells if c.cell_type == "code"] == [1, 2]
    assert not any("execution" in c.metadata for c in nb.cells)   # no timestamps


def test_a_value_quoted_before_it_is_set_fails_and_leaves_the_file(tmp_path):
    path = _notebook(tmp_path, [
        nbformat.v4.new_code_cell(SETUP),
        _md("y is {eval}`prose.y` and z {eval}`prose.z`."),
        nbformat.v4.new_code_cell("prose.y = 1\nprose.z = 2"),
    ])
    before = path.read_bytes()
    with pytest.raises(run_notebook.ProseError) as info:
        run_notebook.run_notebook(path)
    assert "cell 1: {eval}`prose.y` raised AttributeError" in str(info.value)
    assert "prose.z" in str(info.value)               # every problem at once
    assert path.read_bytes() == before
    assert not list(tmp_path.glob(".nb.*"))           # no temporary file left


def test_a_value_changed_after_the_text_quoted_it_fails(tmp_path):
    path = _notebook(tmp_path, [
        nbformat.v4.new_code_cell(SETUP + "\nprose.y = 1"),
        _md("y is {eval}`prose.y`."),
        nbformat.v4.new_code_cell("prose.y = 2"),
    ])
    with pytest.raises(run_notebook.ProseError, match="showed '1' in cell 1 but is '2'"):
        run_notebook.run_notebook(path)


# --- launch_cell: the install cell follows _config.yml --------------------------------

def test_install_cell_uses_the_configured_repository():
    url, branch = launch_cell.repository()
    source = launch_cell.launch_source(url, branch)
    assert f'"bptt @ {launch_cell.package_url(url, branch)}"' in source
    assert 'find_spec("bptt") is None' in source


def test_package_url_needs_no_git_on_github():
    assert (launch_cell.package_url("https://github.com/o/r", "main")
            == "https://github.com/o/r/archive/refs/heads/main.zip")
    assert launch_cell.package_url("https://gitlab.com/o/r", "dev") == "git+https://gitlab.com/o/r@dev"


def test_install_cell_goes_after_the_title_once():
    nb = nbformat.v4.new_notebook(cells=[_md("# T"), nbformat.v4.new_code_cell("1")])
    assert launch_cell.install_cell(nb, "SRC") is True
    assert launch_cell.install_cell(nb, "SRC") is False
    assert [c.get("id") for c in nb.cells][1] == launch_cell.CELL_ID
    assert nb.cells[1].metadata["tags"] == ["remove-cell"]
    nb.cells[1].execution_count = 1
    assert launch_cell.install_cell(nb, "NEW") is True and nb.cells[1].source == "NEW"
    assert nb.cells[1].execution_count == 1      # still counted as run
    assert len(nb.cells) == 3


# --- book_html: one copy of each page script -------------------------------------------

def test_duplicate_inline_scripts_are_dropped():
    from sphinx.builders.html._assets import _JavaScript
    body = 'const THEBE_JS_URL = "x"'
    scripts = [_JavaScript(None, body=body), _JavaScript("a.js"), _JavaScript("", body=body),
               _JavaScript("a.js"), _JavaScript(None, body="other")]
    context = {"script_files": scripts}
    book_html._dedupe_scripts(SimpleNamespace(), "p", "page.html", context, None)
    assert context["script_files"] == [scripts[0], scripts[1], scripts[4]]


def test_ids_shared_by_every_exercise_are_dropped():
    from docutils import nodes
    doc = nodes.document(None, None)
    for ids in (["exercise-content"], ["solution-content"], ["exercise-content"],
                ["proof-content"], ["proof-content", "mine"], ["mine2"]):
        doc += nodes.section(ids=list(ids))
    book_html._drop_shared_ids(SimpleNamespace(), doc, "page")
    assert [s["ids"] for s in doc.findall(nodes.section)] == [[], [], [], [], ["mine"], ["mine2"]]
