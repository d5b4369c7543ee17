r"""The GRU: initialisation, forward pass and backpropagation through time.

The book writes the model for column vectors, with ``torch.nn.GRU``'s
equations and order of the gates (reset r, update z, candidate n):

.. math::

    r_t = \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}), \qquad
    z_t = \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}), \\
    n_t = \tanh\bigl(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})\bigr), \qquad
    h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}, \qquad y_t = W_{hy} h_t + b_y.

``W_xh (3H, D)`` stacks :math:`W_{ir}, W_{iz}, W_{in}` (torch's
``weight_ih_l0``), ``W_hh (3H, H)`` stacks :math:`W_{hr}, W_{hz}, W_{hn}`
(``weight_hh_l0``); the GRU keeps both biases, ``b_xh`` and ``b_hh``
(``bias_ih_l0``, ``bias_hh_l0``), because :math:`b_{hn}` sits inside the reset
gate's product and is not interchangeable with :math:`b_{in}`. Arrays are
time-major as in :mod:`bptt.rnn`. The module has the same five parts in the
same order, and :data:`GRU`.
"""
from __future__ import annotations

import numpy as np

from .gates import check_gate_array, check_gated_params, check_gates, gate_scale
from .model import Model
from .validate import check_array, check_float_dtype, check_keys, check_positive_int

__all__ = ["PARAM_KEYS", "STATE_KEYS", "check_gru_params", "init_gru", "gru_step_forward",
           "gru_step_backward", "gru_forward", "gru_backward", "GRU"]

#: The parameter names of the GRU, in the order the book lists them.
PARAM_KEYS = ("W_xh", "W_hh", "b_xh", "b_hh", "W_hy", "b_y")
#: What :func:`gru_forward` keeps for the backward pass.
STATE_KEYS = ("h", "gates", "hn")
_GATES, _KINDS = "rzn", "sst"


def check_gru_params(params, name: str = "params") -> tuple[int, int, int]:
    """Check a GRU parameter dict and return its sizes ``(D, H, O)``.

    Exactly the keys ``W_xh (3H, D)``, ``W_hh (3H, H)``, ``b_xh (3H,)``,
    ``b_hh (3H,)``, ``W_hy (O, H)``, ``b_y (O,)``, finite, of the dtype of ``W_xh``.
    """
    return check_gated_params(params, PARAM_KEYS, ("b_xh", "b_hh"), _GATES, name)


def init_gru(input_size: int, hidden_size: int, output_size: int, *,
             seed: int = 0, dtype=np.float64) -> dict:
    r"""Initialise a GRU with ``D`` inputs, ``H`` hidden units and ``O`` outputs.

    Returns
    -------
    dict
        ``W_xh (3H, D)``, ``W_hh (3H, H)``, ``b_xh (3H,)``, ``b_hh (3H,)``,
        ``W_hy (O, H)``, ``b_y (O,)``; rows in the gate order r, z, n.

    Notes
    -----
    As :func:`bptt.rnn.init_rnn`, one block per gate: weights
    :math:`\mathcal N(0, 1/n_\text{in})` (LeCun), biases zero. No gate gets
    the LSTM's forget-gate bias (:func:`bptt.lstm.init_lstm`): at zero bias the
    update gate starts at :math:`z \approx 0.5`, so :math:`h_t` keeps about
    half of :math:`h_{t-1}` through the direct path :math:`z_t \odot h_{t-1}`,
    whose local derivative :math:`\operatorname{diag}(z_t)` plays the part of
    the LSTM's :math:`\operatorname{diag}(f_t)`. A positive :math:`b_z` would
    lengthen the memory the same way; the book leaves it as an exercise.
    """
    D = check_positive_int("input_size", input_size)
    H = check_positive_int("hidden_size", hidden_size)
    O = check_positive_int("output_size", output_size)
    dtype = check_float_dtype("dtype", dtype)
    rng = np.random.default_rng(seed)
    return {
        "W_xh": (rng.standard_normal((3 * H, D)) / np.sqrt(D)).astype(dtype),
        "W_hh": (rng.standard_normal((3 * H, H)) / np.sqrt(H)).astype(dtype),
        "b_xh": np.zeros(3 * H, dtype=dtype),
        "b_hh": np.zeros(3 * H, dtype=dtype),
        "W_hy": (rng.standard_normal((O, H)) / np.sqrt(H)).astype(dtype),
        "b_y": np.zeros(O, dtype=dtype),
    }


