r"""Self-checks for the homework functions that the package itself does not have.

:mod:`bptt.checks` checks the student's versions of the package's functions
(``rnn_forward``, ``rnn_backward``, ``clip_grad_norm``, ...). The homework
also asks for a few functions of its own; their checks live here, and behave
the same way: ``None`` when the function is right, an ``AssertionError``
saying what is wrong otherwise, and "not implemented yet" for a stub.

================================  =========================================================
``check_return_dh(fn)``           ``rnn_backward(..., return_dh=True)["h"]`` (HW2)
``check_gradient_check(fn)``      ``fn(backward, params, x, target, eps=1e-6) -> errors`` (HW2)
``check_lag_norms(fn)``           ``fn(params, x, dy_T) -> norms (T+1, B)`` (HW3)
``check_sample(fn)``              ``fn(params, h, index, n, rng, temperature=1.0)`` (HW4)
``check_train_char_rnn(fn)``      ``fn(text, *, hidden_size, ..., seed) -> (params, vocab,``
                                  ``losses)`` (HW4)
================================  =========================================================

Each compares with the package (:func:`bptt.rnn.rnn_backward`,
:func:`bptt.dynamics.gradient_norm_by_lag`, :func:`bptt.losses.softmax`) or,
for training, with what any correct implementation achieves.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .data import SAMPLE_TEXT, CharVocab
from .dynamics import gradient_norm_by_lag
from .gradcheck import rel_error
from .losses import softmax
from .rnn import PARAM_KEYS, init_rnn, rnn_backward, rnn_forward, rnn_step_forward

__all__ = ["check_return_dh", "check_gradient_check", "check_lag_norms", "check_sample",
           "check_train_char_rnn"]

#: float64 results must agree with the package to this relative error.
_TOL = 1e-8


def _call(fn: Callable, name: str, *args, **kwargs):
    """Call ``fn``, turning "not implemented" and any exception into a readable AssertionError."""
    if not callable(fn):
        raise TypeError(f"fn must be the function to check (a callable), got {type(fn).__name__}")
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as exc:
        raise AssertionError(f"{name} is not implemented yet: it raised NotImplementedError. "
                             "Write it, then run this check again.") from exc
    except Exception as exc:
        shapes = ", ".join(f"{a.shape}" if isinstance(a, np.ndarray) else type(a).__name__
                           for a in args)
        raise AssertionError(f"{name} raised {type(exc).__name__}: {exc}\n  when called with "
                             f"arguments of shapes/types ({shapes})"
                             + (f" and {sorted(kwargs)}" if kwargs else "")) from exc


def _problem(T: int, B: int, D: int, H: int, O: int, seed: int):
    """A random RNN (nonzero biases, radius a little above 1), inputs and targets."""
    rng = np.random.default_rng(seed)
    params = init_rnn(D, H, O, seed=seed)
    params["W_hh"] *= 1.2
    params["b_h"] += 0.3 * rng.standard_normal(H)
    params["b_y"] += 0.3 * rng.standard_normal(O)
    return params, rng.standard_normal((T, B, D)), rng.standard_normal((T, B, O))


def _snapshot(*arrays):
    return [a.copy() for a in arrays]


def _unchanged(name: str, before, after, labels) -> None:
    for b, a, label in zip(before, after, labels):
        if not np.array_equal(a, b):
            raise AssertionError(f"{name} changed its argument {label} in place; its caller "
                                 "still needs it. Work on copies.")


# --------------------------------------------------------------------------
# HW2: the total derivatives dL/dh_t
# --------------------------------------------------------------------------

def check_return_dh(fn: Callable) -> None:
    r"""Check ``fn(params, x, h, dy, return_dh=True)["h"]``, the total derivatives :math:`\bar h_t`.

    Parameters
    ----------
    fn : callable
        An ``rnn_backward`` with the package's signature. With ``return_dh=True``
        its dict must also hold ``"h"``, shape ``(T+1, B, H)``:
        ``[t]`` is :math:`\partial L/\partial h_t` for t = 0..T, so ``[0]``
        equals ``"h0"``.

    Raises
    ------
    AssertionError
        When ``"h"`` is missing, has the wrong shape, or differs from the package.
    """
    for T, B, D, H, O in [(4, 2, 3, 5, 2), (1, 1, 2, 3, 4), (6, 3, 2, 2, 3)]:
        params, x, dy = _problem(T, B, D, H, O, seed=T)
        h0 = 0.5 * np.random.default_rng(T).standard_normal((B, H))
        _, h = rnn_forward(params, x, h0)
        want = rnn_backward(params, x, h, dy, return_dh=True)["h"]
        where = f"(T, B, D, H, O) = {(T, B, D, H, O)}"
        got = _call(fn, "rnn_backward", params, x, h, dy, return_dh=True)
        if not isinstance(got, dict) or "h" not in got:
            keys = list(got) if isinstance(got, dict) else type(got).__name__
            raise AssertionError(f"rnn_backward(..., return_dh=True) must return its dict with "
                                 f"an extra key 'h'; got keys {keys} for {where}.")
        dh = got["h"]
        if not isinstance(dh, np.ndarray) or dh.shape != want.shape:
            raise AssertionError(f"grads['h'] must have shape (T+1, B, H) = {want.shape}, got "
                                 f"{getattr(dh, 'shape', type(dh).__name__)} for {where}.")
        wrong = [t for t in range(T + 1) if rel_error(dh[t], want[t]) > _TOL]
        if wrong:
            t = wrong[0]
            hint = (" grads['h'][0] is dL/dh_0, the same as grads['h0']." if t == 0 else
                    " Store hbar_t, the total derivative before the tanh derivative is applied "
                    "(the gradient from y_t plus the one flowing back from step t+1).")
            raise AssertionError(f"grads['h'] is wrong for {where} at t = {wrong} "
                                 f"(relative error {rel_error(dh[t], want[t]):.2e} at t = {t})."
                                 + hint)


# --------------------------------------------------------------------------
# HW2: the student's finite-difference check of a backward pass
# --------------------------------------------------------------------------

def _broken(kind: str) -> Callable:
    """A backward pass with one known bug, to see that a gradient check catches it."""
    def backward(params, x, h, dy, truncate=None, *, return_dh=False):
        g = rnn_backward(params, x, h, dy)
        if kind == "W_hh":
            g["W_hh"] = g["W_hh"].T.copy()           # a transposed gradient
        elif kind == "b_h":
            g["b_h"] = 2.0 * g["b_h"]                # a factor 2 too many
        elif kind == "x":
            g["x"] = np.zeros_like(g["x"])           # the input gradient forgotten
        return g
    return backward


def check_gradient_check(fn: Callable) -> None:
    r"""Check a finite-difference check ``fn(backward, params, x, target, eps=1e-6) -> errors``.

    Parameters
    ----------
    fn : callable
        Compares the gradients that ``backward`` (a function with
        ``rnn_backward``'s signature) returns for the mean squared error
        ``mse_loss(rnn_forward(params, x)[0], target)`` with centred
        differences of that loss, and returns a dict of relative errors
        (:func:`bptt.gradcheck.rel_error`) for the keys ``W_xh``, ``W_hh``,
        ``b_h``, ``W_hy``, ``b_y`` and ``x``. ``params`` and ``x`` must be left
        as they were.

    Raises
    ------
    AssertionError
        When the correct backward pass is not accepted (an error above 1e-6),
        or when a backward pass with a known bug (a transposed ``W_hh``
        gradient, a ``b_h`` gradient twice too big, a zero ``x`` gradient) is
        not caught on the right key (an error below 1e-3) or is blamed on
        another key.
    """
    keys = (*PARAM_KEYS, "x")
    params, x, target = _problem(3, 2, 3, 4, 2, seed=11)
    before = _snapshot(x, *params.values())
    errors = _call(fn, "gradient_check", rnn_backward, params, x, target, eps=1e-6)
    _unchanged("gradient_check", before, [x, *params.values()], ["x", *PARAM_KEYS])
    if not isinstance(errors, dict) or not set(keys) <= set(errors):
        got = list(errors) if isinstance(errors, dict) else type(errors).__name__
        raise AssertionError(f"gradient_check must return a dict with the keys {list(keys)}, "
                             f"got {got}.")
    bad = {k: float(errors[k]) for k in keys if not float(errors[k]) < 1e-6}
    if bad:
        raise AssertionError(f"gradient_check rejects the package's correct rnn_backward: "
                             f"relative errors {bad} (a correct check gives below 1e-6). Is the "
                             "loss the mean squared error of rnn_forward's y, is each entry "
                             "perturbed by +eps and -eps, and is the difference divided by 2 eps?")
    for kind, hint in [("W_hh", "a transposed W_hh gradient"),
                       ("b_h", "a b_h gradient twice too big"),
                       ("x", "an x gradient of zeros")]:
        errors = _call(fn, "gradient_check", _broken(kind), params, x, target, eps=1e-6)
        if not float(errors[kind]) > 1e-3:
            raise AssertionError(f"gradient_check does not catch {hint}: it reports a relative "
                                 f"error of {float(errors[kind]):.2e} for {kind!r} (expected "
                                 "well above 1e-3). Does it compare backward's gradient, not one "
                                 "computed some other way?")
        others = {k: float(errors[k]) for k in keys if k != kind and not float(errors[k]) < 1e-6}
        if others:
            raise AssertionError(f"with only {kind!r} wrong ({hint}), gradient_check also "
                                 f"reports errors {others} for other keys.")


# --------------------------------------------------------------------------
# HW3: gradient norm against time lag
# --------------------------------------------------------------------------

def check_lag_norms(fn: Callable) -> None:
    r"""Check ``fn(params, x, dy_T) -> norms``, the gradient norm against time lag.

    Parameters
    ----------
    fn : callable
        For an RNN run from ``h0 = 0`` on ``x (T, B, D)`` with a loss at the
        last step only, :math:`\partial L/\partial y_T` = ``dy_T (B, O)``,
        returns ``norms (T+1, B)`` with ``norms[tau, b]`` the Euclidean norm of
        :math:`\partial L/\partial h_{T-\tau}` for sequence b.

    Raises
    ------
    AssertionError
        When the shape or values differ from :func:`bptt.dynamics.gradient_norm_by_lag`.
    """
    for T, B, D, H, O in [(8, 3, 2, 5, 3), (1, 1, 3, 2, 2), (5, 2, 4, 4, 1)]:
        params, x, dy = _problem(T, B, D, H, O, seed=20 + T)
        dy_T = dy[-1]
        _, h = rnn_forward(params, x)
        want = gradient_norm_by_lag(params, h, dy_T @ params["W_hy"])
        where = f"(T, B, D, H, O) = {(T, B, D, H, O)}"
        before = _snapshot(x, dy_T)
        got = _call(fn, "lag_norms", params, x, dy_T)
        _unchanged("lag_norms", before, [x, dy_T], ["x", "dy_T"])
        if not isinstance(got, np.ndarray) or got.shape != want.shape:
            raise AssertionError(f"lag_norms must return an array of shape (T+1, B) = "
                                 f"{want.shape}, got {getattr(got, 'shape', type(got).__name__)} "
                                 f"for {where}.")
        if rel_error(got, want) > _TOL:
            if rel_error(got, want[::-1]) <= _TOL:
                raise AssertionError(f"lag_norms is reversed for {where}: index it by the lag "
                                     "tau = T - t (norms[0] is the last step), not by t.")
            raise AssertionError(f"lag_norms is wrong for {where}: relative error "
                                 f"{rel_error(got, want):.2e}; expected norms[:, 0] = "
                                 f"{np.round(want[:, 0], 6)}, got {np.round(got[:, 0], 6)}. "
                                 "dy is zero except at the last step, where it is dy_T.")


# --------------------------------------------------------------------------
# HW4: sampling and training a character model
# --------------------------------------------------------------------------

def _greedy(params, h, index, n) -> np.ndarray:
    V = params["W_xh"].shape[1]
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        h = rnn_step_forward(params, np.eye(V)[[index]], h)
        index = int(np.argmax(h @ params["W_hy"].T + params["b_y"]))
        out[i] = index
    return out


def check_sample(fn: Callable) -> None:
    r"""Check ``fn(params, h, index, n, rng, temperature=1.0) -> indices``, sampling characters.

    Parameters
    ----------
    fn : callable
        Starting from the hidden state ``h (1, H)``, feeds the one-hot vector of
        character ``index``, draws the next character from
        :math:`\operatorname{softmax}(y / \text{temperature})` with ``rng``,
        feeds it, and so on: returns the ``n`` characters drawn, integers in
        ``[0, V)``. ``params`` is a character model (``D = O = V``).

    Raises
    ------
    AssertionError
        When the result has the wrong length or values, when a near-zero
        temperature does not give the most likely character at every step,
        or when the first character's frequencies (over 3000 draws) are far
        from the softmax probabilities.
    """
    V, H = 6, 5
    params = init_rnn(V, H, V, seed=3)
    params["W_hy"] *= 3.0             # a peaked distribution: greedy differs from random
    h = 0.3 * np.random.default_rng(4).standard_normal((1, H))
    before = _snapshot(h, *params.values())
    got = _call(fn, "sample", params, h, 2, 12, np.random.default_rng(0))
    _unchanged("sample", before, [h, *params.values()], ["h", *PARAM_KEYS])
    got = np.asarray(got)
    if got.shape != (12,) or not np.issubdtype(got.dtype, np.integer):
        raise AssertionError(f"sample(..., n=12, ...) must return 12 integer character indices, "
                             f"got shape {got.shape} and dtype {got.dtype}.")
    if got.min() < 0 or got.max() >= V:
        raise AssertionError(f"sample returned indices outside [0, V) = [0, {V}): {got}.")
    greedy = np.asarray(_call(fn, "sample", params, h, 2, 12, np.random.default_rng(1),
                              temperature=1e-3))
    want = _greedy(params, h, 2, 12)
    if not np.array_equal(greedy, want):
        raise AssertionError(f"with temperature=1e-3, sample must pick the most likely character "
                             f"at every step: expected {want.tolist()}, got {greedy.tolist()}. "
                             "Divide the logits by the temperature before the softmax (a "
                             "stable softmax, such as bptt.losses.softmax, avoids overflow), "
                             "and feed each drawn character back in as the next input.")
    rng = np.random.default_rng(2)
    first = np.array([int(np.asarray(fn(params, h, 2, 1, rng))[0]) for _ in range(3000)])
    freq = np.bincount(first, minlength=V) / first.size
    y = rnn_step_forward(params, np.eye(V)[[2]], h) @ params["W_hy"].T + params["b_y"]
    p = softmax(y[0])
    tv = 0.5 * float(np.abs(freq - p).sum())
    if tv > 0.05:
        raise AssertionError(f"the first character drawn does not follow softmax(y_1): over 3000 "
                             f"draws its frequencies are {np.round(freq, 3)} but the "
                             f"probabilities are {np.round(p, 3)} (total variation {tv:.3f}). "
                             "Draw with rng.choice(V, p=probabilities).")


def check_train_char_rnn(fn: Callable) -> None:
    r"""Check ``fn(text, *, hidden_size, seq_len, batch_size, n_steps, lr, max_norm, seed)``.

    Parameters
    ----------
    fn : callable
        Trains a character model on ``text`` with truncated BPTT and returns
        ``(params, vocab, losses)``: the trained parameters (``D = O = V``),
        the :class:`bptt.data.CharVocab` of ``text``, and the loss of every
        step, shape ``(n_steps,)``.

    Raises
    ------
    AssertionError
        When the outputs have the wrong types or shapes, when the same seed
        does not give the same losses, or when 200 steps on
        :data:`bptt.data.SAMPLE_TEXT` do not bring the mean loss of the last
        20 steps below ``0.6 log V`` (a correct implementation reaches about
        ``0.45 log V``; guessing uniformly costs ``log V``).
    """
    config = dict(hidden_size=32, seq_len=25, batch_size=4, n_steps=200, lr=0.1, max_norm=5.0,
                  seed=0)
    out = _call(fn, "train_char_rnn", SAMPLE_TEXT, **config)
    if not isinstance(out, tuple) or len(out) != 3:
        raise AssertionError("train_char_rnn must return the triple (params, vocab, losses).")
    params, vocab, losses = out
    if not isinstance(vocab, CharVocab) or vocab.chars != CharVocab(SAMPLE_TEXT).chars:
        raise AssertionError("the vocab returned must be CharVocab(text).")
    V = vocab.size
    shapes = {"W_xh": (32, V), "W_hh": (32, 32), "b_h": (32,), "W_hy": (V, 32), "b_y": (V,)}
    if not isinstance(params, dict) or any(
            getattr(params.get(k), "shape", None) != s for k, s in shapes.items()):
        raise AssertionError(f"params must have the shapes {shapes} (D = O = V = {V}, "
                             "H = hidden_size).")
    losses = np.asarray(losses, dtype=float)
    if losses.shape != (200,) or not np.all(np.isfinite(losses)):
        raise AssertionError(f"losses must hold n_steps = 200 finite numbers, got shape "
                             f"{losses.shape}" + ("" if np.all(np.isfinite(losses))
                                                  else " with NaN or infinity") + ".")
    again = np.asarray(_call(fn, "train_char_rnn", SAMPLE_TEXT, **config)[2], dtype=float)
    if not np.array_equal(again, losses):
        raise AssertionError("two runs with the same seed give different losses: draw every "
                             "random number from a generator seeded with seed.")
    final, bound = float(losses[-20:].mean()), 0.6 * float(np.log(V))
    if not final < bound:
        raise AssertionError(f"after 200 steps (hidden_size=32, seq_len=25, batch_size=4, lr=0.1, "
                             f"max_norm=5) the mean loss of the last 20 steps is {final:.3f}; a "
                             f"correct implementation gets below 0.6 log V = {bound:.3f}. "
                             f"The first 20 steps averaged {float(losses[:20].mean()):.3f}. Is "
                             "the hidden state carried from one chunk to the next, and are the "
                             "gradients applied with the optimiser?")
