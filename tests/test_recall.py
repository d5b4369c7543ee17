"""Tests of bptt.recall and of the stored sweep bptt/sweeps/recall.json."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from bptt.artbp import artbp_backward
from bptt.recall import (CHANCE, DIGITS, SOLVED_ACCURACY, TEST_SEED, V, artbp_draws,
                         mean_error_curve, predicted_relative_variance, recall_accuracy,
                         recall_loss, recall_run, recall_stream, relative_variance,
                         segment_backward, segment_ends, stored_recall_sweep, stream_seed,
                         success_counts)
from bptt.rnn import init_rnn, rnn_backward, rnn_forward

DATA = Path(__file__).resolve().parent.parent / "chapters" / "data"


def load_sweep_module():
    spec = importlib.util.spec_from_file_location("recall_sweep", DATA / "recall_sweep.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def small_run(**kw):
    args = dict(seed=3, hidden_size=4, batch_size=3, n_steps=60, n_points=3)
    return recall_run(2, 5, **{**args, **kw})


# ------------------------------------------------------------ the task

@pytest.mark.parametrize("L", [0, 1, 3])
def test_the_target_is_the_input_L_steps_back(L):
    x, targets, mask = recall_stream(7, 2, L, seed=1)
    assert x.shape == (7, 2, V) and targets.shape == mask.shape == (7, 2)
    bits = x.argmax(axis=-1)
    np.testing.assert_array_equal(targets[L:], bits[:7 - L])
    assert not mask[:L].any() and mask[L:].all()
    assert CHANCE == 1 / V


def test_stream_errors_and_seeds():
    with pytest.raises(ValueError, match="L must be below n_steps"):
        recall_stream(3, 1, 3, seed=0)
    with pytest.raises(ValueError, match="seed"):
        recall_stream(3, 1, 1, seed=-1)
    assert TEST_SEED not in {stream_seed(s) for s in range(5)}


def test_loss_with_no_target_is_zero():
    y = np.ones((2, 3, V))
    loss, dy = recall_loss(y, np.zeros((2, 3), dtype=np.int64), np.zeros((2, 3), dtype=bool))
    assert loss == 0.0 and not dy.any()


def test_accuracy_of_an_untrained_net_is_near_chance():
    acc, loss = recall_accuracy(init_rnn(V, 8, V, seed=0), 5)
    assert abs(acc - CHANCE) < 0.05 and loss > 0


def test_segment_ends():
    np.testing.assert_array_equal(segment_ends(10, "tbptt", 4, seed=0), [4, 8, 10])
    ends = segment_ends(20_000, "artbp", 10, seed=1)
    assert ends[-1] == 20_000 and np.all(np.diff(ends) > 0)
    assert np.mean(np.diff(ends, prepend=0)) == pytest.approx(10, rel=0.05)   # mean 1/c
    np.testing.assert_array_equal(ends, segment_ends(20_000, "artbp", 10, seed=1))
    with pytest.raises(ValueError, match="method must be one of"):
        segment_ends(10, "full", 4, seed=0)


def test_segment_backward_scales_each_kept_boundary():
    # c = 0 is BPTT; with c > 0 the loss at the last step reaches h_0 through
    # T-1 kept boundaries, each scaled by 1/(1-c).
    p = init_rnn(3, 5, 2, seed=0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 2, 3))
    dy = np.zeros((6, 2, 2))
    dy[-1] = rng.standard_normal((2, 2))
    _, h = rnn_forward(p, x)
    full = rnn_backward(p, x, h, dy)
    for key, g in segment_backward(p, x, h, dy, 0.0).items():
        np.testing.assert_array_equal(g, full[key])
    np.testing.assert_allclose(segment_backward(p, x, h, dy, 0.2)["h0"],
                               full["h0"] / 0.8 ** 5, rtol=1e-12)
    with pytest.raises(ValueError, match="truncation_prob"):
        segment_backward(p, x, h, dy, 1.0)


# ------------------------------------------------------------ one run

@pytest.mark.parametrize("method", ["tbptt", "artbp"])
def test_recall_run_is_deterministic_rounded_and_consistent(method):
    r = small_run(method=method)
    assert r == small_run(method=method)
    assert r["L"] == 2 and r["k"] == 5 and r["seed"] == 3 and r["method"] == method
    assert r["steps"] == [0, 20, 40, 60] and len(r["accuracy"]) == 4
    assert r["final_accuracy"] == r["accuracy"][-1]
    assert r["solved"] == (r["final_accuracy"] >= SOLVED_ACCURACY)
    assert r["c"] == (0.2 if method == "artbp" else None)
    if method == "tbptt":
        assert r["updates"] == 12 and r["longest"] == 5
    for v in (*r["accuracy"], r["final_loss"]):
        assert v == float(f"{v:.{DIGITS}g}")
    json.dumps(r)
    assert small_run(method=method, seed=4) != r


def test_recall_run_checks_its_arguments():
    with pytest.raises(ValueError, match="L must be at most"):
        recall_run(101, 5, seed=0, n_steps=200)
    with pytest.raises(ValueError, match="method must be one of"):
        small_run(method="bptt")
    with pytest.raises(ValueError, match="k"):
        recall_run(2, 0, seed=0, n_steps=60)


def test_success_counts():
    runs = [{"method": "tbptt", "L": 5, "k": 10, "solved": True},
            {"method": "tbptt", "L": 5, "k": 10, "solved": False},
            {"method": "artbp", "L": 5, "k": 10, "solved": True},
            {"method": "tbptt", "L": 5, "k": 5, "solved": False}]
    assert success_counts(runs) == {(5, 5): (0, 1), (5, 10): (1, 2)}
    assert success_counts(runs, "artbp") == {(5, 10): (1, 1)}


# ------------------------------------------------------------ the estimator

@pytest.fixture(scope="module")
def problem():
    p = init_rnn(3, 6, 2, seed=1)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((8, 3, 3))
    dy_last = rng.standard_normal((3, 2))
    dy = np.zeros((8, 3, 2))
    dy[-1] = dy_last
    return p, x, dy_last, dy


def test_draws_at_c_zero_are_bptt(problem):
    p, x, _, dy = problem
    draws, full = artbp_draws(p, x, dy, 0.0, n_draws=3, seed=0)
    assert np.all(draws == full)
    assert relative_variance(draws, full) == 0.0


def test_the_mean_of_draws_converges_and_the_variance_is_as_predicted(problem):
    p, x, dy_last, dy = problem
    c = 0.15
    draws, full = artbp_draws(p, x, dy, c, n_draws=4000, seed=0)
    v = predicted_relative_variance(p, x, dy_last, c)
    measured = relative_variance(draws, full)
    assert measured == pytest.approx(v, rel=0.1), (measured, v)
    errors = mean_error_curve(draws, full, [10, 4000])
    assert errors[1] < errors[0] and errors[1] < 3 * np.sqrt(v / 4000), (errors, v)
    h0_draws, h0_full = artbp_draws(p, x, dy, c, n_draws=4000, seed=1, key="h0")
    exact = (1 - c) ** -(x.shape[0] - 1) - 1          # every path crosses T-1 boundaries
    assert predicted_relative_variance(p, x, dy_last, c, key="h0") == pytest.approx(exact)
    assert relative_variance(h0_draws, h0_full) == pytest.approx(exact, rel=0.1)


def test_the_prediction_takes_one_probability_per_boundary(problem):
    p, x, dy_last, _ = problem
    c = np.linspace(0.0, 0.3, x.shape[0] - 1)
    exact = np.prod(1 / (1 - c)) - 1
    assert predicted_relative_variance(p, x, dy_last, c, key="h0") == pytest.approx(exact)
    assert predicted_relative_variance(p, x, dy_last, 0.0) == 0.0
    with pytest.raises(ValueError, match="key must be"):
        predicted_relative_variance(p, x, dy_last, 0.1, key="W_hh")


def test_estimator_errors(problem):
    p, x, _, dy = problem
    draws, full = artbp_draws(p, x, dy, 0.1, n_draws=3, seed=0)
    with pytest.raises(ValueError, match="counts must be at most"):
        mean_error_curve(draws, full, [4])
    with pytest.raises(ValueError, match="full"):
        relative_variance(draws, full[:-1])
    assert artbp_backward   # the estimator measured is the package's


# ------------------------------------------------------------ the stored sweep

@pytest.fixture(scope="module")
def sweep():
    return load_sweep_module(), stored_recall_sweep()


def test_stored_settings_are_the_scripts(sweep):
    module, stored = sweep
    assert stored["settings"] == module.SETTINGS
    assert {(r["method"], r["L"], r["k"], r["seed"]) for r in stored["runs"]} == \
        set(module.jobs())
    assert len(stored["runs"]) == len(module.jobs())
    for r in stored["runs"]:
        assert r["steps"][-1] == module.SETTINGS["n_steps"]
        assert r["solved"] == (r["final_accuracy"] >= SOLVED_ACCURACY)
    v = stored["variance"]
    assert [r["c"] for r in v["vs_c"]] == module.SETTINGS["variance"]["c"]
    assert [r["T"] for r in v["vs_T"]] == module.SETTINGS["variance"]["T"]


def test_a_stored_run_is_reproduced_exactly(sweep):
    # The cheapest entry (the largest k: fewest updates) is run again from scratch.
    module, stored = sweep
    s = module.SETTINGS
    L, k = min(s["L"]), max(s["k"])
    entry = next(r for r in stored["runs"] if r["method"] == "tbptt" and r["L"] == L
                 and r["k"] == k and r["seed"] == 0)
    again = module.run_one("tbptt", L, k, 0)
    assert {key: v for key, v in again.items() if key != "seconds"} == \
        {key: v for key, v in entry.items() if key != "seconds"}


def test_a_stored_variance_point_is_reproduced(sweep):
    module, stored = sweep
    v = module.SETTINGS["variance"]
    T, c = v["T"][0], v["T_c"]
    params, x, dy_last = module.variance_problem(T, v)
    from bptt.recall import _round
    row = stored["variance"]["vs_T"][0]
    assert row["params_predicted"] == _round(predicted_relative_variance(params, x, dy_last, c))
    assert row["h0_predicted"] == _round((1 - c) ** -(T - 1) - 1)


def test_sweep_writes_json_atomically(sweep, tmp_path):
    module, _ = sweep
    out = tmp_path / "out.json"
    module.write_json(str(out), {"a": 1})
    assert json.loads(out.read_text()) == {"a": 1}
    with pytest.raises(TypeError):
        module.write_json(str(out), {"a": object()})
    assert json.loads(out.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
