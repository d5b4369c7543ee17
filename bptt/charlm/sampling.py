r"""Sampling text from a character model, one character at a time, at a temperature.

Each step feeds the last character (one-hot) and the carried state through
the model's forward pass for one step, turns the output into probabilities
at temperature :math:`\tau`, :math:`p = \operatorname{softmax}(y / \tau)`, and
draws the next character from them. :math:`\tau < 1` sharpens the
distribution (safer, more repetitive text), :math:`\tau > 1` flattens it.

A prime is read first (its characters are not repeated in the output); with
no prime the model starts from a zero state after a newline, as at the start
of a line of the text (or after its first character, if it has no newline).
"""
from __future__ import annotations

import numpy as np

from ..losses import softmax
from ..validate import check_nonneg_int, check_positive_float, check_positive_int
from .evaluation import _check_lm
from .lm import encode, final_state, one_hot

__all__ = ["sample"]


def sample(model, length: int, temperature: float = 1.0, seed: int = 0, prime: str = "") -> str:
    r"""Draw ``length`` characters from ``model``, after reading ``prime``.

    Parameters
    ----------
    model : CharLM
        From :func:`bptt.charlm.train_charlm` or :func:`bptt.charlm.load_model`.
    length : int
        Characters to draw, >= 1.
    temperature : float
        :math:`\tau > 0`.
    seed : int
        Seeds the ``numpy.random.default_rng`` that draws: the same seed, the same text.
    prime : str
        Text to read first; every character must be in the model's vocabulary.

    Returns
    -------
    str
        The ``length`` drawn characters (without the prime).
    """
    lm = _check_lm(model)
    n = check_positive_int("length", length)
    tau = check_positive_float("temperature", temperature)
    rng = np.random.default_rng(check_nonneg_int("seed", seed))
    if not isinstance(prime, str):
        raise TypeError(f"prime must be a str, got {type(prime).__name__}")
    chars = lm.vocab.chars
    codes = encode(lm.vocab, prime, "prime") if prime else \
        np.array([chars.index("\n") if "\n" in chars else 0])
    V, dtype, forward = lm.vocab_size, lm.dtype, lm.model.forward
    # Read all but the prime's last character in one pass; the loop feeds the last.
    state = ()
    if codes.shape[0] > 1:
        _, cache = forward(lm.params, one_hot(codes[:-1, None], V, dtype))
        state = final_state(cache)
    out = np.empty(n, dtype=np.int64)
    last = int(codes[-1])
    u = rng.random(n)
    for i in range(n):
        y, cache = forward(lm.params, one_hot(np.array([[last]]), V, dtype), *state)
        state = final_state(cache)
        p = softmax(y[0, 0].astype(np.float64) / tau)
        # Inverse-CDF draw; the min guards against a cumulative sum just below 1.
        last = min(int(np.searchsorted(np.cumsum(p), u[i], side="right")), V - 1)
        out[i] = last
    return lm.vocab.decode(out)
