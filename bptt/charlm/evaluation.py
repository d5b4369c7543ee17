r"""Bits per character on a whole text: B streams, the state carried, no gradient.

The loss of a character model is the cross-entropy of each next character,
in nats (:func:`bptt.losses.softmax_cross_entropy`). Divided by :math:`\ln 2`
it is in bits per character (bpc): the length of the code the model would
give the text. A uniform guess over V characters costs :math:`\log_2 V`
(6.02 bits for V = 65).

:func:`evaluate_bpc` scores every character of a text but the first (which
has nothing to be predicted from). To be fast it reads the text as B
contiguous streams side by side, each from a zero state, the state carried
from chunk to chunk (a chunk's length changes nothing but memory). The
``N - 1 - B L`` characters left over after B streams of L targets continue
the last stream, from its final state, in a batch of one: every character
is scored once, with all the context of its stream before it.
"""
from __future__ import annotations

import numpy as np

from ..validate import check_positive_int
from .lm import CharLM, encode, final_state, one_hot

__all__ = ["evaluate_bpc", "stream_nats"]


def _check_lm(lm) -> CharLM:
    if not isinstance(lm, CharLM):
        raise TypeError(f"model must be a bptt.charlm.CharLM (from train_charlm or "
                        f"load_model), got {type(lm).__name__}")
    return lm


def stream_nats(lm: CharLM, codes: np.ndarray, state: tuple = (), *, seq_len: int = 100):
    """Summed cross-entropy (nats) of ``codes[1:, b]`` given ``codes[:-1, b]``, chunk by chunk.

    Parameters
    ----------
    lm : CharLM
    codes : ndarray of int, shape (N+1, B)
        B streams side by side, time first.
    state : tuple of ndarray (B, H)
        The initial states; ``()`` is zeros.
    seq_len : int
        Steps per forward pass (memory only).

    Returns
    -------
    nats : float
        The sum over the N*B targets, in float64.
    state : tuple of ndarray (B, H)
        The final states.
    """
    model, V, dtype = lm.model, lm.vocab_size, lm.dtype
    total = 0.0
    for s in range(0, codes.shape[0] - 1, seq_len):
        inputs, targets = codes[s:s + seq_len], codes[s + 1:s + seq_len + 1]
        inputs = inputs[:targets.shape[0]]
        y, cache = model.forward(lm.params, one_hot(inputs, V, dtype), *state)
        state = final_state(cache)
        # -log softmax(y)[target], stably, summed in float64.
        y = y.astype(np.float64)
        y -= y.max(axis=-1, keepdims=True)
        lse = np.log(np.exp(y).sum(axis=-1))
        picked = np.take_along_axis(y, targets[..., None].astype(np.intp), axis=-1)[..., 0]
        total += float(np.sum(lse - picked))
    return total, state


def evaluate_bpc(model: CharLM, text: str, *, batch_size: int = 32, seq_len: int = 100) -> float:
    r"""The model's loss on every character of ``text`` after the first, in bits per character.

    Parameters
    ----------
    model : CharLM
        A model from :func:`bptt.charlm.train_charlm` or :func:`bptt.charlm.load_model`.
    text : str
        At least 2 characters, all in the model's vocabulary.
    batch_size : int
        Streams read side by side (each starts from a zero state, so the
        result depends on it slightly: B - 1 more characters without context).
    seq_len : int
        Characters per forward pass; does not change the result.

    Returns
    -------
    float
        :math:`\frac{1}{N-1}\sum_{n=1}^{N-1} -\log_2 p(c_n \mid \text{its stream before it})`.
    """
    lm = _check_lm(model)
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if len(text) < 2:
        raise ValueError(f"text must hold at least 2 characters (an input and a target) to "
                         f"be scored, got {len(text)}")
    B = check_positive_int("batch_size", batch_size)
    K = check_positive_int("seq_len", seq_len)
    codes = encode(lm.vocab, text, "text")
    N = codes.shape[0] - 1                   # targets
    B = min(B, N)
    L = N // B
    # Stream b: inputs codes[bL .. bL+L-1], targets codes[bL+1 .. bL+L].
    streams = codes[np.arange(B)[:, None] * L + np.arange(L + 1)[None, :]].T    # (L+1, B)
    nats, state = stream_nats(lm, streams, seq_len=K)
    rest = codes[B * L:]                     # continues stream B-1: r+1 codes, r = N - B L
    if rest.shape[0] > 1:
        more, _ = stream_nats(lm, rest[:, None], tuple(s[-1:] for s in state), seq_len=K)
        nats += more
    return nats / N / np.log(2.0)
