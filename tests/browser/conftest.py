"""Fixtures of the browser tests: the built book, served locally, in Chromium.

The book must be built first (`make book`; `make test` builds it before it
runs these tests). It is served from ``_build/html`` by ``python -m
http.server`` on a free port of 127.0.0.1, and read in Debian's Chromium,
headless, through Playwright. Every request to any other host is aborted and
recorded, as for a reader with no internet.

Each page is visited once at laptop width and once at phone width; what the
tests check is gathered during those visits (:mod:`visit`) and shared.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from visit import HTML, SHOTS, Visitor

CHROMIUM = "/usr/bin/chromium"
# Headless, and nothing that talks to Google's servers in the background.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"http.server exited with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"http.server did not listen on port {port} within {timeout} s")


@pytest.fixture(scope="session")
def base_url():
    """The built book served on 127.0.0.1; the server is stopped afterwards."""
    if not (HTML / "searchindex.js").is_file():
        pytest.fail(f"no built book in {HTML}: run 'make book' first")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
         "--directory", str(HTML)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install it with 'apt-get install -y chromium' "
                    "(make browser does)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def visitor(browser, base_url):
    """Visits pages (each once per viewport) and remembers what it saw."""
    shutil.rmtree(SHOTS, ignore_errors=True)    # no screenshot of a page that is gone
    SHOTS.mkdir(parents=True)
    return Visitor(browser, base_url)
