"""Tests of bptt.adding and of the stored sweep bptt/sweeps/adding.json."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from bptt.adding import (BASELINE_MSE, DIGITS, SOLVED_FRACTION, TEST_SEED, adding_errors,
                         adding_loss, adding_run, stored_sweep, success_counts,
                         training_batch_seed)
from bptt.data import adding_problem
from bptt.rnn import RNN

DATA = Path(__file__).resolve().parent.parent / "chapters" / "data"


def load_sweep_module():
    spec = importlib.util.spec_from_file_location("adding_sweep", DATA / "adding_sweep.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def small_run(**kw):
    args = dict(seed=3, hidden_size=4, batch_size=5, n_steps=7, n_points=3)
    return adding_run(RNN, 6, **{**args, **kw})


# ------------------------------------------------------------ the pieces

def test_adding_loss_is_the_squared_error_of_the_last_output():
    x, target = adding_problem(5, 4, seed=1)
    y = np.random.default_rng(0).standard_normal((5, 4, 1))
    loss, dy = adding_loss(y, target)
    assert loss == pytest.approx(np.mean((y[-1] - target) ** 2))
    np.testing.assert_allclose(dy[-1], 2 * (y[-1] - target) / 4)
    assert np.all(dy[:-1] == 0)


def test_training_batches_never_use_the_test_seed():
    seeds = {training_batch_seed(s, i) for s in range(3) for i in (0, 1, 999_999)}
    assert len(seeds) == 9 and TEST_SEED not in seeds


def test_adding_errors_are_the_last_output_minus_the_sum():
    params = RNN.init(2, 3, 1, seed=0)
    x, target = adding_problem(4, 7, seed=TEST_SEED)
    y, _ = RNN.forward(params, x)
    np.testing.assert_array_equal(adding_errors(RNN, params, 4, B=7), y[-1, :, 0] - target[:, 0])


# ------------------------------------------------------------ one run

def test_adding_run_is_deterministic_rounded_and_consistent():
    r = small_run()
    assert r == small_run()
    assert r["model"] == "rnn" and r["T"] == 6 and r["seed"] == 3
    assert r["steps"] == [0, 2, 5, 7] and len(r["test_mse"]) == 4
    assert r["final_mse"] == r["test_mse"][-1]
    assert r["solved"] == (r["final_mse"] < SOLVED_FRACTION * BASELINE_MSE)
    for v in (*r["test_mse"], r["within_hs"]):
        assert v == float(f"{v:.{DIGITS}g}")
    json.dumps(r)                                     # JSON-ready
    assert small_run(seed=4) != r


def test_adding_run_checks_its_arguments():
    with pytest.raises(TypeError, match="model must be a bptt.model.Model"):
        adding_run("rnn", 6, seed=0)
    with pytest.raises(ValueError, match="T"):
        adding_run(RNN, 0, seed=0)
    with pytest.raises(ValueError, match="n_steps"):
        small_run(n_steps=0)
    with pytest.raises(ValueError, match="seed"):
        small_run(seed=-1)


def test_success_counts():
    runs = [{"model": "lstm", "T": 9, "solved": True}, {"model": "rnn", "T": 9, "solved": False},
            {"model": "lstm", "T": 3, "solved": False}, {"model": "lstm", "T": 9, "solved": True}]
    assert success_counts(runs) == {"lstm": {3: (0, 1), 9: (2, 2)}, "rnn": {9: (0, 1)}}


# ------------------------------------------------------------ the stored sweep

@pytest.fixture(scope="module")
def sweep():
    return load_sweep_module(), stored_sweep()


def test_stored_settings_are_the_scripts(sweep):
    module, stored = sweep
    assert stored["settings"] == module.SETTINGS
    s = module.SETTINGS
    grid = {(m, T, seed) for m in s["models"] for T in s["T"] for seed in s["seeds"]}
    assert {(r["model"], r["T"], r["seed"]) for r in stored["runs"]} == grid
    assert len(stored["runs"]) == len(grid)
    for r in stored["runs"]:
        assert r["steps"][-1] == s["n_steps"][str(r["T"])]
        assert r["solved"] == (r["final_mse"] < SOLVED_FRACTION * BASELINE_MSE)


def test_a_stored_run_is_reproduced_exactly(sweep):
    # The cheapest entry (the RNN at the shortest length) is run again from scratch.
    module, stored = sweep
    T = min(module.SETTINGS["T"])
    entry = next(r for r in stored["runs"] if r["model"] == "rnn" and r["T"] == T
                 and r["seed"] == 0)
    again = module.run_one("rnn", T, 0)
    assert {k: v for k, v in again.items() if k != "seconds"} == \
        {k: v for k, v in entry.items() if k != "seconds"}


def test_sweep_writes_json_atomically(sweep, tmp_path):
    module, _ = sweep
    out = tmp_path / "out.json"
    module.write_json(str(out), {"a": 1})
    assert json.loads(out.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]     # no temporary left
    with pytest.raises(TypeError):
        module.write_json(str(out), {"a": object()})
    assert json.loads(out.read_text()) == {"a": 1}                  # the old file kept
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
    with pytest.raises(ValueError, match="model must be one of"):
        module.model_by_name("transformer")
