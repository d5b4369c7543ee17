"""Where a student's notebook runs while it is graded: one bubblewrap sandbox per notebook.

Each notebook gets a job folder of its own on the grader's side (a fresh
temporary folder)::

    job/home   the kernel's home and working folder, /home/student: a copy of
               that one notebook, nothing else (read-write)
    job/in     the problems the grader drew, /home/student/grading/in (read-only)
    job/out    what the student's functions gave, /home/student/grading/out
    job/ipc    the kernel's sockets and connection file, at the same path
               inside as outside (zmq's ipc transport: there is no network)

and its kernel runs in a sandbox made by ``bwrap`` (bubblewrap):

* new user, PID, network, IPC, UTS and cgroup namespaces: no network, and a
  private ``/proc`` in which the kernel is the first process and sees its own
  processes only (no process of bwrap's, holding the grader's arguments and
  environment, is there to read); uid 65534 with no capabilities, unable to
  make user namespaces of its own;
* read-only: the system (``/usr``), the interpreter's prefix, the
  environment's site folders (at neutral paths, so that not even the
  repository's path exists inside) and the student runtime
  (:mod:`bptt.course.runtime`); a private ``/tmp``; and nothing else of the
  machine: not the repository, not the source assignments, not the other
  submissions, not the grader's output. Where one of these lies inside a
  mounted folder (an installed ``bptt``, say), an empty folder covers it;
* the interpreter starts with ``-S`` and an explicit ``PYTHONPATH``, runtime
  first, so no ``.pth`` file runs (nor the editable install's finder), and
  with resource limits (:data:`LIMITS`);
* every process of the sandbox dies with its PID namespace, detached ones
  too: :meth:`Launcher.end` kills the namespace's first process, and the
  sandbox dies with the grader (``--die-with-parent``).

Without bwrap, grading refuses to run unless asked explicitly
(``unsandboxed=True``): the kernel then runs as the grader's user, with the
same runtime and the same verdicts, but none of the isolation above.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["HOME", "RUNTIME", "LIMITS", "bwrap_problem", "Job", "Launcher"]

#: The kernel's home and working folder, and where the runtime is mounted, inside.
HOME, RUNTIME = "/home/student", "/opt/bptt-grading"
#: Resource limits of the kernel and all it starts: no core files, no file
#: over 1 GiB, 6 GiB of address space.
LIMITS = (("RLIMIT_CORE", 0), ("RLIMIT_FSIZE", 2 ** 30), ("RLIMIT_AS", 6 * 2 ** 30))

_NAMESPACES = ("--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc",
               "--unshare-uts", "--unshare-cgroup-try", "--disable-userns",
               "--die-with-parent", "--new-session", "--as-pid-1", "--uid", "65534",
               "--gid", "65534", "--cap-drop", "ALL")


def _system_binds() -> list[str]:
    """/usr read-only, the top-level links into it (or folders), the loader's cache, fonts."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64"):
        path = Path("/", name)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for path in ("/etc/ld.so.cache", "/etc/fonts"):
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    return args + ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]


def bwrap_problem() -> str | None:
    """None when bubblewrap can make a sandbox on this machine; otherwise why it cannot."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return ("bubblewrap is not installed (Debian: apt-get install bubblewrap, or make "
                "deps)")
    try:
        result = subprocess.run([bwrap, *_NAMESPACES, *_system_binds(), "/bin/true"],
                                capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap could not run: {exc}"
    if result.returncode != 0:
        return f"bwrap cannot make a sandbox here: {result.stderr.strip()}"
    return None


@dataclass(frozen=True)
class Job:
    """The folders of one notebook's run on the grader's side (see the module docstring)."""

    root: Path

    @classmethod
    def create(cls, parent) -> "Job":
        """A new job folder in ``parent``, with a name no other job can guess."""
        job = cls(Path(tempfile.mkdtemp(prefix="job-", dir=parent)))
        for folder in (job.home / "grading" / "in", job.home / "grading" / "out", job.inputs,
                       job.outputs, job.ipc, job.empty):
            folder.mkdir(parents=True)
        return job

    home = property(lambda self: self.root / "home")
    inputs = property(lambda self: self.root / "in")
    outputs = property(lambda self: self.root / "out")
    ipc = property(lambda self: self.root / "ipc")
    empty = property(lambda self: self.root / "empty")


def _python_paths() -> tuple[str, list[str]]:
    """The base interpreter, and the site folders of the grader's environment."""
    python = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    sites = [p for p in sys.path if p and os.path.isdir(p)
             and Path(p).name in ("site-packages", "dist-packages")]
    return python, list(dict.fromkeys(sites))