def _halved(params: dict, H: int) -> tuple:
    """``W_xh``, ``W_hh.T`` (contiguous), ``b_x`` and ``b_hn``, r and z rows halved.

    ``b_x`` folds ``b_hh``'s r and z blocks into ``b_xh`` (they are simply
    added); :math:`b_{hn}` stays apart, inside the reset gate's product.
    """
    scale = gate_scale(_KINDS, H, params["W_hh"].dtype)
    b_x = params["b_xh"].copy()
    b_x[:2 * H] += params["b_hh"][:2 * H]
    W_hh_T = np.ascontiguousarray((params["W_hh"] * scale[:, None]).T)
    return params["W_xh"] * scale[:, None], W_hh_T, b_x * scale, params["b_hh"][2 * H:]


def _step(a, ah, hn, h_prev, h_t, tmp, H):
    """One recurrence step in place: ``a`` (B, 3H) holds the input part, ``ah`` W_hh h_{t-1}."""
    np.add(ah[:, 2 * H:], hn[1], out=hn[0])        # hn = W_hn h_{t-1} + b_hn
    rz = a[:, :2 * H]
    rz += ah[:, :2 * H]
    np.tanh(rz, out=rz)                           # r, z: activate(rz, "ss"), inlined
    rz += 1.0
    rz *= 0.5
    np.multiply(a[:, :H], hn[0], out=tmp)         # n = tanh(a_n + r * hn)
    a[:, 2 * H:] += tmp
    np.tanh(a[:, 2 * H:], out=a[:, 2 * H:])
    n, z = a[:, 2 * H:], a[:, H:2 * H]
    np.subtract(h_prev, n, out=tmp)               # h_t = n + z (h_{t-1} - n)
    tmp *= z
    np.add(n, tmp, out=h_t)


def gru_step_forward(params: dict, x_t: np.ndarray, h_prev: np.ndarray):
    r"""One GRU step.

    Parameters
    ----------
    params : dict
        GRU parameters, see :func:`init_gru`.
    x_t : ndarray, shape (B, D)
    h_prev : ndarray, shape (B, H)
        :math:`h_{t-1}`.

    Returns
    -------
    h_t : ndarray, shape (B, H)
    gates : ndarray, shape (B, 3H)
        The activated r, z, n side by side (``state["gates"][t-1]`` of
        :func:`gru_forward`): with ``h_prev`` and ``params``, all that
        :func:`gru_step_backward` needs.
    """
    D, H, _ = check_gru_params(params)
    dtype = params["W_hh"].dtype
    x_t = check_array("x_t", x_t, ("B", "D"), (None, D), dtype)
    B = x_t.shape[0]
    check_array("h_prev", h_prev, ("B", "H"), (B, H), dtype)
    W_xh, W_hh_T, b_x, b_hn = _halved(params, H)
    gates = x_t @ W_xh.T
    gates += b_x
    h_t, hn, tmp = (np.empty((B, H), dtype=dtype) for _ in range(3))
    _step(gates, h_prev @ W_hh_T, (hn, b_hn), h_prev, h_t, tmp, H)
    return h_t, gates


