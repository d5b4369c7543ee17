r"""A faithful reimplementation of Karpathy's min-char-rnn, the reference of issue 13's targets.

min-char-rnn (Andrej Karpathy, 2015, https://gist.github.com/karpathy/d4dee566867f8291f086,
BSD licence) is the 112-line numpy character model that many readers meet first.
This module is written anew from its algorithm, not copied, so that
``bench_charlm.py`` can train it and the package's character model side by side,
in one run, on the same text and machine.

What is faithful (the same maths, in the same order, with the same per-step work)
------------------------------------------------------------------------------------
* Model: a vanilla tanh RNN on one-hot characters, stored as column vectors,
  :math:`h_t = \tanh(W_{xh} x_t + W_{hh} h_{t-1} + b_h)`,
  :math:`y_t = W_{hy} h_t + b_y`, :math:`p_t = \mathrm{softmax}(y_t)`;
  ``Wxh (H, V)``, ``Whh (H, H)``, ``Why (V, H)``, ``bh (H, 1)``, ``by (V, 1)``.
* Initialisation: every weight ``randn * 0.01``, biases zero.
* Hyperparameters: ``H = 100``, ``seq_length = 25``, batch 1, learning rate 0.1.
* Loss: cross-entropy :math:`-\log p_t[\text{target}]` *summed* (not averaged)
  over the 25 steps of a chunk.
* Backward: BPTT over the chunk, one step at a time, with the gradients
  accumulated inside the time loop exactly as the gist does (``dy = p - onehot``,
  ``dWhy += dy h^T``, ``dh = Why^T dy + dhnext``, ``dhraw = (1 - h^2) dh``,
  ``dWxh += dhraw x^T`` with the full one-hot ``x``, ``dWhh += dhraw h_{t-1}^T``,
  ``dhnext = Whh^T dhraw``). The per-step products are the gist's
  matrix-vector products, so this runs at the gist's speed, not faster.
* Carried state: the last hidden state of a chunk is the first of the next
  (``hprev``); no gradient flows between chunks (truncated BPTT, K = 25).
* Clipping: every entry of every gradient clipped to ``[-5, 5]``.
* Adagrad: ``mem += g * g``; ``param -= lr * g / sqrt(mem + 1e-8)``.
* Data pointer: chunks ``data[p : p + 25]`` with targets ``data[p + 1 : p + 26]``,
  ``p += 25``; when ``p + 25 + 1 >= len(data)`` (and at the start) ``p`` goes
  back to 0 and the hidden state to zeros.

What differs, and why it does not favour the package
----------------------------------------------------
* No sampling or printing: the gist samples 200 characters and prints every
  100 iterations. That costs time and does not train, so leaving it out makes
  this reference *faster* than the gist (the speed ratio is conservative).
* Softmax subtracts the largest logit before ``exp``: the same probabilities,
  without the gist's overflow if a logit ever exceeds ~709.
* Vocabulary: sorted characters (the gist's ``list(set(data))`` has an order
  that changes from run to run); optionally given, so that a validation text
  can be encoded with the training text's codes.
* Random numbers: ``numpy.random.default_rng(seed)`` instead of the global
  ``np.random.randn``, so a run is reproducible.
* It stops after a given number of seconds (or steps) and returns the
  parameters; the gist loops forever.

The validation measure, :func:`bits_per_char`, is written here once and takes
any model as a function from input codes and a carried state to logits, so the
package's models and this one are scored by the same code.
"""
from __future__ import annotations

import time

import numpy as np

__all__ = ["HIDDEN_SIZE", "SEQ_LENGTH", "LEARNING_RATE", "CLIP", "init_params",
           "loss_and_grads", "adagrad_update", "train_min_char_rnn", "logits_fn",
           "bits_per_char", "encode"]

HIDDEN_SIZE = 100
SEQ_LENGTH = 25
LEARNING_RATE = 0.1
CLIP = 5.0
EPS = 1e-8
KEYS = ("Wxh", "Whh", "Why", "bh", "by")


def encode(text: str, vocab: str) -> np.ndarray:
    """The codes of ``text``'s characters: ``vocab[code]`` is the character."""
    index = {c: i for i, c in enumerate(vocab)}
    return np.array([index[c] for c in text], dtype=np.int64)


def init_params(vocab_size: int, hidden_size: int = HIDDEN_SIZE, seed: int = 0) -> dict:
    """min-char-rnn's initialisation: weights ``randn * 0.01``, biases zero (column vectors)."""
    rng = np.random.default_rng(seed)
    H, V = hidden_size, vocab_size
    return {"Wxh": rng.standard_normal((H, V)) * 0.01,
            "Whh": rng.standard_normal((H, H)) * 0.01,
            "Why": rng.standard_normal((V, H)) * 0.01,
            "bh": np.zeros((H, 1)), "by": np.zeros((V, 1))}


