"""bptt: backpropagation through time in numpy, the package behind the book.

Dimension letters, used in every docstring and on the book's notation page:

=====  =====================================================
``T``  number of time steps
``B``  batch size (sequences processed side by side)
``D``  input size
``H``  hidden size
``O``  output size (``V``, the vocabulary, for characters)
=====  =====================================================

Arrays are time-major: ``x`` is ``(T, B, D)``, ``h`` is ``(T+1, B, H)`` with
``h[0] = h0`` (so ``h[t]`` is the book's h_t), ``y`` and ``dy`` are ``(T, B, O)``.
The RNN's parameters are a dict ``W_xh (H, D)``, ``W_hh (H, H)``, ``b_h (H,)``,
``W_hy (O, H)``, ``b_y (O,)``. float64 is the default; any float dtype is
accepted and preserved, but all arrays of one call must share it.

The map of the package, in layers (a lower layer never imports a higher one):

**Core** (numpy only; ``import bptt`` loads these and nothing else), one concept
a module (the chapter that teaches it in brackets):

- :mod:`bptt.validate`: the input guards every public function uses
- :mod:`bptt.model`: what a model is to the machinery (:class:`~bptt.model.Model`)
- :mod:`bptt.rnn`: the vanilla RNN, its step and sequence passes, BPTT with truncation (1-4)
- :mod:`bptt.lstm`: the LSTM (gates i, f, g, o; state ``h``, ``c``), the same five parts
- :mod:`bptt.gru`: the GRU (gates r, z, n, torch's equations), the same five parts
- :mod:`bptt.gates`: what the gated models share (the sigmoid as one tanh, stacked gate checks)
- :mod:`bptt.losses`: softmax cross-entropy, MSE, masks (2)
- :mod:`bptt.gradcheck`: centred finite differences, relative error (4)
- :mod:`bptt.spectral`: spectral radius and norm, rescaling W_hh (2, 5)
- :mod:`bptt.lyapunov`: largest Lyapunov exponent and long-run regime of the state map (2, 5)
- :mod:`bptt.dynamics`: the step Jacobian, its products, gradient norm against lag (5)
- :mod:`bptt.one_unit`: the one-unit RNN and the cliff of its loss (5)
- :mod:`bptt.truncation`: which steps a loss reaches under truncated BPTT (4)
- :mod:`bptt.tbptt`: Williams and Peng's BPTT(k2; k1), the gradients of its updates on a stream
- :mod:`bptt.stream`: training on long streams, chunk by chunk, the state carried (detached)
- :mod:`bptt.artbp`: randomly truncated BPTT with compensation factors, unbiased (Tallec and
  Ollivier)
- :mod:`bptt.gated_dynamics`: the LSTM's and GRU's state Jacobians, gradient norm against lag (6)
- :mod:`bptt.adding`: the adding problem as a measurement, and its stored sweep
  (``bptt/sweeps/``) (6)
- :mod:`bptt.recall`: recall on a stream, truncation against ARTBP, and its stored sweep (7)
- :mod:`bptt.truncation_bias`, :mod:`bptt.truncation_cost`: the paths each truncation scheme
  keeps and how far its gradient is from the full one; its work and memory, counted (7)
- :mod:`bptt.chunk_tape`: a numpy stand-in for autograd's tape, for the two stream bugs (7)
- :mod:`bptt.char_units`: hidden units of a character model against hand-made indicators (8)
- :mod:`bptt.models`: the shipped character model and the stored cell comparison (8)
- :mod:`bptt.clip`, :mod:`bptt.optim`, :mod:`bptt.train`: clipping, optimisers and a
  training loop, for any model's dict of parameters (5)
- :mod:`bptt.data`: seeded tasks and character data; :mod:`bptt.example`: the worked example

**Figures and self-checks** (loaded on first use, e.g. ``bptt.plots.display`` or
``bptt.checks.check_rnn_forward`` after a plain ``import bptt``):

- :mod:`bptt.plots`: the book's figures and widgets (matplotlib, ipywidgets)
- :mod:`bptt.checks`: the students' self-checks, one module a topic on one harness

**Course tooling** (:mod:`bptt.course`: releasing and grading assignments) is
never imported by ``import bptt``; nor is :mod:`bptt.charlm`, the character model
trained on a text (``python -m bptt.charlm train``/``sample``; ``import bptt.charlm``).

A new model is one new core module that defines its keys, ``init_*``,
``*_step_forward``, ``*_step_backward``, ``*_forward``, ``*_backward`` and a
:class:`~bptt.model.Model`; clipping, optimisers, training and gradient checks
take it as it is.
"""
import importlib as _importlib

from . import (artbp, clip, data, dynamics, example, gates, gradcheck, gru, losses, lstm, lyapunov,
               model, one_unit, optim, rnn, spectral, stream, tbptt, train, truncation, validate)
from .artbp import artbp_backward
from .clip import clip_grad_norm, clip_grad_value, grad_norm
from .gradcheck import check_gradient, numerical_gradient, numerical_gradient_params, rel_error
from .losses import last_step_mask, mse_loss, softmax, softmax_cross_entropy
from .lyapunov import long_run_regime, lyapunov_exponent
from .optim import SGD, Adagrad, Adam
from .gru import GRU, gru_backward, gru_forward, gru_step_backward, gru_step_forward, init_gru
from .lstm import LSTM, init_lstm, lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward
from .rnn import PARAM_KEYS, RNN, init_rnn, rnn_backward, rnn_forward, rnn_step_forward
from .stream import train_stream
from .tbptt import tbptt_gradients

#: Subpackages and modules loaded on first attribute access (PEP 562), so that
#: ``import bptt`` needs numpy only: matplotlib and ipywidgets come with the
#: figures, the self-checks with the first check.
_LAZY = ("checks", "plots")

__all__ = [
    "PARAM_KEYS",
    # the model: bptt.rnn
    "init_rnn", "rnn_step_forward", "rnn_forward", "rnn_backward", "RNN",
    # the gated models: bptt.lstm, bptt.gru
    "init_lstm", "lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward",
    "LSTM",
    "init_gru", "gru_step_forward", "gru_step_backward", "gru_forward", "gru_backward", "GRU",
    # losses: bptt.losses
    "softmax", "softmax_cross_entropy", "mse_loss", "last_step_mask",
    # gradient checking: bptt.gradcheck
    "numerical_gradient", "numerical_gradient_params", "rel_error", "check_gradient",
    # long-run dynamics: bptt.lyapunov
    "lyapunov_exponent", "long_run_regime",
    # clipping and optimisers: bptt.clip, bptt.optim
    "grad_norm", "clip_grad_norm", "clip_grad_value", "SGD", "Adagrad", "Adam",
    # truncated BPTT on streams, unbiased random truncation: bptt.tbptt, bptt.artbp, bptt.stream
    "tbptt_gradients", "artbp_backward", "train_stream",
    # the core modules themselves (the lazy ones are left out, so that
    # `from bptt import *` stays numpy-only)
    "artbp", "clip", "data", "dynamics", "example", "gates", "gradcheck", "gru", "losses", "lstm",
    "lyapunov", "model", "one_unit", "optim", "rnn", "spectral", "stream", "tbptt", "train",
    "truncation", "validate",
]


def __getattr__(name: str):
    """Import ``bptt.checks`` or ``bptt.plots`` on first use."""
    if name in _LAZY:
        return _importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_LAZY])
