"""Sphinx extension: render ``{eval}`` from the results stored in the notebook.

MyST's inline role ``{eval}`expression``` shows the value of a Python
expression in the text. myst-nb evaluates it only while it executes the
notebook during the build (``nb_execution_mode: inline``); this book renders
stored outputs and never runs a kernel at build time. jupyterlab-myst, the
JupyterLab renderer readers use, stores each Markdown cell's results in the
cell's ``user_expressions`` metadata, and so does ``run_notebook.py``. This
extension replaces myst-nb's ``eval`` role by one that renders those stored
results, so the book and JupyterLab show the same text from the same data.

A missing or failed result is a build warning (an error under ``-W``) that
names the expression, and so is an expression stored with two different
results in one notebook.
"""
from __future__ import annotations

import json

from myst_nb.core.variables import RetrievalError, VariableOutput, render_variable_outputs
from myst_nb.ext.eval import EvalRoleAny, eval_warning

METADATA_KEY = "user_expressions"


def stored_result(notebook, expression: str) -> dict:
    """The one result stored for ``expression`` in the notebook's Markdown cells."""
    results = {}
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        for item in cell.get("metadata", {}).get(METADATA_KEY, []):
            if item.get("expression") == expression:
                result = item.get("result", {})
                results[json.dumps(result, sort_keys=True)] = result
    if not results:
        raise RetrievalError(
            f"no stored result for {{eval}}`{expression}`: run the notebook with "
            f"chapters/_ext/run_notebook.py (make notebooks)")
    if len(results) > 1:
        raise RetrievalError(f"{{eval}}`{expression}` is stored with different results")
    (result,) = results.values()
    if result.get("status") != "ok":
        raise RetrievalError(f"{{eval}}`{expression}` failed: {result.get('ename')}: "
                             f"{result.get('evalue')}")
    return result


class StoredEvalRole(EvalRoleAny):
    """``{eval}`expression```: the result stored in the notebook, inline."""

    def run(self):
        if "nb_renderer" not in self.document:
            return [], [eval_warning("{eval} is only for notebooks", self.document, self.line)]
        renderer = self.document["nb_renderer"]
        try:
            result = stored_result(renderer.renderer.nb_client.notebook, self.text)
        except RetrievalError as exc:
            return [], [eval_warning(str(exc), self.document, self.line)]
        output = VariableOutput(
            data=result.get("data", {}),
            # Strings are quoted in text/plain: show them without their quotes.
            metadata={**result.get("metadata", {}), "strip_text_quotes": True},
            nb_renderer=renderer, vtype="eval", index=0)
        return render_variable_outputs([output], self.document, self.line, self.source,
                                       inline=True), []


def setup(app):
    # Registered after myst_nb (a local extension loads after the built-in ones),
    # so this role replaces myst-nb's.
    app.add_role("eval", StoredEvalRole(), override=True)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
