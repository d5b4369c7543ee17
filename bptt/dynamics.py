r"""Why gradients vanish or explode: Jacobian products, their bound, and the loss cliff.

Going back from step t to step k, BPTT multiplies the gradient by the
transposes of the step Jacobians (numerator layout, each :math:`H \times H`)

.. math::

    J_j = \frac{\partial h_j}{\partial h_{j-1}} = \operatorname{diag}(1 - h_j^2)\, W_{hh},
    \qquad
    \frac{\partial h_t}{\partial h_k} = J_t J_{t-1} \cdots J_{k+1}
    \quad (\text{later steps on the left}),

so that
:math:`\partial L_t/\partial h_k = (\partial h_t/\partial h_k)^\top \partial L_t/\partial h_t`.
Since :math:`\|\operatorname{diag}(1 - h_j^2)\|_2 \le 1`, the product is at
most :math:`\sigma_{\max}(W_{hh})^{t-k}` in norm (Pascanu, Mikolov & Bengio
2013). The chapter "Vanishing and exploding gradients" derives all of this;
this module computes it:

* :func:`step_jacobians`, :func:`jacobian_product`, :func:`jacobian_norms_by_lag`:
  the Jacobians themselves and the spectral norms of their products
  (:func:`apply_jacobian` and :func:`apply_jacobian_transpose` apply
  :math:`J_t` and :math:`J_t^\top` to vectors without forming them, for the
  package's own loops here and in :mod:`bptt.lyapunov`);
* :func:`last_step_gradients`, :func:`gradient_norm_by_lag`: the gradient of a
  loss at the last step, carried back to every earlier state;
* :func:`jacobian_bound`, :func:`matrix_power_norms`: the bound and the
  linear case, where the spectral radius sets the long-run rate;
* :func:`recurrent_matrix`, :func:`random_rnn_states`, :func:`lag_norm_experiment`: the
  measurement of gradient norm against time lag for a chosen spectral radius.

The one-unit RNN whose loss surface has a cliff is :mod:`bptt.one_unit`.

Shapes follow the package: ``h`` is ``(T+1, B, H)`` with ``h[0] = h0``, and
the step Jacobian :math:`J_t` is stored at index ``t-1``, like ``y[t-1]``.
"""
from __future__ import annotations

import numpy as np

from .rnn import check_tanh_states, rnn_forward
from .spectral import scale_to_spectral_radius, spectral_norm, spectral_radius
from .validate import check_array, check_positive_float, check_positive_int, check_square

__all__ = [
    "step_jacobians", "jacobian_product", "jacobian_norms_by_lag", "last_step_gradients",
    "gradient_norm_by_lag", "jacobian_bound", "matrix_power_norms", "recurrent_matrix",
    "random_rnn_states", "lag_norm_experiment",
]


# --------------------------------------------------------------------------
# The step Jacobian J_t = diag(1 - h_t^2) W_hh, written once
# --------------------------------------------------------------------------
# Three forms, side by side: the matrices themselves (to print, multiply and
# measure), J_t applied to a tangent vector (forward in time: the Lyapunov
# exponent of bptt.lyapunov) and J_t^T applied to a gradient (backward in
# time: BPTT). The two products never form an H x H matrix. No checks here:
# the public functions check their arguments first.

def _jacobians(W_hh: np.ndarray, h_t: np.ndarray) -> np.ndarray:
    """``diag(1 - h_t**2) W_hh`` for states ``h_t (..., H)``: shape ``(..., H, H)``."""
    # diag(s) W scales row i of W by s_i: broadcast s over the columns.
    return (1.0 - h_t ** 2)[..., :, None] * W_hh


def apply_jacobian(W_hh: np.ndarray, h_t: np.ndarray, v: np.ndarray) -> np.ndarray:
    """:math:`J_t v` for rows ``v (B, H)``: ``W_hh`` first, then each unit's slope at ``h_t``.

    Unchecked (for the package's own loops); ``h_t (B, H)`` are tanh states.
    """
    return (v @ W_hh.T) * (1.0 - h_t ** 2)


def apply_jacobian_transpose(W_hh: np.ndarray, h_t: np.ndarray, u: np.ndarray) -> np.ndarray:
    """:math:`J_t^\top u` for rows ``u (B, H)``: each unit's slope first, then ``W_hh^T``.

    Unchecked (for the package's own loops); ``h_t (B, H)`` are tanh states.
    """
    return ((1.0 - h_t ** 2) * u) @ W_hh


