"""The build plumbing: one CI entry point, Debian packages installed only by
``make deps`` (and ``make pdf``), ruff and the PyTorch side environment wired
into ``make test``.

Nothing here installs anything: ``make -n`` prints recipes without running
them, and the two branches of the Debian install (root or not) run against a
fake ``id`` and ``apt-get`` put first on ``PATH``.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
MAKE = shutil.which("make")
needs_make = pytest.mark.skipif(MAKE is None, reason="make is not installed")


def make(*args: str, path: str | None = None) -> subprocess.CompletedProcess:
    """Run make in the repository, without the flags of a make that runs us."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    if path is not None:
        env["PATH"] = path
    return subprocess.run([MAKE, "--no-print-directory", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_ci_has_one_entry_point():
    run = (ROOT / ".ci" / "run").read_text()
    assert run.rstrip().splitlines()[-1] == "make test"
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text())
    commands = [step["run"] for step in workflow["jobs"]["test"]["steps"] if "run" in step]
    assert "bash .ci/run" in [c.strip() for c in commands]
    # No test, build or Python package step of its own: only the bootstrap.
    for command in commands:
        assert not re.search(r"^\s*(make|pytest|pip|python3?|jupyter-book|npm)\b", command,
                             re.M), command
    # The Pages deployment publishes what the test job built.
    assert "deploy" in workflow["jobs"] and workflow["jobs"]["deploy"]["needs"] == "test"


def test_only_apt_missing_installs_debian_packages():
    text = (ROOT / "Makefile").read_text()
    assert len(re.findall(r"apt-get install -y", text)) == 1
    assert re.search(r"^APT_MISSING\s*=.*\\\n(?:.*\\\n)*.*apt-get install", text, re.M)


@needs_make
def test_make_test_runs_deps_then_lint_first():
    out = make("-n", "test").stdout
    markers = ["missing=", "ruff check --no-cache bptt tests chapters/_ext",
               "pytest tests --ignore=tests/browser --ignore=tests/torch",
               "pytest tests/torch", "pytest --nbval", "jupyter-book build", "pytest tests/browser"]
    positions = [out.find(m) for m in markers]
    assert -1 not in positions, dict(zip(markers, positions))
    assert positions == sorted(positions), dict(zip(markers, positions))
    # deps checks npm and chromium before anything else runs.
    first = out.splitlines()[0]
    assert "npm" in first and "chromium" in first


@needs_make
def test_make_book_asks_for_no_browser():
    first = make("-n", "book").stdout.splitlines()[0]
    assert "npm" in first and "chromium" not in first


@pytest.fixture
def fake_bin(tmp_path):
    """A folder holding ``id`` (prints $FAKE_UID) and ``apt-get`` (logs its arguments)."""
    log = tmp_path / "apt.log"
    (tmp_path / "id").write_text('#!/bin/sh\necho "$FAKE_UID"\n')
    (tmp_path / "apt-get").write_text(f'#!/bin/sh\necho "$*" >> {log}\n')
    for name in ("id", "apt-get"):
        (tmp_path / name).chmod(0o755)
    return tmp_path, log


@needs_make
@pytest.mark.parametrize("uid", ["0", "1000"])
def test_deps_installs_as_root_and_names_the_packages_otherwise(fake_bin, uid, monkeypatch):
    folder, log = fake_bin
    monkeypatch.setenv("FAKE_UID", uid)
    missing = 'NEED_chromium=missing="$$missing no-such-package"'
    result = make("deps", missing, path=f"{folder}:{os.environ['PATH']}")
    if uid == "0":
        assert result.returncode == 0, result.stderr
        assert "Installing from Debian with apt-get: no-such-package" in result.stdout
        calls = log.read_text().splitlines()
        assert calls[0].startswith("update")
        assert calls[1].startswith("install") and calls[1].endswith(" no-such-package")
    else:
        assert result.returncode != 0
        assert "Missing Debian packages: no-such-package" in result.stdout
        assert "apt-get install no-such-package" in result.stdout
        assert not log.exists()


@needs_make
def test_torch_tests_are_skipped_without_the_side_environment():
    result = make("torch-tests", "TORCH_VENV=/nonexistent/torchvenv")
    assert result.returncode == 0
    assert "Skipped tests/torch" in result.stdout


def test_the_side_environment_stays_out_of_git_the_book_and_pytest():
    assert ".torchvenv/" in (ROOT / ".gitignore").read_text().split()
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert ".torchvenv" in config["exclude_patterns"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert ".torchvenv" in project["tool"]["pytest"]["ini_options"]["norecursedirs"]
    assert ".torchvenv" in project["tool"]["ruff"]["extend-exclude"]


def test_ruff_is_pinned():
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    assert any(re.fullmatch(r"ruff==[0-9.]+", line) for line in lines)