def gru_step_backward(params: dict, x_t: np.ndarray, h_prev: np.ndarray, gates: np.ndarray,
                      dh_t: np.ndarray) -> dict:
    r"""The local gradients of one GRU step.

    Parameters
    ----------
    params : dict
        GRU parameters, see :func:`init_gru`.
    x_t : ndarray, shape (B, D)
    h_prev : ndarray, shape (B, H)
        The state the step started from.
    gates : ndarray, shape (B, 3H)
        The gates it returned (:func:`gru_step_forward`), r, z in [0, 1], n in [-1, 1].
    dh_t : ndarray, shape (B, H)
        :math:`\bar h_t = \partial L/\partial h_t`, the total derivative (the
        loss at t and what flows back from step t+1).

    Returns
    -------
    dict
        ``W_xh (3H, D)``, ``W_hh (3H, H)``, ``b_xh (3H,)``, ``b_hh (3H,)``: this
        step's contributions (summed over the batch); ``x_t (B, D)``;
        ``h_prev (B, H)``: what flows on to step t-1, through the gates and
        directly through :math:`z_t \odot h_{t-1}`.

    Notes
    -----
    With :math:`\mathrm{hn} = W_{hn} h_{t-1} + b_{hn}` (recomputed here;
    :func:`gru_forward` keeps it as ``state["hn"]``), forward and local
    derivative side by side:

    .. math::

        h_t = (1 - z) n + z h_{t-1} &\Longrightarrow\ \bar n = \bar h_t (1 - z),\
            \bar z = \bar h_t (h_{t-1} - n),\ \text{direct } \bar h_t z, \\
        n = \tanh(a^n_x + r\,\mathrm{hn}) &\Longrightarrow\ \delta^n = \bar n (1 - n^2),\
            \bar r = \delta^n \mathrm{hn},\ \bar{\mathrm{hn}} = \delta^n r, \\
        r, z = \sigma(\cdot) &\Longrightarrow\ \delta^r = \bar r\, r (1 - r),\
            \delta^z = \bar z\, z (1 - z).

    The input side's pre-activation gradient is :math:`\delta_x = (\delta^r,
    \delta^z, \delta^n)` and the recurrent side's :math:`\delta_h = (\delta^r,
    \delta^z, r \odot \delta^n)`; then :math:`\partial L/\partial W_{xh} =
    \delta_x^\top x_t`, :math:`\partial L/\partial W_{hh} = \delta_h^\top h_{t-1}`,
    the biases sum them over the batch, and :math:`\partial L/\partial h_{t-1}
    = \delta_h W_{hh} + \bar h_t \odot z`.
    """
    D, H, _ = check_gru_params(params)
    dtype = params["W_hh"].dtype
    x_t = check_array("x_t", x_t, ("B", "D"), (None, D), dtype)
    B = x_t.shape[0]
    h_prev = check_array("h_prev", h_prev, ("B", "H"), (B, H), dtype)
    gates = check_array("gates", gates, ("B", "3H"), (B, 3 * H), dtype)
    check_gates("gates", gates, _KINDS, _GATES, "gru_step_forward")
    dh_t = check_array("dh_t", dh_t, ("B", "H"), (B, H), dtype)
    r, z, n = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:]
    hn = h_prev @ params["W_hh"][2 * H:].T + params["b_hh"][2 * H:]
    d_n = dh_t * (1.0 - z) * (1.0 - n ** 2)        # through tanh: 1 - n^2
    d_r = d_n * hn * r * (1.0 - r)                 # through sigma: s (1 - s)
    d_z = dh_t * (h_prev - n) * z * (1.0 - z)
    delta_x = np.concatenate([d_r, d_z, d_n], axis=1)
    delta_h = np.concatenate([d_r, d_z, d_n * r], axis=1)
    return {"W_xh": delta_x.T @ x_t, "W_hh": delta_h.T @ h_prev,
            "b_xh": delta_x.sum(axis=0), "b_hh": delta_h.sum(axis=0),
            "x_t": delta_x @ params["W_xh"], "h_prev": delta_h @ params["W_hh"] + dh_t * z}


def gru_forward(params: dict, x: np.ndarray, h0: np.ndarray | None = None):
    r"""Run the GRU over a batch of sequences.

    Parameters
    ----------
    params : dict
        GRU parameters, see :func:`init_gru`.
    x : ndarray, shape (T, B, D)
    h0 : ndarray, shape (B, H), optional
        Initial state; ``None`` means zeros.

    Returns
    -------
    y : ndarray, shape (T, B, O)
    state : dict
        ``"h"`` ``(T+1, B, H)`` with ``h[0] = h0``; ``"gates"`` ``(T, B, 3H)``,
        the activated r, z, n of each step; ``"hn"`` ``(T, B, H)``,
        :math:`W_{hn} h_{t-1} + b_{hn}`, the term the reset gate multiplies,
        kept so that :func:`gru_backward` need not recompute it.
    """
    D, H, O = check_gru_params(params)
    dtype = params["W_hh"].dtype
    x = check_array("x", x, ("T", "B", "D"), (None, None, D), dtype)
    T, B, _ = x.shape
    h0 = np.zeros((B, H), dtype=dtype) if h0 is None else h0
    check_array("h0", h0, ("B", "H"), (B, H), dtype)
    W_xh, W_hh_T, b_x, b_hn = _halved(params, H)
    h = np.empty((T + 1, B, H), dtype=dtype)
    h[0] = h0
    hn = np.empty((T, B, H), dtype=dtype)
    # Hoisted out of the loop: the input part of every gate, one product over T*B rows.
    gates = np.empty((T, B, 3 * H), dtype=dtype)
    np.matmul(x.reshape(T * B, D), W_xh.T, out=gates.reshape(T * B, 3 * H))
    gates += b_x
    ah, tmp = np.empty((B, 3 * H), dtype=dtype), np.empty((B, H), dtype=dtype)
    for t in range(1, T + 1):
        np.matmul(h[t - 1], W_hh_T, out=ah)      # all three gates in one product
        _step(gates[t - 1], ah, (hn[t - 1], b_hn), h[t - 1], h[t], tmp, H)
    y = (h[1:].reshape(T * B, H) @ params["W_hy"].T).reshape(T, B, O)
    y += params["b_y"]
    return y, {"h": h, "gates": gates, "hn": hn}