def _check_states(params: dict, h) -> tuple[int, int, int]:
    """Check ``params`` and the hidden states ``h (T+1, B, H)``; return ``(T, B, H)``."""
    h = check_tanh_states(params, h)
    return h.shape[0] - 1, h.shape[1], h.shape[2]


# --------------------------------------------------------------------------
# Jacobians of the recurrence
# --------------------------------------------------------------------------

def step_jacobians(params: dict, h: np.ndarray) -> np.ndarray:
    r"""The Jacobian of every step, :math:`J_t = \partial h_t / \partial h_{t-1}`.

    Parameters
    ----------
    params : dict
        RNN parameters, see :func:`bptt.rnn.init_rnn`; only ``W_hh (H, H)`` is used.
    h : ndarray, shape (T+1, B, H)
        Hidden states from :func:`bptt.rnn.rnn_forward`, ``h[0] = h0``.

    Returns
    -------
    J : ndarray, shape (T, B, H, H), dtype of ``params``
        ``J[t-1, b]`` is :math:`J_t` for sequence ``b``: row i, column j holds
        :math:`\partial h_{t,i} / \partial h_{t-1,j}` (numerator layout).

    Notes
    -----
    From :math:`h_t = \tanh(W_{hh} h_{t-1} + W_{xh} x_t + b_h)` and
    :math:`\tanh' = 1 - \tanh^2`,

    .. math::

        J_t = \operatorname{diag}(1 - h_t^2)\, W_{hh}
            \qquad (H \times H = (H \times H)(H \times H)):

    row i of :math:`W_{hh}` scaled by the slope of unit i's tanh at step t.
    The slope is taken at :math:`h_t`, the output of the step, not at
    :math:`h_{t-1}`. It costs :math:`T B H^2` numbers: for teaching and small
    H only (:func:`last_step_gradients` never forms it).
    """
    _check_states(params, h)
    return _jacobians(params["W_hh"], h[1:])       # (T, B, H, H): J_t at [t-1]


