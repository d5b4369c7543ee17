r"""Optimisers: turn the gradients of BPTT into parameter updates.

Each optimiser is a small class whose :meth:`step` updates a params dict in
place from a grads dict (as returned by :func:`bptt.rnn.rnn_backward`) and
returns the params dict::

    opt = Adam(lr=1e-2)
    for _ in range(n_steps):
        y, h = rnn_forward(params, x)
        grads = rnn_backward(params, x, h, dy)
        opt.step(params, grads)

An optimiser remembers something about past gradients (a velocity, a running
sum of squares, moment estimates). That state is kept on the instance, one
array per parameter key, created lazily at the first step with the parameter's
shape and dtype. Use one optimiser per model.

Only the keys of ``params`` are updated. ``grads`` may carry extra keys, such
as the ``x`` and ``h0`` that ``rnn_backward`` returns, which are ignored. Every
gradient is checked before any parameter or state is touched, so a bad
gradient (wrong shape or dtype, NaN, infinity) raises and leaves the model and
the optimiser exactly as they were.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from .validate import check_positive_float

__all__ = ["SGD", "Adagrad", "Adam"]


def _check_fraction(name: str, value) -> float:
    """Check that ``value`` is a real number in [0, 1)."""
    is_real = isinstance(value, (int, float, np.integer, np.floating))
    if isinstance(value, (bool, np.bool_)) or not is_real:
        raise TypeError(f"{name} must be a number in [0, 1), got {type(value).__name__} {value!r}")
    if not 0.0 <= value < 1.0:   # also refuses NaN
        raise ValueError(f"{name} must be in [0, 1), got {value}")
    return float(value)


class _Optimizer:
    """Shared checks and the in-place update loop; subclasses define :meth:`_update`."""

    def __init__(self, lr: float):
        self.lr = lr

    @property
    def lr(self) -> float:
        """The learning rate; may be changed between steps (a schedule), and is checked."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = check_positive_float("lr", value)

    def _state_arrays(self) -> dict:
        """Map state name -> {key: array} of the per-parameter state, for the shape check."""
        return {}

    def _check(self, params, grads) -> None:
        if not isinstance(params, Mapping):
            raise TypeError(f"params must be a dict of numpy arrays, got {type(params).__name__}")
        if not isinstance(grads, Mapping):
            raise TypeError(f"grads must be a dict of numpy arrays, got {type(grads).__name__}")
        missing = [k for k in params if k not in grads]
        if missing:
            raise ValueError(f"grads has no gradient for the parameters {missing}; "
                             f"it has keys {list(grads)}")
        for k, p in params.items():
            g = grads[k]
            if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
                raise TypeError(f"params[{k!r}] must be a floating-point numpy array, got "
                                f"{getattr(p, 'dtype', type(p).__name__)}")
            if not p.flags.writeable:
                raise ValueError(f"params[{k!r}] is read-only; the optimiser updates it in place")
            if not isinstance(g, np.ndarray):
                raise TypeError(f"grads[{k!r}] must be a numpy array of shape {p.shape}, "
                                f"got {type(g).__name__}")
            if g.shape != p.shape:
                raise ValueError(f"grads[{k!r}] must have the shape of params[{k!r}], "
                                 f"{p.shape}, got {g.shape}")
            if g.dtype != p.dtype:
                raise TypeError(f"grads[{k!r}] must have the dtype of params[{k!r}], "
                                f"{p.dtype}, got {g.dtype} (shapes {p.shape} and {g.shape})")
            if not np.all(np.isfinite(g)):
                raise ValueError(f"grads[{k!r}] contains NaN or infinity "
                                 f"({int(np.sum(~np.isfinite(g)))} of {g.size} entries); "
                                 "no parameter was updated")
            for name, arrays in self._state_arrays().items():
                s = arrays.get(k)
                if s is not None and (s.shape != p.shape or s.dtype != p.dtype):
                    raise ValueError(f"the optimiser's {name}[{k!r}] has shape {s.shape} and "
                                     f"dtype {s.dtype} but params[{k!r}] has shape {p.shape} "
                                     f"and dtype {p.dtype}; use a new optimiser for a new model")

    def step(self, params: dict, grads: Mapping[str, np.ndarray]) -> dict:
        """Update every array of ``params`` in place from ``grads``.

        Parameters
        ----------
        params : dict of str -> ndarray
            The parameters, e.g. ``W_xh (H, D)``, ``W_hh (H, H)``, ``b_h (H,)``,
            ``W_hy (O, H)``, ``b_y (O,)`` from :func:`bptt.rnn.init_rnn`; any
            float dtype.
        grads : dict of str -> ndarray
            One gradient per key of ``params``, of the same shape and dtype,
            finite. Extra keys (``x``, ``h0``) are ignored. Not modified.

        Returns
        -------
        dict
            ``params`` itself; its arrays are updated in place.
        """
        self._check(params, grads)   # everything, before anything is written
        for k, p in params.items():
            self._update(k, p, grads[k])
        return params

    def _update(self, key: str, p: np.ndarray, g: np.ndarray) -> None:
        raise NotImplementedError


