"""The grader's verdicts (bptt/course/verdict.py), with the kernel's side played in this process.

For every check cell of every assignment: the problems are drawn, written
and read back as the kernel reads them (functions rebuilt from data), the
solution's functions are called with the harness's call step as
bptt/course/call_cell.py calls them, and the verdict is made from the file
written back. Right functions pass, wrong ones fail with the self-check's own
message, and forged results earn nothing.
"""
from __future__ import annotations

import numpy as np
import pytest

import bptt
from bptt.checks._harness import Bound, Problem, call
from bptt.course import wire
from bptt.course.call_cell import _record
from bptt.course.notebooks import cell_text, load_notebook, nbgrader_meta, questions
from bptt.course.verdict import check_calls, draw, order, verdict
from course_cells import SOURCES


def _solutions(path) -> dict:
    """The source's setup cell and solution cells run in one namespace (no book style)."""
    namespace = {}
    for cell in load_notebook(path)["cells"]:
        text = cell_text(cell)
        if cell.get("id", "").endswith("-02") or nbgrader_meta(cell).get("solution") and (
                cell["cell_type"] == "code"):
            exec(text.replace("use_book_style()", ""), namespace)
    return namespace


def _kernel(drawn, namespace, tmp_path) -> dict:
    """What the kernel writes for one check cell: the problems read as data, then called."""
    tree, arrays = order(drawn)
    wire.save_tree(tmp_path / "in.npz", tree, arrays)
    asked = wire.load(tmp_path / "in.npz", wire.builders(Bound))
    results = []
    for request in asked["calls"]:
        fn = namespace[request["name"]]
        results.append({"missing": False, "stages": [
            [_record(call(fn, Problem(p["label"], p["args"], p["kwargs"], calls=p["calls"])))
             for p in stage] for stage in request["stages"]]})
    wire.save(tmp_path / "out.npz", {"calls": results})
    return wire.read_file(tmp_path / "out.npz")


def _cells(path):
    source = load_notebook(path)
    return [(q.grade_id, check_calls(cell_text(source["cells"][q.index])))
            for q in questions(source) if not q.manual]


CELLS = [(path, gid, calls) for path in SOURCES for gid, calls in _cells(path)]


@pytest.mark.parametrize("path, gid, calls", CELLS, ids=[c[1] for c in CELLS])
def test_the_solution_passes_on_fresh_problems(path, gid, calls, tmp_path):
    namespace = _solutions(path)
    drawn = draw(calls, seed=12345)
    assert verdict(drawn, _kernel(drawn, namespace, tmp_path)) == (True, "passed", "passed")


def test_a_wrong_function_gets_the_self_checks_message(tmp_path):
    calls = check_calls("bptt.checks.check_rnn_forward(rnn_forward)")
    drawn = draw(calls, seed=7)

    def rnn_forward(params, x, h0=None):          # h0 ignored
        return bptt.rnn_forward(params, x)
    passed, feedback, details = verdict(drawn, _kernel(drawn, {"rnn_forward": rnn_forward},
                                                       tmp_path))
    assert not passed and feedback.startswith("rnn_forward is wrong for")
    assert "h0 is ignored" in feedback and len(details) >= len(feedback)


def test_which_checks_a_cell_runs_and_their_problems():
    assert check_calls("bptt.checks.check_rnn_backward(rnn_backward, truncation=False)\n"
                       "# a comment\ncheck_sample(sample)") == [
        ("check_rnn_backward", "rnn_backward", {"truncation": False}),
        ("check_sample", "sample", {})]
    for bad in ("x = 1", "bptt.checks.check_rnn_forward(rnn_forward, seed=f())",
                "bptt.checks.check_rnn_forward(lambda p, x: 0)", "print(1)"):
        with pytest.raises(ValueError, match="bptt.checks.check_|literals"):
            check_calls(bad)
    full, = draw(check_calls("bptt.checks.check_rnn_backward(rnn_backward)"), seed=1)
    short, = draw(check_calls("bptt.checks.check_rnn_backward(rnn_backward, truncation=False)"),
                  seed=1)
    assert len(full.stages) == len(short.stages) + 1
    # The grader draws at random: two seeds, two sets of values.
    again, = draw(check_calls("bptt.checks.check_rnn_backward(rnn_backward)"), seed=2)
    x1, x2 = full.stages[0][1][0].args["x"], again.stages[0][1][0].args["x"]
    assert x1.shape == x2.shape and not np.allclose(x1, x2)


def test_no_two_problems_of_a_gradient_check_share_an_rnn():
    """So a gradient_check cannot find the broken backward pass by comparing two of them."""
    drawn, = draw(check_calls("bptt.checks.check_gradient_check(gradient_check)"), seed=3)
    weights = [p.args["params"]["W_hh"] for _, problems in drawn.stages for p in problems]
    assert len(weights) == 4
    assert all(not np.array_equal(a, b) for i, a in enumerate(weights) for b in weights[i + 1:])


def test_forged_results_earn_nothing(tmp_path):
    drawn = draw(check_calls("bptt.checks.check_rnn_step_forward(rnn_step_forward)"), seed=4)
    good = _kernel(drawn, {"rnn_step_forward": bptt.rnn_step_forward}, tmp_path)
    assert verdict(drawn, good)[0]
    stage = good["calls"][0]["stages"][0]
    for forged in ({}, {"calls": []}, {"calls": [{"missing": False, "stages": []}]},
                   {"calls": [{"missing": False, "stages": [stage[:-1]]}]},
                   {"calls": [{"missing": False, "stages": [[{**r, "args": {}} for r in stage]]}]},
                   {"calls": [{"missing": False, "stages": [[{**r, "call": False}
                                                              for r in stage]]}]}):
        passed, feedback, _ = verdict(drawn, forged)
        assert not passed and "not what was asked" in feedback, forged
    missing = verdict(drawn, {"calls": [{"missing": True, "stages": []}]})
    assert missing[:2] == (False, "NameError: rnn_step_forward is not defined when the grader "
                                  "calls it (in place of the check cell)")


def test_a_function_the_kernel_would_rebuild_wrongly_stops_the_grader(monkeypatch):
    calls = check_calls("bptt.checks.check_numerical_gradient(numerical_gradient)")
    original = wire.builders

    def drifted(bound_class=None):
        found = original(bound_class)
        found["cubic"] = lambda data: (lambda z: float(np.sum(data["w"] * z ** 2)))
        return found
    monkeypatch.setattr(wire, "builders", drifted)
    with pytest.raises(ValueError, match="rebuilds the cubic function .* wrongly"):
        order(draw(calls, seed=0))


def test_a_function_the_grader_does_not_know_is_refused():
    problem = Problem("p", {"f": lambda z: 0.0, "x": np.zeros(2)})
    drawn = [type("D", (), {"name": "g", "stages": [(None, [problem])]})()]
    with pytest.raises(ValueError, match="cannot send the function"):
        order(drawn)
