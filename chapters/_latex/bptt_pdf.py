"""Sphinx extension for the PDF (``make pdf``): the book as the HTML shows it.

It acts only under the LaTeX builder; the HTML is untouched. Registered in
``_config.yml`` under ``sphinx: local_extensions``; the LaTeX side is
``bpttpdf.sty``, next to this file.

Chapter numbers. In the HTML, Jupyter Book numbers the chapters of the parts
that ``_toc.yml`` marks ``numbered: true`` (1, 2, ..., running on across such
parts) and leaves every other page unnumbered; in chapter 3, figures,
equations, exercises and theorems read 3.1, 3.2, ..., and on an unnumbered
page plain 1, 2, ... LaTeX knows nothing of this and numbers every
``\\chapter``. So this extension:

* writes, before each chapter, the number Sphinx gave that page for the HTML,
  ``\\bpttnumberedchapter{3}``, or ``\\bpttunnumberedchapter`` for a page the
  HTML leaves unnumbered. The PDF follows ``_toc.yml`` as the HTML does,
  whatever parts it holds;
* undoes the ``numfig_secnum_depth = 2`` that sphinx-jupyterbook-latex sets
  for books with parts, so that the numbers Sphinx itself writes into the
  text (Exercise 3.1, Theorem 4.1) are the HTML's, not 3.2.1.
  ``bpttpdf.sty`` puts the chapter number in front of LaTeX's own figure and
  equation numbers instead.

Hidden cells. sphinx-jupyterbook-latex leaves out of the PDF every cell the
HTML collapses (``hide-cell``, ``hide-output``), yet a reader of the HTML
opens them with a click, and the text refers to what they show (a solution's
figure, "Fig. 1.6"). On paper their outputs are printed; their code is left
out, as for ``hide-input`` cells.
"""
from __future__ import annotations

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.builders.latex import LaTeXBuilder
from sphinx.config import Config
from sphinx.transforms.post_transforms import SphinxPostTransform


def chapter_command(number: tuple[int, ...] | None) -> str:
    """The LaTeX that opens a page numbered ``number`` in the HTML (None: unnumbered)."""
    if number:
        return r"\bpttnumberedchapter{%d}" % number[0]
    return r"\bpttunnumberedchapter"


def printed_classes(classes: list[str]) -> list[str]:
    """A cell's classes for print: outputs of collapsed cells shown, their code not."""
    printed = []
    for name in classes:
        if name == "tag_hide-cell":
            name = "tag_hide-input"
        elif name == "tag_hide-output":
            continue
        if name not in printed:
            printed.append(name)
    return printed


class ChapterNumbers(SphinxPostTransform):
    """Before each top-level page of the assembled book, its HTML numbering."""

    # After sphinx-jupyterbook-latex has turned the toc captions into parts (700).
    default_priority = 710
    builders = ("latex",)

    def run(self, **kwargs) -> None:
        # The top-level pages are the entries of the root document's toctrees
        # (one toctree per part of _toc.yml); env.toc_secnumbers holds the
        # numbers the HTML shows, '' being the page's own title.
        chapters = set(self.env.toctree_includes.get(self.config.root_doc, ()))
        for start in self.document.findall(addnodes.start_of_file):
            docname = start.get("docname")
            if docname not in chapters:
                continue
            number = self.env.toc_secnumbers.get(docname, {}).get("")
            start.insert(0, nodes.raw("", chapter_command(number) + "\n", format="latex"))


class PrintHiddenOutputs(SphinxPostTransform):
    """Collapsed cells print their outputs: paper has no click."""

    # Before sphinx-jupyterbook-latex drops the hidden cells (400).
    default_priority = 390
    builders = ("latex",)

    def run(self, **kwargs) -> None:
        for cell in self.document.findall(nodes.container):
            if "cell" in cell["classes"]:
                cell["classes"] = printed_classes(cell["classes"])


def setup(app: Sphinx) -> dict:
    configured = {}

    def remember(app: Sphinx, config: Config) -> None:
        configured["numfig_secnum_depth"] = config.numfig_secnum_depth

    def restore(app: Sphinx) -> None:
        if isinstance(app.builder, LaTeXBuilder) and configured:
            app.config.numfig_secnum_depth = configured["numfig_secnum_depth"]

    app.connect("config-inited", remember)
    # sphinx-jupyterbook-latex changes the value at builder-inited (priority 500).
    app.connect("builder-inited", restore, priority=900)
    app.add_post_transform(ChapterNumbers)
    app.add_post_transform(PrintHiddenOutputs)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
