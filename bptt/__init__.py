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
Parameters are a dict ``W_xh (H, D)``, ``W_hh (H, H)``, ``b_h (H,)``,
``W_hy (O, H)``, ``b_y (O,)``. float64 is the default; any float dtype is
accepted and preserved, but all arrays of one call must share it.

Modules, one concept each (the chapter that teaches it in brackets):

- :mod:`bptt.rnn`: init, forward pass, backward pass with truncation (1-4)
- :mod:`bptt.losses`: softmax cross-entropy, MSE, masks (2)
- :mod:`bptt.gradcheck`: centred finite differences, relative error (4)
- :mod:`bptt.spectral`: spectral radius and norm, rescaling W_hh (2, 5)
- :mod:`bptt.lyapunov`: largest Lyapunov exponent and long-run regime of the state map (2, 5)
- :mod:`bptt.dynamics`: Jacobian products, gradient norm against lag, the one-unit model (5)
- :mod:`bptt.clip`, :mod:`bptt.optim`, :mod:`bptt.train`: clipping, optimisers, a training loop (5)
- :mod:`bptt.data`: seeded tasks and character data; :mod:`bptt.example`: the worked example
- :mod:`bptt.checks`, :mod:`bptt.homework_checks`: self-checks for homework;
  :mod:`bptt.homework`: releasing and grading assignments
- :mod:`bptt.plots`: the book's figures and widgets (imports matplotlib; not loaded by default)
"""
from . import (checks, clip, data, dynamics, example, gradcheck, homework_checks, losses,
               lyapunov, optim, rnn, spectral, train, validate)
from .clip import clip_grad_norm, clip_grad_value, grad_norm
from .gradcheck import check_gradient, numerical_gradient, numerical_gradient_params, rel_error
from .losses import last_step_mask, mse_loss, softmax, softmax_cross_entropy
from .lyapunov import long_run_regime, lyapunov_exponent
from .optim import SGD, Adagrad, Adam
from .rnn import init_rnn, rnn_backward, rnn_forward, rnn_step_forward
from .validate import PARAM_KEYS

__all__ = [
    "PARAM_KEYS",
    # the model: bptt.rnn
    "init_rnn", "rnn_step_forward", "rnn_forward", "rnn_backward",
    # losses: bptt.losses
    "softmax", "softmax_cross_entropy", "mse_loss", "last_step_mask",
    # gradient checking: bptt.gradcheck
    "numerical_gradient", "numerical_gradient_params", "rel_error", "check_gradient",
    # long-run dynamics: bptt.lyapunov
    "lyapunov_exponent", "long_run_regime",
    # clipping and optimisers: bptt.clip, bptt.optim
    "grad_norm", "clip_grad_norm", "clip_grad_value", "SGD", "Adagrad", "Adam",
    # the modules themselves
    "checks", "clip", "data", "dynamics", "example", "gradcheck", "homework_checks", "losses",
    "lyapunov", "optim", "rnn", "spectral", "train", "validate",
]
