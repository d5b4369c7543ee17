"""The PDF's configuration (``make pdf``), checked without building the PDF.

The PDF must number chapters as the HTML does: the chapters of the parts of
``_toc.yml`` marked ``numbered: true`` are 1, 2, ... and every other page is
unnumbered (chapters/_latex/bptt_pdf.py and bpttpdf.sty). These tests check
the wiring in ``_config.yml`` and the ``Makefile``, and generate the LaTeX
source (Sphinx only, no TeX, a few seconds) of a stand-in book with the same
parts and pages as ``_toc.yml``.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
LATEX_DIR = ROOT / "chapters" / "_latex"
sys.path.insert(0, str(LATEX_DIR))
import bptt_pdf  # noqa: E402

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
SPHINX_CONFIG = CONFIG["sphinx"]["config"]
STYLE = (LATEX_DIR / "bpttpdf.sty").read_text()


def test_chapter_command():
    assert bptt_pdf.chapter_command((3,)) == r"\bpttnumberedchapter{3}"
    assert bptt_pdf.chapter_command((12, 1)) == r"\bpttnumberedchapter{12}"
    assert bptt_pdf.chapter_command(None) == r"\bpttunnumberedchapter"
    assert bptt_pdf.chapter_command(()) == r"\bpttunnumberedchapter"


def test_collapsed_cells_print_their_outputs_not_their_code():
    assert bptt_pdf.printed_classes(["cell", "tag_hide-cell"]) == ["cell", "tag_hide-input"]
    assert bptt_pdf.printed_classes(["cell", "tag_hide-output"]) == ["cell"]
    assert bptt_pdf.printed_classes(["cell", "tag_hide-input"]) == ["cell", "tag_hide-input"]
    assert bptt_pdf.printed_classes(
        ["cell", "tag_hide-cell", "tag_hide-input"]) == ["cell", "tag_hide-input"]


def test_style_defines_what_the_extension_writes():
    for macro in (r"\bpttnumberedchapter", r"\bpttunnumberedchapter"):
        assert re.search(r"\\newcommand\*?\s*" + re.escape(macro) + r"\b", STYLE), macro
    # One bibliography: the list prints no chapter heading of its own.
    assert r"\renewenvironment{sphinxthebibliography}" in STYLE


def test_config_loads_the_extension_and_the_style():
    extensions = CONFIG["sphinx"]["local_extensions"]
    assert (ROOT / extensions["bptt_pdf"] / "bptt_pdf.py").is_file()
    assert r"\usepackage{bpttpdf}" in SPHINX_CONFIG["latex_elements"]["preamble"]
    copied = SPHINX_CONFIG["latex_additional_files"]
    for path in copied:
        assert (ROOT / path).is_file(), path
    assert {Path(p).name for p in copied} >= {"bpttpdf.sty", "bbm.sty"}
    # The theorem labels' "Proof Index" would follow the bibliography.
    assert SPHINX_CONFIG["latex_domain_indices"] is False
    assert CONFIG["latex"]["latex_engine"] == "xelatex"


def make_variable(name: str) -> list[str]:
    text = (ROOT / "Makefile").read_text()
    match = re.search(rf"^{name}\s*:?=((?:.*\\\n)*.*)$", text, re.M)
    assert match, name
    return match.group(1).replace("\\\n", " ").split()


def test_makefile_installs_what_xelatex_needs():
    packages = make_variable("TEX_PACKAGES")
    assert {"texlive-xetex", "latexmk", "texlive-latex-extra",
            "texlive-fonts-recommended"} <= set(packages)
    # Sphinx's default fonts for xelatex are FreeSerif, FreeSans and FreeMono.
    if "fontpkg" not in SPHINX_CONFIG.get("latex_elements", {}):
        assert "fonts-freefont-otf" in packages
    # bbm.sty stands in for texlive-fonts-extra's (1.4 GB).
    assert "texlive-fonts-extra" not in packages


def toc_pages():
    """(docname, HTML chapter number or None) for each top-level page of _toc.yml."""
    pages, number = [], 0
    for part in TOC["parts"]:
        for chapter in part["chapters"]:
            if part.get("numbered"):
                number += 1
                pages.append((chapter["file"], number))
            else:
                pages.append((chapter["file"], None))
    return pages


def notebook(title: str, extra_markdown: str) -> dict:
    """A notebook page: title, an exercise, and a collapsed cell with an output."""
    return {
        "cells": [
            {"cell_type": "markdown", "metadata": {},
             "source": f"# {title}\n\n{extra_markdown}"},
            {"cell_type": "code", "execution_count": 1,
             "metadata": {"tags": ["hide-cell"]},
             "outputs": [{"output_type": "stream", "name": "stdout",
                          "text": "collapsedcelloutput\n"}],
             "source": "print('collapsedcelloutput')"},
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }


@pytest.fixture(scope="module")
def stand_in_tex(tmp_path_factory) -> str:
    """The LaTeX source of a book with _toc.yml's parts, one stub page per entry."""
    book = tmp_path_factory.mktemp("book")
    shutil.copytree(LATEX_DIR, book / "chapters" / "_latex",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (book / "_toc.yml").write_text(yaml.safe_dump(TOC, sort_keys=False))
    # In a section: with numfig_secnum_depth 2 it would read N.1.1, not N.1.
    exercise = "## A section\n\n```{exercise}\n:label: ex-%d\n\nA stand-in exercise.\n```\n"
    root = book / (TOC["root"] + ".md")
    root.parent.mkdir(parents=True, exist_ok=True)
    root.write_text("# Stand-in book\n\nThe landing page.\n")
    for index, (docname, _) in enumerate(toc_pages()):
        page = book / (docname + ".ipynb")
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(json.dumps(notebook(f"Page {index}", exercise % index)))
    config = {
        "title": "Stand-in",
        "only_build_toc_files": True,
        "execute": {"execute_notebooks": "off"},
        "latex": CONFIG["latex"],
        "sphinx": {
            "extra_extensions": ["sphinx_exercise"],
            "local_extensions": {"bptt_pdf": CONFIG["sphinx"]["local_extensions"]["bptt_pdf"]},
            "config": {key: value for key, value in SPHINX_CONFIG.items()
                       if key.startswith("latex_") or key.startswith("numfig")
                       or key == "math_numfig"},
        },
    }
    (book / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    run = subprocess.run([str(jupyter_book), "build", str(book), "--builder", "latex",
                          "-W", "-n", "--keep-going"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return (book / "_build" / "latex" / CONFIG["latex"]["latex_documents"]["targetname"]
            ).read_text()


def test_pdf_chapters_follow_the_toc(stand_in_tex):
    found = re.findall(r"\\(bpttnumberedchapter\{(\d+)\}|bpttunnumberedchapter)\s*"
                       r"\\chapter\{Page (\d+)\}", stand_in_tex)
    got = [(int(index), int(number) if number else None) for _, number, index in found]
    expected = [(index, number) for index, (_, number) in enumerate(toc_pages())]
    assert got == expected
    assert r"\usepackage{bpttpdf}" in stand_in_tex


def test_parts_are_the_toc_captions(stand_in_tex):
    assert re.findall(r"\\part\{([^}]*)\}", stand_in_tex) == [
        part["caption"] for part in TOC["parts"]]


def test_exercise_numbers_are_the_htmls(stand_in_tex):
    # Exercise N.1 in chapter N, as in the HTML; not N.1.1 (numfig_secnum_depth 2).
    for index, (_, number) in enumerate(toc_pages()):
        if number is not None:
            assert f"Exercise {number}.1}}" in stand_in_tex, index
    assert not re.search(r"Exercise \d+\.\d+\.\d+", stand_in_tex)


def test_collapsed_cells_outputs_are_in_the_pdf(stand_in_tex):
    assert stand_in_tex.count("collapsedcelloutput") == len(toc_pages())
    assert "print(" not in stand_in_tex