class SGD(_Optimizer):
    r"""Stochastic gradient descent, with optional (Nesterov) momentum, as ``torch.optim.SGD``.

    Parameters
    ----------
    lr : float
        Learning rate :math:`\eta > 0`.
    momentum : float
        :math:`\mu \in [0, 1)`; 0 (the default) is plain gradient descent.
    nesterov : bool
        Use Nesterov momentum (needs ``momentum > 0``).

    Attributes
    ----------
    velocity : dict of str -> ndarray
        :math:`v` per parameter key, same shape and dtype as the parameter
        (empty until the first step, and always empty without momentum).

    Notes
    -----
    With gradient :math:`g_t` at step t and :math:`v_0 = 0`,

    .. math::

        v_t = \mu v_{t-1} + g_t, \qquad
        \theta_t = \theta_{t-1} - \eta\, v_t
        \quad\text{or, Nesterov,}\quad
        \theta_t = \theta_{t-1} - \eta\,(g_t + \mu v_t).

    Unrolled, :math:`v_t = \sum_{s \le t} \mu^{t-s} g_s`: the velocity is an
    exponentially weighted sum of past gradients, which damps the zig-zag of
    plain descent across a narrow valley. This is torch's convention (``v``
    sums gradients, ``lr`` multiplies it), with ``dampening=0`` and no weight
    decay. The momentum is capped below 1 because with :math:`\mu \ge 1` old
    gradients are never forgotten.
    """

    def __init__(self, lr: float, momentum: float = 0.0, nesterov: bool = False):
        super().__init__(lr)
        self.momentum = _check_fraction("momentum", momentum)
        if not isinstance(nesterov, (bool, np.bool_)):
            raise TypeError(f"nesterov must be a bool, got {type(nesterov).__name__} {nesterov!r}")
        if nesterov and self.momentum == 0.0:
            raise ValueError("nesterov=True needs momentum > 0, got momentum=0.0")
        self.nesterov = bool(nesterov)
        self.velocity: dict[str, np.ndarray] = {}

    def __repr__(self) -> str:
        return f"SGD(lr={self.lr}, momentum={self.momentum}, nesterov={self.nesterov})"

    def _state_arrays(self) -> dict:
        return {"velocity": self.velocity}

    def _update(self, key, p, g):
        if self.momentum == 0.0:
            p -= self.lr * g
            return
        v = self.velocity.setdefault(key, np.zeros_like(p))
        v *= self.momentum
        v += g                                   # v_t = mu v_{t-1} + g_t
        if self.nesterov:
            p -= self.lr * (g + self.momentum * v)   # look ahead along the velocity
        else:
            p -= self.lr * v