def loss_and_grads(params: dict, inputs, targets, h_prev: np.ndarray, clip: float = CLIP):
    """Forward and BPTT over one chunk, as min-char-rnn's ``lossFun``.

    Parameters
    ----------
    params : dict
        ``Wxh (H, V)``, ``Whh (H, H)``, ``Why (V, H)``, ``bh (H, 1)``, ``by (V, 1)``.
    inputs, targets : sequences of int, length T
        Character codes; ``targets[t]`` is the character after ``inputs[t]``.
    h_prev : ndarray, shape (H, 1)
        The hidden state carried from the previous chunk.
    clip : float or None
        Clip every gradient entry to ``[-clip, clip]`` (min-char-rnn: 5);
        None leaves them unclipped (for gradient checks).

    Returns
    -------
    loss : float
        Cross-entropy summed over the T steps, in nats.
    grads : dict
        The gradient of every key of ``params``, clipped.
    h_last : ndarray, shape (H, 1)
        The last hidden state, to carry into the next chunk (no gradient path).
    """
    Wxh, Whh, Why, bh, by = (params[k] for k in KEYS)
    V = Wxh.shape[1]
    xs, hs, ps = {}, {-1: h_prev}, {}
    loss = 0.0
    for t, (i, j) in enumerate(zip(inputs, targets)):
        xs[t] = np.zeros((V, 1))
        xs[t][i] = 1.0                                    # one-hot input
        hs[t] = np.tanh(Wxh @ xs[t] + Whh @ hs[t - 1] + bh)
        y = Why @ hs[t] + by
        e = np.exp(y - y.max())
        ps[t] = e / e.sum()                               # softmax ...
        loss -= float(np.log(ps[t][j, 0]))                # ... and its cross-entropy
    grads = {k: np.zeros_like(params[k]) for k in KEYS}
    dh_next = np.zeros_like(h_prev)
    for t in reversed(range(len(inputs))):
        dy = ps[t].copy()
        dy[targets[t]] -= 1.0                             # d(-log p_j)/dy = p - onehot(j)
        grads["Why"] += dy @ hs[t].T
        grads["by"] += dy
        # The gradient from the loss at t meets the one flowing back from t+1.
        dh = Why.T @ dy + dh_next
        dh_raw = (1.0 - hs[t] * hs[t]) * dh               # tanh' = 1 - h^2
        grads["bh"] += dh_raw
        grads["Wxh"] += dh_raw @ xs[t].T
        grads["Whh"] += dh_raw @ hs[t - 1].T
        dh_next = Whh.T @ dh_raw
    if clip is not None:
        for g in grads.values():
            np.clip(g, -clip, clip, out=g)
    return loss, grads, hs[len(inputs) - 1]


def adagrad_update(params: dict, grads: dict, memory: dict, lr: float = LEARNING_RATE) -> None:
    """min-char-rnn's Adagrad, in place: ``mem += g^2``, ``p -= lr g / sqrt(mem + 1e-8)``."""
    for k in KEYS:
        memory[k] += grads[k] * grads[k]
        params[k] += -lr * grads[k] / np.sqrt(memory[k] + EPS)


