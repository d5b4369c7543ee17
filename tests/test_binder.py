"""binder/: what Binder installs to run the notebooks, and nothing of the toolchain."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+)$")
TOOLCHAIN = {"jupyter-book", "sphinx", "pytest", "nbval", "playwright", "hypothesis", "autograd"}


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and (m := PIN.match(line)):
            pins[m.group(1).lower()] = m.group(2)
    return pins


def test_binder_pins_what_the_book_pins():
    book, binder = _pins(ROOT / "requirements.txt"), _pins(ROOT / "binder" / "requirements.txt")
    assert binder, "binder/requirements.txt pins nothing"
    for name, version in binder.items():
        assert book.get(name) == version, (
            f"binder pins {name}=={version}, requirements.txt {book.get(name)}")


def test_binder_has_the_package_dependencies_and_no_toolchain():
    binder = _pins(ROOT / "binder" / "requirements.txt")
    pyproject = (ROOT / "pyproject.toml").read_text()
    deps = re.search(r"dependencies = \[(.*?)\]", pyproject).group(1)
    for dep in re.findall(r'"([A-Za-z0-9_-]+)', deps):
        assert dep.lower() in binder, f"binder/requirements.txt lacks {dep}, a dependency of bptt"
    assert not TOOLCHAIN & set(binder), f"binder installs the toolchain: {TOOLCHAIN & set(binder)}"
    assert "jupyterlab-myst" in binder, "without jupyterlab-myst Binder shows raw MyST"


def test_postbuild_installs_the_package():
    script = ROOT / "binder" / "postBuild"
    assert script.stat().st_mode & 0o111, "postBuild must be executable"
    assert "pip install --no-deps" in script.read_text()
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"
