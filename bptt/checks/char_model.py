r"""Checks of the character model: ``sample`` and ``train_char_rnn`` (homework 4).

``sample`` is checked on a small character model with a peaked output layer:
the characters it returns, greedy sampling at a temperature near zero, and
the frequencies of the first character over 3000 draws. ``train_char_rnn`` is
checked for what any correct implementation achieves: its outputs' types and
shapes, the same losses for the same seed, and a loss well below guessing.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..data import SAMPLE_TEXT, CharVocab
from ..losses import softmax
from ..rnn import init_rnn, rnn_step_forward
from ._harness import Call, Check, Failure, Problem, call_failure

__all__ = ["check_sample", "check_train_char_rnn"]


def _final(text: str) -> Failure:
    return Failure((text,), True)


# --------------------------------------------------------------------------
# sample
# --------------------------------------------------------------------------

def _greedy(params, h, index, n) -> np.ndarray:
    V = params["W_xh"].shape[1]
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        h = rnn_step_forward(params, np.eye(V)[[index]], h)
        index = int(np.argmax(h @ params["W_hy"].T + params["b_y"]))
        out[i] = index
    return out


def draw_sample(seed) -> list[Problem]:
    """(a) A model with V = 6 characters: 12 draws, 12 greedy ones, then 3000 first characters."""
    V, H = 6, 5
    params = init_rnn(V, H, V, seed=3)
    params["W_hy"] *= 3.0             # a peaked distribution: greedy differs from random
    h = 0.3 * np.random.default_rng((seed, 10)).standard_normal((1, H))
    y = rnn_step_forward(params, np.eye(V)[[2]], h) @ params["W_hy"].T + params["b_y"]

    def args(n, rng_seed):
        return {"params": params, "h": h, "index": 2, "n": n,
                "rng": np.random.default_rng((seed, 10, rng_seed))}
    return [
        Problem("n = 12", args(12, 0), facts={"test": "draws", "V": V}),
        Problem("n = 12, temperature=1e-3", args(12, 1), {"temperature": 1e-3},
                facts={"test": "greedy", "want": _greedy(params, h, 2, 12)}),
        Problem("n = 1, 3000 calls with one generator", args(1, 2), calls=3000,
                facts={"test": "frequencies", "V": V, "p": softmax(y[0])}),
    ]


def judge_sample(problem: Problem, result: Call) -> Failure | None:
    """(c) Integer indices in [0, V); greedy at temperature 1e-3; softmax frequencies."""
    failure = call_failure("sample", problem, result)
    if failure:
        return failure
    facts = problem.facts
    if facts["test"] == "draws":
        got, V = np.asarray(result.output), facts["V"]
        if got.shape != (12,) or not np.issubdtype(got.dtype, np.integer):
            return _final(f"sample(..., n=12, ...) must return 12 integer character indices, "
                          f"got shape {got.shape} and dtype {got.dtype}.")
        if got.min() < 0 or got.max() >= V:
            return _final(f"sample returned indices outside [0, V) = [0, {V}): {got}.")
    elif facts["test"] == "greedy":
        got, want = np.asarray(result.output), facts["want"]
        if not np.array_equal(got, want):
            return _final(f"with temperature=1e-3, sample must pick the most likely character "
                          f"at every step: expected {want.tolist()}, got {got.tolist()}. "
                          "Divide the logits by the temperature before the softmax (a stable "
                          "softmax, such as bptt.losses.softmax, avoids overflow), and feed "
                          "each drawn character back in as the next input.")
    else:
        first = np.array([int(np.asarray(out)[0]) for out in result.output])
        freq = np.bincount(first, minlength=facts["V"]) / first.size
        p = facts["p"]
        tv = 0.5 * float(np.abs(freq - p).sum())
        if tv > 0.05:
            return _final(f"the first character drawn does not follow softmax(y_1): over 3000 "
                          f"draws its frequencies are {np.round(freq, 3)} but the "
                          f"probabilities are {np.round(p, 3)} (total variation {tv:.3f}). "
                          "Draw with rng.choice(V, p=probabilities).")
    return None


SAMPLE = Check("sample", draw_sample, judge_sample)


def check_sample(fn: Callable, *, seed: int = 0, full: bool = False) -> None:
    r"""Check ``fn(params, h, index, n, rng, temperature=1.0) -> indices``, sampling characters.

    Parameters
    ----------
    fn : callable
        Starting from the hidden state ``h (1, H)``, feeds the one-hot vector of
        character ``index``, draws the next character from
        :math:`\operatorname{softmax}(y / \text{temperature})` with ``rng``,
        feeds it, and so on: returns the ``n`` characters drawn, integers in
        ``[0, V)``. ``params`` is a character model (``D = O = V``).
    seed : int, keyword-only
        Seed of the state and of the random generators given to ``fn``.
    full : bool, keyword-only
        Show the whole report, not only its first dozen lines.

    Raises
    ------
    AssertionError
        When ``fn`` raises or modifies its inputs, when the result has the
        wrong length or values, when a near-zero temperature does not give
        the most likely character at every step, or when the first
        character's frequencies (over 3000 draws) are far from the softmax
        probabilities.
    """
    __tracebackhide__ = True
    SAMPLE.run(fn, seed, full)


# --------------------------------------------------------------------------
# train_char_rnn
# --------------------------------------------------------------------------

_CONFIG = dict(hidden_size=32, seq_len=25, batch_size=4, n_steps=200, lr=0.1, max_norm=5.0,
               seed=0)


def draw_train_char_rnn(seed) -> list[Problem]:
    """(a) Two runs of 200 steps on SAMPLE_TEXT with one configuration (``seed`` is unused)."""
    return [Problem("SAMPLE_TEXT, " + ", ".join(f"{k}={v}" for k, v in _CONFIG.items()),
                    {"text": SAMPLE_TEXT}, dict(_CONFIG), calls=2)]


def judge_train_char_rnn(problem: Problem, result: Call) -> Failure | None:
    """(c) The triple's types and shapes, the same losses twice, the final loss."""
    failure = call_failure("train_char_rnn", problem, result)
    if failure:
        return failure
    out, again = result.output
    if not isinstance(out, tuple) or len(out) != 3:
        return _final("train_char_rnn must return the triple (params, vocab, losses).")
    params, vocab, losses = out
    if not isinstance(vocab, CharVocab) or vocab.chars != CharVocab(SAMPLE_TEXT).chars:
        return _final("the vocab returned must be CharVocab(text).")
    V = vocab.size
    shapes = {"W_xh": (32, V), "W_hh": (32, 32), "b_h": (32,), "W_hy": (V, 32), "b_y": (V,)}
    if not isinstance(params, dict) or any(
            getattr(params.get(k), "shape", None) != s for k, s in shapes.items()):
        return _final(f"params must have the shapes {shapes} (D = O = V = {V}, "
                      "H = hidden_size).")
    losses = np.asarray(losses, dtype=float)
    if losses.shape != (200,) or not np.all(np.isfinite(losses)):
        return _final(f"losses must hold n_steps = 200 finite numbers, got shape {losses.shape}"
                      + ("" if np.all(np.isfinite(losses)) else " with NaN or infinity") + ".")
    again = again[2] if isinstance(again, tuple) and len(again) == 3 else None
    if not np.array_equal(np.asarray(again, dtype=float), losses):
        return _final("two runs with the same seed give different losses: draw every random "
                      "number from a generator seeded with seed.")
    final, bound = float(losses[-20:].mean()), 0.6 * float(np.log(V))
    if not final < bound:
        return _final(f"after 200 steps (hidden_size=32, seq_len=25, batch_size=4, lr=0.1, "
                      f"max_norm=5) the mean loss of the last 20 steps is {final:.3f}; a "
                      f"correct implementation gets below 0.6 log V = {bound:.3f}. The first "
                      f"20 steps averaged {float(losses[:20].mean()):.3f}. Is the hidden state "
                      "carried from one chunk to the next, and are the gradients applied with "
                      "the optimiser?")
    return None


TRAIN_CHAR_RNN = Check("train_char_rnn", draw_train_char_rnn, judge_train_char_rnn)


def check_train_char_rnn(fn: Callable, *, full: bool = False) -> None:
    r"""Check ``fn(text, *, hidden_size, seq_len, batch_size, n_steps, lr, max_norm, seed)``.

    Parameters
    ----------
    fn : callable
        Trains a character model on ``text`` with truncated BPTT and returns
        ``(params, vocab, losses)``: the trained parameters (``D = O = V``),
        the :class:`bptt.data.CharVocab` of ``text``, and the loss of every
        step, shape ``(n_steps,)``.
    full : bool, keyword-only
        Show the whole report, not only its first dozen lines.

    Raises
    ------
    AssertionError
        When the outputs have the wrong types or shapes, when the same seed
        does not give the same losses, or when 200 steps on
        :data:`bptt.data.SAMPLE_TEXT` do not bring the mean loss of the last
        20 steps below ``0.6 log V`` (a correct implementation reaches about
        ``0.45 log V``; guessing uniformly costs ``log V``).
    """
    __tracebackhide__ = True
    TRAIN_CHAR_RNN.run(fn, full=full)
