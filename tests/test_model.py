"""A second model, written entirely here, runs through the package's machinery unchanged.

The proof that adding a model needs one new module and touches nothing else:
a diagonal linear recurrence,

    h_t = a * h_{t-1} + W x_t,    y_t = h_t      (a: (H,), W: (H, D), O = H),

defines its own keys, init, forward, backward and check, and is handed as a
:class:`bptt.model.Model` to the gradient check, clipping, the optimisers and
the training loop. No package module knows it exists. The last tests check
that those modules name none of the RNN's keys, and that Model refuses
malformed models.
"""
from __future__ import annotations

import ast
import inspect
import itertools
from collections.abc import Mapping

import numpy as np
import pytest

import bptt.clip
import bptt.gradcheck
import bptt.optim
import bptt.train
from bptt.clip import clip_grad_norm, clip_grad_value, clip_step_values, grad_norm
from bptt.gradcheck import check_gradient
from bptt.losses import mse_loss
from bptt.model import NON_PARAM_KEYS, Model
from bptt.optim import SGD, Adagrad, Adam
from bptt.rnn import PARAM_KEYS
from bptt.train import train

# ---------------------------------------------------------------- the model, in full

DIAG_KEYS = ("a", "W")


def diag_check(params, name="params"):
    if not isinstance(params, Mapping) or set(params) != set(DIAG_KEYS):
        raise ValueError(f"{name} must have exactly the keys {list(DIAG_KEYS)}")
    a, W = params["a"], params["W"]
    if a.ndim != 1 or W.ndim != 2 or W.shape[0] != a.shape[0] or a.dtype != W.dtype:
        raise ValueError(f"{name} must hold a (H,) and W (H, D) of one dtype")
    H, D = W.shape
    return D, H, H


def diag_init(input_size, hidden_size, output_size, *, seed=0, dtype=np.float64):
    if output_size != hidden_size:
        raise ValueError("the diagonal model outputs its state: output_size == hidden_size")
    rng = np.random.default_rng(seed)
    return {"a": rng.uniform(0.2, 0.9, hidden_size).astype(dtype),
            "W": (rng.standard_normal((hidden_size, input_size))
                  / np.sqrt(input_size)).astype(dtype)}


def diag_forward(params, x):
    diag_check(params)
    T, B, _ = x.shape
    h = np.zeros((T + 1, B, params["a"].shape[0]), dtype=x.dtype)
    for t in range(1, T + 1):
        h[t] = params["a"] * h[t - 1] + x[t - 1] @ params["W"].T
    return h[1:].copy(), h


def diag_backward(params, x, h, dy, truncate=None):
    diag_check(params)
    T = x.shape[0]
    grads = {"a": np.zeros_like(params["a"]), "W": np.zeros_like(params["W"]),
             "x": np.zeros_like(x)}
    dh_next = np.zeros_like(h[0])
    for t in range(T, 0, -1):
        hbar = dy[t - 1] + dh_next                   # loss at t meets the gradient from t+1
        grads["a"] += np.sum(hbar * h[t - 1], axis=0)
        grads["W"] += hbar.T @ x[t - 1]
        grads["x"][t - 1] = hbar @ params["W"]
        detached = truncate is not None and t - 1 > 0 and (t - 1) % truncate == 0
        dh_next = np.zeros_like(hbar) if detached else params["a"] * hbar
    grads["h0"] = dh_next
    return grads


DIAG = Model("diagonal", DIAG_KEYS, diag_init, diag_forward, diag_backward, diag_check)


def problem(T=6, B=3, D=2, H=4, seed=0):
    params = DIAG.init(D, H, H, seed=seed)
    rng = np.random.default_rng(seed + 1)
    return params, rng.standard_normal((T, B, D)), rng.standard_normal((T, B, H))


# ---------------------------------------------------------------- the machinery on it

@pytest.mark.parametrize("truncate", [None, 2])
def test_gradcheck_verifies_its_backward(truncate):
    params, x, target = problem()
    y, h = DIAG.forward(params, x)
    _, dy = mse_loss(y, target)
    grads = DIAG.backward(params, x, h, dy)
    assert check_gradient(lambda p: mse_loss(DIAG.forward(p, x)[0], target)[0],
                          params, grads) < 1e-8
    if truncate:   # truncation changes the gradient (and is not what gradcheck measures)
        g_k = DIAG.backward(params, x, h, dy, truncate)
        assert not np.allclose(g_k["a"], grads["a"])


def test_clipping_measures_and_clips_its_keys_only():
    params, x, target = problem(seed=2)
    y, h = DIAG.forward(params, x)
    grads = DIAG.backward(params, x, h, 100 * mse_loss(y, target)[1])
    want = np.sqrt(np.sum(grads["a"] ** 2) + np.sum(grads["W"] ** 2))
    assert grad_norm(grads) == pytest.approx(want, rel=1e-13)
    clipped, total = clip_grad_norm(grads, 0.1)
    assert total == pytest.approx(want, rel=1e-13)
    assert grad_norm(clipped) == pytest.approx(0.1, rel=1e-5)
    for k in ("x", "h0"):                       # input gradients: copied, not clipped
        np.testing.assert_array_equal(clipped[k], grads[k])
    by_value = clip_grad_value(grads, 0.01)
    assert np.max(np.abs(by_value["W"])) <= 0.01 and np.max(np.abs(by_value["a"])) <= 0.01
    steps = {"a": np.stack([grads["a"], -grads["a"]]), "W": np.stack([grads["W"]] * 2)}
    summed = clip_step_values(steps, 1e9)
    np.testing.assert_allclose(summed["a"], 0.0, atol=1e-12)
    np.testing.assert_allclose(summed["W"], 2 * grads["W"])