class Adagrad(_Optimizer):
    r"""Adagrad as in Karpathy's min-char-rnn: per-entry steps scaled by past gradients.

    Parameters
    ----------
    lr : float
        Learning rate :math:`\eta > 0`.
    eps : float
        :math:`\epsilon > 0`, added *inside* the square root.

    Attributes
    ----------
    mem : dict of str -> ndarray
        The running sum of squared gradients per parameter key (min-char-rnn's
        name), same shape and dtype as the parameter; empty until the first step.

    Notes
    -----
    .. math::

        G_t = G_{t-1} + g_t \odot g_t, \qquad
        \theta_t = \theta_{t-1} - \eta\, \frac{g_t}{\sqrt{G_t + \epsilon}}
        \qquad (G_0 = 0).

    Each entry gets its own step size, large for parameters whose gradients
    have been small and small for those whose gradients have been large; this
    is why min-char-rnn trains with it. Note where :math:`\epsilon` goes:
    this follows min-char-rnn, ``sqrt(mem + eps)``, whereas ``torch.optim.Adagrad``
    computes :math:`g_t / (\sqrt{G_t} + \epsilon)`. The two agree closely
    once :math:`G_t \gg \epsilon`; for an entry whose gradients have all been
    tiny they differ (inside, :math:`\epsilon = 10^{-8}` acts like
    :math:`10^{-4}` outside).
    """

    def __init__(self, lr: float, eps: float = 1e-8):
        super().__init__(lr)
        self.eps = check_positive_float("eps", eps)
        self.mem: dict[str, np.ndarray] = {}

    def __repr__(self) -> str:
        return f"Adagrad(lr={self.lr}, eps={self.eps})"

    def _state_arrays(self) -> dict:
        return {"mem": self.mem}

    def _update(self, key, p, g):
        mem = self.mem.setdefault(key, np.zeros_like(p))
        mem += g * g
        p -= self.lr * g / np.sqrt(mem + self.eps)


class Adam(_Optimizer):
    r"""Adam (Kingma & Ba 2015) with bias correction, as ``torch.optim.Adam``.

    Parameters
    ----------
    lr : float
        Learning rate :math:`\eta > 0`.
    betas : (float, float)
        :math:`(\beta_1, \beta_2)`, each in [0, 1): the decay rates of the
        first and second moment estimates.
    eps : float
        :math:`\epsilon > 0`, added *after* the square root.

    Attributes
    ----------
    m, v : dict of str -> ndarray
        First and second moment estimates per parameter key, same shape and
        dtype as the parameter; empty until the first step.
    t : dict of str -> int
        Number of steps taken per parameter key (for the bias correction).

    Notes
    -----
    With :math:`m_0 = v_0 = 0`,

    .. math::

        m_t = \beta_1 m_{t-1} + (1 - \beta_1)\, g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2)\, g_t \odot g_t,

        \hat m_t = \frac{m_t}{1 - \beta_1^t}, \qquad
        \hat v_t = \frac{v_t}{1 - \beta_2^t}, \qquad
        \theta_t = \theta_{t-1} - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}.

    Starting at zero biases :math:`m_t` and :math:`v_t` towards zero during
    the first steps; dividing by :math:`1 - \beta^t` removes exactly that bias
    (the weights :math:`(1-\beta)\beta^{t-s}` of the past gradients sum to
    :math:`1 - \beta^t`). The step of each entry is then about :math:`\eta`
    whatever the scale of its gradient.
    """

    def __init__(self, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8):
        super().__init__(lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (_check_fraction("betas[0]", betas[0]), _check_fraction("betas[1]", betas[1]))
        self.eps = check_positive_float("eps", eps)
        self.m: dict[str, np.ndarray] = {}
        self.v: dict[str, np.ndarray] = {}
        self.t: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"Adam(lr={self.lr}, betas={self.betas}, eps={self.eps})"

    def _state_arrays(self) -> dict:
        return {"m": self.m, "v": self.v}

    def _update(self, key, p, g):
        beta1, beta2 = self.betas
        m = self.m.setdefault(key, np.zeros_like(p))
        v = self.v.setdefault(key, np.zeros_like(p))
        t = self.t[key] = self.t.get(key, 0) + 1
        m *= beta1
        m += (1.0 - beta1) * g
        v *= beta2
        v += (1.0 - beta2) * (g * g)
        # Python floats, so float32 parameters stay float32.
        m_hat_scale = 1.0 / (1.0 - beta1 ** t)
        v_hat_scale = 1.0 / (1.0 - beta2 ** t)
        p -= self.lr * (m * m_hat_scale) / (np.sqrt(v * v_hat_scale) + self.eps)
