"""What a student sees when a self-check fails (bptt.checks._compare.CheckFailure).

The rules, each tested so that breaking it fails a test: the probable cause
comes first, then the evidence; a message has a dozen lines at most, its last
one saying how to see the rest (``full=True``, or ``.details()``), and never
cuts a table of entries in two; in Jupyter the traceback shows the student's
cell and the student's function, and no frame of the checks' own code.
"""
from __future__ import annotations

import pickle
import re

import pytest
from test_checks_backward import BACKWARD_MISTAKES, bwd_no_dtanh, bwd_outer_products
from test_checks_clipping import clip_norm_never, clip_norm_spectral
from test_checks_forward import fwd_one_state_array, fwd_template, step_with_star

from bptt.checks import check_clip_grad_norm, check_rnn_backward, check_rnn_forward
from bptt.checks import check_rnn_step_forward
from bptt.checks._compare import MAX_LINES, CheckFailure

#: (check, wrong function): every kind of failure, values, shapes, exceptions.
WRONG = [*((check_rnn_backward, fn) for fn, _, _ in BACKWARD_MISTAKES),
         (check_rnn_backward, bwd_outer_products), (check_rnn_step_forward, step_with_star),
         (check_rnn_forward, fwd_one_state_array),
         (check_rnn_forward, lambda params, x, h0=None: fwd_template(params, x, h0,
                                                                     bug="ignore_h0")),
         (check_clip_grad_norm, clip_norm_never), (check_clip_grad_norm, clip_norm_spectral)]


def _raised(check, fn, **kwargs) -> CheckFailure:
    with pytest.raises(CheckFailure) as info:
        check(fn, **kwargs)
    return info.value


@pytest.mark.parametrize("check, fn", WRONG)
def test_a_message_has_a_dozen_lines_at_most_and_says_how_to_see_the_rest(check, fn):
    err = _raised(check, fn)
    lines, everything = str(err).splitlines(), err.details().splitlines()
    assert len(lines) <= MAX_LINES == 12
    if len(everything) > MAX_LINES:
        hidden = len(everything) - len(lines) + 1
        assert lines[-1] == (f"  ... {hidden} more lines: run the check again with full=True to "
                             "see the whole report.")
        assert lines[:-1] == everything[:len(lines) - 1]
    else:
        assert lines == everything
    assert str(_raised(check, fn, full=True)) == err.details()


def test_a_long_report_is_cut_between_tables_never_inside_one():
    err = _raised(check_rnn_backward, bwd_no_dtanh)
    lines = str(err).splitlines()
    assert len(err.details().splitlines()) > 2 * MAX_LINES
    headers = [i for i, line in enumerate(lines) if re.match(r" {6}index +expected +got$", line)]
    assert headers
    for i in headers:                   # each table shown whole: its header and 3 rows
        assert all(re.match(r" {6}\(", row) for row in lines[i + 1:i + 4]), lines


@pytest.mark.parametrize("check, fn", [pair for pair in WRONG
                                       if "Probable cause (" in _raised(*pair).details()])
def test_the_probable_cause_comes_first_then_the_evidence(check, fn):
    lines = str(_raised(check, fn)).splitlines()
    assert lines[0].endswith(":") and " is wrong for " in lines[0]
    assert lines[1].startswith("  Probable cause (")
    evidence = [i for i, line in enumerate(lines) if line.startswith(("  wrong: ", "  It is "))]
    causes = [i for i, line in enumerate(lines) if line.startswith("  Probable cause")]
    assert max(causes) < min(evidence, default=len(lines))


@pytest.mark.parametrize("check, fn", [(check_rnn_backward, bwd_outer_products),
                                       (check_rnn_step_forward, step_with_star)])
def test_an_exception_is_followed_by_its_probable_cause_then_the_call(check, fn):
    lines = str(_raised(check, fn)).splitlines()
    assert " raised ValueError: " in lines[0]
    assert lines[1].startswith("  Probable cause: ")
    assert lines[2].startswith("  when called as ")