def jacobian_product(params: dict, h: np.ndarray, t: int, k: int) -> np.ndarray:
    r"""The Jacobian :math:`\partial h_t / \partial h_k` of a state with respect to an earlier one.

    Parameters
    ----------
    params : dict
        RNN parameters, see :func:`bptt.rnn.init_rnn`; only ``W_hh (H, H)`` is used.
    h : ndarray, shape (T+1, B, H)
        Hidden states from :func:`bptt.rnn.rnn_forward`.
    t, k : int
        Steps with ``0 <= k <= t <= T``.

    Returns
    -------
    P : ndarray, shape (B, H, H), dtype of ``params``
        ``P[b]`` is :math:`\partial h_t / \partial h_k` for sequence ``b``;
        the identity when ``t == k``.

    Notes
    -----
    By the chain rule, with the later steps on the left so that the shapes
    chain (every factor is :math:`H \times H`),

    .. math::

        \frac{\partial h_t}{\partial h_k} = J_t J_{t-1} \cdots J_{k+1}
        = \prod_{j=t}^{k+1} \operatorname{diag}(1 - h_j^2)\, W_{hh}.

    The loop multiplies each new factor on the left, exactly as the product
    is written. The gradient of a loss :math:`L_t` at step t then reaches
    :math:`h_k` as :math:`(\partial h_t/\partial h_k)^\top \partial L_t/\partial h_t`.
    """
    T, B, H = _check_states(params, h)
    for name, value in (("t", t), ("k", k)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if not 0 <= k <= t <= T:
        raise ValueError(f"need 0 <= k <= t <= T = {T}, got t = {t}, k = {k}")
    W_hh = params["W_hh"]
    P = np.broadcast_to(np.eye(H, dtype=W_hh.dtype), (B, H, H)).copy()
    for j in range(k + 1, t + 1):
        P = _jacobians(W_hh, h[j]) @ P       # (B, H, H); step j is later: it goes on the left
    return P


def jacobian_norms_by_lag(params: dict, h: np.ndarray) -> np.ndarray:
    r"""The spectral norms :math:`\|\partial h_T / \partial h_{T-\tau}\|_2` for every lag.

    Parameters
    ----------
    params : dict
        RNN parameters, see :func:`bptt.rnn.init_rnn`; only ``W_hh (H, H)`` is used.
    h : ndarray, shape (T+1, B, H)
        Hidden states from :func:`bptt.rnn.rnn_forward`.

    Returns
    -------
    norms : ndarray of float64, shape (T+1, B)
        ``norms[tau, b]`` is the largest singular value of
        :math:`\partial h_T / \partial h_{T-\tau}` for sequence ``b``
        (1 for :math:`\tau = 0`): the most any gradient at :math:`h_T` can be
        stretched on its way back to :math:`h_{T-\tau}`.

    Notes
    -----
    The products share their left end, so they are built in one sweep by
    multiplying each new (earlier) factor on the *right*:
    :math:`\partial h_T/\partial h_{T-\tau} = (\partial h_T/\partial h_{T-\tau+1})\, J_{T-\tau+1}`.
    """
    T, B, H = _check_states(params, h)
    W_hh = params["W_hh"]
    P = np.broadcast_to(np.eye(H, dtype=W_hh.dtype), (B, H, H)).copy()
    norms = np.empty((T + 1, B))
    norms[0] = 1.0
    for tau in range(1, T + 1):
        j = T - tau + 1
        P = P @ _jacobians(W_hh, h[j])                  # earlier step: on the right
        norms[tau] = np.linalg.norm(P.astype(np.float64), ord=2, axis=(1, 2))
    return norms


def last_step_gradients(params: dict, h: np.ndarray, dh_T: np.ndarray) -> np.ndarray:
    r"""Carry the gradient of a loss at the last step back to every hidden state.

    Parameters
    ----------
    params : dict
        RNN parameters, see :func:`bptt.rnn.init_rnn`; only ``W_hh (H, H)`` is used.
    h : ndarray, shape (T+1, B, H)
        Hidden states from :func:`bptt.rnn.rnn_forward`.
    dh_T : ndarray, shape (B, H)
        :math:`\partial L_T / \partial h_T`, the gradient of the loss at step T
        with respect to the last state.

    Returns
    -------
    dh : ndarray, shape (T+1, B, H), dtype of ``params``
        ``dh[t]`` is :math:`\partial L_T / \partial h_t` for ``t = 0 .. T``
        (``dh[T]`` is ``dh_T``). Equal to the ``"h"`` that
        :func:`bptt.rnn.rnn_backward` returns with ``return_dh=True`` when the
        only loss is at step T.

    Notes
    -----
    One matrix-vector product per step instead of a product of matrices:

    .. math::

        \frac{\partial L_T}{\partial h_{t-1}}
        = J_t^\top \frac{\partial L_T}{\partial h_t}
        = W_{hh}^\top \Big( (1 - h_t^2) \odot \frac{\partial L_T}{\partial h_t} \Big),

    which unrolls to :math:`(\partial h_T / \partial h_t)^\top \partial L_T/\partial h_T`.
    In rows (``(B, H)``), :math:`W_{hh}^\top v` is ``v @ W_hh``.
    """
    T, B, H = _check_states(params, h)
    dh_T = check_array("dh_T", dh_T, ("B", "H"), (B, H), params["W_hh"].dtype)
    dh = np.empty_like(h)
    dh[T] = dh_T
    for t in range(T, 0, -1):
        dh[t - 1] = apply_jacobian_transpose(params["W_hh"], h[t], dh[t])   # J_t^T dh[t]
    return dh


def gradient_norm_by_lag(params: dict, h: np.ndarray, dh_T: np.ndarray) -> np.ndarray:
    r"""The norm :math:`\|\partial L_T / \partial h_{T-\tau}\|_2` for every lag :math:`\tau = 0..T`.

    Parameters
    ----------
    params : dict
        RNN parameters, see :func:`bptt.rnn.init_rnn`.
    h : ndarray, shape (T+1, B, H)
        Hidden states from :func:`bptt.rnn.rnn_forward`.
    dh_T : ndarray, shape (B, H)
        :math:`\partial L_T / \partial h_T`.

    Returns
    -------
    norms : ndarray, shape (T+1, B), dtype of ``params``
        ``norms[tau, b]`` is the Euclidean norm of :math:`\partial L_T/\partial h_{T-\tau}`
        for sequence ``b``: indexed by the *lag*, how far back the gradient has
        travelled, so ``norms[0]`` is the norm of ``dh_T``.
    """
    dh = last_step_gradients(params, h, dh_T)
    return np.linalg.norm(dh[::-1], axis=-1)


# --------------------------------------------------------------------------
# The bound, and the linear case
# --------------------------------------------------------------------------

def jacobian_bound(W_hh: np.ndarray, lags, gamma: float = 1.0) -> np.ndarray:
    r"""The bound :math:`(\gamma\, \sigma_{\max}(W_{hh}))^{\tau}` on the norm of a Jacobian product.

    Parameters
    ----------
    W_hh : ndarray, shape (H, H)
        The recurrent matrix.
    lags : int or ndarray of int
        :math:`\tau = t - k \ge 0`, any shape.
    gamma : float
        :math:`\gamma = \sup |f'|` of the activation; 1 for tanh (the default).

    Returns
    -------
    bound : ndarray of float64, shape of ``lags``

    Notes
    -----
    Each factor :math:`J_j = \operatorname{diag}(f'(a_j)) W_{hh}` has
    :math:`\|J_j\|_2 \le \|\operatorname{diag}(f'(a_j))\|_2 \|W_{hh}\|_2 \le \gamma\,\sigma_{\max}`
    because the 2-norm is submultiplicative and a diagonal matrix's 2-norm is
    its largest absolute entry. A product of :math:`\tau` factors is then at
    most :math:`(\gamma \sigma_{\max})^\tau`.
    """
    sigma = spectral_norm(W_hh)
    gamma = check_positive_float("gamma", gamma)
    lags_arr = np.asarray(lags)
    if not np.issubdtype(lags_arr.dtype, np.integer) or np.any(lags_arr < 0):
        raise ValueError(f"lags must be integers >= 0, got {lags!r}")
    return (gamma * sigma) ** lags_arr.astype(np.float64)


def matrix_power_norms(W: np.ndarray, n_max: int) -> np.ndarray:
    r"""The norms :math:`\|W^n\|_2` for ``n = 0 .. n_max``: the Jacobian products of a linear RNN.

    Parameters
    ----------
    W : ndarray, shape (H, H)
        A square matrix, e.g. ``params["W_hh"]``.
    n_max : int
        The largest power, >= 1.

    Returns
    -------
    norms : ndarray of float64, shape (n_max + 1,)
        ``norms[n]`` is the largest singular value of :math:`W^n` (1 for n = 0).

    Notes
    -----
    With a linear activation, :math:`\partial h_t / \partial h_{t-n} = W^n`.
    :math:`\|W^n\|_2 \le \sigma_{\max}(W)^n` for every n, but for large n it
    behaves as :math:`\rho(W)^n` up to slower factors: Gelfand's formula
    :math:`\lim_n \|W^n\|^{1/n} = \rho(W)`. For a normal matrix
    (:math:`W W^\top = W^\top W`, e.g. symmetric or orthogonal)
    :math:`\rho = \sigma_{\max}` and the two agree; for a non-normal one the
    norm can grow for a while although :math:`\rho(W) < 1`, then decays.
    """
    W = check_square("W", W)
    n_max = check_positive_int("n_max", n_max)
    P = np.eye(W.shape[0])
    W64 = W.astype(np.float64)
    norms = np.empty(n_max + 1)
    norms[0] = 1.0
    for n in range(1, n_max + 1):
        P = W64 @ P
        norms[n] = np.linalg.norm(P, 2)
    return norms


# --------------------------------------------------------------------------
# Measuring gradient norm against time lag
# --------------------------------------------------------------------------

def recurrent_matrix(H: int, rho: float, *, kind: str = "gaussian", seed: int = 0) -> np.ndarray:
    r"""A random recurrent matrix with spectral radius ``rho``.

    Parameters
    ----------
    H : int
        Hidden size.
    rho : float
        The spectral radius wanted, > 0.
    kind : {"gaussian", "orthogonal"}
        ``"gaussian"``: i.i.d. :math:`\mathcal N(0, 1/H)` entries (as
        :func:`bptt.rnn.init_rnn`), rescaled with
        :func:`bptt.spectral.scale_to_spectral_radius`; non-normal, so its
        largest singular value is about twice its spectral radius.
        ``"orthogonal"``: ``rho`` times a random orthogonal matrix (Saxe et
        al. 2014), for which :math:`\sigma_{\max} = \rho` exactly.
    seed : int
        Seed of the ``numpy.random.default_rng`` that draws it.

    Returns
    -------
    W_hh : ndarray of float64, shape (H, H)
    """
    H = check_positive_int("H", H)
    rho = check_positive_float("rho", rho)
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((H, H)) / np.sqrt(H)
    if kind == "gaussian":
        return scale_to_spectral_radius(G, rho)
    if kind == "orthogonal":
        Q, R = np.linalg.qr(G)
        # Fix the signs so that Q is uniformly distributed (Haar), not biased by QR.
        Q = Q * np.where(np.diag(R) < 0, -1.0, 1.0)
        return rho * Q
    raise ValueError(f"kind must be 'gaussian' or 'orthogonal', got {kind!r}")


def random_rnn_states(W_hh: np.ndarray, input_scale: float = 1.0, *, T: int = 100,
                      B: int = 32, D: int = 8, seed: int = 0):
    r"""Run an RNN with a given recurrent matrix on random inputs.

    Parameters
    ----------
    W_hh : ndarray, shape (H, H)
        The recurrent matrix.
    input_scale : float
        Multiplies ``W_xh``, whose entries are :math:`\mathcal N(0, 1/D)`
        before scaling; larger inputs push the tanh into saturation.
    T, B, D : int
        Steps, batch size, input size.
    seed : int
        Seed of the ``numpy.random.default_rng`` that draws ``W_xh`` and the
        inputs :math:`x_t \sim \mathcal N(0, I_D)`.

    Returns
    -------
    params : dict
        ``W_xh (H, D)``, ``W_hh`` (a copy), ``b_h`` = 0, and a zero read-out
        ``W_hy (1, H)``, ``b_y (1,)``.
    h : ndarray, shape (T+1, B, H)
        The hidden states, from :math:`h_0 = 0`.
    """
    W_hh = check_square("W_hh", W_hh)
    H = W_hh.shape[0]
    scale = check_positive_float("input_scale", input_scale)
    T, B = check_positive_int("T", T), check_positive_int("B", B)
    D = check_positive_int("D", D)
    rng = np.random.default_rng(seed)
    dtype = W_hh.dtype
    params = {
        "W_xh": (scale * rng.standard_normal((H, D)) / np.sqrt(D)).astype(dtype),
        "W_hh": W_hh.copy(),
        "b_h": np.zeros(H, dtype=dtype),
        "W_hy": np.zeros((1, H), dtype=dtype),
        "b_y": np.zeros(1, dtype=dtype),
    }
    x = rng.standard_normal((T, B, D)).astype(dtype)
    _, h = rnn_forward(params, x)
    return params, h


def lag_norm_experiment(rho: float, input_scale: float = 1.0, *, T: int = 100, B: int = 32,
                        H: int = 64, D: int = 8, kind: str = "gaussian",
                        seed: int = 0) -> dict:
    r"""Measure :math:`\|\partial L_T / \partial h_{T-\tau}\|` against the lag, for one radius.

    A random RNN (:func:`random_rnn_states`) whose ``W_hh``
    (:func:`recurrent_matrix`) has spectral radius ``rho`` reads a batch of
    random sequences; a loss at the last step, :math:`L_T = u^\top h_T` with a
    random unit vector :math:`u` per sequence, is carried back in time with
    :func:`gradient_norm_by_lag`.

    Parameters
    ----------
    rho : float
        Spectral radius of ``W_hh``, > 0.
    input_scale : float
        Multiplies ``W_xh``; larger inputs push the tanh into saturation.
    T, B, H, D : int
        Steps, batch size, hidden size, input size.
    kind : {"gaussian", "orthogonal"}
        How ``W_hh`` is drawn, see :func:`recurrent_matrix`.
    seed : int
        Seed for ``W_hh``, ``W_xh``, the inputs and :math:`u`; the same seed
        gives the same matrices up to the scaling, for every ``rho``.

    Returns
    -------
    dict
        ``lag (T+1,)``: 0 .. T;
        ``norm (T+1,)``: the geometric mean over the batch of
        :math:`\|\partial L_T/\partial h_{T-\tau}\|_2` (a mean of logarithms,
        suited to numbers spanning many orders of magnitude; 0 if any is 0);
        ``norms (T+1, B)``: every sequence's norms;
        ``slope`` (float): the mean of :math:`1 - h_t^2` over steps, sequences
        and units, how far from saturation the tanh works (1: linear regime,
        near 0: saturated);
        ``sigma_max`` and ``rho`` (float): :math:`\sigma_{\max}(W_{hh})` and
        :math:`\rho(W_{hh})`.
    """
    H = check_positive_int("H", H)
    params, h = random_rnn_states(recurrent_matrix(H, rho, kind=kind, seed=seed + 1),
                                  input_scale, T=T, B=B, D=D, seed=seed)
    u = np.random.default_rng(seed + 2).standard_normal((B, H))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    norms = gradient_norm_by_lag(params, h, u)
    with np.errstate(divide="ignore"):
        geo = np.exp(np.mean(np.log(norms), axis=1))
    return {
        "lag": np.arange(T + 1),
        "norm": geo,
        "norms": norms,
        "slope": float(np.mean(1.0 - h[1:] ** 2)),
        "sigma_max": spectral_norm(params["W_hh"]),
        "rho": spectral_radius(params["W_hh"]),
    }