@pytest.mark.parametrize("make", [lambda: SGD(0.1, momentum=0.5), lambda: Adagrad(0.1),
                                  lambda: Adam(0.05)], ids=["SGD", "Adagrad", "Adam"])
def test_optimisers_update_its_keys_and_keep_state_per_key(make):
    params, x, target = problem(seed=3)
    before = {k: v.copy() for k, v in params.items()}
    opt = make()
    y, h = DIAG.forward(params, x)
    opt.step(params, DIAG.backward(params, x, h, mse_loss(y, target)[1]))
    for k in DIAG_KEYS:
        assert not np.array_equal(params[k], before[k]), k
    for state in ("velocity", "mem", "m", "v"):
        assert set(getattr(opt, state, {})) in (set(), set(DIAG_KEYS)), state


@pytest.mark.parametrize("clip", [{}, {"clip_norm": 0.5}, {"clip_value": 0.05}])
def test_train_lowers_its_loss(clip):
    # Targets from a teacher of the same family: the student can fit them exactly.
    teacher, x, _ = problem(T=8, B=16, seed=4)
    target, _ = DIAG.forward(teacher, x)
    student = DIAG.init(2, 4, 4, seed=5)
    trained, hist = train(student, itertools.repeat((x, target)), mse_loss, Adam(0.05),
                          n_steps=150, model=DIAG, **clip)
    assert hist["stopped"] is None
    assert hist["loss"][-1] < hist["loss"][0] / 20, hist["loss"][[0, -1]]
    assert list(trained) == list(DIAG_KEYS)
    assert not any(np.shares_memory(trained[k], student[k]) for k in DIAG_KEYS)


def test_train_checks_params_with_the_model():
    params, x, target = problem()
    with pytest.raises(ValueError, match="exactly the keys"):
        train({"a": params["a"]}, itertools.repeat((x, target)), mse_loss, SGD(0.1),
              n_steps=1, model=DIAG)


# ---------------------------------------------------------------- nothing else knows it

MACHINERY = [bptt.clip, bptt.gradcheck, bptt.optim, bptt.train]


def _code_strings_and_names(module):
    """The string constants and names of a module's code, its docstrings left out."""
    tree = ast.parse(inspect.getsource(module))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    strings = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
               and isinstance(node.value, str) and id(node) not in docstrings}
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    names |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
              for alias in node.names}
    return strings, names


@pytest.mark.parametrize("module", MACHINERY, ids=lambda m: m.__name__)
def test_the_machinery_names_no_model_keys(module):
    strings, names = _code_strings_and_names(module)
    keys = set(PARAM_KEYS)       # the test model's "a" and "W" are too short to look for
    assert not keys & strings, f"{module.__name__} names the keys {keys & strings}"
    assert "PARAM_KEYS" not in names and "check_rnn_params" not in names, module.__name__


# ---------------------------------------------------------------- Model refuses bad models

def _parts(**change):
    parts = dict(name="diagonal", keys=DIAG_KEYS, init=diag_init, forward=diag_forward,
                 backward=diag_backward, check=diag_check)
    parts.update(change)
    return parts


def test_model_is_frozen_and_stores_keys_as_a_tuple():
    model = Model(**_parts(keys=["a", "W"]))
    assert model.keys == ("a", "W")
    with pytest.raises(AttributeError):
        model.keys = ("b",)
    assert "diagonal" in repr(model) and "function" not in repr(model)


@pytest.mark.parametrize("change, exc, fragment", [
    ({"name": ""}, TypeError, "name must be a non-empty str"),
    ({"keys": "aW"}, TypeError, "keys must be a tuple or list of non-empty str"),
    ({"keys": ("a", 3)}, TypeError, "keys must be a tuple or list of non-empty str"),
    ({"keys": ()}, ValueError, "keys must name at least one parameter"),
    ({"keys": ("a", "a")}, ValueError, "each once"),
    ({"keys": ("a", "x")}, ValueError, "keys must not use the names of non-parameter gradients"),
    ({"forward": None}, TypeError, "forward must be callable, got NoneType"),
    ({"check": "diag_check"}, TypeError, "check must be callable, got str"),
])
def test_model_refuses_malformed_models(change, exc, fragment):
    with pytest.raises(exc, match=fragment):
        Model(**_parts(**change))


def test_input_grad_keys_are_what_backward_passes_return_beside_the_parameters():
    params, x, target = problem()
    y, h = DIAG.forward(params, x)
    grads = DIAG.backward(params, x, h, mse_loss(y, target)[1])
    assert set(grads) - set(DIAG_KEYS) <= set(NON_PARAM_KEYS)
