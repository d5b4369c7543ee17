"""Tests for bptt.optim.

Each optimiser is checked against a reference written here from the textbook
formula in a different form: momentum as an explicit sum of powers over the list
of past gradients, Adagrad from the sum of all past squared gradients, Adam's
bias-corrected moments as normalised weighted averages of past gradients.
The comparisons with torch are in tests/torch/ (run where torch is installed).
"""
import copy
import re

import numpy as np
import pytest

from bptt.optim import SGD, Adagrad, Adam
from bptt.rnn import init_rnn, rnn_backward, rnn_forward

SHAPES = {"W_xh": (4, 3), "W_hh": (4, 4), "b_h": (4,), "W_hy": (2, 4), "b_y": (2,)}


def random_params(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return {k: rng.standard_normal(s).astype(dtype) for k, s in SHAPES.items()}


def random_grad_sequence(n_steps, seed=1, dtype=np.float64):
    """n_steps gradient dicts, with the extra x and h0 keys that rnn_backward returns."""
    rng = np.random.default_rng(seed)
    seq = []
    for _ in range(n_steps):
        g = {k: rng.standard_normal(s).astype(dtype) for k, s in SHAPES.items()}
        g["x"] = rng.standard_normal((5, 2, 3)).astype(dtype)
        g["h0"] = rng.standard_normal((2, 4)).astype(dtype)
        seq.append(g)
    return seq


# --- independent references: parameters after every step, from the gradient history --


def ref_sgd(p0, gs, lr, momentum, nesterov):
    """theta_t = theta_0 - lr * sum_{j<=t} u_j with v_j = sum_{s<=j} mu^(j-s) g_s."""
    out = []
    for t in range(1, len(gs) + 1):
        total_step = 0.0
        for j in range(1, t + 1):
            v_j = sum(momentum ** (j - s) * gs[s - 1] for s in range(1, j + 1))
            total_step = total_step + (gs[j - 1] + momentum * v_j if nesterov else v_j)
        out.append(p0 - lr * total_step)
    return out


def ref_adagrad(p0, gs, lr, eps):
    """theta_j = theta_{j-1} - lr g_j / sqrt(sum_{s<=j} g_s^2 + eps)."""
    out, p = [], p0
    for j in range(1, len(gs) + 1):
        p = p - lr * gs[j - 1] / np.sqrt(sum(g ** 2 for g in gs[:j]) + eps)
        out.append(p)
    return out


def ref_adam(p0, gs, lr, beta1, beta2, eps):
    """The bias-corrected moments are weighted averages with weights beta^(j-s), normalised."""
    out, p = [], p0
    for j in range(1, len(gs) + 1):
        w1 = np.array([beta1 ** (j - s) for s in range(1, j + 1)])
        w2 = np.array([beta2 ** (j - s) for s in range(1, j + 1)])
        m_hat = sum(w * g for w, g in zip(w1, gs[:j])) / w1.sum()
        v_hat = sum(w * g ** 2 for w, g in zip(w2, gs[:j])) / w2.sum()
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(p)
    return out


CASES = [
    (lambda: SGD(0.1), lambda p, gs: ref_sgd(p, gs, 0.1, 0.0, False)),
    (lambda: SGD(0.05, momentum=0.9), lambda p, gs: ref_sgd(p, gs, 0.05, 0.9, False)),
    (lambda: SGD(0.02, momentum=0.5, nesterov=True), lambda p, gs: ref_sgd(p, gs, 0.02, 0.5, True)),
    (lambda: Adagrad(0.1), lambda p, gs: ref_adagrad(p, gs, 0.1, 1e-8)),
    (lambda: Adagrad(0.3, eps=0.5), lambda p, gs: ref_adagrad(p, gs, 0.3, 0.5)),
    (lambda: Adam(), lambda p, gs: ref_adam(p, gs, 1e-3, 0.9, 0.999, 1e-8)),
    (lambda: Adam(0.05, betas=(0.5, 0.9), eps=0.1),
     lambda p, gs: ref_adam(p, gs, 0.05, 0.5, 0.9, 0.1)),
]
CASE_IDS = ["sgd", "momentum", "nesterov", "adagrad", "adagrad-big-eps", "adam", "adam-custom"]


@pytest.mark.parametrize("make,ref", CASES, ids=CASE_IDS)
def test_matches_textbook_formula_over_several_steps(make, ref):
    n_steps = 6
    params = random_params()
    p0 = copy.deepcopy(params)
    gs = random_grad_sequence(n_steps)
    expected = {k: ref(p0[k], [g[k] for g in gs]) for k in SHAPES}
    opt = make()
    for t, g in enumerate(gs):
        assert opt.step(params, g) is params
        for k in SHAPES:
            np.testing.assert_allclose(params[k], expected[k][t], rtol=1e-12, atol=1e-14,
                                       err_msg=f"{opt!r}, step {t + 1}, {k}")


@pytest.mark.parametrize("make,ref", CASES, ids=CASE_IDS)
def test_float32_stays_float32_and_agrees_with_float64(make, ref):
    params = random_params(dtype=np.float32)
    p0 = {k: v.astype(np.float64) for k, v in params.items()}
    gs = random_grad_sequence(4, dtype=np.float32)
    opt = make()
    for g in gs:
        opt.step(params, g)
    for k in SHAPES:
        assert params[k].dtype == np.float32, k
        expected = ref(p0[k], [g[k].astype(np.float64) for g in gs])[-1]
        np.testing.assert_allclose(params[k], expected, rtol=1e-5, atol=1e-5, err_msg=k)
    for state in (getattr(opt, a) for a in ("velocity", "mem", "m", "v") if hasattr(opt, a)):
        for k, s in state.items():
            assert s.dtype == np.float32 and s.shape == params[k].shape, k


@pytest.mark.parametrize("make", [c[0] for c in CASES], ids=CASE_IDS)
def test_updates_in_place_lazily_creates_state_and_leaves_grads_alone(make):
    params = random_params()
    arrays_before = {k: params[k] for k in params}
    g = random_grad_sequence(1)[0]
    g_copy = copy.deepcopy(g)
    opt = make()
    state_names = [a for a in ("velocity", "mem", "m", "v") if hasattr(opt, a)]
    for a in state_names:
        assert getattr(opt, a) == {}, a            # nothing before the first step
    p_before = copy.deepcopy(params)
    opt.step(params, g)
    for k in SHAPES:
        assert params[k] is arrays_before[k], k    # same arrays, updated in place
        assert not np.array_equal(params[k], p_before[k]), k
    for k in g:
        np.testing.assert_array_equal(g[k], g_copy[k], err_msg=k)
    for a in state_names:
        state = getattr(opt, a)
        if a == "velocity" and opt.momentum == 0.0:
            assert state == {}                     # plain SGD keeps no state
            continue
        assert set(state) == set(SHAPES), a
        for k, s in state.items():
            assert s.shape == params[k].shape and s.dtype == params[k].dtype, (a, k)
            assert not np.shares_memory(s, g[k]) and not np.shares_memory(s, params[k]), (a, k)


@pytest.mark.parametrize("make", [c[0] for c in CASES], ids=CASE_IDS)
def test_only_keys_of_params_are_updated(make):
    # A params dict holding only W_hh: the other gradients (and x, h0) are ignored.
    params = {"W_hh": random_params()["W_hh"]}
    gs = random_grad_sequence(2)
    ref_opt, opt = make(), make()
    full = random_params()
    full["W_hh"] = params["W_hh"].copy()
    for g in gs:
        opt.step(params, g)
        ref_opt.step(full, g)
    assert list(params) == ["W_hh"]
    np.testing.assert_array_equal(params["W_hh"], full["W_hh"])


# --- convergence ------------------------------------------------------------------

OPTIMISERS = {
    "sgd": (lambda: SGD(0.1), lambda: SGD(0.5)),
    "momentum": (lambda: SGD(0.05, momentum=0.9), lambda: SGD(0.1, momentum=0.9)),
    "nesterov": (lambda: SGD(0.05, momentum=0.9, nesterov=True),
                 lambda: SGD(0.1, momentum=0.9, nesterov=True)),
    "adagrad": (lambda: Adagrad(0.5), lambda: Adagrad(0.1)),
    "adam": (lambda: Adam(0.05), lambda: Adam(0.01)),
}


@pytest.mark.parametrize("name", OPTIMISERS)
def test_minimises_an_ill_conditioned_quadratic(name):
    # f = sum_k 0.5 * sum_i a_i (theta_i - c_i)^2 with curvatures a in [0.1, 10].
    rng = np.random.default_rng(0)
    a = {k: np.exp(rng.uniform(np.log(0.1), np.log(10.0), s)) for k, s in SHAPES.items()}
    c = {k: rng.standard_normal(s) for k, s in SHAPES.items()}
    params = {k: np.zeros(s) for k, s in SHAPES.items()}

    def f():
        return sum(0.5 * np.sum(a[k] * (params[k] - c[k]) ** 2) for k in SHAPES)

    f0 = f()
    opt = OPTIMISERS[name][0]()
    for _ in range(300):
        opt.step(params, {k: a[k] * (params[k] - c[k]) for k in SHAPES})
    assert f() < 1e-4 * f0, f"{opt!r}: f went from {f0:.3g} to {f():.3g} in 300 steps"


@pytest.mark.parametrize("name", OPTIMISERS)
def test_trains_a_tiny_rnn_on_a_delay_task(name):
    # Learn y_t = x_{t-1}: needs the recurrence, so the gradients come through BPTT.
    rng = np.random.default_rng(0)
    T, B = 8, 16
    params = init_rnn(1, 8, 1, seed=1)
    x = rng.standard_normal((T, B, 1))
    target = np.zeros_like(x)
    target[1:] = x[:-1]

    def loss_and_grads():
        y, h = rnn_forward(params, x)
        r = y - target
        return 0.5 * np.mean(r ** 2), rnn_backward(params, x, h, r / (T * B))

    loss0, _ = loss_and_grads()
    opt = OPTIMISERS[name][1]()
    for _ in range(300):
        opt.step(params, loss_and_grads()[1])
    loss = loss_and_grads()[0]
    assert loss < loss0 / 50, f"{opt!r}: loss went from {loss0:.3g} to {loss:.3g} in 300 steps"


# --- any parameters -------------------------------------------------------------


@pytest.mark.parametrize("make,ref", CASES, ids=CASE_IDS)
def test_any_dict_of_arrays_with_state_per_key(make, ref):
    # A made-up model: a 0-d parameter and a 3-d one, no RNN key.
    rng = np.random.default_rng(4)
    params = {"a": np.array(0.5), "gate": rng.standard_normal((3, 2, 2))}
    p0 = copy.deepcopy(params)
    gs = [{k: rng.standard_normal(v.shape) for k, v in params.items()} for _ in range(3)]
    opt = make()
    for g in gs:
        opt.step(params, g)
    for k in params:
        want = ref(p0[k], [g[k] for g in gs])[-1]
        np.testing.assert_allclose(params[k], want, rtol=1e-12, atol=1e-14, err_msg=k)
    for a in ("velocity", "mem", "m", "v"):
        state = getattr(opt, a, {})
        assert set(state) in (set(), {"a", "gate"}), a


# --- errors: one test per error class -----------------------------------------------

ALL = [c[0] for c in CASES]
ONE_OF_EACH = [lambda: SGD(0.1, momentum=0.9), lambda: Adagrad(0.1), lambda: Adam(0.01)]


@pytest.mark.parametrize("make", ONE_OF_EACH, ids=["SGD", "Adagrad", "Adam"])
def test_step_value_errors_name_the_key_and_shapes(make):
    params = random_params()
    for change, fragment in (
            (lambda g: g.pop("b_y"), "grads has no gradient for the parameters ['b_y']"),
            (lambda g: g.update(W_hh=np.zeros((4, 3))),
             "grads['W_hh'] must have the shape of params['W_hh'], (4, 4), got (4, 3)"),
            (lambda g: g["b_y"].__setitem__(1, np.nan), "grads['b_y'] contains NaN or infinity")):
        g = random_grad_sequence(1)[0]
        change(g)
        with pytest.raises(ValueError, match=re.escape(fragment)):
            make().step(params, g)


@pytest.mark.parametrize("make", ONE_OF_EACH, ids=["SGD", "Adagrad", "Adam"])
def test_step_type_errors_name_the_key(make):
    params, g = random_params(), random_grad_sequence(1)[0]
    for p, grads, fragment in (
            (params, list(g.values()), "grads must be a dict"),
            (list(params.values()), g, "params must be a dict"),
            (params, {**g, "W_xh": g["W_xh"].tolist()},
             "grads['W_xh'] must be a numpy array of shape (4, 3)"),
            (params, {**g, "b_h": g["b_h"].astype(np.float32)},
             "grads['b_h'] must have the dtype of params['b_h'], float64, got float32"),
            ({**params, "b_h": np.arange(4)}, g,
             "params['b_h'] must be a floating-point numpy array")):
        with pytest.raises(TypeError, match=re.escape(fragment)):
            make().step(p, grads)


@pytest.mark.parametrize("make", ALL, ids=CASE_IDS)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_gradient_changes_nothing(make, bad):
    opt = make()
    params = random_params()
    gs = random_grad_sequence(2)
    opt.step(params, gs[0])                      # so that there is state to protect
    params_before = copy.deepcopy(params)
    state_before = copy.deepcopy(vars(opt))
    gs[1]["b_y"][1] = bad                        # the last key: all others come first
    with pytest.raises(ValueError, match=r"grads\['b_y'\] contains NaN or infinity"):
        opt.step(params, gs[1])
    for k in SHAPES:
        np.testing.assert_array_equal(params[k], params_before[k], err_msg=k)
    for name, value in state_before.items():
        if isinstance(value, dict):
            assert set(vars(opt)[name]) == set(value), name
            for k in value:
                np.testing.assert_array_equal(vars(opt)[name][k], value[k], err_msg=(name, k))


@pytest.mark.parametrize("make", ALL, ids=CASE_IDS)
def test_non_finite_x_is_ignored(make):
    params = random_params()
    g = random_grad_sequence(1)[0]
    g["x"][0, 0, 0] = np.nan
    want = random_params()
    make().step(want, {k: g[k] for k in SHAPES})
    make().step(params, g)
    np.testing.assert_equal(params, want)


def test_read_only_param_is_refused_before_any_update():
    params, g = random_params(), random_grad_sequence(1)[0]
    before = copy.deepcopy(params)
    params["b_y"].flags.writeable = False
    with pytest.raises(ValueError, match=r"params\['b_y'\] is read-only"):
        SGD(0.1).step(params, g)
    for k in SHAPES:
        np.testing.assert_array_equal(params[k], before[k], err_msg=k)


def test_state_of_another_model_is_refused():
    opt = Adam(0.01)
    opt.step(random_params(), random_grad_sequence(1)[0])
    with pytest.raises(ValueError, match=r"m\['W_hh'\] has shape \(4, 4\).*shape \(5, 5\)"):
        opt.step({"W_hh": np.zeros((5, 5))}, {"W_hh": np.ones((5, 5))})


@pytest.mark.parametrize("make,match", [
    (lambda: SGD(0.0), r"lr must be a finite number > 0, got 0.0"),
    (lambda: SGD(-0.1), r"lr must be a finite number > 0, got -0.1"),
    (lambda: Adagrad(np.inf), r"lr must be a finite number > 0, got inf"),
    (lambda: Adam(np.nan), r"lr must be a finite number > 0, got nan"),
    (lambda: SGD(0.1, momentum=-0.5), r"momentum must be in \[0, 1\), got -0.5"),
    (lambda: SGD(0.1, momentum=1.0), r"momentum must be in \[0, 1\), got 1.0"),
    (lambda: SGD(0.1, nesterov=True), r"nesterov=True needs momentum > 0"),
    (lambda: Adagrad(0.1, eps=0.0), r"eps must be a finite number > 0, got 0.0"),
    (lambda: Adam(eps=-1e-8), r"eps must be a finite number > 0, got -1e-08"),
    (lambda: Adam(betas=(1.0, 0.999)), r"betas\[0\] must be in \[0, 1\), got 1.0"),
    (lambda: Adam(betas=(0.9, np.nan)), r"betas\[1\] must be in \[0, 1\), got nan"),
])
def test_bad_hyperparameter_values(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("make,match", [
    (lambda: SGD("0.1"), r"lr must be a positive number, got str"),
    (lambda: SGD(True), r"lr must be a positive number, got bool"),
    (lambda: SGD(0.1, momentum=None), r"momentum must be a number in \[0, 1\), got NoneType"),
    (lambda: SGD(0.1, momentum=0.9, nesterov="yes"), r"nesterov must be a bool, got str"),
    (lambda: Adam(betas=0.9), r"betas must be a pair"),
    (lambda: Adam(betas=(0.9, 0.99, 0.999)), r"betas must be a pair"),
])
def test_bad_hyperparameter_types(make, match):
    with pytest.raises(TypeError, match=match):
        make()


def test_lr_can_be_changed_but_is_checked():
    opt = SGD(0.1)
    opt.lr = 0.5
    params, g = {"b_h": np.zeros(2)}, {"b_h": np.array([1.0, -2.0])}
    opt.step(params, g)
    np.testing.assert_array_equal(params["b_h"], [-0.5, 1.0])
    with pytest.raises(ValueError, match="lr must be a finite number > 0, got -1"):
        opt.lr = -1
