r"""What a model is to the rest of the package: six named parts in one small object.

The machinery of :mod:`bptt` (clipping, optimisers, the training loop,
gradient checking) works on any recurrent model. It needs to know only the
model's parameter keys and four functions, which a :class:`Model` names::

    RNN = Model("rnn", PARAM_KEYS, init_rnn, rnn_forward, rnn_backward, check_rnn_params)

:data:`bptt.rnn.RNN` is the vanilla RNN; a gated model is one more module that
defines its functions and one more instance. Nothing else changes: clipping
and the optimisers take any dict of arrays, and :func:`bptt.train.train`
takes ``model=``.

Why an object rather than loose callables: a training loop needs the forward
pass, the backward pass and the check of the parameters *of the same model*.
Passing them one by one invites mixing one model's forward with another's
backward, and every new function that needs a model would grow the same four
arguments. One frozen object carries them together, checks at creation that
they are there, and reads in a call as what it is (``train(..., model=LSTM)``).
It has no behaviour of its own: the maths stays in the model's functions,
which remain plain functions a chapter can call and show.

The contract each part follows (``T`` steps, ``B`` batch, ``D`` inputs, ``O``
outputs, arrays time-major as everywhere in :mod:`bptt`):

* ``keys``: the parameter names, in the order the book lists them;
* ``init(input_size, hidden_size, output_size, *, seed=0, dtype=np.float64) -> params``;
* ``forward(params, x) -> (y, cache)``: ``x (T, B, D)``, ``y (T, B, O)``, and
  whatever backward needs, which the machinery passes on untouched (the RNN's
  hidden states ``h (T+1, B, H)``; the gated models' ``state`` dict, e.g. the
  LSTM's ``h``, ``c`` and ``gates``). Initial states are optional further
  arguments (``h0``, ``c0``), zeros when left out;
* ``backward(params, x, cache, dy, truncate=None) -> grads`` (``truncate`` is
  passed by position, so a model may call its third argument ``h`` or ``state``): the gradient of
  every key of ``params``, plus the gradients of the inputs and the initial
  states (and, on request, of the hidden states) under the names in
  :data:`NON_PARAM_KEYS`;
* ``check(params)``: raises on a params dict that is not this model's (keys,
  shapes, dtype), and returns its sizes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

__all__ = ["NON_PARAM_KEYS", "Model"]

#: The keys under which a backward pass returns gradients that are not
#: parameter gradients: the inputs ``x``, the initial states ``h0`` (and an
#: LSTM's ``c0``), and the total derivatives of the hidden states ``h`` (and
#: ``c``) that ``rnn_backward(..., return_dh=True)`` adds. Clipping copies them
#: unchanged and measures every other key; no model may name a parameter so.
NON_PARAM_KEYS = ("x", "h0", "c0", "h", "c")


@dataclass(frozen=True)
class Model:
    """A recurrent model: its parameter keys and its four functions.

    Parameters
    ----------
    name : str
        A short name, e.g. ``"rnn"``.
    keys : tuple or list of str
        The parameter keys, in order; stored as a tuple. None may be one of
        :data:`NON_PARAM_KEYS` (those name gradients of inputs and states, not parameters).
    init, forward, backward, check : callable
        See the module docstring for their signatures.
    """

    name: str
    keys: tuple
    init: Callable = field(repr=False)
    forward: Callable = field(repr=False)
    backward: Callable = field(repr=False)
    check: Callable = field(repr=False)

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"name must be a non-empty str, got {self.name!r}")
        if not isinstance(self.keys, (tuple, list)) or not all(
                isinstance(k, str) and k for k in self.keys):
            raise TypeError(f"keys must be a tuple or list of non-empty str, got {self.keys!r}")
        keys = tuple(self.keys)
        if not keys or len(set(keys)) != len(keys):
            raise ValueError(f"keys must name at least one parameter, each once, got {keys}")
        clash = [k for k in keys if k in NON_PARAM_KEYS]
        if clash:
            raise ValueError(f"keys must not use the names of non-parameter gradients "
                             f"{NON_PARAM_KEYS}, got {clash}")
        for part in ("init", "forward", "backward", "check"):
            if not callable(getattr(self, part)):
                raise TypeError(f"{part} must be callable, got "
                                f"{type(getattr(self, part)).__name__}")
        object.__setattr__(self, "keys", keys)
