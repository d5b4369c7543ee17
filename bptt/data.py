r"""Seeded data for the book's examples: three synthetic tasks and character text.

* :func:`adding_problem`: remember two numbers marked anywhere in a long
  sequence and output their sum (a test of long-range memory).
* :func:`copy_task`: read a few symbols, wait, then write them back.
* :func:`sine_wave`: predict the next value of a sine wave.
* :class:`CharVocab` and :func:`char_batches`: character-level language modelling on
  :data:`SAMPLE_TEXT`, in the manner of Karpathy's min-char-rnn.

Every array is time-major, like the rest of :mod:`bptt`: inputs are
``(T, B, D)`` and per-step targets ``(T, B, ...)``. Float arrays are float64
unless a ``dtype`` is given; integer class indices are int64. Every generator
takes a ``seed`` for its own ``numpy.random.default_rng``, so the same
arguments always give the same arrays and nothing touches global random state.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

from .validate import check_float_dtype, check_nonneg_float, check_nonneg_int, check_positive_int

__all__ = [
    "adding_problem", "copy_task", "sine_wave", "CharVocab", "char_batches",
    "SAMPLE_TEXT", "SINE_OMEGA_RANGE",
]

#: Range of the angular frequency (radians per step) of :func:`sine_wave`:
#: periods from about 10 to about 63 steps.
SINE_OMEGA_RANGE = (0.1, 0.6)

#: A short English text for the character-level examples. Original text
#: written for this book (nothing copied), released with the book under CC BY 4.0.
SAMPLE_TEXT = """\
A recurrent network reads a sequence one step at a time. At every step it
mixes the new input with a hidden state that carries what it has seen so far,
and from that state it makes a guess about what comes next. The same weights
are used at every step, so a network that has learned to read one word can
read the next one in the same way.

To train it we unroll the loop. A network that ran for a hundred steps becomes
a deep network with a hundred layers that all share one set of weights. We run
it forward, measure the loss at each step, and then send the error back
through the layers in reverse order. This is backpropagation through time. The
gradient of a shared weight is the sum of its gradients at every step.

Going back through many steps, the error is multiplied again and again by the
same matrix. If that matrix shrinks vectors, the signal from the distant past
fades away; if it stretches them, the signal grows until it explodes. So a
plain recurrent network finds it hard to learn that an event long ago matters
now. Clipping the gradient tames the explosion; gated units such as the LSTM
give the error a path along which it need not fade.

