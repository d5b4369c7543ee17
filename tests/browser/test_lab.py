"""The chapters in JupyterLab, as a reader who runs `make lab` sees them.

JupyterLab with jupyterlab-myst (pinned in requirements.txt) renders the
chapters' MyST: maths, theorems, exercises, solutions, and the numbers quoted
from code (``{eval}`prose.x```, whose results the notebook stores). Each
chapter is opened in JupyterLab, served on 127.0.0.1 with no other host
reachable, and its rendered Markdown must show no raw MyST: no ``{glue:``,
``{eval}``, ``{prf:`` or ``{exercise}`` left as text, no code fence, no
"Unknown Directive" box, and no ``prose.`` expression where a number belongs.
A screenshot of the top of each chapter goes to ``_build/screenshots/lab-*.png``.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from visit import ROOT, SHOTS

CHAPTERS = sorted(p.name for p in (ROOT / "chapters").glob("*.ipynb"))
JUPYTER = Path(sys.executable).parent / "jupyter"

# What raw MyST looks like once jupyterlab-myst has rendered a cell: a role or
# directive it did not understand, or an {eval} whose result is not stored.
RAW_MYST = re.compile(r"\{(glue|eval|prf:|exercise|solution|math)[^}]*\}|```|:::\{|"
                      r"Unknown Directive|Unknown Role|\bprose\.[A-Za-z]")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on the chapters, with its own settings and home (nothing of the user's)."""
    home = tmp_path_factory.mktemp("lab")
    settings = home / "settings" / "@jupyterlab"
    # Render every cell, not only those in view (JupyterLab 4 windows long notebooks).
    (settings / "notebook-extension").mkdir(parents=True)
    (settings / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        json.dumps({"windowingMode": "none"}))
    # No news or update checks: they would ask another host.
    (settings / "apputils-extension").mkdir(parents=True)
    (settings / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    port = _free_port()
    env = dict(os.environ, HOME=str(home), JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTER_DATA_DIR=str(home / "data"), JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"))
    # Keep the kernelspec of this environment reachable with the private data dir.
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
    log = open(home / "lab.log", "w")
    proc = subprocess.Popen(
        [str(JUPYTER), "lab", "--no-browser", "--allow-root", f"--port={port}",
         "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=", "--ServerApp.password=",
         f"--ServerApp.root_dir={ROOT / 'chapters'}"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited: {(home / 'lab.log').read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("jupyter lab did not start within 90 s")
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()      # also shuts down the kernels the opened notebooks started
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(home / "data" / "runtime", ignore_errors=True)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_renders_without_raw_myst(browser, lab, chapter):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    external = []

    def route(r):
        if r.request.url.startswith(lab + "/"):
            r.continue_()
        else:
            external.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    try:
        page.goto(f"{lab}/lab/tree/{chapter}")
        n_markdown = len([c for c in json.loads((ROOT / "chapters" / chapter).read_text())["cells"]
                          if c["cell_type"] == "markdown"])
        # Every Markdown cell rendered by jupyterlab-myst (a .myst element each).
        page.wait_for_function(
            "n => document.querySelectorAll('.jp-MarkdownCell .myst').length >= n",
            arg=n_markdown, timeout=120_000)
        page.wait_for_timeout(1500)    # maths and inline results settle
        rendered = page.evaluate(
            "() => Array.from(document.querySelectorAll('.jp-MarkdownCell .myst'))"
            ".map(c => c.innerText)")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"lab-{Path(chapter).stem}.png"))
    finally:
        context.close()
    raw = []
    for k, text in enumerate(rendered):
        for m in RAW_MYST.finditer(text):
            raw.append(f"cell {k}: ...{text[max(0, m.start() - 40):m.end() + 40]!r}...")
    assert not raw, f"{chapter} in JupyterLab shows raw MyST:\n  " + "\n  ".join(raw[:10])
    assert not external, f"{chapter} in JupyterLab asked other hosts for {external[:5]}"
