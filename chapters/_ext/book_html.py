"""Sphinx extension: small fixes to the HTML pages that only the book's side can make.

sphinx-thebe, which Jupyter Book always loads (this book does not use Thebe),
adds its configuration script twice to every page (once with an empty file
name, once with none), and the second ``const THEBE_JS_URL`` declaration
throws; sphinx-togglebutton's configuration is doubled the same way. Here
each page's script list keeps the first of identical entries.

sphinx-exercise gives the body of every exercise the id ``exercise-content``
and of every solution ``solution-content``, and sphinx-proof the body of every
theorem and proof ``proof-content`` (and every unlabelled proof the id
``proof``): a page with several of them repeats the ids, which HTML forbids
(and assistive tools trip on). Nothing links to them, so they are dropped.
"""
from __future__ import annotations

from docutils import nodes

# Ids that sphinx-exercise and sphinx-proof put on every body they make.
_SHARED_IDS = {"exercise-content", "solution-content", "proof-content", "proof"}


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for script in scripts:
        # A _JavaScript (Sphinx 7.4) is its file name (None or "" for inline
        # code: the two copies differ there) and its attributes, the inline
        # body among them.
        key = (getattr(script, "filename", script) or "",
               repr(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept


def _drop_shared_ids(app, doctree, docname):
    for node in doctree.findall(nodes.Element):
        ids = node.get("ids") or []
        if _SHARED_IDS & set(ids):
            node["ids"] = [i for i in ids if i not in _SHARED_IDS]


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    app.connect("doctree-resolved", _drop_shared_ids)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