def _check_state(state, T, B, H, dtype):
    check_keys("state", state, STATE_KEYS, " as returned by gru_forward")
    h = check_array("state['h']", state["h"], ("T+1", "B", "H"), (T + 1, B, H), dtype)
    gates = check_gate_array("state['gates']", state["gates"], ("T", "B", "3H"), (T, B, 3 * H),
                             dtype, _KINDS, _GATES, "gru_forward")
    hn = check_array("state['hn']", state["hn"], ("T", "B", "H"), (T, B, H), dtype)
    return h, gates, hn


def gru_backward(params: dict, x: np.ndarray, state: dict, dy: np.ndarray,
                 truncate: int | None = None) -> dict:
    r"""Backpropagation through time for the GRU: the gradient of a loss L given dL/dy.

    It is the reversed loop over :func:`gru_step_backward`::

        dh_next = zeros((B, H))                  # nothing flows back from step T+1
        for t in range(T, 0, -1):                # book step t lives at index t-1
            hbar_t = dy[t-1] @ W_hy + dh_next    # the loss at t meets the gradient from t+1
            g = gru_step_backward(params, x[t-1], h[t-1], gates[t-1], hbar_t)
            grads[k] += g[k] for k in ("W_xh", "W_hh", "b_xh", "b_hh")
            grads["x"][t-1] = g["x_t"]
            dh_next = g["h_prev"]                # zeros instead at a truncation point
        grads["h0"] = dh_next
        grads["W_hy"] = sum_t dy[t-1].T @ h[t];  grads["b_y"] = sum_t dy[t-1].sum(0)

    computed faster: each step's local factors a few steps at a time just
    ahead of the loop (still in the cache when it reads them), every
    weight-gradient sum over time after it; the loop carries only :math:`\bar h_t`.

    Parameters
    ----------
    params : dict
        GRU parameters, see :func:`init_gru`.
    x : ndarray, shape (T, B, D)
    state : dict
        What :func:`gru_forward` returned: ``h``, ``gates``, ``hn``.
    dy : ndarray, shape (T, B, O)
        :math:`\partial L/\partial y_t` for every step.
    truncate : int, optional
        Truncated BPTT as in :func:`bptt.rnn.rnn_backward`: exactly autodiff's
        gradient with :math:`h` detached at steps :math:`k, 2k, \dots`.

    Returns
    -------
    dict
        ``W_xh``, ``W_hh``, ``b_xh``, ``b_hh``, ``W_hy``, ``b_y``, ``x (T, B, D)``, ``h0 (B, H)``.
    """
    D, H, O = check_gru_params(params)
    dtype = params["W_hh"].dtype
    x = check_array("x", x, ("T", "B", "D"), (None, None, D), dtype)
    T, B, _ = x.shape
    h, gates, hn = _check_state(state, T, B, H, dtype)
    dy = check_array("dy", dy, ("T", "B", "O"), (T, B, O), dtype)
    k = check_positive_int("truncate", truncate, allow_none=True)

    dy2 = dy.reshape(T * B, O)
    grads = {"W_hy": dy2.T @ h[1:].reshape(T * B, H), "b_y": dy2.sum(axis=0)}
    hbar = (dy2 @ params["W_hy"]).reshape(T, B, H)    # from y_t; the loop adds from t+1
    W_hh = params["W_hh"]
    from_future = np.zeros((B, H), dtype=dtype)
    tmp = np.empty((B, H), dtype=dtype)
    # delta_h (T, B, 3, H) first holds each step's local slopes (_local_slopes),
    # which the loop turns into delta_h in place, and writes delta_x beside it.
    # The slopes are computed a few steps at a time, just before the loop
    # reaches them, so that each chunk is still in the cache when it is read.
    delta_h = np.empty((T, B, 3, H), dtype=dtype)
    delta_x = np.empty((T, B, 3, H), dtype=dtype)    # same r, z blocks; n without r
    K = _chunk_steps(B * 3 * H * delta_h.itemsize)
    d_n = np.empty((K, B, H), dtype=dtype)           # (1 - z)(1 - n^2), a factor of hbar_t
    z = gates[:, :, H:2 * H]
    for t in range(T, 0, -1):                        # book step t lives at index t-1
        if t % K == 0 or t == T:                     # slopes of steps t - t % K + 1 .. t
            s = t - (t - 1) % K - 1                  # first index of the chunk
            _local_slopes(h[s:t], gates[s:t], hn[s:t], delta_h[s:t], d_n[:t - s])
        d = hbar[t - 1]
        d += from_future                             # the loss at t meets the gradient from t+1
        dl = delta_h[t - 1]
        dl *= d[:, None, :]
        delta_x[t - 1, :, :2] = dl[:, :2]
        np.multiply(d, d_n[(t - 1) % K], out=delta_x[t - 1, :, 2])
        if k is not None and t - 1 > 0 and (t - 1) % k == 0:
            from_future.fill(0.0)                    # h_{t-1} detached
        else:
            np.matmul(dl.reshape(B, 3 * H), W_hh, out=from_future)
            np.multiply(d, z[t - 1], out=tmp)        # the direct path z_t h_{t-1}
            from_future += tmp

    dx2, dh2 = delta_x.reshape(T * B, 3 * H), delta_h.reshape(T * B, 3 * H)
    grads["W_xh"] = dx2.T @ x.reshape(T * B, D)
    grads["W_hh"] = dh2.T @ h[:-1].reshape(T * B, H)
    grads["b_xh"], grads["b_hh"] = dx2.sum(axis=0), dh2.sum(axis=0)
    grads["x"] = (dx2 @ params["W_xh"]).reshape(T, B, D)
    grads["h0"] = from_future
    return {key: grads[key] for key in (*PARAM_KEYS, "x", "h0")}


