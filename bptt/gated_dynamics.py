r"""How the gradient flows back through gated cells: step Jacobians and the norm against the lag.

Chapter 5 (:mod:`bptt.dynamics`) carried the gradient of a loss at the last
step back through the vanilla RNN, one step Jacobian
:math:`\operatorname{diag}(1 - h_t^2) W_{hh}` at a time. Chapter 6 does the same
for the LSTM (:mod:`bptt.lstm`) and the GRU (:mod:`bptt.gru`), whose step
Jacobians this module writes down (numerator layout, each block
:math:`H \times H`, later steps on the left in a product):

* :func:`lstm_state_jacobian`: the four blocks of
  :math:`\partial (h_t, c_t) / \partial (h_{t-1}, c_{t-1})`. The cell-to-cell
  block is exactly :math:`\operatorname{diag}(f_t)` (the direct path through
  the cell); the three others are the paths through :math:`h`.
* :func:`gru_state_jacobian`: :math:`\partial h_t / \partial h_{t-1}`, whose
  direct path is :math:`\operatorname{diag}(z_t)`.
* :func:`lstm_last_step_gradients`, :func:`gru_last_step_gradients`: the
  gradient of a loss at the last step carried back to every earlier state,
  with the transposed Jacobians, one step at a time.
* :func:`gated_lag_norm_experiment`: chapter 5's measurement of
  :math:`\|\partial L_T / \partial h_{T-\tau}\|_2` against the lag
  (:func:`bptt.dynamics.lag_norm_experiment`: the same inputs, sizes and loss)
  for an RNN, an LSTM or a GRU, with a chosen bias on the gate that keeps the
  old state (the LSTM's forget gate, the GRU's update gate).

Gates are in ``torch`` order: the LSTM's ``i, f, g, o`` and the GRU's
``r, z, n``, blocks of ``H`` columns of the stacked pre-activations. Shapes
follow the package: ``x`` is ``(T, B, D)``, states ``(T+1, B, H)``.
"""
from __future__ import annotations

import numpy as np

from .dynamics import lag_norm_experiment
from .gates import sigmoid
from .gru import gru_forward, init_gru
from .lstm import init_lstm, lstm_forward, lstm_step_forward
from .validate import check_array, check_positive_float, check_positive_int

__all__ = ["lstm_state_jacobian", "gru_state_jacobian", "lstm_last_step_gradients",
           "gru_last_step_gradients", "experiment_inputs", "gated_lag_norm_experiment",
           "CELLS"]

#: The cells :func:`gated_lag_norm_experiment` measures.
CELLS = ("rnn", "lstm", "gru")


