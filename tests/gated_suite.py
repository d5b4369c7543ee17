"""The tests every gated model must pass, shared by ``test_lstm.py`` and ``test_gru.py``.

A test module imports these functions (``from gated_suite import *``) and
defines a module-scoped fixture ``spec`` (a :class:`Spec`) naming its model's
functions, its autograd reference and its reversed loop over the step
backward. Every expected value comes from autograd through the column-vector
references of ``autograd_gated.py``, from centred finite differences
(:mod:`bptt.gradcheck`) or from the package's own step functions.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_gated import autograd_gradients
from autograd_rnn import linear_loss, loss_gradient_wrt_y, rel_error, sine_loss
from bptt.clip import clip_grad_norm, grad_norm
from bptt.gradcheck import check_gradient, numerical_gradient_params
from bptt.losses import mse_loss
from bptt.optim import SGD, Adam
from bptt.train import train
from bptt.truncation import truncation_reach

SHAPES = [(5, 2, 3, 4, 2), (1, 1, 2, 3, 4), (6, 3, 4, 2, 5)]    # (T, B, D, H, O)
LOSSES = {"linear": linear_loss, "sine": sine_loss}


@dataclass(frozen=True)
class Spec:
    """What the shared tests need to know about one gated model."""

    model: object                  # bptt.model.Model
    n_gates: int
    biases: tuple                  # the hidden biases' keys
    init_names: tuple              # ("h0", "c0") or ("h0",)
    reference: Callable            # autograd reference: reference(args, truncate) -> y
    by_steps: Callable             # by_steps(params, x, state, dy, truncate) -> grads
    forward_by_steps: Callable     # forward_by_steps(params, x, *init) -> (h (T+1,B,H), gates)

    @property
    def grad_keys(self):
        return (*self.model.keys, "x", *self.init_names)

    def param_shapes(self, D, H, O):
        nH = self.n_gates * H
        shapes = {"W_xh": (nH, D), "W_hh": (nH, H), "W_hy": (O, H), "b_y": (O,)}
        shapes.update({b: (nH,) for b in self.biases})
        return shapes


def random_problem(spec, T, B, D, H, O, seed=0, dtype=np.float64):
    """Parameters (init plus noise, so every bias is nonzero), x, initial states, weights w."""
    rng = np.random.default_rng(seed)
    params = spec.model.init(D, H, O, seed=seed)
    params = {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in params.items()}
    x = rng.standard_normal((T, B, D))
    init = [0.5 * rng.standard_normal((B, H)) for _ in spec.init_names]
    w = rng.standard_normal((T, B, O))
    cast = {k: v.astype(dtype) for k, v in params.items()}
    return cast, x.astype(dtype), [s.astype(dtype) for s in init], w.astype(dtype)


def as_args(spec, params, x, init):
    return {**{k: np.array(v, dtype=np.float64) for k, v in params.items()},
            "x": np.array(x, dtype=np.float64),
            **{n: np.array(s, dtype=np.float64) for n, s in zip(spec.init_names, init)}}


def assert_grads_close(got, want, tol, label=""):
    assert set(got) == set(want), (sorted(got), sorted(want))
    for key in want:
        err = rel_error(got[key], want[key])
        assert err < tol, (f"{label} d{key}: relative error {err:.3e} >= {tol:.0e}\n"
                           f"package:\n{got[key]}\nreference:\n{want[key]}")


def truncation_cases():
    return [pytest.param(s, k, id=f"TBDHO={s}-k={k}")
            for s in SHAPES for k in dict.fromkeys([None, 1, 3, s[0], s[0] + 2])]


# ---------------------------------------------------------------- init

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("D, H, O", [(3, 5, 2), (1, 1, 1)])
def test_init_shapes_and_dtype(spec, D, H, O, dtype):
    params = spec.model.init(D, H, O, seed=1, dtype=dtype)
    assert list(params) == list(spec.model.keys)
    assert {k: v.shape for k, v in params.items()} == spec.param_shapes(D, H, O)
    assert all(v.dtype == dtype for v in params.values())
    assert spec.model.check(params) == (D, H, O)


def test_init_is_deterministic_by_seed(spec):
    a, b, c = (spec.model.init(3, 5, 2, seed=s) for s in (4, 4, 5))
    for key in ("W_xh", "W_hh", "W_hy"):
        np.testing.assert_array_equal(a[key], b[key])
        assert not np.allclose(a[key], c[key]), key


def test_init_variance_is_one_over_fan_in(spec):
    D, H, O = 600, 300, 200
    params = spec.model.init(D, H, O, seed=0)
    for key, fan_in in (("W_xh", D), ("W_hh", H), ("W_hy", H)):
        ratio = params[key].var() * fan_in
        assert abs(ratio - 1) < 0.03, f"{key}: var * fan_in = {ratio:.4f}, expected 1"


# ---------------------------------------------------------------- forward

@pytest.mark.parametrize("shape", SHAPES)
def test_forward_matches_reference(spec, shape):
    params, x, init, _ = random_problem(spec, *shape, seed=2)
    y, state = spec.model.forward(params, x, *init)
    T, B, D, H, O = shape
    assert y.shape == (T, B, O) and state["h"].shape == (T + 1, B, H)
    np.testing.assert_allclose(y, spec.reference(as_args(spec, params, x, init)),
                               rtol=1e-12, atol=1e-13)
    np.testing.assert_array_equal(state["h"][0], init[0])


@pytest.mark.parametrize("shape", SHAPES)
def test_forward_equals_repeated_step(spec, shape):
    params, x, init, _ = random_problem(spec, *shape, seed=3)
    _, state = spec.model.forward(params, x, *init)
    h, gates = spec.forward_by_steps(params, x, *init)
    np.testing.assert_allclose(state["h"], h, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(state["gates"], gates, rtol=1e-12, atol=1e-14)


def test_initial_states_default_to_zeros(spec):
    params, x, init, _ = random_problem(spec, 4, 2, 3, 5, 2, seed=4)
    zeros = [np.zeros_like(s) for s in init]
    y_none, _ = spec.model.forward(params, x)
    y_zero, _ = spec.model.forward(params, x, *zeros)
    np.testing.assert_array_equal(y_none, y_zero)


# ---------------------------------------------------------------- backward

@pytest.mark.parametrize("loss_name", list(LOSSES))
@pytest.mark.parametrize("shape, truncate", truncation_cases())
def test_backward_matches_autograd(spec, shape, truncate, loss_name):
    params, x, init, w = random_problem(spec, *shape, seed=5)
    loss, args = LOSSES[loss_name](w), as_args(spec, params, x, init)
    y, state = spec.model.forward(params, x, *init)
    got = spec.model.backward(params, x, state, loss_gradient_wrt_y(loss, y), truncate)
    assert list(got) == list(spec.grad_keys)
    assert_grads_close(got, autograd_gradients(spec.reference, args, loss, truncate), 1e-10,
                       f"{loss_name}, truncate={truncate}")


def _chunked_loss(spec, params, x, init, w, truncate):
    """L = sum(w * y) with the state pinned at the detach points: each chunk of
    ``truncate`` steps is re-run by the package's forward pass from the states
    a full forward pass reached (held fixed), so finite differences give the
    truncated gradient."""
    T = x.shape[0]
    k = T if truncate is None else truncate
    _, state = spec.model.forward(params, x, *init)
    pinned = {n: state[n[0]].copy() for n in spec.init_names}    # "h0" -> state["h"]

    def f(a):
        ys = []
        for start in range(0, T, k):
            first = [a[n] if start == 0 else pinned[n][start] for n in spec.init_names]
            ys.append(spec.model.forward({key: a[key] for key in spec.model.keys},
                                         a["x"][start:start + k], *first)[0])
        return float(np.sum(w * np.concatenate(ys)))
    return f


@pytest.mark.parametrize("shape, truncate", truncation_cases())
def test_backward_matches_finite_differences(spec, shape, truncate):
    params, x, init, w = random_problem(spec, *shape, seed=6)
    _, state = spec.model.forward(params, x, *init)
    got = spec.model.backward(params, x, state, w, truncate)
    args = as_args(spec, params, x, init)
    want = numerical_gradient_params(_chunked_loss(spec, params, x, init, w, truncate), args)
    assert_grads_close(got, want, 1e-7, f"truncate={truncate}")


def test_reference_truncation_really_differs_from_full(spec):
    params, x, init, w = random_problem(spec, 6, 2, 3, 4, 2, seed=7)
    args = as_args(spec, params, x, init)
    full = autograd_gradients(spec.reference, args, linear_loss(w))
    cut = autograd_gradients(spec.reference, args, linear_loss(w), 2)
    for key in ("W_hh", "W_xh", "x", *spec.init_names):
        assert rel_error(full[key], cut[key]) > 1e-3, key


@pytest.mark.parametrize("k", [1, 2, 3])
def test_truncated_gradient_is_full_bptt_over_chunks(spec, k):
    T = 7
    params, x, init, dy = random_problem(spec, T, 2, 3, 4, 2, seed=8)
    _, state = spec.model.forward(params, x, *init)
    got = spec.model.backward(params, x, state, dy, k)
    want = {key: 0.0 for key in spec.model.keys}
    dx = []
    for start in range(0, T, k):
        stop = min(start + k, T)
        first = [state[n[0]][start] for n in spec.init_names]
        _, chunk_state = spec.model.forward(params, x[start:stop], *first)
        chunk = spec.model.backward(params, x[start:stop], chunk_state, dy[start:stop])
        for key in spec.model.keys:
            want[key] = want[key] + chunk[key]
        dx.append(chunk["x"])
        if start == 0:
            want.update({n: chunk[n] for n in spec.init_names})
    want["x"] = np.concatenate(dx)
    assert_grads_close(got, want, 1e-12, f"k={k}")


@pytest.mark.parametrize("shape, truncate", truncation_cases())
def test_backward_is_the_reversed_loop_over_step_backward(spec, shape, truncate):
    params, x, init, dy = random_problem(spec, *shape, seed=9)
    _, state = spec.model.forward(params, x, *init)
    got = spec.model.backward(params, x, state, dy, truncate)
    assert_grads_close(got, spec.by_steps(params, x, state, dy, truncate), 1e-12,
                       f"truncate={truncate}")


@st.composite
def problem_specs(draw):
    T, B = draw(st.integers(1, 6)), draw(st.integers(1, 3))
    D, H, O = (draw(st.integers(1, 5)) for _ in range(3))
    truncate = draw(st.one_of(st.none(), st.integers(1, T + 1)))
    return (T, B, D, H, O), draw(st.integers(0, 2**32 - 1)), truncate


@given(problem_specs(), st.sampled_from(list(LOSSES)))
def test_forward_and_backward_match_autograd_property(spec, case, loss_name):
    shape, seed, truncate = case
    params, x, init, w = random_problem(spec, *shape, seed=seed)
    loss, args = LOSSES[loss_name](w), as_args(spec, params, x, init)
    y, state = spec.model.forward(params, x, *init)
    np.testing.assert_allclose(y, spec.reference(args), rtol=1e-12, atol=1e-12)
    got = spec.model.backward(params, x, state, loss_gradient_wrt_y(loss, y), truncate)
    want = autograd_gradients(spec.reference, args, loss, truncate)
    for key in spec.grad_keys:
        assert got[key].shape == want[key].shape, key
    assert_grads_close(got, want, 1e-10, f"{shape}, truncate={truncate}")


# ---------------------------------------------------------------- dtypes and aliasing

@pytest.mark.parametrize("truncate", [None, 2])
def test_float32_in_float32_out(spec, truncate):
    p64, x64, init64, dy64 = random_problem(spec, 5, 2, 3, 4, 2, seed=10)
    p32, x32, init32, dy32 = random_problem(spec, 5, 2, 3, 4, 2, seed=10, dtype=np.float32)
    y32, s32 = spec.model.forward(p32, x32, *init32)
    g32 = spec.model.backward(p32, x32, s32, dy32, truncate)
    y64, s64 = spec.model.forward(p64, x64, *init64)
    g64 = spec.model.backward(p64, x64, s64, dy64, truncate)
    outputs = {"y": y32, **{f"state[{k}]": v for k, v in s32.items()},
               **{f"grads[{k}]": v for k, v in g32.items()}}
    for name, a in outputs.items():
        assert a.dtype == np.float32, f"{name} is {a.dtype}"
    assert rel_error(y32, y64) < 1e-5
    for key in spec.grad_keys:
        assert rel_error(g32[key], g64[key]) < 1e-4, key


@pytest.mark.parametrize("truncate", [None, 2])
def test_inputs_are_not_mutated_nor_aliased(spec, truncate):
    params, x, init, dy = random_problem(spec, 4, 2, 3, 5, 6, seed=11)
    _, state = spec.model.forward(params, x, *init)
    inputs = {**{f"params[{k}]": v for k, v in params.items()}, "x": x, "dy": dy,
              **{f"state[{k}]": v for k, v in state.items()},
              **{n: s for n, s in zip(spec.init_names, init)}}
    copies = {name: a.copy() for name, a in inputs.items()}
    grads = spec.model.backward(params, x, state, dy, truncate)
    spec.model.forward(params, x, *init)
    for name, a in inputs.items():
        np.testing.assert_array_equal(a, copies[name], err_msg=f"{name} was modified")
        for key, g in grads.items():
            assert not np.shares_memory(g, a), f"d{key} shares memory with {name}"


def test_non_contiguous_inputs_give_the_same_results(spec):
    params, x, init, dy = random_problem(spec, 4, 2, 3, 5, 6, seed=12)
    x_view = np.swapaxes(np.ascontiguousarray(np.swapaxes(x, 0, 1)), 0, 1)
    assert not x_view.flags.c_contiguous
    y, state = spec.model.forward(params, x_view, *[np.asfortranarray(s) for s in init])
    y_c, state_c = spec.model.forward(params, x, *init)
    np.testing.assert_allclose(y, y_c, rtol=1e-14, atol=1e-15)
    got = spec.model.backward(params, x_view, state, dy[:, ::-1][:, ::-1], 3)
    want = spec.model.backward(params, x, state_c, dy, 3)
    assert_grads_close(got, want, 1e-14)


# ---------------------------------------------------------------- the machinery

def test_gradcheck_accepts_the_backward(spec):
    params, x, init, _ = random_problem(spec, 4, 2, 3, 4, 2, seed=13)
    target = np.random.default_rng(0).standard_normal((4, 2, 2))
    y, state = spec.model.forward(params, x)
    grads = spec.model.backward(params, x, state, mse_loss(y, target)[1])
    assert check_gradient(lambda p: mse_loss(spec.model.forward(p, x)[0], target)[0],
                          params, grads) < 1e-7


def test_clipping_measures_the_parameters_only(spec):
    params, x, init, dy = random_problem(spec, 4, 2, 3, 4, 2, seed=14)
    _, state = spec.model.forward(params, x, *init)
    grads = spec.model.backward(params, x, state, 100 * dy)
    want = np.sqrt(sum(np.sum(grads[k] ** 2) for k in spec.model.keys))
    assert grad_norm(grads) == pytest.approx(want, rel=1e-12)
    clipped, _ = clip_grad_norm(grads, 0.1)
    assert grad_norm(clipped) == pytest.approx(0.1, rel=1e-6)
    for n in ("x", *spec.init_names):
        np.testing.assert_array_equal(clipped[n], grads[n])


@pytest.mark.parametrize("make, clip", [(lambda: Adam(0.03), {}),
                                        (lambda: SGD(0.3, momentum=0.5), {"clip_norm": 1.0})],
                         ids=["adam", "sgd-clipped"])
def test_train_lowers_the_loss(spec, make, clip):
    # A teacher of the same family gives the targets: the student can fit them.
    teacher = spec.model.init(2, 4, 2, seed=20)
    x = np.random.default_rng(21).standard_normal((8, 16, 2))
    target, _ = spec.model.forward(teacher, x)
    student = spec.model.init(2, 4, 2, seed=22)
    trained, hist = train(student, itertools.repeat((x, target)), mse_loss, make(),
                          n_steps=150, truncate=4, model=spec.model, **clip)
    assert hist["stopped"] is None
    assert hist["loss"][-1] < hist["loss"][0] / 3, hist["loss"][[0, -1]]
    assert list(trained) == list(spec.model.keys)


def test_truncation_reach_works_for_the_model(spec):
    reach = truncation_reach(6, 2, model=spec.model)
    t, s = np.indices((6, 6))
    np.testing.assert_array_equal(reach, (s <= t) & (s >= t - t % 2))


def check_bad_inputs(cases, call):
    """Every (change, exception, message fragment) in ``cases`` is refused as stated."""
    for change, exc, fragment in cases:
        with pytest.raises(exc, match=re.escape(fragment)):
            call(change)


__all__ = [name for name in dir() if name.startswith("test_")]
