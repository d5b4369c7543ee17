"""The command line of the course tooling (bptt/course/cli.py), and its place in the package.

``import bptt`` must not load it; its default paths are relative to the
current folder, so it runs from anywhere (an installed wheel) given its paths.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bptt.course import cli
from course_cells import HOMEWORK, SOURCES


def test_import_bptt_loads_no_course_tooling():
    """In a fresh process: neither the package nor the students' self-checks load bptt.course."""
    script = (
        "import sys\n"
        "def course(): return sorted(m for m in sys.modules if m.startswith('bptt.course'))\n"
        "import bptt\n"
        "assert not course(), course()\n"
        "import bptt.checks\n"
        "assert not course(), course()\n"
        "print('clean')\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.strip() == "clean", result.stderr


def test_cli_release(tmp_path, capsys):
    assert cli.main(["release", "--source", str(HOMEWORK), "--out", str(tmp_path)]) == 0
    assert "hw1-forward.zip" in capsys.readouterr().out
    assert (tmp_path / "hw4-training.ipynb").is_file()


def test_default_paths_are_relative_to_the_current_folder(tmp_path, monkeypatch, capsys):
    """No repository path is built in: run in a folder laid out as the book's, it writes there."""
    for path in (cli.SOURCE_DIR, cli.RELEASE_DIR, cli.PAGES_DIR, cli.GRADES_CSV):
        assert not path.is_absolute(), path
    assert cli.RELEASE_DIR.parts[0] == cli.GRADES_CSV.parts[0] == "_build"
    (tmp_path / cli.SOURCE_DIR).mkdir(parents=True)
    for path in SOURCES:
        shutil.copy(path, tmp_path / cli.SOURCE_DIR / path.name)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["release"]) == 0
    assert sorted(p.name for p in (tmp_path / cli.RELEASE_DIR).iterdir()) == sorted(
        f"{p.stem}{ext}" for p in SOURCES for ext in (".ipynb", ".zip"))
    assert cli.main(["pages"]) == 0
    assert sorted(p.name for p in (tmp_path / cli.PAGES_DIR).iterdir()) == [
        p.name for p in SOURCES]


def test_missing_sources_are_a_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["release"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "no assignments" in err and str(tmp_path) in err and "--source" in err
    assert not (tmp_path / "_build").exists()


@pytest.mark.parametrize("command", ["release", "pages", "grade"])
def test_help_works_outside_the_repository(tmp_path, command):
    result = subprocess.run([sys.executable, "-m", "bptt.course", command, "--help"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "--source" in result.stdout and str(Path("chapters", "homework")) in result.stdout
    assert ("--unsandboxed" in result.stdout) == (command == "grade")


def test_grade_stops_where_there_is_no_sandbox(tmp_path, monkeypatch, capsys):
    """Without bubblewrap, grading refuses (exit status 3) and says how to go on."""
    from bptt.course import grade as grading

    monkeypatch.setattr(grading, "bwrap_problem", lambda: "bubblewrap is not installed")
    (tmp_path / "submissions" / "alice").mkdir(parents=True)
    shutil.copy(SOURCES[0], tmp_path / "submissions" / "alice")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["grade", str(tmp_path / "submissions"), "--source", str(HOMEWORK),
                  "--out", str(tmp_path / "grades.csv")])
    assert exit_info.value.code == 3
    err = capsys.readouterr().err
    assert "bubblewrap is not installed" in err and "--unsandboxed" in err
    assert not (tmp_path / "grades.csv").exists()