class Launcher:
    """Starts and ends one grading kernel, sandboxed or (when asked) not.

    Parameters
    ----------
    runtime : path
        The student runtime of the assignment (:mod:`bptt.course.runtime`).
    sandboxed : bool
        False runs the kernel as the grader's user, with no isolation.
    hidden : list of path
        Folders the kernel must not see (the package, the sources, the
        submissions, the grader's output), masked when a mount holds them.
    """

    def __init__(self, runtime, *, sandboxed: bool = True, hidden=()):
        self.runtime, self.sandboxed = Path(runtime), sandboxed
        self.python, sites = _python_paths()
        self.hidden = [Path(os.path.realpath(h)) for h in hidden]
        # Read-only mounts (outside, inside): the interpreter's prefix where it
        # is (it finds its libraries there), each site folder at a neutral path
        # (so the sandbox has no path of the repository, even empty).
        self.mounts = [(Path("/usr"), Path("/usr"))]
        for folder in (Path(os.path.realpath(sys.base_prefix)), Path(self.python).parent):
            if not self._inside(folder):
                self.mounts.append((folder, folder))
        self.sites = []
        for i, site in enumerate(sites):
            real = Path(os.path.realpath(site))
            inside = self._inside(real)
            if inside is None:
                inside = Path(f"/opt/bptt-python/site-{i}")
                self.mounts.append((real, inside))
            self.sites.append(str(inside if sandboxed else site))

    def _inside(self, path: Path) -> Path | None:
        """Where ``path`` of the machine is inside the sandbox, or None if it is not there."""
        for outside, inside in self.mounts:
            if path == outside or outside in path.parents:
                return inside / path.relative_to(outside)
        return None

    def env(self, job: Job) -> dict:
        """The kernel's environment: nothing of the grader's."""
        home = HOME if self.sandboxed else str(job.home)
        grading = f"{HOME}/grading" if self.sandboxed else str(job.root)
        runtime = RUNTIME if self.sandboxed else str(self.runtime)
        return {"HOME": home, "USER": "student", "LOGNAME": "student", "LANG": "C.UTF-8",
                "PATH": "/usr/local/bin:/usr/bin:/bin", "TMPDIR": "/tmp",
                "PYTHONPATH": os.pathsep.join([runtime, *self.sites]),
                "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1",
                "MPLCONFIGDIR": f"{home}/.matplotlib", "IPYTHONDIR": f"{home}/.ipython",
                "JUPYTER_CONFIG_DIR": f"{home}/.jupyter", "JUPYTER_DATA_DIR": f"{home}/.jupyter",
                "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "BPTT_GRADING": grading}

    def process_env(self, job: Job) -> dict:
        """The environment of the process started: bwrap gets none of the grader's either."""
        if self.sandboxed:
            return {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
        return self.env(job)

    def argv(self, job: Job) -> list[str]:
        """The command that starts the kernel (jupyter_client fills in ``{connection_file}``)."""
        runtime = RUNTIME if self.sandboxed else str(self.runtime)
        kernel = [self.python, "-S", f"{runtime}/_bptt_kernel.py", "-f", "{connection_file}"]
        if not self.sandboxed:
            return kernel
        args = [shutil.which("bwrap") or "bwrap", *_NAMESPACES, "--clearenv"]
        for key, value in self.env(job).items():
            args += ["--setenv", key, value]
        args += _system_binds()
        for outside, inside in self.mounts[1:]:
            args += ["--ro-bind", str(outside), str(inside)]
        args += ["--ro-bind", str(self.runtime), RUNTIME,
                 "--bind", str(job.home), HOME,
                 "--ro-bind", str(job.inputs), f"{HOME}/grading/in",
                 "--bind", str(job.outputs), f"{HOME}/grading/out",
                 "--bind", str(job.ipc), str(job.ipc)]
        for secret in self.hidden:
            inside = self._inside(secret)
            if inside is not None and secret.is_dir():
                args += ["--ro-bind", str(job.empty), str(inside)]
        return [*args, "--chdir", HOME, *kernel]

    def kernel_manager(self, job: Job):
        """A jupyter_client kernel manager that starts this kernel over ipc sockets in job/ipc."""
        from jupyter_client import AsyncKernelManager
        from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

        spec = KernelSpec(argv=self.argv(job), display_name="bptt grading", language="python",
                          interrupt_mode="message", name="bptt-grading")

        class _OneSpec(KernelSpecManager):
            def get_kernel_spec(self, kernel_name):
                return spec

        return AsyncKernelManager(kernel_name="bptt-grading", kernel_spec_manager=_OneSpec(),
                                  transport="ipc", ip=str(job.ipc / "kernel"),
                                  connection_file=str(job.ipc / "kernel.json"))

    def end(self, km) -> None:
        """Kill the kernel and everything it started; return once they are gone.

        Sandboxed: the namespace's first process is killed, and the kernel
        kills every other process of a PID namespace whose first one dies,
        detached ones included. Unsandboxed: the kernel's process group only.
        """
        process = getattr(getattr(km, "provisioner", None), "process", None)
        if process is None:
            return
        if self.sandboxed:
            for pid in _children(process.pid):
                _kill(pid)
        else:
            _kill(-process.pid)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            _kill(-process.pid)
            process.wait()


def _kill(pid: int) -> None:
    try:
        if pid < 0:
            os.killpg(-pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (read from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return found
