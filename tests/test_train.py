"""Tests of bptt.train.train.

The updates are checked against centred finite differences of the loss
(bptt.gradcheck), never against the package's own backward pass, except to
check that the ``truncate`` argument reaches it.
"""
from __future__ import annotations

import itertools
import re
import warnings

import numpy as np
import pytest

from bptt import init_rnn, rnn_backward, rnn_forward
from bptt.gradcheck import numerical_gradient_params
from bptt.losses import mse_loss
from bptt.optim import SGD
from bptt.train import train
from bptt.rnn import PARAM_KEYS, RNN


def setup(T=4, B=2, D=3, H=5, O=2, seed=0):
    rng = np.random.default_rng(seed)
    params = init_rnn(D, H, O, seed=seed)
    params["b_h"] = 0.1 * rng.standard_normal(H)      # nonzero, so every gradient matters
    x = rng.standard_normal((T, B, D))
    target = rng.standard_normal((T, B, O))
    return params, x, target


def loss_at(params, x, target):
    return mse_loss(rnn_forward(params, x)[0], target)[0]


def numerical(params, x, target):
    p = {k: v.copy() for k, v in params.items()}
    return numerical_gradient_params(lambda q: loss_at(q, x, target), p)


def flat(d):
    return np.concatenate([d[k].ravel() for k in PARAM_KEYS])


@pytest.mark.parametrize("T, B, D, H, O", [(4, 2, 3, 5, 2), (1, 1, 1, 1, 1), (3, 3, 2, 4, 3)])
def test_one_step_is_sgd_on_the_true_gradient(T, B, D, H, O):
    params, x, target = setup(T, B, D, H, O)
    lr = 0.1
    new, hist = train(params, itertools.repeat((x, target)), mse_loss, SGD(lr), n_steps=1)
    g = numerical(params, x, target)
    for k in PARAM_KEYS:
        np.testing.assert_allclose(new[k], params[k] - lr * g[k], rtol=1e-7, atol=1e-9, err_msg=k)
    assert hist["loss"][0] == pytest.approx(loss_at(params, x, target))
    assert hist["grad_norm"][0] == pytest.approx(np.linalg.norm(flat(g)), rel=1e-6)
    assert hist["update_norm"][0] == pytest.approx(hist["grad_norm"][0])
    assert hist["stopped"] is None


def test_history_losses_are_the_losses_of_the_successive_parameters():
    params, x, target = setup(seed=1)
    _, hist = train(params, itertools.repeat((x, target)), mse_loss, SGD(0.2), n_steps=4)
    for k in range(4):
        p_k, _ = train(params, itertools.repeat((x, target)), mse_loss, SGD(0.2), n_steps=k) \
            if k else (params, None)
        assert hist["loss"][k] == pytest.approx(loss_at(p_k, x, target), rel=1e-12)
    assert hist["loss"][-1] < hist["loss"][0]


def test_params_are_not_modified():
    params, x, target = setup()
    before = {k: v.copy() for k, v in params.items()}
    train(params, itertools.repeat((x, target)), mse_loss, SGD(0.5), n_steps=3)
    for k in PARAM_KEYS:
        np.testing.assert_array_equal(params[k], before[k])


