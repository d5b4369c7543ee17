r"""A character language model: one of the package's recurrent models, its vocabulary, its run.

:class:`CharLM` holds what a trained character model is: the kind of model
(``"rnn"``, ``"lstm"``, ``"gru"``: :data:`bptt.rnn.RNN`, :data:`bptt.lstm.LSTM`,
:data:`bptt.gru.GRU`), its parameters, the :class:`bptt.data.CharVocab` of the
text it read, the options it was trained with, and what resuming needs (the
optimiser with its moments, the number of updates, where the streams were and
the state they carried).

The inputs are one-hot vectors, ``D = O = V``. The model's forward pass takes
dense inputs ``x (T, B, V)``, so the codes become rows of an identity matrix
(:func:`one_hot`). For a one-hot ``x_t``, ``x_t @ W_xh.T`` is the column
``W_xh[:, code]``: an embedding lookup, which the dense product computes the
long way. What that costs, measured for the LSTM at V = 65, H = 100, K = 25,
B = 32 (800 rows, one thread): building ``x`` 0.01 ms; the forward's
``x @ W_xh.T`` 0.38 ms, where a gather ``W_xh.T[codes]`` takes 0.04 ms; the
backward's ``delta.T @ x`` (the gradient of ``W_xh``) 0.38 ms, where a
scatter (``np.add.at``) is slower, 2.2 ms; and its ``delta @ W_xh`` (the
gradient of ``x``, which a character model never uses) 0.39 ms. About 1.1 ms
of an update's 7 ms (16 %), of which a gather would save a third. The
package's functions are used as they are: one forward and one backward,
the ones the book teaches.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..data import CharVocab
from ..gru import GRU
from ..lstm import LSTM
from ..model import Model
from ..optim import Adagrad, Adam
from ..rnn import RNN
from ..validate import check_float_dtype, check_positive_int

__all__ = ["MODELS", "OPTIMIZERS", "DEFAULT_LR", "optimizer_name", "CharLM", "new_charlm",
           "encode", "one_hot", "final_state", "check_kind"]

#: The models a character model can be, by the name the command line takes.
MODELS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}


#: The optimisers a run can use, and their default learning rates. Adagrad's is
#: min-char-rnn's; Adam's, 2e-3, is char-rnn's, and the book's shipped model
#: (bptt/models) was trained with it. Measured on tinyshakespeare (H = 100, K = 25,
#: B = 32, one seed, validation bpc), after 60 s on a busy machine, 2e-3 against
#: 5e-3: RNN 2.58 against 2.61, GRU 2.41 against 2.45, LSTM 2.62 against 2.46; after
#: 2,500 LSTM updates, 2.78 (2e-3), 2.60 (5e-3), 2.52 (1e-2). So a short LSTM run
#: does better with ``lr=5e-3`` or more; the RNN and the GRU gain nothing from it.
OPTIMIZERS = {"adam": Adam, "adagrad": Adagrad}
DEFAULT_LR = {"adam": 2e-3, "adagrad": 1e-1}


def optimizer_name(opt) -> str:
    """The name in :data:`OPTIMIZERS` of an optimiser instance."""
    return next(name for name, cls in OPTIMIZERS.items() if type(opt) is cls)


def check_kind(kind) -> str:
    """Check a model name, one of :data:`MODELS`; return it."""
    if kind not in MODELS:
        raise ValueError(f"model must be one of {sorted(MODELS)}, got {kind!r}")
    return kind


@dataclass
class CharLM:
    """A character model: its kind, parameters and vocabulary, and how far it has trained.

    Attributes
    ----------
    kind : str
        ``"rnn"``, ``"lstm"`` or ``"gru"``.
    params : dict of str to ndarray
        The model's parameters, ``D = O = V`` (e.g. the RNN's ``W_xh (H, V)``).
    vocab : bptt.data.CharVocab
        The characters it knows; code i is ``vocab.chars[i]``.
    options : dict
        The training options used (JSON-able), saved with the model.
    optimizer : bptt.optim.Adam or bptt.optim.Adagrad, optional
        The optimiser with its state, for resuming; None before training.
    steps : int
        Updates done so far.
    position : dict, optional
        Where the training streams were: ``chunk`` (the next chunk's index),
        ``state`` (the carried states, ``(B, H)`` each) and ``layout`` (what
        must match for the streams to continue: text checksum, B, K).
    """

    kind: str
    params: dict
    vocab: CharVocab
    options: dict = field(default_factory=dict)
    optimizer: object = None
    steps: int = 0
    position: dict | None = None

    @property
    def model(self) -> Model:
        """The :class:`bptt.model.Model` whose functions run it."""
        return MODELS[self.kind]

    @property
    def hidden_size(self) -> int:
        return int(self.params["W_hh"].shape[1])

    @property
    def vocab_size(self) -> int:
        return self.vocab.size

    @property
    def dtype(self) -> np.dtype:
        return self.params["W_hh"].dtype

    def __repr__(self) -> str:
        return (f"CharLM(kind={self.kind!r}, hidden_size={self.hidden_size}, "
                f"vocab_size={self.vocab_size}, dtype={self.dtype}, steps={self.steps})")


def new_charlm(vocab: CharVocab, kind: str = "lstm", hidden_size: int = 100, *,
               seed: int = 0, dtype=np.float32) -> CharLM:
    """A freshly initialised model over ``vocab`` (the model's own ``init_*``, seeded)."""
    if not isinstance(vocab, CharVocab):
        raise TypeError(f"vocab must be a bptt.data.CharVocab, got {type(vocab).__name__}")
    kind = check_kind(kind)
    H = check_positive_int("hidden_size", hidden_size)
    dtype = check_float_dtype("dtype", dtype)
    params = MODELS[kind].init(vocab.size, H, vocab.size, seed=seed, dtype=dtype)
    return CharLM(kind, params, vocab)


def encode(vocab: CharVocab, text: str, name: str) -> np.ndarray:
    """``vocab.encode(text)``; an unknown character is refused, ``name`` (``"prime"``) named."""
    try:
        return vocab.encode(text)
    except ValueError:
        pos = next(i for i, c in enumerate(text) if c not in vocab.chars)
        raise ValueError(f"{name} holds a character the model does not know: {text[pos]!r} at "
                         f"position {pos}; the model's {vocab.size} characters are "
                         f"{vocab.chars!r}") from None


def one_hot(codes: np.ndarray, V: int, dtype) -> np.ndarray:
    """``codes (T, B)`` as one-hot inputs ``x (T, B, V)`` of ``dtype``."""
    x = np.zeros((*codes.shape, V), dtype=dtype)
    np.put_along_axis(x, codes[..., None].astype(np.intp), 1.0, axis=-1)
    return x


def final_state(cache) -> tuple:
    """The states after the last step, ``(h,)`` or ``(h, c)`` of ``(B, H)``, from a forward's cache.

    The RNN's cache is ``h (T+1, B, H)``; the gated models' a dict whose ``h``
    (and the LSTM's ``c``) are ``(T+1, B, H)``. Copies: detached, and not
    views that keep the whole cache alive.
    """
    if isinstance(cache, np.ndarray):
        return (cache[-1].copy(),)
    return tuple(cache[k][-1].copy() for k in ("h", "c") if k in cache)
