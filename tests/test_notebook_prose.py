"""The numbers in the chapters' prose and the install cell, as stored in the notebooks.

nbval re-runs each chapter and compares the listing of every quoted value (its
last cell, ``prose``). These tests tie the text to that listing: each
``{eval}`` of a Markdown cell has its result stored (what JupyterLab and the
book show), and that result is the listed value. So a number in the text
cannot change without nbval failing, nor go stale without this test failing.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "chapters" / "_ext"))

from launch_cell import CELL_ID, launch_source, repository  # noqa: E402
from run_notebook import expressions_in  # noqa: E402

from bptt.plots.prose import parse_prose_listing  # noqa: E402

CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]-*.ipynb"))
NOTEBOOKS = sorted(p for p in (ROOT / "chapters").rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts and "_build" not in p.parts)
PROSE_EXPR = re.compile(r"prose\.([A-Za-z][A-Za-z0-9_]*)")


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _src(cell) -> str:
    return "".join(cell["source"])


def _listing(nb: dict, name: str) -> dict[str, str]:
    last = nb["cells"][-1]
    assert last["cell_type"] == "code" and _src(last).rstrip().endswith("prose"), (
        f"{name}: the last cell must display `prose`, the listing nbval compares")
    assert "remove-cell" in last["metadata"].get("tags", []), f"{name}: hide the listing cell"
    outputs = [o for o in last["outputs"] if "text/plain" in o.get("data", {})]
    assert len(outputs) == 1, f"{name}: the listing cell has no stored text output: run it"
    return parse_prose_listing("".join(outputs[0]["data"]["text/plain"]))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_quoted_value_is_stored_and_listed(path):
    nb = _load(path)
    listing = _listing(nb, path.name)
    quoted = set()
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        expressions = expressions_in(_src(cell))
        stored = cell["metadata"].get("user_expressions", [])
        assert [s["expression"] for s in stored] == expressions, (
            f"{path.name} cell {index}: stored results {[s['expression'] for s in stored]} "
            f"do not match the text's {expressions}: run the notebook with "
            f"chapters/_ext/run_notebook.py")
        for item in stored:
            m = PROSE_EXPR.fullmatch(item["expression"])
            assert m, (f"{path.name} cell {index}: {{eval}}`{item['expression']}`: quote "
                       f"only prose.<name> values, which the listing shows")
            name = m.group(1)
            result = item["result"]
            assert result.get("status") == "ok", f"{path.name} cell {index}: {result}"
            shown = result["data"]["text/plain"]
            assert name in listing, f"{path.name}: prose.{name} is quoted but not listed"
            assert shown == listing[name], (
                f"{path.name} cell {index}: the text shows prose.{name} = {shown!r}, "
                f"the listing {listing[name]!r}")
            quoted.add(name)
    unused = sorted(set(listing) - quoted)
    assert not unused, f"{path.name}: values set but never quoted: {unused}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "chapters")))
def test_first_code_cell_installs_the_package_from_the_configured_repository(path):
    nb = _load(path)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, f"{path.name} has no code cell"
    first = code[0]
    assert first.get("id") == CELL_ID and nb["cells"][1] is first, (
        f"{path.name}: the install cell must come right after the title: "
        f"run chapters/_ext/launch_cell.py on it")
    assert _src(first) == launch_source(*repository()), (
        f"{path.name}: the install cell is not the one for _config.yml's repository: "
        f"run chapters/_ext/launch_cell.py on it")
    assert "remove-cell" in first["metadata"].get("tags", [])
