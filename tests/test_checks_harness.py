"""Tests of the self-checks' package and harness: bptt.checks and bptt.checks._harness.

The public names students call, the discovery of topic modules (a new
module's checks are exported with no edit elsewhere), the three parts of a
check (draw, call on fresh copies, judge) and what every check does with a
function that is missing, raises, or changes its arguments.
"""
from __future__ import annotations

import importlib
import pkgutil
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from student_bptt import backward_per_sample

import bptt
import bptt.checks
from bptt.checks import _harness
from bptt.checks import check_rnn_backward, check_rnn_forward
from bptt.checks._harness import Bound, Check, Failure, Problem, call, call_failure

#: Every check students call, and the function its messages name.
PUBLIC = {"check_rnn_step_forward": "rnn_step_forward", "check_rnn_forward": "rnn_forward",
          "check_rnn_backward": "rnn_backward", "check_return_dh": "rnn_backward",
          "check_numerical_gradient": "numerical_gradient",
          "check_gradient_check": "gradient_check", "check_clip_grad_norm": "clip_grad_norm",
          "check_clip_grad_value": "clip_grad_value", "check_lag_norms": "lag_norms",
          "check_sample": "sample", "check_train_char_rnn": "train_char_rnn",
          "check_lstm_step_forward": "lstm_step_forward",
          "check_lstm_step_backward": "lstm_step_backward",
          "check_lstm_backward": "lstm_backward",
          "check_tbptt_gradients": "tbptt_gradients"}


def _topics() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(bptt.checks.__path__))


# ====================================================================== the package

def test_every_public_check_is_exported_from_bptt_checks():
    assert sorted(bptt.checks.__all__) == sorted(PUBLIC)
    assert all(callable(getattr(bptt.checks, name)) for name in PUBLIC)


def test_every_topic_module_is_exported_and_no_private_one():
    exported = []
    for name in _topics():
        module = importlib.import_module(f"bptt.checks.{name}")
        if name.startswith("_"):
            assert not set(module.__all__) & set(bptt.checks.__all__), name
            continue
        assert module.__all__, name
        for check in module.__all__:
            assert getattr(bptt.checks, check) is getattr(module, check), (name, check)
        exported += module.__all__
    assert sorted(exported) == sorted(bptt.checks.__all__)


def _probe_package(tmp_path, modules: dict) -> str:
    """A copy of bptt/checks/__init__.py in a fresh package, beside the given modules."""
    pkg = tmp_path / "probe_checks"
    pkg.mkdir()
    shutil.copy(bptt.checks.__file__, pkg / "__init__.py")
    for name, source in modules.items():
        (pkg / f"{name}.py").write_text(textwrap.dedent(source))
    return str(tmp_path)