def test_the_whole_report_survives_pickling():
    err = _raised(check_rnn_backward, bwd_no_dtanh)
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) and again.details() == err.details()
    assert isinstance(again, AssertionError)


def test_a_check_failure_from_one_string_is_that_string():
    err = CheckFailure("a\nb")
    assert str(err) == err.details() == "a\nb"
    assert str(CheckFailure([f"line {i}" for i in range(20)], full=True)).count("\n") == 19


# ====================================================================== in Jupyter

_CELLS = [
    "import numpy as np\nimport bptt.checks",
    # a wrong value, reported from the checks' report()
    "def rnn_step_forward(params, x_t, h_prev):\n"
    "    return np.tanh(h_prev @ params['W_hh'] + x_t @ params['W_xh'].T + params['b_h'])",
    "bptt.checks.check_rnn_step_forward(rnn_step_forward)",
    # an exception in the student's function, reported from Check.run
    "def rnn_step_forward(params, x_t, h_prev):\n"
    "    a = h_prev * params['W_hh'] + x_t @ params['W_xh'].T\n"
    "    return np.tanh(a)",
    "bptt.checks.check_rnn_step_forward(rnn_step_forward)",
    # a result kept between calls, reported from call_failure
    "_kept = {}\n"
    "def rnn_step_forward(params, x_t, h_prev):\n"
    "    out = _kept.setdefault(h_prev.shape, np.empty_like(h_prev))\n"
    "    return np.tanh(h_prev @ params['W_hh'].T + x_t @ params['W_xh'].T + params['b_h'],"
    " out=out)",
    "bptt.checks.check_rnn_step_forward(rnn_step_forward)",
]


@pytest.fixture(scope="module")
def tracebacks():
    """The tracebacks a real IPython kernel stores for three failing checks, colours removed."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in _CELLS])
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
    ansi = re.compile(r"\x1b\[[0-9;]*m")
    return [ansi.sub("", "\n".join(out.traceback)) for cell in nb.cells
            for out in cell.get("outputs", []) if out.output_type == "error"]


def test_jupyter_shows_no_frame_of_the_checks(tracebacks):
    assert len(tracebacks) == 3
    for tb in tracebacks:
        frames = re.findall(r"^(Cell In\[\d+\], line \d+.*|File .*)$", tb, re.M)
        assert frames, tb
        assert all(f.startswith("Cell In[") for f in frames), frames
        assert "bptt" + "/" not in tb and "skipping hidden" not in tb, tb
        assert "CheckFailure: rnn_step_forward " in tb, tb


def test_jupyter_shows_the_students_cell_and_function(tracebacks):
    value, exception, state = tracebacks
    assert re.findall(r"^Cell In\[\d+\], line 1$", value, re.M) == ["Cell In[3], line 1"]
    assert "Probable cause (h_t): W_hh is used untransposed" in value
    # The student's exception first (their function's frame), then the check's verdict.
    assert re.search(r"(?s)^-+\nValueError +Traceback.*\nCell In\[4\], line 2, in "
                     r"rnn_step_forward\(params, x_t, h_prev\)\n.*----> 2     a = h_prev \* "
                     r"params\['W_hh'\].*direct cause of the following exception.*Cell In\[5\], "
                     r"line 1\n----> 1 bptt\.checks\.check_rnn_step_forward", exception), exception
    assert "Probable cause: `*` multiplies entry by entry" in exception
    assert "it returns the same array at every call" in state


def test_pytest_hides_the_frames_of_the_checks_too():
    """Every frame on the way from a check to its raise sets __tracebackhide__."""
    err = _raised(check_rnn_forward, fwd_one_state_array)
    tb, names = err.__traceback__, []
    while tb is not None:
        if not tb.tb_frame.f_locals.get("__tracebackhide__"):
            names.append(tb.tb_frame.f_code.co_name)
        tb = tb.tb_next
    assert names == ["_raised"]      # where pytest.raises caught it: no frame of the checks
