"""The grading kernel's sandbox (bptt/course/sandbox.py): what it is started with.

The command and environment, read without starting anything; that the
sandbox holds on a real kernel is tests/test_course_attacks.py's business.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from bptt.course.sandbox import HOME, RUNTIME, Job, Launcher
from course_cells import ROOT


def _mounts(argv: list[str]) -> dict:
    """Inside path: outside path, of every mount of a bwrap command line."""
    found = {}
    for i, arg in enumerate(argv):
        if arg in ("--bind", "--ro-bind"):
            found[argv[i + 2]] = argv[i + 1]
    return found


def test_the_sandbox_holds_no_path_of_the_repository(tmp_path):
    job = Job.create(tmp_path)
    launcher = Launcher(tmp_path / "runtime", hidden=[ROOT])
    argv = launcher.argv(job)
    for flag in ("--unshare-user", "--unshare-pid", "--unshare-net", "--as-pid-1",
                 "--die-with-parent", "--disable-userns", "--clearenv", "--new-session"):
        assert flag in argv, flag
    assert argv[argv.index("--uid") + 1] == "65534"
    assert argv[argv.index("--cap-drop") + 1] == "ALL"
    mounts = _mounts(argv)
    assert not [inside for inside in mounts if inside.startswith(str(ROOT))]
    assert mounts[HOME] == str(job.home) and mounts[RUNTIME] == str(tmp_path / "runtime")
    assert mounts[f"{HOME}/grading/in"] == str(job.inputs)
    assert argv[argv.index("--chdir") + 1] == HOME
    assert argv[-4:-2] == ["-S", f"{RUNTIME}/_bptt_kernel.py"]


def test_the_kernel_gets_nothing_of_the_graders_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET", "x")
    job = Job.create(tmp_path)
    launcher = Launcher(tmp_path, hidden=[])
    assert set(launcher.process_env(job)) == {"PATH", "LANG"}
    inside = launcher.env(job)
    assert "GRADER_SECRET" not in inside and inside["HOME"] == HOME
    assert inside["PYTHONPATH"].split(os.pathsep)[0] == RUNTIME
    assert all(p.startswith(("/opt/", sys.base_prefix))
               for p in inside["PYTHONPATH"].split(os.pathsep))


def test_a_hidden_folder_inside_a_mount_is_covered(tmp_path):
    """Were the package installed in site-packages, its folder would be masked."""
    numpy_dir = Path(np.__file__).parent
    job = Job.create(tmp_path)
    argv = Launcher(tmp_path, hidden=[numpy_dir]).argv(job)
    inside = [dst for dst, src in _mounts(argv).items() if src == str(job.empty)]
    assert len(inside) == 1 and inside[0].endswith("/numpy")


def test_jobs_are_private_folders_with_unguessable_names(tmp_path):
    a, b = Job.create(tmp_path), Job.create(tmp_path)
    assert a.root != b.root and a.root.name.startswith("job-") and len(a.root.name) > 8
    assert oct(a.root.stat().st_mode)[-3:] == "700"
    assert {p.name for p in a.root.iterdir()} == {"home", "in", "out", "ipc", "empty"}
    assert (a.home / "grading" / "in").is_dir() and (a.home / "grading" / "out").is_dir()
