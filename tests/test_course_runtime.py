"""The student runtime (bptt/course/runtime.py): the bptt a graded kernel imports.

Built here for each assignment and imported in a fresh interpreter started
as the grading kernel is (``python -S``, the runtime first on the path): what
the assignment asks students to write, and every function that computes the
same thing, raises; what it gives them works; the self-checks do nothing and
the course tooling is not there.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import bptt
import bptt.checks
from bptt.course import runtime
from bptt.course.notebooks import defined_names, load_notebook
from course_cells import SOURCES

COURSE = Path(runtime.__file__).parent


def _build(tmp_path, path) -> tuple[Path, list[str]]:
    dest = tmp_path / path.stem
    stubbed = runtime.build_runtime(Path(bptt.__file__).parent, dest,
                                    defined_names(load_notebook(path)), bptt.checks.__all__,
                                    course_dir=COURSE)
    return dest, stubbed


def _run(dest: Path, code: str) -> str:
    sites = [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    result = subprocess.run([sys.executable, "-S", "-c", textwrap.dedent(code)],
                            env={"PYTHONPATH": ":".join([str(dest), *sites])}, cwd=dest,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_every_reference_of_the_assignment_is_a_stub(path, tmp_path):
    dest, stubbed = _build(tmp_path, path)
    assert set(runtime.reference_functions(defined_names(load_notebook(path)))) <= set(stubbed)
    assert not (dest / "bptt" / "course").exists()
    assert [p.name for p in (dest / "bptt" / "checks").iterdir()] == ["__init__.py"]
    out = _run(dest, f"""
        import bptt, bptt.checks, importlib
        assert bptt.__file__.startswith({str(dest)!r}), bptt.__file__
        for name in {stubbed!r}:
            module, function = name.rsplit(".", 1)
            try:
                getattr(importlib.import_module("bptt." + module), function)()
            except RuntimeError as exc:
                assert "the package's own reference implementation" in str(exc)
            else:
                raise AssertionError(name + " did not raise")
        assert bptt.checks.check_rnn_forward(None) is None
        try:
            import bptt.course
        except ImportError:
            print("no course")
        import _bptt_call._harness, _bptt_grading, _bptt_wire
        print("ok")
        """)
    assert out.split() == ["no", "course", "ok"]


def test_what_an_assignment_gives_stays(tmp_path):
    dest, stubbed = _build(tmp_path, SOURCES[1])        # Homework 2 writes BPTT
    assert {"rnn.rnn_backward", "rnn.rnn_step_backward", "rnn.step_gradients",
            "dynamics.gradient_norm_by_lag", "gradcheck.numerical_gradient",
            "gradcheck._numerical_gradient", "train.train"} <= set(stubbed)
    assert "rnn.rnn_forward" not in stubbed
    out = _run(dest, """
        import numpy as np, bptt
        from bptt.losses import mse_loss
        params = bptt.init_rnn(2, 3, 2, seed=0)
        y, h = bptt.rnn_forward(params, np.ones((4, 1, 2)))
        print(h.shape, round(float(mse_loss(y, np.zeros_like(y))[0]), 6) > 0)
        """)
    assert out.strip() == "(5, 1, 3) True"


def test_a_reference_that_is_gone_stops_the_build(tmp_path, monkeypatch):
    monkeypatch.setitem(runtime.REFERENCES, "rnn_forward", ("rnn.no_such_function",))
    with pytest.raises(ValueError, match=r"no functions \['rnn.no_such_function'\]"):
        _build(tmp_path, SOURCES[0])