def test_batches_are_consumed_in_order():
    params, x, target = setup(seed=2)
    rng = np.random.default_rng(5)
    batches = [(rng.standard_normal(x.shape), rng.standard_normal(target.shape)) for _ in range(2)]
    p2, _ = train(params, batches, mse_loss, SGD(0.1), n_steps=2)
    g0 = numerical(params, *batches[0])
    p1 = {k: params[k] - 0.1 * g0[k] for k in PARAM_KEYS}
    g1 = numerical(p1, *batches[1])
    for k in PARAM_KEYS:
        np.testing.assert_allclose(p2[k], p1[k] - 0.1 * g1[k], rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("c", [0.01, 0.1])
def test_clip_norm_caps_the_step_and_keeps_the_direction(c):
    params, x, target = setup(seed=3)
    lr = 1.0
    new, hist = train(params, itertools.repeat((x, target)), mse_loss, SGD(lr),
                      n_steps=1, clip_norm=c)
    g = flat(numerical(params, x, target))
    step = (flat(params) - flat(new)) / lr
    assert np.linalg.norm(g) > c                          # clipping was active
    assert np.linalg.norm(step) == pytest.approx(c, rel=1e-5)
    assert hist["update_norm"][0] == pytest.approx(c, rel=1e-5)
    cos = step @ g / (np.linalg.norm(step) * np.linalg.norm(g))
    assert cos == pytest.approx(1.0, abs=1e-8)


def test_clip_value_bounds_every_entry_and_turns_the_direction():
    params, x, target = setup(seed=4)
    lr, c = 1.0, 0.02
    new, _ = train(params, itertools.repeat((x, target)), mse_loss, SGD(lr),
                   n_steps=1, clip_value=c)
    g = flat(numerical(params, x, target))
    step = (flat(params) - flat(new)) / lr
    np.testing.assert_allclose(step, np.clip(g, -c, c), rtol=1e-6, atol=1e-9)
    assert step @ g / (np.linalg.norm(step) * np.linalg.norm(g)) < 1 - 1e-4


def test_both_clips_value_first_then_norm():
    params, x, target = setup(seed=4)
    cv, cn = 0.02, 0.05
    new, _ = train(params, itertools.repeat((x, target)), mse_loss, SGD(1.0), n_steps=1,
                   clip_value=cv, clip_norm=cn)
    clamped = np.clip(flat(numerical(params, x, target)), -cv, cv)
    want = clamped * min(1.0, cn / np.linalg.norm(clamped))
    np.testing.assert_allclose(flat(params) - flat(new), want, rtol=1e-5, atol=1e-9)


def test_truncate_reaches_the_backward_pass():
    params, x, target = setup(T=6, seed=5)
    new, _ = train(params, itertools.repeat((x, target)), mse_loss, SGD(1.0), n_steps=1,
                   truncate=2)
    _, h = rnn_forward(params, x)
    dy = mse_loss(rnn_forward(params, x)[0], target)[1]
    g_trunc = rnn_backward(params, x, h, dy, truncate=2)
    g_full = rnn_backward(params, x, h, dy)
    np.testing.assert_allclose(flat(params) - flat(new), flat(g_trunc), rtol=1e-12)
    assert not np.allclose(flat(g_trunc), flat(g_full))


def test_a_diverging_run_is_stopped_with_finite_parameters():
    params, x, target = setup(T=20, B=4, D=1, H=8, O=1, seed=6)
    params["W_hh"] *= 3.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)     # overflow in the loss is the point
        new, hist = train(params, itertools.repeat((x, target[..., :1])), mse_loss, SGD(50.0),
                          n_steps=200)
    assert hist["stopped"] is not None
    n = len(hist["loss"])
    assert n < 200 and len(hist["grad_norm"]) == n and len(hist["update_norm"]) == n
    assert all(np.all(np.isfinite(new[k])) for k in PARAM_KEYS)


def test_max_loss_stops_the_run_at_the_first_loss_above_it():
    params, x, target = setup(seed=7)
    _, full = train(params, itertools.repeat((x, target)), mse_loss, SGD(0.01), n_steps=3)
    threshold = float(full["loss"][0]) * 0.999     # the very first loss is above it
    _, hist = train(params, itertools.repeat((x, target)), mse_loss, SGD(0.01), n_steps=3,
                    max_loss=threshold)
    assert len(hist["loss"]) == 1 and "at step 0" in hist["stopped"]


def test_value_errors_name_the_argument():
    params, x, target = setup()
    batches = itertools.repeat((x, target))
    for kwargs, fragment in (
            (dict(batches=[(x, target)] * 2, n_steps=3), "batches ran out after 2 pairs"),
            (dict(n_steps=0), "n_steps must be >= 1"),
            (dict(clip_norm=-1.0), "clip_norm must be a finite number > 0"),
            (dict(clip_value=0.0), "clip_value must be a finite number > 0"),
            (dict(max_loss=np.nan), "max_loss must be a finite number > 0"),
            (dict(params={k: v for k, v in params.items() if k != "b_y"}), "missing ['b_y']")):
        call = {"params": params, "batches": batches, "loss_fn": mse_loss,
                "optimizer": SGD(0.1), "n_steps": 1, **kwargs}
        with pytest.raises(ValueError, match=re.escape(fragment)):
            train(**call)


def test_type_errors_name_the_argument():
    params, x, target = setup()
    batches = itertools.repeat((x, target))
    for args, kwargs, fragment in (
            ((params, 5, mse_loss, SGD(0.1)), {}, "batches must be an iterable"),
            ((params, batches, "mse", SGD(0.1)), {}, "loss_fn must be callable"),
            ((params, batches, mse_loss, 0.1), {}, "optimizer must have a step"),
            ((params, batches, mse_loss, SGD(0.1)), {"model": "rnn"},
             "model must be a bptt.model.Model, got str"),
            ((params, batches, mse_loss, SGD(0.1), 1), {}, "positional argument")):
        with pytest.raises(TypeError, match=re.escape(fragment)):
            train(*args, **{"n_steps": 1, **kwargs} if len(args) == 4 else kwargs)


def test_the_default_model_is_the_rnn():
    params, x, target = setup(seed=8)
    batches = itertools.repeat((x, target))
    plain, h1 = train(params, batches, mse_loss, SGD(0.1), n_steps=2)
    explicit, h2 = train(params, batches, mse_loss, SGD(0.1), n_steps=2, model=RNN)
    np.testing.assert_equal(plain, explicit)
    np.testing.assert_equal(h1, h2)
    assert list(plain) == list(PARAM_KEYS)