def test_a_new_topic_module_is_discovered_with_no_other_edit(tmp_path):
    root = _probe_package(tmp_path, {
        "lstm": '__all__ = ["check_lstm_forward"]\n'
                'def check_lstm_forward(fn, *, seed=0):\n    return "lstm"\n',
        "_helpers": '__all__ = ["shared_helper"]\nshared_helper = 1\n'})
    code = ("import probe_checks\n"
            "assert probe_checks.__all__ == ['check_lstm_forward'], probe_checks.__all__\n"
            "assert probe_checks.check_lstm_forward(None) == 'lstm'\n"
            "assert not hasattr(probe_checks, 'shared_helper')\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


def test_two_topics_exporting_one_name_is_an_import_error(tmp_path):
    check = '__all__ = ["check_x"]\ndef check_x(fn):\n    pass\n'
    root = _probe_package(tmp_path, {"one": check, "two": check})
    result = subprocess.run([sys.executable, "-c", "import probe_checks"], cwd=root,
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "probe_checks.two exports 'check_x', which probe_checks.one exports already" in (
        result.stderr)


def test_import_bptt_leaves_the_checks_unloaded_until_first_use():
    code = ("import sys, bptt\n"
            "assert not any(m.startswith('bptt.checks') for m in sys.modules)\n"
            "bptt.checks.check_rnn_forward(bptt.rnn_forward)\n"
            "assert 'bptt.checks.forward' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True)


# ====================================================================== what every check does

@pytest.mark.parametrize("check, name", PUBLIC.items())
def test_a_stub_is_reported_as_not_implemented(check, name):
    def stub(*args, **kwargs):
        raise NotImplementedError()
    with pytest.raises(AssertionError, match=f"^{name} is not implemented yet: it raised "
                                             r"NotImplementedError\. Write it, then run") as info:
        getattr(bptt.checks, check)(stub)
    assert isinstance(info.value.__cause__, NotImplementedError)


def test_the_stubs_message_is_shown():
    def stub(*args, **kwargs):
        raise NotImplementedError("TODO: write rnn_forward")
    with pytest.raises(AssertionError, match=r"NotImplementedError \(TODO: write rnn_forward\)"):
        check_rnn_forward(stub)


@pytest.mark.parametrize("check", PUBLIC)
def test_checks_refuse_a_non_callable(check):
    with pytest.raises(TypeError, match="fn must be the function to check"):
        getattr(bptt.checks, check)("not a function")


@pytest.mark.parametrize("check", sorted(set(PUBLIC) - {"check_train_char_rnn"}))
def test_checks_refuse_a_bad_seed(check):
    with pytest.raises(ValueError, match="seed must be an int >= 0"):
        getattr(bptt.checks, check)(print, seed=-1)


def test_check_rnn_backward_refuses_a_truncation_that_is_not_a_flag():
    with pytest.raises(TypeError, match="truncation must be True or False"):
        check_rnn_backward(bptt.rnn_backward, truncation="no")


# ====================================================================== failures of the call

def test_exception_shows_type_message_and_shapes():
    def off_by_one(params, x, h, dy, truncate=None):
        for t in range(x.shape[0], 0, -1):
            x[t]                                       # x has T entries: IndexError at t = T
    with pytest.raises(AssertionError) as info:
        check_rnn_backward(off_by_one)
    msg = str(info.value)
    assert "rnn_backward raised IndexError" in msg
    assert "x (4, 3, 2) float64" in msg and "h (5, 3, 5) float64" in msg
    assert "(T, B, D, H, O) = (4, 3, 2, 5, 6)" in msg
    assert "h has T+1 entries" in msg
    assert isinstance(info.value.__cause__, IndexError)


def test_backward_returning_none_or_a_tuple_is_refused():
    with pytest.raises(AssertionError, match=r"returned None: a return statement is missing"):
        check_rnn_backward(lambda params, x, h, dy, truncate=None: None)
    with pytest.raises(AssertionError, match=r"must return a dict .* got tuple"):
        check_rnn_backward(lambda params, x, h, dy, truncate=None: (1, 2))


def test_backward_that_modifies_h_is_refused():
    def in_place_dtanh(params, x, h, dy, truncate=None):
        grads = backward_per_sample(params, x, h, dy, truncate)
        dtanh = h[1:]
        dtanh **= 2                                    # "saves memory", destroys h
        return grads
    with pytest.raises(AssertionError, match=r"modified its argument h \(60 of 75 entries"):
        check_rnn_backward(in_place_dtanh)


def test_backward_that_returns_float64_for_float32_is_refused():
    def float64_grads(params, x, h, dy, truncate=None):
        g = backward_per_sample(params, x, h, dy, truncate)
        return {k: v.astype(np.float64) for k, v in g.items()}
    with pytest.raises(AssertionError, match=r"W_xh has dtype float64 for float32 inputs"):
        check_rnn_backward(float64_grads)


# ====================================================================== the harness itself

def _problem(**kwargs) -> Problem:
    return Problem("a problem", {"a": np.arange(3.0), "d": {"w": np.ones(2)}}, **kwargs)


def test_call_gives_fresh_copies_and_collects_what_the_function_did():
    problem = _problem()

    def vandal(a, d):
        a += 1.0                    # in place: the copy changes, the problem does not
        return d, d["w"][:1], np.zeros(1)

    result = call(vandal, problem)
    assert result.error is None
    np.testing.assert_array_equal(problem.args["a"], [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(result.args["a"], [1.0, 2.0, 3.0])
    assert ((0,), ("d",)) in result.shared            # the dict itself
    assert ((0, "w"), ("d", "w")) in result.shared    # an array of it
    assert ((1,), ("d", "w")) in result.shared        # a view of that array
    assert not [pair for pair in result.shared if pair[0] == (2,)]
    failure = call_failure("vandal", problem, result)
    assert failure.final
    assert "vandal modified its argument a (3 of 3 entries changed) in place" in failure.lines[0]
    assert "Called as vandal(a, d) with a (3,) float64, d {w: (2,) float64}; a problem" in (
        failure.lines[0])


def test_call_collects_an_exception_and_the_check_raises_from_it():
    def broken(a, d):
        raise ZeroDivisionError("no")
    result = call(broken, _problem())
    assert isinstance(result.error, ZeroDivisionError) and result.output is None
    check = Check("broken", lambda seed: [_problem()],
                  lambda p, r: call_failure("broken", p, r, lambda exc: "divide less"))
    with pytest.raises(AssertionError, match=r"broken raised ZeroDivisionError: no\n"
                                             r"  Probable cause: divide less\n"
                                             r"  when called as broken\(a, d\)") as info:
        check.run(broken)
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_a_bound_argument_is_made_from_the_copies_and_calls_share_their_arguments():
    rng = np.random.default_rng(0)
    problem = Problem("p", {"f": Bound(lambda args: lambda: args["x"].sum()), "x": np.ones(3),
                            "rng": rng}, calls=3)

    def fn(f, x, rng):
        x *= 2.0
        return f(), rng.integers(1000)
    result = call(fn, problem)
    assert [out[0] for out in result.output] == [6.0, 12.0, 24.0]   # f reads the copy of x
    assert len({out[1] for out in result.output}) == 3              # one generator, carried on
    assert rng.integers(1000) == result.output[0][1]                 # the problem's is untouched
    np.testing.assert_array_equal(problem.args["x"], np.ones(3))


def test_report_names_the_first_failure_and_what_the_passing_problems_share():
    results = [(Problem(f"n = {n}", {}, case=n), None if n == 1 else Failure(("  why",)))
               for n in (1, 2, 3)]
    with pytest.raises(AssertionError) as info:
        _harness.report("fn", results, [(lambda n: n == 1, "Right only when n = 1.")])
    assert str(info.value) == ("fn is wrong for n = 2:\n  Right only when n = 1.\n  It is right "
                               "for n = 1, wrong for n = 2; n = 3.\n  why")
    assert _harness.report("fn", [(results[0][0], None)]) is None


# ====================================================================== the second call

def test_call_calls_again_on_new_copies_and_records_what_the_second_call_did():
    kept = {}

    def reuses_a_buffer(a, d):
        out = kept.setdefault("out", np.zeros(3))
        out += a                                      # adds to what the last call returned
        return out, d["w"] * 2.0

    result = call(reuses_a_buffer, _problem())
    np.testing.assert_array_equal(result.output[0], [0.0, 1.0, 2.0])   # as the first returned
    np.testing.assert_array_equal(result.again.output[0], [0.0, 2.0, 4.0])
    assert result.again.args["a"] is not result.args["a"]               # new copies
    assert result.across == (((0,), (0,)),)          # one array returned by both calls
    assert result.changed == ((0,),)                 # and the second call changed it
    assert result.within == () and result.shared == ()
    failure = call_failure("fn", _problem(), result, outputs=("out", "w2"))
    assert failure.final
    assert failure.lines[0].startswith("fn is wrong for a problem: it returns the same array at "
                                       "every call")
    assert failure.lines[1] == ("  called twice on the same problem, with new copies of the same "
                                "arguments: out of the first call is out of the second; the "
                                "second call changed out")


def test_a_function_that_raises_the_second_time_keeps_state():
    calls = []

    def counts(a, d):
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("called before")
        return a * 2.0

    result = call(counts, _problem())
    assert result.error is None and isinstance(result.again.error, RuntimeError)
    failure = call_failure("fn", _problem(), result)
    assert failure.final and failure.cause is result.again.error
    assert failure.lines[0].startswith("fn is wrong for a problem: it keeps state from one call "
                                       "to the next")
    assert failure.lines[1].endswith("the first call returned, the second raised RuntimeError: "
                                     "called before")


def test_outputs_aliasing_each_other_or_an_argument_are_recorded_and_refused():
    result = call(lambda a, d: (a * 1.0, d["w"][::-1]), _problem())
    assert result.shared == (((1,), ("d", "w")),)
    assert call_failure("fn", _problem(), result, outputs=("y", "v")).lines == (
        "fn is wrong for a problem: the returned v shares memory with d['w']: return new arrays "
        "(a.copy() where a result equals an argument), so that changing one can never change "
        "the other.",)
    result = call(lambda a, d: (lambda y: {"y": y, "y0": y[:1]})(a + 1.0), _problem())
    assert result.within == ((("y",), ("y0",)),)
    assert "the returned result['y'] and result['y0'] share memory" in call_failure(
        "fn", _problem(), result).lines[0]


def test_problems_called_several_times_are_not_called_again():
    result = call(lambda a, d: a.sum(), _problem(calls=3))
    assert result.again is None and result.output == [3.0, 3.0, 3.0]


def test_an_exception_starts_its_traceback_in_the_function_and_names_its_line():
    def broken(a, d):
        return a @ np.ones((2, 2))
    result = call(broken, _problem())
    assert result.error.__traceback__.tb_frame.f_code is broken.__code__
    assert result.error_line == "return a @ np.ones((2, 2))"
    assert result.again is None
