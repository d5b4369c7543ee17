"""Run a chapter notebook top to bottom, as a reader would, and save it in place.

    .venv/bin/python chapters/_ext/run_notebook.py chapters/02-forward.ipynb [...]

(``make notebooks`` runs it on every chapter.) It does what
``jupyter nbconvert --execute --inplace`` does (a fresh kernel, every code
cell in order, the widgets' state saved in the notebook) and one thing more:
it runs the Markdown cells too, as JupyterLab with jupyterlab-myst does. Each
inline ``{eval}`expression``` of a Markdown cell is evaluated in the kernel at
that point of the notebook, and the result is stored in the cell's
``user_expressions`` metadata, in jupyterlab-myst's own format. JupyterLab
shows those stored results even with no kernel, and the book's build renders
them (``stored_eval.py``), so both show the numbers the code computed.

It fails, naming the cell, if an expression raises (for example a value used
in the text before the code that computes it), and if a value quoted in the
text changes later in the notebook, since a reader who re-runs one cell would
then read a different number. The notebook is written atomically: a failed
run leaves the file as it was.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.util import ensure_async, run_sync

# MyST's inline role: {eval}`expression`. The expression holds no backtick.
EVAL_ROLE = re.compile(r"\{eval\}`([^`]+)`")
METADATA_KEY = "user_expressions"   # jupyterlab-myst's name for the stored results
TIMEOUT = 600                       # seconds per cell


def expressions_in(markdown: str) -> list[str]:
    """The distinct ``{eval}`` expressions of a Markdown cell, in order of appearance."""
    return list(dict.fromkeys(m.group(1) for m in EVAL_ROLE.finditer(markdown)))


class ProseError(RuntimeError):
    """An ``{eval}`` expression failed, or its value changed after the text quoted it."""


class ReaderClient(NotebookClient):
    """An nbclient that also evaluates the Markdown cells' inline expressions."""

    async def _evaluate(self, expressions: list[str]) -> dict[str, dict]:
        """Evaluate expressions in the kernel; expression -> execute_reply result."""
        keys = {str(i): expr for i, expr in enumerate(expressions)}
        msg_id = await ensure_async(self.kc.execute(
            "", silent=True, store_history=False, user_expressions=keys))
        reply = await self.async_wait_for_reply(msg_id)
        if reply is None or reply["content"]["status"] != "ok":
            raise ProseError(f"the kernel did not evaluate {expressions}")
        results = reply["content"]["user_expressions"]
        return {expr: results[key] for key, expr in keys.items()}

    async def _store_expressions(self, cell, index: int) -> None:
        expressions = expressions_in(cell.source)
        if not expressions:
            cell.metadata.pop(METADATA_KEY, None)
            return
        results = await self._evaluate(expressions)
        for expr, result in results.items():
            if result.get("status") != "ok":   # reported at the end, with all the others
                self.prose_errors.append(
                    f"cell {index}: {{eval}}`{expr}` raised {result.get('ename')}: "
                    f"{result.get('evalue')}")
        cell.metadata[METADATA_KEY] = [
            {"expression": expr, "result": results[expr]} for expr in expressions]

    async def async_execute_cell(self, cell, cell_index, execution_count=None,
                                 store_history=True):
        if cell.cell_type == "markdown":
            await self._store_expressions(cell, cell_index)
            return cell
        return await super().async_execute_cell(cell, cell_index, execution_count,
                                                store_history)

    async def _check_unchanged(self) -> None:
        """Every quoted value is still what the text showed where it quoted it."""
        shown = {}
        for index, cell in enumerate(self.nb.cells):
            for item in cell.metadata.get(METADATA_KEY, []) if cell.cell_type == "markdown" else []:
                shown.setdefault(item["expression"], (index, item["result"]))
        if not shown:
            return
        now = await self._evaluate(list(shown))
        for expr, (index, result) in shown.items():
            if now[expr].get("data") != result.get("data"):
                raise ProseError(
                    f"{{eval}}`{expr}` showed {result.get('data', {}).get('text/plain')!r} "
                    f"in cell {index} but is {now[expr].get('data', {}).get('text/plain')!r} "
                    f"at the end of the notebook: compute it once, before the text quotes it")

    async def async_run(self):
        """Like ``NotebookClient.async_execute``, plus the check at the end."""
        self.reset_execution_trackers()
        self.prose_errors: list[str] = []
        async with self.async_setup_kernel():
            info = await self.async_wait_for_reply(await ensure_async(self.kc.kernel_info()))
            self.nb.metadata["language_info"] = info["content"]["language_info"]
            for index, cell in enumerate(self.nb.cells):
                await self.async_execute_cell(
                    cell, index, execution_count=self.code_cells_executed + 1)
            if self.prose_errors:
                raise ProseError("\n".join(self.prose_errors))
            await self._check_unchanged()
            self.set_widgets_metadata()
        return self.nb

    run = run_sync(async_run)


def run_notebook(path: Path) -> None:
    """Execute ``path`` in a fresh kernel in its own folder and save it in place."""
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)   # timestamps of an earlier run
    client = ReaderClient(
        nb, timeout=TIMEOUT, kernel_name="python3", store_widget_state=True,
        record_timing=False,   # no timestamps: the committed file changes only with content
        resources={"metadata": {"path": str(path.parent.resolve())}})
    client.run()
    write_notebook(nb, path)


def write_notebook(nb, path: Path) -> None:
    """Write ``nb`` to ``path`` atomically: a reader never sees half a notebook."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".ipynb")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            nbformat.write(nb, f)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)
    for path in args.notebooks:
        print(f"running {path}", flush=True)
        try:
            run_notebook(path)
        except ProseError as e:
            print(f"{path}: {e}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