In practice we often cut a long sequence into short pieces. We carry the
hidden state from one piece to the next, but we stop the gradient at the
border. This truncated form of the method is cheap, and it works well when the
things worth remembering are not too far apart.
"""


# --------------------------------------------------------------------------
# Argument checks specific to this module (the shared ones live in validate.py)
# --------------------------------------------------------------------------

def _rng(seed) -> np.random.Generator:
    """A fresh generator for ``seed``, which must be an int >= 0."""
    return np.random.default_rng(check_nonneg_int("seed", seed))


def _check_indices(name: str, indices, size: int | None = None) -> np.ndarray:
    """Return ``indices`` as an integer array, checking every entry is in ``[0, size)``.

    Lists and tuples are accepted (a sampling loop naturally builds a list of
    ints); an empty one becomes an empty int64 array.
    """
    a = indices if isinstance(indices, np.ndarray) else np.asarray(indices)
    if a.size == 0 and not isinstance(indices, np.ndarray):
        a = a.astype(np.int64)     # np.asarray([]) is float64: nothing to check
    if a.dtype == np.bool_ or not np.issubdtype(a.dtype, np.integer):
        raise TypeError(f"{name} must hold integer class indices, got dtype {a.dtype}")
    if a.size:
        lo, hi = int(a.min()), int(a.max())
        if lo < 0 or (size is not None and hi >= size):
            allowed = "in [0, %d)" % size if size is not None else ">= 0"
            raise ValueError(f"{name} must hold class indices {allowed}, "
                             f"got values from {lo} to {hi}")
    return a


# --------------------------------------------------------------------------
# Synthetic tasks
# --------------------------------------------------------------------------

def adding_problem(T: int, B: int, *, seed: int = 0, dtype=np.float64):
    r"""The adding problem: output the sum of the two marked numbers of a sequence.

    Introduced by Hochreiter & Schmidhuber (1997) and used as a benchmark of
    long-range memory by Le, Jaitly & Hinton (2015). Each step shows a number
    and a marker; the marker is 1 at exactly two steps, one in the first half
    (``0 <= t < T // 2``) and one in the second half (``T // 2 <= t < T``). At
    the end the network must output the sum of the two marked numbers, so it
    must hold the first one in its hidden state for up to ``T - 1`` steps.

    Parameters
    ----------
    T : int
        Sequence length, at least 2 (one marker per half).
    B : int
        Number of sequences.
    seed : int
        Seed of the ``numpy.random.default_rng`` that draws everything.
    dtype : numpy float dtype
        dtype of both outputs (default float64).

    Returns
    -------
    x : ndarray, shape (T, B, 2)
        ``x[..., 0]``: numbers drawn uniformly from :math:`[0, 1)`;
        ``x[..., 1]``: the marker, 1.0 at the two marked steps, 0.0 elsewhere.
    target : ndarray, shape (B, 1)
        The sum of the two marked numbers, to be compared with the output at
        the last step, ``y[-1]``.

    Notes
    -----
    The baseline to beat is the constant prediction 1, which ignores the
    input entirely. The target is :math:`S = u_1 + u_2` with
    :math:`u_1, u_2 \sim U(0, 1)` independent, so :math:`\mathbb E[S] = 1` and

    .. math::

        \mathbb E\big[(S - 1)^2\big] = \operatorname{Var}(S)
        = \operatorname{Var}(u_1) + \operatorname{Var}(u_2)
        = \tfrac{1}{12} + \tfrac{1}{12} = \tfrac{1}{6} \approx 0.167,

    using :math:`\operatorname{Var}(U(0,1)) = 1/12`. A model whose mean
    squared error stays near 1/6 has learned nothing; one well below it has
    learned to carry the first marked number across the sequence.
    """
    T = check_positive_int("T", T)
    B = check_positive_int("B", B)
    if T < 2:
        raise ValueError(f"T must be >= 2 for the adding problem "
                         f"(one marker in each half), got {T}")
    dtype = check_float_dtype("dtype", dtype)
    rng = _rng(seed)

    half = T // 2
    values = rng.random((T, B))
    first = rng.integers(0, half, size=B)    # a step in [0, T//2)
    second = rng.integers(half, T, size=B)   # a step in [T//2, T)

    x = np.zeros((T, B, 2), dtype=dtype)
    x[..., 0] = values
    cols = np.arange(B)
    x[first, cols, 1] = 1.0
    x[second, cols, 1] = 1.0
    # Summed from x (already in dtype) so the target is exactly the sum of
    # the numbers the network sees, even in float32.
    target = (x[first, cols, 0] + x[second, cols, 0])[:, None]
    return x, target


def copy_task(T_memory: int, T_delay: int, B: int, n_symbols: int = 8, *,
              seed: int = 0, dtype=np.float64):
    r"""The copy (memory) task: read ``T_memory`` symbols, wait, write them back.

    The version of Hochreiter & Schmidhuber (1997) popularised by Arjovsky,
    Shah & Bengio (2016). Classes ``0 .. n_symbols-1`` are the symbols,
    ``n_symbols`` is *blank* and ``n_symbols + 1`` is the *delimiter*, the cue
    to start writing. With ``M = T_memory`` and ``L = T_delay`` the sequence has

    .. math::

        T = 2M + L + 1

    steps. For ``M = 3``, ``L = 2`` and symbols ``a b c`` (``_`` blank,
    ``:`` delimiter, ``X`` where ``mask`` is True)::

        step t    0  1  2  3  4  5  6  7  8
        x         a  b  c  _  _  :  _  _  _
        target    _  _  _  _  _  _  a  b  c
        mask      .  .  .  .  .  .  X  X  X

    that is: steps ``0 .. M-1`` show the symbols; steps ``M .. M+L-1`` are
    blank; step ``M + L`` shows the delimiter; during the last ``M`` steps,
    ``M+L+1 .. T-1``, the input is blank and the target is the symbols in
    their original order. Everywhere else the target is blank.

    Parameters
    ----------
    T_memory : int
        ``M >= 1``, the number of symbols to remember.
    T_delay : int
        ``L >= 0``, the number of blank steps between the last symbol and the
        delimiter. The first symbol must be remembered for ``M + L + 1`` steps.
    B : int
        Number of sequences.
    n_symbols : int
        Size of the symbol alphabet, ``>= 1``.
    seed : int
        Seed of the ``numpy.random.default_rng`` that draws the symbols.
    dtype : numpy float dtype
        dtype of ``x`` (default float64).

    Returns
    -------
    x : ndarray, shape (T, B, n_symbols + 2)
        One-hot inputs (symbols, blank, delimiter).
    targets : ndarray of int64, shape (T, B)
        The class to output at every step, in ``0 .. n_symbols`` (the
        delimiter is never a target, so ``n_symbols + 1`` output classes
        suffice; ``n_symbols + 2``, the input size, works too).
    mask : ndarray of bool, shape (T, B)
        True exactly at the last ``M`` steps, where the remembered symbols
        must be written; the loss is usually averaged over these steps only.

    Notes
    -----
    The memoryless baseline: a model that knows the layout but remembers
    nothing outputs a uniform distribution over the ``n_symbols`` symbols
    where ``mask`` is True (and blank, at zero loss, elsewhere). With
    :math:`n` = ``n_symbols``, its cross-entropy per masked step is
    :math:`\log n`, or :math:`M \log n / T` averaged over all ``T`` steps.
    """
    M = check_positive_int("T_memory", T_memory)
    L = check_nonneg_int("T_delay", T_delay)
    B = check_positive_int("B", B)
    n = check_positive_int("n_symbols", n_symbols)
    dtype = check_float_dtype("dtype", dtype)
    rng = _rng(seed)

    blank, delimiter = n, n + 1
    T = 2 * M + L + 1
    symbols = rng.integers(0, n, size=(M, B))

    inputs = np.full((T, B), blank, dtype=np.int64)
    inputs[:M] = symbols
    inputs[M + L] = delimiter
    targets = np.full((T, B), blank, dtype=np.int64)
    targets[T - M:] = symbols
    mask = np.zeros((T, B), dtype=bool)
    mask[T - M:] = True
    x = np.eye(n + 2, dtype=dtype)[inputs]   # row i of the identity is class i's one-hot
    return x, targets, mask


def sine_wave(T: int, B: int, *, n_waves: int = 1, seed: int = 0, dtype=np.float64,
              noise: float = 0.0):
    r"""Next-step prediction of sine waves with random frequency and phase.

    Each of the ``B`` sequences is the average of ``n_waves`` sinusoids,

    .. math::

        s_t = \frac{1}{K} \sum_{k=1}^{K} \sin(\omega_k t + \phi_k) + \sigma \varepsilon_t,
        \qquad t = 0, \dots, T,

    with ``K = n_waves``, angular frequencies
    :math:`\omega_k \sim U[0.1, 0.6)` radians per step (periods between about
    10 and 63 steps, see ``SINE_OMEGA_RANGE``), phases
    :math:`\phi_k \sim U[0, 2\pi)`, all drawn independently for every
    sequence, and optional Gaussian noise :math:`\varepsilon_t \sim \mathcal N(0, 1)`
    of standard deviation :math:`\sigma` = ``noise``. The input is
    :math:`s_0 \dots s_{T-1}` and the target :math:`s_1 \dots s_T`.

    Parameters
    ----------
    T : int
        Number of steps.
    B : int
        Number of sequences.
    n_waves : int
        ``K``, the number of sinusoids averaged in each sequence.
    seed : int
        Seed of the ``numpy.random.default_rng`` that draws frequencies,
        phases and noise (in that order, so the same seed gives the same clean
        waves whatever ``noise`` is).
    dtype : numpy float dtype
        dtype of both outputs (default float64).
    noise : float
        :math:`\sigma \ge 0`. The noise is part of the series, so it is in
        the inputs and the targets alike and ``target[t] == x[t+1]`` still
        holds; no predictor can reach a mean squared error below
        :math:`\sigma^2`.

    Returns
    -------
    x : ndarray, shape (T, B, 1)
        :math:`s_t` for ``t = 0 .. T-1``.
    target : ndarray, shape (T, B, 1)
        :math:`s_{t+1}`, so ``target[:-1] == x[1:]``.

    Notes
    -----
    A single clean sine satisfies the linear recurrence
    :math:`s_{t+1} = 2\cos(\omega)\, s_t - s_{t-1}`, so it can be predicted
    from two past values by a linear model; a sum of ``K`` sines needs ``2K``.
    Averaging rather than summing keeps :math:`|s_t| \le 1` without noise.
    """
    T = check_positive_int("T", T)
    B = check_positive_int("B", B)
    K = check_positive_int("n_waves", n_waves)
    dtype = check_float_dtype("dtype", dtype)
    sigma = check_nonneg_float("noise", noise)
    rng = _rng(seed)

    omega = rng.uniform(*SINE_OMEGA_RANGE, size=(B, K))
    phi = rng.uniform(0.0, 2.0 * np.pi, size=(B, K))
    t = np.arange(T + 1, dtype=np.float64)[:, None, None]       # (T+1, 1, 1)
    s = np.sin(omega * t + phi).mean(axis=-1)                   # (T+1, B)
    if sigma > 0:
        s = s + sigma * rng.standard_normal(s.shape)
    # Both outputs are slices of one series, so target[t] == x[t+1] exactly.
    s = s.astype(dtype)[..., None]
    return s[:-1].copy(), s[1:].copy()


# --------------------------------------------------------------------------
# Characters
# --------------------------------------------------------------------------

class CharVocab:
    """The characters of a text, sorted, with their integer codes.

    Character ``vocab.chars[i]`` has code ``i``; there are ``V = vocab.size``
    codes. Sorting makes the codes depend only on the set of characters, not
    on where they first occur.

    Attributes
    ----------
    chars : str
        The unique characters of the text, in sorted (code point) order.
    size : int
        ``V``, the number of characters.
    """

    def __init__(self, text: str):
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        if not text:
            raise ValueError("text must contain at least one character, got ''")
        self.chars = "".join(sorted(set(text)))
        self.size = len(self.chars)
        self._code = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return f"CharVocab(size={self.size}, chars={self.chars!r})"

    def encode(self, text: str) -> np.ndarray:
        """The codes of the characters of ``text``.

        Parameters
        ----------
        text : str
            Any text made of characters of the vocabulary.

        Returns
        -------
        ndarray of int64, shape (len(text),)

        Raises
        ------
        ValueError
            If ``text`` holds a character that is not in the vocabulary; the
            message names the character and its position.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        try:
            return np.array([self._code[c] for c in text], dtype=np.int64)
        except KeyError:
            pos = next(i for i, c in enumerate(text) if c not in self._code)
            raise ValueError(f"character {text[pos]!r} at position {pos} of text is not in "
                             f"the vocabulary {self.chars!r}") from None

    def decode(self, indices) -> str:
        """The text whose codes are ``indices``.

        Parameters
        ----------
        indices : array-like of int, shape (N,)
            Codes in ``[0, V)``, e.g. from :meth:`encode` or a sampling loop.

        Returns
        -------
        str
            ``N`` characters.
        """
        a = _check_indices("indices", indices, self.size)
        if a.ndim != 1:
            raise ValueError(f"indices must have shape (N,), got {a.shape}")
        return "".join(self.chars[i] for i in a.tolist())

    def one_hot(self, indices, dtype=np.float64) -> np.ndarray:
        """One-hot vectors of the codes ``indices``.

        Parameters
        ----------
        indices : array-like of int, any shape ``S``
            Codes in ``[0, V)``, e.g. ``(T,)`` or ``(T, B)``.
        dtype : numpy float dtype
            dtype of the result (default float64).

        Returns
        -------
        ndarray, shape ``S + (V,)``
            ``out[..., i]`` is 1 where ``indices == i`` and 0 elsewhere.
        """
        a = _check_indices("indices", indices, self.size)
        return np.eye(self.size, dtype=check_float_dtype("dtype", dtype))[a]


def char_batches(indices, T: int, B: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    r"""Cut an encoded text into ``B`` parallel streams and chunks of ``T`` steps.

    min-char-rnn walks a single stream through the text, ``T`` characters at
    a time, the target of each character being the next one. This does the
    same with ``B`` streams side by side: the text is cut into ``B``
    contiguous pieces of ``L`` characters (stream ``b`` starts at character
    ``b L``), and each piece is walked ``T`` steps at a time::

        text:     |---- stream 0 ----|---- stream 1 ----| ... |-- stream B-1 --|.
        chunk k:  steps kT .. (k+1)T - 1 of every stream, side by side

    with ``L = T * n_chunks`` and ``n_chunks = (N - 1) // (B T)``; the
    remaining characters at the end of the text (fewer than ``B T + 1``) are
    not used.

    Parameters
    ----------
    indices : array-like of int, shape (N,)
        The encoded text, e.g. ``vocab.encode(SAMPLE_TEXT)``; ``N >= B T + 1``.
    T : int
        Steps per chunk (the truncation length of truncated BPTT).
    B : int
        Number of parallel streams.

    Yields
    ------
    inputs : ndarray of int64, shape (T, B)
        ``inputs[t, b] = indices[b L + k T + t]`` for chunk ``k``.
        ``vocab.one_hot(inputs)`` gives the ``(T, B, V)`` input of
        :func:`bptt.rnn_forward`.
    targets : ndarray of int64, shape (T, B)
        ``indices[b L + k T + t + 1]``: the next character. The target of a
        stream's last step in a chunk is the first input of the next chunk.

    Notes
    -----
    Because column ``b`` of chunk ``k + 1`` continues column ``b`` of chunk
    ``k`` exactly, the hidden state ``h[-1]`` that :func:`bptt.rnn_forward`
    returns for chunk ``k`` is the right ``h0`` for chunk ``k + 1``. Carrying it
    forward while backpropagating within each chunk only is truncated BPTT:
    the network still sees the whole stream, but the gradient stops at chunk
    borders. Errors are raised when this function is called, not at the first
    ``next``.
    """
    a = _check_indices("indices", indices)
    if a.ndim != 1:
        raise ValueError(f"indices must have shape (N,), got {a.shape}")
    T = check_positive_int("T", T)
    B = check_positive_int("B", B)
    N = a.shape[0]
    n_chunks = (N - 1) // (B * T)
    if n_chunks < 1:
        raise ValueError(f"indices is too short for T = {T} and B = {B}: need at least "
                         f"B*T + 1 = {B * T + 1} codes, got {N}")
    L = n_chunks * T
    data = a[:B * L + 1].astype(np.int64)
    # Row b is stream b; the targets are the same text one step later.
    streams_in = data[:-1].reshape(B, L)
    streams_out = data[1:].reshape(B, L)

    def chunks():
        for k in range(n_chunks):
            steps = slice(k * T, (k + 1) * T)
            # Transposed to time-major (T, B); copies, so callers may modify them.
            yield streams_in[:, steps].T.copy(), streams_out[:, steps].T.copy()

    return chunks()
