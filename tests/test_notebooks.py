"""Structure of the chapter notebooks: what nbval cannot see.

nbval re-runs each notebook and compares its text outputs; it does not compare
widget views, does not check that a notebook was executed before it was
committed, and knows nothing of the skeleton every chapter follows. These
tests do.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p for p in (ROOT / "chapters").glob("[0-9][0-9]-*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _markdown(nb: dict) -> str:
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def _code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc["parts"]:
        files += [c["file"] for c in part["chapters"]]
    return files


def test_every_chapter_is_in_the_toc():
    listed = set(_toc_files())
    missing = [p.name for p in CHAPTERS if f"chapters/{p.stem}" not in listed]
    assert CHAPTERS, "no chapter notebooks found"
    assert not missing, f"notebooks not in _toc.yml: {missing}"


@pytest.fixture(params=CHAPTERS, ids=lambda p: p.stem)
def nb(request):
    return request.param, _load(request.param)


def test_kernelspec_is_python3(nb):
    path, data = nb
    assert data["metadata"]["kernelspec"]["name"] == "python3", path.name


def test_committed_executed(nb):
    """Every code cell ran, in order, from a fresh kernel, with no error stored."""
    path, data = nb
    counts = [c["execution_count"] for c in _code_cells(data)]
    assert counts, f"{path.name} has no code cells"
    assert None not in counts, f"{path.name}: cells never executed: {counts}"
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: not executed top to bottom in a fresh kernel: {counts}")
    for cell in _code_cells(data):
        tags = cell.get("metadata", {}).get("tags", [])
        errors = [o for o in cell["outputs"] if o["output_type"] == "error"]
        assert not errors or "raises-exception" in tags, (
            f"{path.name}: stored error in a cell not tagged raises-exception: "
            f"{errors[0].get('ename')}")


def test_one_title_and_the_chapter_skeleton(nb):
    path, data = nb
    md = _markdown(data)
    titles = re.findall(r"^# \S", md, flags=re.M)
    assert len(titles) == 1, f"{path.name}: expected exactly one '# Title', found {len(titles)}"
    first = "".join(data["cells"][0]["source"])
    assert first.startswith("# "), f"{path.name}: the first cell must start with the title"
    for heading in ("Learning objectives", "Summary", "Exercises", "References"):
        assert re.search(rf"^## {heading}", md, flags=re.M), f"{path.name}: no '## {heading}'"


def test_exercises_have_hidden_solutions(nb):
    path, data = nb
    md = _markdown(data)
    exercises = re.findall(r"```\{exercise\}[^\n]*\n:label: (\S+)", md)
    solutions = re.findall(r"```\{solution\} (\S+)\n:class: dropdown", md)
    assert len(exercises) >= 4, f"{path.name}: {len(exercises)} exercises, need 4 or more"
    assert sorted(exercises) == sorted(solutions), (
        f"{path.name}: exercises {sorted(exercises)} vs dropdown solutions {sorted(solutions)}")


def test_uses_the_book_machinery(nb):
    """Labelled equations referred to, citations, quoted numbers, the package imported."""
    path, data = nb
    md = _markdown(data)
    code = "\n".join("".join(c["source"]) for c in _code_cells(data))
    # Each chapter's own label prefix (ch3-, chk-, ...).
    assert re.search(r":label: [a-z]+\d*-", md), f"{path.name}: no labelled equation"
    assert "{eq}`" in md, f"{path.name}: no {{eq}} reference"
    assert "{cite}`" in md, f"{path.name}: no citation"
    # Numbers in the prose come from the code: {eval}`prose.name`, set on a
    # Prose object by a code cell (bptt.plots.prose).
    assert "{eval}`prose." in md and re.search(r"^prose\.\w+ = ", code, flags=re.M), (
        f"{path.name}: no number quoted from the code")
    assert re.search(r"^(import bptt|from bptt)", code, flags=re.M), f"{path.name}: bptt not imported"


def test_figures_have_captions_and_alt_text(nb):
    path, data = nb
    for cell in _code_cells(data):
        if any("image/png" in o.get("data", {}) for o in cell["outputs"]):
            meta = cell.get("metadata", {}).get("mystnb", {})
            src = "".join(cell["source"])[:60]
            assert meta.get("figure", {}).get("caption"), f"{path.name}: figure without caption: {src!r}"
            assert meta.get("image", {}).get("alt"), f"{path.name}: figure without alt text: {src!r}"


def test_interactive_and_static_versions(nb):
    """A widget for people running the notebook, and something that works without a kernel."""
    path, data = nb
    views = [o["data"][WIDGET_VIEW]["model_id"] for c in _code_cells(data)
             for o in c["outputs"] if WIDGET_VIEW in o.get("data", {})]
    assert views, f"{path.name}: no widget"
    saved = data["metadata"].get("widgets", {}).get(
        "application/vnd.jupyter.widget-state+json", {}).get("state", {})
    unsaved = [m for m in views if m not in saved]
    assert not unsaved, f"{path.name}: widget views without saved state (blank in HTML): {unsaved}"
    # The HTML book has no kernel: each widget carries frames that work without one.
    for cell in _code_cells(data):
        for out in cell["outputs"]:
            if WIDGET_VIEW in out.get("data", {}):
                frames = "".join(out["data"].get("text/html", ""))
                assert 'class="bptt-frames"' in frames, (
                    f"{path.name}: a widget without pre-rendered frames would be a dead slider "
                    f"in the book: {''.join(cell['source'])[:60]!r}")
    html = [o["data"]["text/html"] for c in _code_cells(data) for o in c["outputs"]
            if "text/html" in o.get("data", {})]
    animations = [h for h in html if "animation" in "".join(h)]
    pngs = sum("image/png" in o.get("data", {}) for c in _code_cells(data) for o in c["outputs"])
    assert animations or pngs >= 2, f"{path.name}: no no-kernel version (animation or figures)"


def test_widget_cells_are_not_compared(nb):
    """Output captured by a widget leaks into nbval's comparison: such cells are ignored."""
    path, data = nb
    for cell in _code_cells(data):
        if any(WIDGET_VIEW in o.get("data", {}) for o in cell["outputs"]):
            tags = cell.get("metadata", {}).get("tags", [])
            assert "nbval-ignore-output" in tags, (
                f"{path.name}: widget cell not tagged nbval-ignore-output: "
                f"{''.join(cell['source'])[:60]!r}")


_UNSTABLE = [
    (re.compile(r"\bat 0x[0-9a-f]{6,}"), "a memory address"),
    (re.compile(r"\d+(\.\d+)?\s*(ms|µs|us|ns)\b|\d+\.\d+\s*s\b(?! *=)"), "a timing"),
    (re.compile(r"/(root|home|tmp|work)/"), "an absolute path"),
]


def test_outputs_are_machine_independent(nb):
    path, data = nb
    for cell in _code_cells(data):
        for out in cell["outputs"]:
            text = "".join(out.get("text", "")) + "".join(out.get("data", {}).get("text/plain", ""))
            for pattern, what in _UNSTABLE:
                m = pattern.search(text)
                assert not m, f"{path.name}: stored output holds {what}: {m.group(0)!r}"