def _diag_rows(v: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``diag(v) W`` for rows ``v (B, H)`` and ``W (H, H)``: shape ``(B, H, H)``."""
    return v[:, :, None] * W[None, :, :]


def _lstm_parts(params: dict, x_t, h_prev, c_prev):
    """The gates and cell of one LSTM step, as :func:`bptt.lstm.lstm_step_forward` gives them."""
    H = params["W_hh"].shape[1]
    _, c, gates = lstm_step_forward(params, x_t, h_prev, c_prev)
    i, f, g, o = (gates[:, k * H:(k + 1) * H] for k in range(4))
    return i, f, g, o, c


def lstm_state_jacobian(params: dict, x_t: np.ndarray, h_prev: np.ndarray,
                        c_prev: np.ndarray) -> dict:
    r"""The Jacobian of one LSTM step with respect to its state, in four blocks.

    Parameters
    ----------
    params : dict
        LSTM parameters (:func:`bptt.lstm.init_lstm`): ``W_xh (4H, D)``,
        ``W_hh (4H, H)``, ``b_h (4H,)``, gates in the order i, f, g, o.
    x_t : ndarray, shape (B, D)
    h_prev, c_prev : ndarray, shape (B, H)
        :math:`h_{t-1}` and :math:`c_{t-1}`.

    Returns
    -------
    dict of ndarray, each shape (B, H, H)
        ``"hh"``: :math:`\partial h_t/\partial h_{t-1}`, ``"hc"``:
        :math:`\partial h_t/\partial c_{t-1}`, ``"ch"``:
        :math:`\partial c_t/\partial h_{t-1}`, ``"cc"``:
        :math:`\partial c_t/\partial c_{t-1}`; row i, column j holds the
        derivative of unit i of the output by unit j of the input.

    Notes
    -----
    With :math:`c_t = f_t \odot c_{t-1} + i_t \odot g_t`,
    :math:`h_t = o_t \odot \tanh(c_t)` and the gates functions of
    :math:`h_{t-1}` and :math:`x_t` only,

    .. math::

        \frac{\partial c_t}{\partial c_{t-1}} &= \operatorname{diag}(f_t), \\
        \frac{\partial c_t}{\partial h_{t-1}} &=
            \operatorname{diag}(c_{t-1} \odot f_t \odot (1 - f_t)) W_{hf}
            + \operatorname{diag}(g_t \odot i_t \odot (1 - i_t)) W_{hi}
            + \operatorname{diag}(i_t \odot (1 - g_t^2)) W_{hg}, \\
        \frac{\partial h_t}{\partial c_{t-1}} &=
            \operatorname{diag}(o_t \odot (1 - \tanh^2 c_t))\,
            \frac{\partial c_t}{\partial c_{t-1}}, \\
        \frac{\partial h_t}{\partial h_{t-1}} &=
            \operatorname{diag}(\tanh(c_t) \odot o_t \odot (1 - o_t)) W_{ho}
            + \operatorname{diag}(o_t \odot (1 - \tanh^2 c_t))\,
            \frac{\partial c_t}{\partial h_{t-1}},

    where :math:`W_{hi}, W_{hf}, W_{hg}, W_{ho}` are the four blocks of
    ``W_hh`` (rows ``0:H``, ``H:2H``, ...).
    """
    W_hh = params["W_hh"]
    H = W_hh.shape[1]
    i, f, g, o, c = _lstm_parts(params, x_t, h_prev, c_prev)
    Wi, Wf, Wg, Wo = (W_hh[k * H:(k + 1) * H] for k in range(4))
    B = x_t.shape[0]
    cc = np.zeros((B, H, H), dtype=W_hh.dtype)
    idx = np.arange(H)
    cc[:, idx, idx] = f                                    # diag(f_t)
    ch = (_diag_rows(c_prev * f * (1 - f), Wf) + _diag_rows(g * i * (1 - i), Wi)
          + _diag_rows(i * (1 - g ** 2), Wg))
    dtanh = o * (1 - np.tanh(c) ** 2)                      # dh_t/dc_t, element-wise
    hc = dtanh[:, :, None] * cc
    hh = _diag_rows(np.tanh(c) * o * (1 - o), Wo) + dtanh[:, :, None] * ch
    return {"hh": hh, "hc": hc, "ch": ch, "cc": cc}


def gru_state_jacobian(params: dict, x_t: np.ndarray, h_prev: np.ndarray) -> np.ndarray:
    r"""The Jacobian :math:`\partial h_t / \partial h_{t-1}` of one GRU step.

    Parameters
    ----------
    params : dict
        GRU parameters (:func:`bptt.gru.init_gru`): ``W_xh (3H, D)``,
        ``W_hh (3H, H)``, ``b_xh (3H,)``, ``b_hh (3H,)``, gates r, z, n.
    x_t : ndarray, shape (B, D)
    h_prev : ndarray, shape (B, H)

    Returns
    -------
    ndarray, shape (B, H, H)

    Notes
    -----
    With :math:`h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}` and
    :math:`n_t = \tanh(W_{xn} x_t + b_{xn} + r_t \odot (W_{hn} h_{t-1} + b_{hn}))`,

    .. math::

        \frac{\partial h_t}{\partial h_{t-1}} = \operatorname{diag}(z_t)
          + \operatorname{diag}((h_{t-1} - n_t) \odot z_t \odot (1 - z_t)) W_{hz}
          + \operatorname{diag}((1 - z_t) \odot (1 - n_t^2))
            \bigl(\operatorname{diag}(r_t) W_{hn}
            + \operatorname{diag}(s_t \odot r_t \odot (1 - r_t)) W_{hr}\bigr),

    with :math:`s_t = W_{hn} h_{t-1} + b_{hn}`: the first term is the direct
    path, the others pass through the gates and the candidate.
    """
    W_hh = params["W_hh"]
    H = W_hh.shape[1]
    a_x = x_t @ params["W_xh"].T + params["b_xh"]                 # (B, 3H)
    a_h = h_prev @ W_hh.T + params["b_hh"]                        # (B, 3H)
    r = sigmoid(a_x[:, :H] + a_h[:, :H])
    z = sigmoid(a_x[:, H:2 * H] + a_h[:, H:2 * H])
    s = a_h[:, 2 * H:]
    n = np.tanh(a_x[:, 2 * H:] + r * s)
    Wr, Wz, Wn = (W_hh[k * H:(k + 1) * H] for k in range(3))
    J = _diag_rows((h_prev - n) * z * (1 - z), Wz)
    dn = (1 - z) * (1 - n ** 2)
    J += dn[:, :, None] * (_diag_rows(r, Wn) + _diag_rows(s * r * (1 - r), Wr))
    idx = np.arange(H)
    J[:, idx, idx] += z                                           # the direct path
    return J


def lstm_last_step_gradients(params: dict, x: np.ndarray, state: dict, dh_T: np.ndarray,
                             dc_T: np.ndarray | None = None) -> dict:
    r"""Carry the gradient of a loss at the last step back through an LSTM.

    Parameters
    ----------
    params : dict
        LSTM parameters.
    x : ndarray, shape (T, B, D)
    state : dict
        From :func:`bptt.lstm.lstm_forward`: ``"h"`` and ``"c"``, ``(T+1, B, H)``.
    dh_T : ndarray, shape (B, H)
        :math:`\partial L_T / \partial h_T`.
    dc_T : ndarray, shape (B, H), optional
        :math:`\partial L_T / \partial c_T` with :math:`h_T` held fixed; zero
        by default (the loss sees the cell only through :math:`h_T`).

    Returns
    -------
    dict
        ``"h"``, ``"c"``: ndarray ``(T+1, B, H)``, the total derivatives
        :math:`\partial L_T / \partial h_t` and :math:`\partial L_T / \partial c_t`
        (with every later step recomputed), ``t = 0..T``.

    Notes
    -----
    One step back multiplies by the transposed state Jacobian
    (:func:`lstm_state_jacobian`):
    :math:`\bar h_{t-1} = J_{hh}^\top \bar h_t + J_{ch}^\top \bar c_t^{\,*}` and
    :math:`\bar c_{t-1}^{\,*} = J_{hc}^\top \bar h_t + J_{cc}^\top \bar c_t^{\,*}`,
    where :math:`\bar c^{\,*}` is the derivative with the same step's
    :math:`h` held fixed. The returned ``"c"`` is the total derivative,
    which adds the path :math:`c_t \to h_t`:
    :math:`\bar c_t = \bar c_t^{\,*} + o_t \odot (1 - \tanh^2 c_t) \odot \bar h_t`.
    """
    h, c = state["h"], state["c"]
    T, B, H = h.shape[0] - 1, h.shape[1], h.shape[2]
    dh_T = check_array("dh_T", dh_T, ("B", "H"), (B, H), h.dtype)
    dh = np.empty_like(h)
    dc_star = np.empty_like(c)
    dh[T] = dh_T
    dc_star[T] = 0 if dc_T is None else check_array("dc_T", dc_T, ("B", "H"), (B, H), h.dtype)
    for t in range(T, 0, -1):
        J = lstm_state_jacobian(params, x[t - 1], h[t - 1], c[t - 1])
        dh[t - 1] = (np.einsum("bij,bi->bj", J["hh"], dh[t])
                     + np.einsum("bij,bi->bj", J["ch"], dc_star[t]))
        dc_star[t - 1] = (np.einsum("bij,bi->bj", J["hc"], dh[t])
                          + np.einsum("bij,bi->bj", J["cc"], dc_star[t]))
    # The total derivative of c_t also goes through h_t = o_t * tanh(c_t).
    o = state["gates"][:, :, 3 * H:]                          # o_t at [t-1], (T, B, H)
    dc = dc_star.copy()
    dc[1:] += o * (1 - np.tanh(c[1:]) ** 2) * dh[1:]
    return {"h": dh, "c": dc}


def gru_last_step_gradients(params: dict, x: np.ndarray, h: np.ndarray,
                            dh_T: np.ndarray) -> np.ndarray:
    r"""Carry the gradient of a loss at the last step back through a GRU.

    Parameters
    ----------
    params : dict
        GRU parameters.
    x : ndarray, shape (T, B, D)
    h : ndarray, shape (T+1, B, H)
        Hidden states from :func:`bptt.gru.gru_forward` (its ``state["h"]``).
    dh_T : ndarray, shape (B, H)
        :math:`\partial L_T / \partial h_T`.

    Returns
    -------
    ndarray, shape (T+1, B, H)
        :math:`\partial L_T / \partial h_t` for ``t = 0..T``:
        :math:`\bar h_{t-1} = J_t^\top \bar h_t` with :func:`gru_state_jacobian`.
    """
    T, B, H = h.shape[0] - 1, h.shape[1], h.shape[2]
    dh_T = check_array("dh_T", dh_T, ("B", "H"), (B, H), h.dtype)
    dh = np.empty_like(h)
    dh[T] = dh_T
    for t in range(T, 0, -1):
        J = gru_state_jacobian(params, x[t - 1], h[t - 1])
        dh[t - 1] = np.einsum("bij,bi->bj", J, dh[t])
    return dh


def experiment_inputs(*, T: int = 100, B: int = 32, H: int = 64, D: int = 8,
                      seed: int = 0):
    r"""The inputs and loss direction of chapter 5's lag experiment.

    :func:`bptt.dynamics.lag_norm_experiment` draws, from
    ``default_rng(seed)``, its input weights ``(H, D)`` and then the inputs
    :math:`x_t \sim \mathcal N(0, I_D)`, and from ``default_rng(seed + 2)``
    one random unit vector :math:`u` per sequence (the loss
    :math:`L_T = u^\top h_T`). This returns the same inputs and :math:`u`, so
    that every cell reads the same sequences and carries back the same loss.

    Returns
    -------
    x : ndarray, shape (T, B, D)
    u : ndarray, shape (B, H), rows of norm 1
    """
    T, B = check_positive_int("T", T), check_positive_int("B", B)
    H, D = check_positive_int("H", H), check_positive_int("D", D)
    rng = np.random.default_rng(seed)
    rng.standard_normal((H, D))                     # the RNN's input weights, not used here
    x = rng.standard_normal((T, B, D))
    u = np.random.default_rng(seed + 2).standard_normal((B, H))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    return x, u


def _geometric_mean(norms: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.exp(np.mean(np.log(norms), axis=1))


def gated_lag_norm_experiment(cell: str, keep_bias: float = 1.0, input_scale: float = 1.0, *,
                              rho: float = 1.0, T: int = 100, B: int = 32, H: int = 64,
                              D: int = 8, seed: int = 0) -> dict:
    r"""Gradient norm against the lag for an RNN, an LSTM or a GRU, on chapter 5's problem.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}
        ``"rnn"`` is :func:`bptt.dynamics.lag_norm_experiment` itself (Gaussian
        ``W_hh`` with spectral radius ``rho``).
    keep_bias : float
        The bias of the gate that keeps the old state: the LSTM's forget gate
        :math:`f` (block 2 of ``b_h``), the GRU's update gate :math:`z` (its
        two biases, blocks 2 of ``b_xh`` and ``b_hh``, add up to it). Ignored
        for the RNN.
    input_scale : float
        Multiplies ``W_xh``, whose entries are :math:`\mathcal N(0, 1/D)` in
        every model, as in chapter 5.
    rho : float
        The RNN's spectral radius; ignored for the gated cells, whose
        recurrent weights and biases are those of ``init_lstm`` / ``init_gru``
        (seed ``seed + 1``), apart from ``keep_bias``.
    T, B, H, D : int
        Steps, batch size, hidden size, input size.
    seed : int
        The seed of chapter 5's experiment: the same inputs and loss.

    Returns
    -------
    dict
        ``lag (T+1,)``; ``norm (T+1,)``: the geometric mean over the batch of
        :math:`\|\partial L_T/\partial h_{T-\tau}\|_2` for the loss
        :math:`L_T = u^\top h_T`; ``norms (T+1, B)``; ``keep`` (float): the
        mean of the keeping gate (:math:`f` or :math:`z`) over steps,
        sequences and units, NaN for the RNN; ``cell_norm (T+1,)`` for the
        LSTM only: the same for :math:`\partial L_T/\partial c_{T-\tau}`;
        ``keep_product (T+1,)`` for the gated cells: the geometric mean over
        units and sequences of the product of the keeping gate over the last
        :math:`\tau` steps, the gain of the direct path alone.
    """
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
    scale = check_positive_float("input_scale", input_scale)
    keep_bias = float(keep_bias)
    if not np.isfinite(keep_bias):
        raise ValueError(f"keep_bias must be finite, got {keep_bias}")
    if cell == "rnn":
        res = lag_norm_experiment(rho, scale, T=T, B=B, H=H, D=D, seed=seed)
        return {"lag": res["lag"], "norm": res["norm"], "norms": res["norms"],
                "keep": float("nan")}
    x, u = experiment_inputs(T=T, B=B, H=H, D=D, seed=seed)
    if cell == "lstm":
        params = init_lstm(D, H, 1, seed=seed + 1)
        params["W_xh"] *= scale
        params["b_h"][H:2 * H] = keep_bias                      # the forget gate f
        _, state = lstm_forward(params, x)
        grads = lstm_last_step_gradients(params, x, state, u)
        keep = state["gates"][:, :, H:2 * H]                    # f_t, (T, B, H)
        norms = np.linalg.norm(grads["h"][::-1], axis=-1)
        extra = {"cell_norm": _geometric_mean(np.linalg.norm(grads["c"][::-1], axis=-1))}
    else:
        params = init_gru(D, H, 1, seed=seed + 1)
        params["W_xh"] *= scale
        # The update gate z: its two biases add up to keep_bias.
        params["b_hh"][H:2 * H] = keep_bias - params["b_xh"][H:2 * H]
        _, state = gru_forward(params, x)
        h = state["h"]
        dh = gru_last_step_gradients(params, x, h, u)
        a = (x @ params["W_xh"][H:2 * H].T + params["b_xh"][H:2 * H]
             + h[:-1] @ params["W_hh"][H:2 * H].T + params["b_hh"][H:2 * H])
        keep = sigmoid(a)                                         # z_t, (T, B, H)
        norms = np.linalg.norm(dh[::-1], axis=-1)
        extra = {}
    # The direct path alone: prod of the keeping gate over the last tau steps.
    log_keep = np.log(keep)[::-1]                                # lag order
    cum = np.concatenate([np.zeros((1,) + log_keep.shape[1:]), np.cumsum(log_keep, axis=0)])
    keep_product = np.exp(cum.mean(axis=(1, 2)))
    return {"lag": np.arange(T + 1), "norm": _geometric_mean(norms), "norms": norms,
            "keep": float(keep.mean()), "keep_product": keep_product, **extra}