def train_min_char_rnn(train_text: str, seconds: float, seed: int = 0, *,
                       vocab: str | None = None, hidden_size: int = HIDDEN_SIZE,
                       seq_length: int = SEQ_LENGTH, learning_rate: float = LEARNING_RATE,
                       max_steps: int | None = None, info: dict | None = None):
    """Train min-char-rnn on ``train_text`` for ``seconds`` of wall-clock time.

    Parameters
    ----------
    train_text : str
        The training text (the gist's ``data``).
    seconds : float
        Wall-clock budget; training stops at the first update that ends after it.
    seed : int
        Seed of the initialisation.
    vocab : str, optional
        The characters, code ``i`` being ``vocab[i]``; default the sorted
        characters of ``train_text``.
    hidden_size, seq_length, learning_rate : optional
        min-char-rnn's 100, 25 and 0.1 by default.
    max_steps : int, optional
        Also stop after this many updates (for tests).
    info : dict, optional
        Filled with ``steps`` (updates), ``seconds`` (wall time of the
        training loop, without encoding the text) and ``smooth_loss`` (the
        gist's running loss, nats per chunk).

    Returns
    -------
    params : dict
        The trained ``Wxh``, ``Whh``, ``Why``, ``bh``, ``by``.
    vocab : str
    chars_processed : int
        Characters trained on: ``seq_length`` per update (the gist's ``n * seq_length``).
    """
    vocab = "".join(sorted(set(train_text))) if vocab is None else vocab
    data = encode(train_text, vocab).tolist()           # Python ints, as the gist indexes
    if len(data) < seq_length + 2:
        raise ValueError(f"train_text must hold at least seq_length + 2 = {seq_length + 2} "
                         f"characters, got {len(data)}")
    params = init_params(len(vocab), hidden_size, seed)
    memory = {k: np.zeros_like(v) for k, v in params.items()}
    n, p = 0, 0
    h_prev = np.zeros((hidden_size, 1))
    smooth_loss = -np.log(1.0 / len(vocab)) * seq_length      # the gist's loss at step 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline and (max_steps is None or n < max_steps):
        if p + seq_length + 1 >= len(data):             # end of the text: start again
            h_prev = np.zeros((hidden_size, 1))
            p = 0
        inputs = data[p:p + seq_length]
        targets = data[p + 1:p + seq_length + 1]
        loss, grads, h_prev = loss_and_grads(params, inputs, targets, h_prev)
        smooth_loss = smooth_loss * 0.999 + loss * 0.001
        adagrad_update(params, grads, memory, learning_rate)
        p += seq_length
        n += 1
    if info is not None:
        info.update(steps=n, seconds=time.perf_counter() - start, smooth_loss=smooth_loss)
    return params, vocab, n * seq_length


def logits_fn(params: dict):
    """min-char-rnn's forward pass for :func:`bits_per_char`: ``(codes, h) -> (logits, h)``.

    ``codes (T, B)``, ``logits (T, B, V)``; ``h (H, B)`` carried (column
    vectors side by side), None meaning zeros. Selecting columns of ``Wxh``
    equals multiplying by the one-hot vectors.
    """
    Wxh, Whh, Why, bh, by = (params[k] for k in KEYS)

    def run(codes, h):
        T, B = codes.shape
        h = np.zeros((Whh.shape[0], B)) if h is None else h
        hs = np.empty((T, B, Whh.shape[0]))
        for t in range(T):
            h = np.tanh(Wxh[:, codes[t]] + Whh @ h + bh)
            hs[t] = h.T
        return hs @ Why.T + by[:, 0], h

    return run


def _nats(logits_of, codes, chunk: int) -> float:
    """Summed -ln p of ``codes[1:]`` given ``codes[:-1]``, ``codes (N+1, B)``, state carried."""
    total, state = 0.0, None
    for start in range(0, codes.shape[0] - 1, chunk):
        targets = codes[start + 1:start + chunk + 1]
        logits, state = logits_of(codes[start:start + targets.shape[0]], state)
        logits = np.asarray(logits, dtype=np.float64)
        m = logits.max(axis=-1, keepdims=True)            # log-softmax, shifted for safety
        log_z = m[..., 0] + np.log(np.exp(logits - m).sum(axis=-1))
        picked = np.take_along_axis(logits, targets[..., None], axis=-1)[..., 0]
        total += float(np.sum(log_z - picked))
    return total


def bits_per_char(logits_of, codes, chunk: int = 1000, streams: int = 1) -> float:
    r"""Bits per character of a model on an encoded text, the state carried along each stream.

    The same function scores every model of ``bench_charlm.py``: only
    ``logits_of`` differs.

    Parameters
    ----------
    logits_of : callable
        ``logits_of(codes (T, B), state) -> (logits (T, B, V), state)``: the
        model's scores for the character after each of ``codes``, given the
        state carried from the previous call (None: zeros). No gradient.
    codes : ndarray of int, shape (N,)
        The validation text, encoded.
    chunk : int
        Characters per call (memory only: the state is carried, so the result
        does not depend on it).
    streams : int
        1 (default) reads the text in one pass, the state carried from its
        first character to its last. ``B > 1`` reads it as B contiguous
        streams of ``L = (N - 1) // B`` targets side by side, each from a zero
        state (faster; each stream's first characters have less context); the
        ``N - 1 - B L`` characters left over are read as one more stream.

    Returns
    -------
    float
        :math:`\frac{1}{N-1} \sum_t -\log_2 p(c_{t+1} \mid \text{its stream before it})`,
        the mean over the ``N - 1`` predicted characters.
    """
    codes = np.asarray(codes)
    N = codes.shape[0] - 1
    B = max(1, min(int(streams), N))
    L = N // B
    layout = codes[np.arange(B)[None, :] * L + np.arange(L + 1)[:, None]]     # (L+1, B)
    total = _nats(logits_of, layout, chunk)
    if B * L < N:
        total += _nats(logits_of, codes[B * L:, None], chunk)
    return total / N / np.log(2.0)