def _chunk_steps(step_bytes: int) -> int:
    """How many steps' slopes to compute at once: about 256 kB, a core's L2 cache or less."""
    return max(1, (1 << 18) // step_bytes)


def _local_slopes(h_prev: np.ndarray, gates: np.ndarray, hn: np.ndarray, delta: np.ndarray,
                  d_n: np.ndarray) -> None:
    r"""The local factors of a run of ``K`` steps, written into ``delta`` and ``d_n``.

    ``h_prev (K, B, H)`` are the states the steps start from, ``gates (K, B, 3H)``
    and ``hn (K, B, H)`` theirs. ``d_n (K, B, H)`` gets
    :math:`(1 - z)(1 - n^2)`, which turns :math:`\bar h_t` into :math:`\delta^n`;
    ``delta (K, B, 3, H)`` the factors of :math:`\bar h_t` in :math:`\delta_h`:
    :math:`(1 - z)(1 - n^2)\, \mathrm{hn}\, r (1 - r)`,
    :math:`(h_{t-1} - n)\, z (1 - z)` and :math:`(1 - z)(1 - n^2)\, r`.
    """
    K, B, H = d_n.shape
    G = gates.reshape(K, B, 3, H)
    r, z, n = G[:, :, 0], G[:, :, 1], G[:, :, 2]
    one_minus, prod = delta[:, :, 2], delta[:, :, 1]     # scratch, overwritten last
    np.subtract(1.0, z, out=one_minus)
    np.multiply(n, n, out=d_n)
    np.subtract(1.0, d_n, out=d_n)
    np.multiply(one_minus, d_n, out=d_n)              # (1 - z)(1 - n^2)
    np.multiply(z, one_minus, out=prod)               # z (1 - z), kept in delta[:, :, 1]
    np.multiply(hn, r, out=delta[:, :, 0])
    np.subtract(1.0, r, out=one_minus)
    delta[:, :, 0] *= one_minus                       # hn r (1 - r)
    np.multiply(d_n, delta[:, :, 0], out=delta[:, :, 0])
    np.subtract(h_prev, n, out=one_minus)
    np.multiply(one_minus, prod, out=delta[:, :, 1])  # (h_{t-1} - n) z (1 - z)
    np.multiply(d_n, r, out=delta[:, :, 2])


#: The GRU as a :class:`bptt.model.Model`.
GRU = Model("gru", PARAM_KEYS, init_gru, gru_forward, gru_backward, check_gru_params)
