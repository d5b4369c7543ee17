"""The first code cell of every notebook: install the package where it is missing.

A reader who opens a chapter on Colab or Binder from the book's launch button
gets the notebook alone, without the ``bptt`` package it imports. Its first
code cell installs the package from the book's repository (``repository.url``
and ``repository.branch`` of ``_config.yml``) when the kernel lacks it, and
does nothing otherwise (``make lab``, nbval, the homework grader). The book
hides the cell (tag ``remove-cell``).

    .venv/bin/python chapters/_ext/launch_cell.py chapters/*.ipynb chapters/homework/hw*.ipynb

puts the cell in place (or updates it) in each notebook, right after the title
cell; ``tests/test_launch.py`` checks every notebook has it, for the
configured repository.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
import yaml

from run_notebook import write_notebook

ROOT = Path(__file__).resolve().parents[2]
CELL_ID = "install-bptt"
TAG = "remove-cell"


def repository(config: Path = ROOT / "_config.yml") -> tuple[str, str]:
    """``(url, branch)`` of the book's repository, from ``_config.yml``."""
    repo = yaml.safe_load(config.read_text(encoding="utf-8"))["repository"]
    return repo["url"].rstrip("/"), repo.get("branch", "main")


def package_url(url: str, branch: str) -> str:
    """Where pip gets the package: the branch's archive on GitHub, else git.

    A GitHub archive needs no git on the reader's machine (a student's laptop
    may have none) and downloads no history; other hosts are read with git.
    """
    if url.startswith("https://github.com/"):
        return f"{url}/archive/refs/heads/{branch}.zip"
    return f"git+{url}@{branch}"


def launch_source(url: str, branch: str) -> str:
    """The source of the install cell for the repository at ``url``, ``branch``."""
    return (
        "# On Colab or Binder, install the book's package (bptt) if it is missing;\n"
        "# anywhere else (make lab, the tests) this does nothing.\n"
        "import importlib.util\n"
        "\n"
        'if importlib.util.find_spec("bptt") is None:\n'
        f'    %pip install --quiet "bptt @ {package_url(url, branch)}"'
    )


def install_cell(nb, source: str) -> bool:
    """Put the install cell right after the title cell; True if ``nb`` changed.

    An existing install cell keeps its execution count (it prints nothing):
    changing the repository does not make a notebook look never run.
    """
    for index, cell in enumerate(nb.cells):
        if cell.get("id") == CELL_ID:
            if cell.source == source and index == 1:
                return False
            nb.cells.pop(index)
            cell.source = source
            break
    else:
        cell = nbformat.v4.new_code_cell(source, id=CELL_ID)
        cell.metadata["tags"] = [TAG]
    nb.cells.insert(1, cell)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)
    source = launch_source(*repository())
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        if install_cell(nb, source):
            write_notebook(nb, path)
            print(f"{path}: install cell written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
