"""The student versions of the assignments: notebooks and zips to hand out, and the book's pages.

A student version is the source notebook with every solution replaced by a
stub (see :mod:`bptt.course.notebooks` for the conventions), every output
cleared, and nothing of the solutions left: :func:`release_notebook` refuses
to return a notebook in which a line of solution survives.

:func:`release` writes, for each assignment, the notebook and a zip of it with
a ``README.txt``, byte for byte the same on every run. :func:`write_pages`
writes the versions the book shows, with a note under the title. Both read
only the source folder they are given and write only into the folder they
are given.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

from .notebooks import (CODE_STUB, INSTALL_CELL_ID, TEXT_STUB, assignment_paths, cell_text,
                        dumps_notebook, load_notebook, nbgrader_meta, questions, solution_lines,
                        split_regions)

__all__ = ["release_notebook", "release", "write_pages"]

#: Zip entries get this date, so that a release is byte-for-byte reproducible.
_ZIP_DATE = (2020, 1, 1, 0, 0, 0)


def _stub_cell(cell: dict) -> dict:
    """The student version of one cell: solutions replaced, outputs cleared."""
    out = {"cell_type": cell["cell_type"], "id": cell.get("id"),
           "metadata": {k: v for k, v in cell.get("metadata", {}).items()
                        if k not in ("execution", "collapsed", "scrolled")},
           "source": cell_text(cell)}
    if out["id"] is None:
        del out["id"]
    if cell["cell_type"] == "code":
        out["execution_count"] = None
        out["outputs"] = []
    if not nbgrader_meta(cell).get("solution"):
        return out
    runs = split_regions(cell_text(cell), "cell")
    code = cell["cell_type"] == "code"
    if any(kind == "solution" for kind, _ in runs):
        lines, indent = [], ""
        for kind, chunk in runs:
            if kind == "indent":
                indent = chunk[0]
            elif kind == "solution":
                stub = CODE_STUB if code else TEXT_STUB
                lines += [indent + s for s in stub.splitlines()]
            else:
                lines += chunk
        out["source"] = "\n".join(lines)
    else:
        out["source"] = CODE_STUB if code else TEXT_STUB
    return out


def _book_note(filename: str) -> dict:
    """The note the book's page shows under the title: what the page is, and how to start.

    Plain Markdown, no MyST role: the same cell is what a student sees after
    opening the page's notebook on Colab (which shows roles as raw text).
    ``filename`` is kept for callers; the page's download button gives the file.
    """
    source = ("> **The assignment as you receive it.** Nothing in it has been run: its "
              "functions are stubs that raise `NotImplementedError` until you write them. "
              "Download this notebook, or open it on Colab or Binder, with the buttons at "
              "the top of the book's page; the book's Homework page explains how to run "
              "it and how to check your work.")
    return {"cell_type": "markdown", "id": "book-download-note", "metadata": {},
            "source": source}


def release_notebook(nb: dict, *, for_book: bool = False, filename: str = "notebook.ipynb"
                     ) -> dict:
    """The student version of a source notebook.

    Parameters
    ----------
    nb : dict
        The source notebook, with solutions; not modified.
    for_book : bool
        Add, under the title, the note with the download link that the
        book's page shows.
    filename : str
        The notebook's file name, for that link.

    Returns
    -------
    dict
        A new notebook: solution regions replaced by
        :data:`~bptt.course.notebooks.CODE_STUB`, written answers by
        :data:`~bptt.course.notebooks.TEXT_STUB`, every output and execution
        count cleared, widget state dropped.

    Raises
    ------
    ValueError
        When the source's metadata is invalid (see
        :func:`~bptt.course.notebooks.questions`).
    RuntimeError
        When a line of solution would survive in the student version.
    """
    questions(nb)
    cells = [_stub_cell(c) for c in nb["cells"]]
    if for_book:
        # Under the title, and under the install cell that follows it (which
        # the book hides): the install cell stays the notebook's first code cell.
        at = 2 if len(cells) > 1 and cells[1].get("id") == INSTALL_CELL_ID else 1
        cells.insert(at, _book_note(filename))
    meta = {k: v for k, v in nb.get("metadata", {}).items() if k in ("kernelspec", "language_info")}
    out = {"cells": cells, "metadata": meta, "nbformat": nb.get("nbformat", 4),
           "nbformat_minor": nb.get("nbformat_minor", 5)}
    leaked = _leaks(out, solution_lines(nb))
    if leaked:
        raise RuntimeError(f"solution text would be released: {leaked[:3]}")
    return out


def _leaks(nb: dict, lines: set[str]) -> list[str]:
    """The solution ``lines`` that appear as lines of ``nb``'s cells."""
    found = []
    for cell in nb["cells"]:
        found += [s for s in (ln.strip() for ln in cell_text(cell).splitlines()) if s in lines]
    return found


def _write_zip(path: Path, members: dict) -> None:
    """A zip whose bytes depend only on ``members`` (name -> text): fixed dates and order."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, members[name].encode("utf-8"))


def _zip_readme(stem: str) -> str:
    return (f"{stem}: an assignment of the Backpropagation Through Time book.\n\n"
            f"Open {stem}.ipynb in Jupyter: on Google Colab (File > Upload notebook),\n"
            "or in JupyterLab or Jupyter Notebook on your own computer (Python 3.11 or\n"
            "later). Run its first code cell: it installs the book's `bptt` package when\n"
            "it is missing (this needs internet access, and git on your own computer),\n"
            "and does nothing otherwise.\n\n"
            f"Then fill in every cell marked `YOUR CODE HERE` or `{TEXT_STUB}`. Run the\n"
            "check cell under each function: it passes silently when the function is\n"
            "right, and otherwise says what is wrong. Before you hand in the notebook,\n"
            "restart the kernel and run every cell.\n")


def _refuse_sources(out_dir: Path, source_dir: Path) -> None:
    if Path(out_dir).resolve() == Path(source_dir).resolve():
        raise ValueError(f"out_dir must differ from the source folder {source_dir}: the "
                         "student versions would overwrite the solutions")


def release(source_dir, out_dir) -> list[Path]:
    """Write every assignment's student notebook and a zip of it into ``out_dir``.

    Parameters
    ----------
    source_dir : path
        Folder of the source notebooks (``hwN-*.ipynb``, with solutions).
    out_dir : path
        Created if needed; receives ``hwN-*.ipynb`` and ``hwN-*.zip`` (holding
        ``hwN-*/hwN-*.ipynb`` and ``hwN-*/README.txt``). Nothing is written elsewhere.

    Returns
    -------
    list of Path
        The files written.
    """
    out_dir = Path(out_dir)
    _refuse_sources(out_dir, source_dir)
    sources = assignment_paths(source_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for src in sources:
        text = dumps_notebook(release_notebook(load_notebook(src), filename=src.name))
        nb_path = out_dir / src.name
        nb_path.write_text(text, encoding="utf-8")
        zip_path = out_dir / f"{src.stem}.zip"
        _write_zip(zip_path, {f"{src.stem}/{src.name}": text,
                              f"{src.stem}/README.txt": _zip_readme(src.stem)})
        written += [nb_path, zip_path]
    return written


def write_pages(source_dir, out_dir) -> list[Path]:
    """Write the student versions that the book shows (with the download note) into ``out_dir``.

    Parameters
    ----------
    source_dir : path
        Folder of the source notebooks (``hwN-*.ipynb``, with solutions).
    out_dir : path
        Created if needed; receives one ``hwN-*.ipynb`` per assignment (the
        book's ``chapters/homework/student``).

    Returns
    -------
    list of Path
        The files written.
    """
    out_dir = Path(out_dir)
    _refuse_sources(out_dir, source_dir)
    sources = assignment_paths(source_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for src in sources:
        path = out_dir / src.name
        path.write_text(dumps_notebook(release_notebook(load_notebook(src), for_book=True,
                                                        filename=src.name)), encoding="utf-8")
        written.append(path)
    return written
