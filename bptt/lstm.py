r"""The LSTM: initialisation, forward pass and backpropagation through time.

The book writes the model for column vectors, in ``torch.nn.LSTM``'s order of
the gates (input i, forget f, candidate g, output o):

.. math::

    a_t = W_{hh} h_{t-1} + W_{xh} x_t + b_h = (a^i_t, a^f_t, a^g_t, a^o_t), \\
    i_t = \sigma(a^i_t),\ f_t = \sigma(a^f_t),\ g_t = \tanh(a^g_t),\ o_t = \sigma(a^o_t), \\
    c_t = f_t \odot c_{t-1} + i_t \odot g_t, \qquad
    h_t = o_t \odot \tanh(c_t), \qquad y_t = W_{hy} h_t + b_y,

with ``W_xh (4H, D)``, ``W_hh (4H, H)``, ``b_h (4H,)`` holding the four gates'
blocks of H rows one under the other (torch's ``weight_ih_l0``,
``weight_hh_l0`` and ``bias_ih_l0 + bias_hh_l0``). Arrays are time-major:
``x (T, B, D)``, ``h`` and ``c`` ``(T+1, B, H)`` with ``[0]`` the initial
states, ``y (T, B, O)``; the code computes for batch rows, ``h @ W_hh.T``.

The module has the rhythm of :mod:`bptt.rnn`: keys and check, :func:`init_lstm`,
:func:`lstm_step_forward`, :func:`lstm_step_backward`, :func:`lstm_forward`,
:func:`lstm_backward` (the reversed loop over the step) and :data:`LSTM`.

Speed: only :math:`(h_{t-1}, c_{t-1}) \to (h_t, c_t)` is sequential, one
fused ``(B, H) @ (H, 4H)`` product per step for all four gates and one
``np.tanh`` over them (see :mod:`bptt.gates`). The input projection, the output
layer and every weight-gradient sum over time are single products over all
``T*B`` rows, outside the loop. The gates' slopes are computed a few steps at a
time just ahead of the backward loop, so that they are still in the cache when
it reads them (over all ``T`` at once they stream megabytes through memory).
"""
from __future__ import annotations

import numpy as np

from .gates import activate, check_gate_array, check_gated_params, check_gates, gate_scale
from .model import Model
from .validate import check_array, check_float_dtype, check_keys, check_positive_int

__all__ = ["PARAM_KEYS", "STATE_KEYS", "FORGET_BIAS", "check_lstm_params", "init_lstm",
           "lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward", "LSTM"]

#: The parameter names of the LSTM: the RNN's, with four gates' rows in each hidden one.
PARAM_KEYS = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")
#: What :func:`lstm_forward` keeps for the backward pass.
STATE_KEYS = ("h", "c", "gates")
#: The initial bias of the forget gate (see :func:`init_lstm`).
FORGET_BIAS = 1.0
_GATES, _KINDS = "ifgo", "ssts"     # torch's order; s = sigmoid gate, t = tanh candidate


def check_lstm_params(params, name: str = "params") -> tuple[int, int, int]:
    """Check an LSTM parameter dict and return its sizes ``(D, H, O)``.

    Exactly the keys ``W_xh (4H, D)``, ``W_hh (4H, H)``, ``b_h (4H,)``,
    ``W_hy (O, H)``, ``b_y (O,)``, finite, of one float dtype (that of ``W_xh``).
    """
    return check_gated_params(params, PARAM_KEYS, ("b_h",), _GATES, name)


def init_lstm(input_size: int, hidden_size: int, output_size: int, *,
              seed: int = 0, dtype=np.float64) -> dict:
    r"""Initialise an LSTM with ``D`` inputs, ``H`` hidden units and ``O`` outputs.

    Returns
    -------
    dict
        ``W_xh (4H, D)``, ``W_hh (4H, H)``, ``b_h (4H,)``, ``W_hy (O, H)``,
        ``b_y (O,)``, rows of the hidden ones in the gate order i, f, g, o.

    Notes
    -----
    The weights are those of :func:`bptt.rnn.init_rnn`, one block per gate:
    :math:`\mathcal N(0, 1/n_\text{in})` (LeCun), so every gate's
    pre-activation has unit variance for unit-variance inputs. The biases are
    zero except the forget gate's, :data:`FORGET_BIAS` = 1.

    Why 1: with zero bias the forget gate starts near :math:`\sigma(0) = 0.5`,
    and the gradient along the cell path, :math:`\partial c_t/\partial c_{t-1}
    = \operatorname{diag}(f_t)`, shrinks by about half a step: to
    :math:`0.5^{25} \approx 3 \times 10^{-8}` over 25 steps. With bias 1,
    :math:`f \approx \sigma(1) = 0.73` and :math:`0.73^{25} \approx 4 \times 10^{-4}`:
    the cell remembers, and passes gradient back, for longer from the start.
    Jozefowicz, Zaremba and Sutskever (2015, "An empirical exploration of
    recurrent network architectures") found that this bias closes most of the
    gap between the LSTM and the GRU on their tasks and recommend it. The
    forget gate itself is due to Gers, Schmidhuber and Cummins (2000,
    "Learning to forget"). ``torch.nn.LSTM`` does not do
    it (all its parameters are uniform in :math:`\pm 1/\sqrt H`).
    """
    D = check_positive_int("input_size", input_size)
    H = check_positive_int("hidden_size", hidden_size)
    O = check_positive_int("output_size", output_size)
    dtype = check_float_dtype("dtype", dtype)
    rng = np.random.default_rng(seed)
    b_h = np.zeros(4 * H, dtype=dtype)
    b_h[H:2 * H] = FORGET_BIAS                   # the forget gate f: rows H..2H-1
    return {
        "W_xh": (rng.standard_normal((4 * H, D)) / np.sqrt(D)).astype(dtype),
        "W_hh": (rng.standard_normal((4 * H, H)) / np.sqrt(H)).astype(dtype),
        "b_h": b_h,
        "W_hy": (rng.standard_normal((O, H)) / np.sqrt(H)).astype(dtype),
        "b_y": np.zeros(O, dtype=dtype),
    }


def _halved(params: dict, H: int) -> tuple:
    """``W_xh``, ``W_hh.T`` (contiguous) and ``b_h`` with the sigmoid gates' rows halved."""
    scale = gate_scale(_KINDS, H, params["W_hh"].dtype)
    W_hh_T = np.ascontiguousarray((params["W_hh"] * scale[:, None]).T)
    return params["W_xh"] * scale[:, None], W_hh_T, params["b_h"] * scale


def _check_step(params, x_t, h_prev, c_prev):
    D, H, _ = check_lstm_params(params)
    dtype = params["W_hh"].dtype
    x_t = check_array("x_t", x_t, ("B", "D"), (None, D), dtype)
    B = x_t.shape[0]
    check_array("h_prev", h_prev, ("B", "H"), (B, H), dtype)
    check_array("c_prev", c_prev, ("B", "H"), (B, H), dtype)
    return B, H, dtype


def lstm_step_forward(params: dict, x_t: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray):
    r"""One step: the gates, :math:`c_t = f \odot c_{t-1} + i \odot g`, :math:`h_t = o \odot \tanh c_t`.

    Parameters
    ----------
    params : dict
        LSTM parameters, see :func:`init_lstm`.
    x_t : ndarray, shape (B, D)
        The inputs at step t.
    h_prev, c_prev : ndarray, shape (B, H)
        The hidden state :math:`h_{t-1}` and the cell :math:`c_{t-1}`.

    Returns
    -------
    h_t, c_t : ndarray, shape (B, H)
    gates : ndarray, shape (B, 4H)
        The activated gates ``i, f, g, o`` side by side (``gates[:, H:2*H]``
        is f): what :func:`lstm_step_backward` needs, and ``state["gates"][t-1]``
        of :func:`lstm_forward`.
    """
    B, H, dtype = _check_step(params, x_t, h_prev, c_prev)
    W_xh, W_hh_T, b_h = _halved(params, H)
    gates = x_t @ W_xh.T                      # a_t, the sigmoid blocks halved
    gates += b_h
    gates += h_prev @ W_hh_T
    activate(gates, _KINDS)
    i, f, g, o = (gates[:, j * H:(j + 1) * H] for j in range(4))
    c_t = f * c_prev + i * g
    return o * np.tanh(c_t), c_t, gates


def lstm_step_backward(params: dict, x_t: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray,
                       c_t: np.ndarray, gates: np.ndarray, dh_t: np.ndarray,
                       dc_t: np.ndarray) -> dict:
    r"""The local gradients of one LSTM step.

    Parameters
    ----------
    params : dict
        LSTM parameters, see :func:`init_lstm`.
    x_t : ndarray, shape (B, D)
        The step's inputs.
    h_prev, c_prev : ndarray, shape (B, H)
        The states it started from, :math:`h_{t-1}` and :math:`c_{t-1}`.
    c_t : ndarray, shape (B, H)
        The cell it returned.
    gates : ndarray, shape (B, 4H)
        The gates it returned (:func:`lstm_step_forward`), i, f, o in [0, 1], g in [-1, 1].
    dh_t : ndarray, shape (B, H)
        :math:`\bar h_t = \partial L/\partial h_t`, the *total* derivative: the
        loss at step t and everything that flows back from step t+1 through
        :math:`h_t`.
    dc_t : ndarray, shape (B, H)
        What flows into :math:`c_t` from step t+1 only, :math:`f_{t+1} \odot \bar c_{t+1}`
        (the ``"c_prev"`` of step t+1; zeros at the last step). The step adds
        the path through its own :math:`h_t`.

    Returns
    -------
    dict
        ``W_xh (4H, D)``, ``W_hh (4H, H)``, ``b_h (4H,)``: this step's
        contributions (summed over the batch); ``x_t (B, D)``; ``h_prev (B, H)``
        and ``c_prev (B, H)``: what flows on to step t-1 through :math:`a_t` and
        through :math:`c_t`.

    Notes
    -----
    Forward and local derivative side by side (:math:`\odot` throughout):

    .. math::

        h_t = o \tanh c_t &\Longrightarrow\ \bar c_t = \mathrm{dc}_t + \bar h_t\, o\,(1 - \tanh^2 c_t),
            \quad \bar o = \bar h_t \tanh c_t, \\
        c_t = f c_{t-1} + i g &\Longrightarrow\ \bar i = \bar c_t\, g,\ \bar f = \bar c_t\, c_{t-1},
            \ \bar g = \bar c_t\, i,\ \partial L/\partial c_{t-1} = \bar c_t\, f, \\
        i, f, o = \sigma(a),\ g = \tanh(a) &\Longrightarrow\
            \delta^{i,f,o} = \bar{(\cdot)}\, s(1 - s),\ \delta^g = \bar g\,(1 - g^2),

    with :math:`\delta_t = (\delta^i, \delta^f, \delta^g, \delta^o)` ``(B, 4H)``
    the gradient of the pre-activation :math:`a_t`, which is linear in what it
    reads, as in the RNN: :math:`\partial L/\partial W_{hh} = \delta_t^\top h_{t-1}`,
    :math:`\partial L/\partial W_{xh} = \delta_t^\top x_t`,
    :math:`\partial L/\partial x_t = \delta_t W_{xh}`,
    :math:`\partial L/\partial h_{t-1} = \delta_t W_{hh}`.
    """
    B, H, dtype = _check_step(params, x_t, h_prev, c_prev)
    c_t = check_array("c_t", c_t, ("B", "H"), (B, H), dtype)
    gates = check_array("gates", gates, ("B", "4H"), (B, 4 * H), dtype)
    check_gates("gates", gates, _KINDS, _GATES, "lstm_step_forward")
    dh_t = check_array("dh_t", dh_t, ("B", "H"), (B, H), dtype)
    dc_t = check_array("dc_t", dc_t, ("B", "H"), (B, H), dtype)
    i, f, g, o = (gates[:, j * H:(j + 1) * H] for j in range(4))
    tanh_c = np.tanh(c_t)
    dc = dc_t + dh_t * o * (1.0 - tanh_c ** 2)       # c_t also feeds h_t = o tanh(c_t)
    delta = np.concatenate([dc * g * i * (1.0 - i),         # through sigma: s (1 - s)
                            dc * c_prev * f * (1.0 - f),
                            dc * i * (1.0 - g ** 2),         # through tanh: 1 - g^2
                            dh_t * tanh_c * o * (1.0 - o)], axis=1)
    return {"W_xh": delta.T @ x_t, "W_hh": delta.T @ h_prev, "b_h": delta.sum(axis=0),
            "x_t": delta @ params["W_xh"], "h_prev": delta @ params["W_hh"],
            "c_prev": dc * f}


def lstm_forward(params: dict, x: np.ndarray, h0: np.ndarray | None = None,
                 c0: np.ndarray | None = None):
    r"""Run the LSTM over a batch of sequences.

    Parameters
    ----------
    params : dict
        LSTM parameters, see :func:`init_lstm`.
    x : ndarray, shape (T, B, D)
        Inputs, time first: ``x[t-1]`` is :math:`x_t`.
    h0, c0 : ndarray, shape (B, H), optional
        Initial hidden state and cell; ``None`` means zeros.

    Returns
    -------
    y : ndarray, shape (T, B, O)
        ``y[t-1]`` is :math:`y_t = W_{hy} h_t + b_y`.
    state : dict
        What :func:`lstm_backward` needs: ``"h"`` and ``"c"`` ``(T+1, B, H)``
        with ``[0]`` the initial states (so ``h[t]`` is :math:`h_t`), and
        ``"gates"`` ``(T, B, 4H)``, ``gates[t-1]`` the activated i, f, g, o of
        step t. Memory :math:`O(6TBH)`, three times the RNN's.
    """
    D, H, O = check_lstm_params(params)
    dtype = params["W_hh"].dtype
    x = check_array("x", x, ("T", "B", "D"), (None, None, D), dtype)
    T, B, _ = x.shape
    h0 = np.zeros((B, H), dtype=dtype) if h0 is None else h0
    c0 = np.zeros((B, H), dtype=dtype) if c0 is None else c0
    check_array("h0", h0, ("B", "H"), (B, H), dtype)
    check_array("c0", c0, ("B", "H"), (B, H), dtype)
    W_xh, W_hh_T, b_h = _halved(params, H)

    h = np.empty((T + 1, B, H), dtype=dtype)
    c = np.empty((T + 1, B, H), dtype=dtype)
    h[0], c[0] = h0, c0
    # Hoisted out of the loop: W_xh x_t + b_h for every step, one product over
    # T*B rows written straight into the gates array.
    gates = np.empty((T, B, 4 * H), dtype=dtype)
    np.matmul(x.reshape(T * B, D), W_xh.T, out=gates.reshape(T * B, 4 * H))
    gates += b_h
    buf, tmp = np.empty((B, 4 * H), dtype=dtype), np.empty((B, H), dtype=dtype)
    # Each gate's block as a (T, B, H) view, sliced once: the loop only indexes.
    i, f, g, o = (gates[:, :, j * H:(j + 1) * H] for j in range(4))
    for t in range(1, T + 1):
        a = gates[t - 1]
        np.matmul(h[t - 1], W_hh_T, out=buf)      # all four gates in one product
        a += buf
        np.tanh(a, out=a)                          # activate(a, "ssts"), inlined:
        np.copyto(tmp, g[t - 1])                   # sigma = (1 + tanh(a/2)) / 2 on the whole
        a += 1.0                                   # row, then g's tanh put back: cheaper
        a *= 0.5                                   # than three strided blocks
        np.copyto(g[t - 1], tmp)
        c_t, h_t = c[t], h[t]
        np.multiply(f[t - 1], c[t - 1], out=c_t)   # c_t = f c_{t-1} + i g
        np.multiply(i[t - 1], g[t - 1], out=tmp)
        c_t += tmp
        np.tanh(c_t, out=tmp)                      # h_t = o tanh(c_t)
        np.multiply(o[t - 1], tmp, out=h_t)
    y = (h[1:].reshape(T * B, H) @ params["W_hy"].T).reshape(T, B, O)
    y += params["b_y"]
    return y, {"h": h, "c": c, "gates": gates}


def _check_state(state, T: int, B: int, H: int, dtype) -> tuple:
    check_keys("state", state, STATE_KEYS, " as returned by lstm_forward")
    h = check_array("state['h']", state["h"], ("T+1", "B", "H"), (T + 1, B, H), dtype)
    c = check_array("state['c']", state["c"], ("T+1", "B", "H"), (T + 1, B, H), dtype)
    gates = check_gate_array("state['gates']", state["gates"], ("T", "B", "4H"), (T, B, 4 * H),
                             dtype, _KINDS, _GATES, "lstm_forward")
    return h, c, gates


def lstm_backward(params: dict, x: np.ndarray, state: dict, dy: np.ndarray,
                  truncate: int | None = None) -> dict:
    r"""Backpropagation through time for the LSTM: the gradient of a loss L given dL/dy.

    It is the reversed loop over :func:`lstm_step_backward`, with the output
    layer's gradients beside it::

        dh_next, dc_next = zeros((B, H)), zeros((B, H))   # nothing from step T+1
        for t in range(T, 0, -1):                # book step t lives at index t-1
            hbar_t = dy[t-1] @ W_hy + dh_next    # the loss at t meets the gradient from t+1
            g = lstm_step_backward(params, x[t-1], h[t-1], c[t-1], c[t], gates[t-1],
                                   hbar_t, dc_next)
            grads[k] += g[k] for k in ("W_xh", "W_hh", "b_h");  grads["x"][t-1] = g["x_t"]
            dh_next, dc_next = g["h_prev"], g["c_prev"]   # both zeros at a truncation point
        grads["h0"], grads["c0"] = dh_next, dc_next
        grads["W_hy"] = sum_t dy[t-1].T @ h[t];  grads["b_y"] = sum_t dy[t-1].sum(0)

    The code computes exactly this, faster: only ``dh_next`` and ``dc_next``
    need the loop. The gradient each output sends to its state and the
    weight-gradient sums over time are computed for all ``T*B`` rows at once,
    outside it; the gates' slopes a few steps at a time, just ahead of it.

    Parameters
    ----------
    params : dict
        LSTM parameters, see :func:`init_lstm`.
    x : ndarray, shape (T, B, D)
        The inputs given to :func:`lstm_forward`.
    state : dict
        The state it returned: ``h``, ``c`` ``(T+1, B, H)``, ``gates (T, B, 4H)``.
    dy : ndarray, shape (T, B, O)
        :math:`\partial L/\partial y_t` for every step (zeros where no loss).
    truncate : int, optional
        Truncated BPTT, as in :func:`bptt.rnn.rnn_backward`: exactly what
        autodiff gives when *both* :math:`h` and :math:`c` are detached at
        steps :math:`k, 2k, \dots` (chunks of k steps from the start).
        ``None``, or ``k >= T``, is full BPTT.

    Returns
    -------
    dict
        ``W_xh (4H, D)``, ``W_hh (4H, H)``, ``b_h (4H,)``, ``W_hy (O, H)``,
        ``b_y (O,)``, ``x (T, B, D)``, ``h0 (B, H)``, ``c0 (B, H)``.

    Notes
    -----
    Two quantities flow back in time: :math:`\bar h_t = W_{hy}^\top g_t +
    W_{hh}^\top \delta_{t+1}` and the cell's :math:`\bar c_t = f_{t+1} \odot
    \bar c_{t+1} + \bar h_t \odot o_t \odot (1 - \tanh^2 c_t)`. The cell path
    multiplies by the forget gate only, no weight matrix and no squashing
    slope: this is why the LSTM keeps gradients alive where the RNN loses them.
    """
    D, H, O = check_lstm_params(params)
    dtype = params["W_hh"].dtype
    x = check_array("x", x, ("T", "B", "D"), (None, None, D), dtype)
    T, B, _ = x.shape
    h, c, gates = _check_state(state, T, B, H, dtype)
    dy = check_array("dy", dy, ("T", "B", "O"), (T, B, O), dtype)
    k = check_positive_int("truncate", truncate, allow_none=True)

    dy2 = dy.reshape(T * B, O)
    grads = {"W_hy": dy2.T @ h[1:].reshape(T * B, H), "b_y": dy2.sum(axis=0)}
    hbar = (dy2 @ params["W_hy"]).reshape(T, B, H)   # from y_t; the loop adds from t+1
    f = gates[:, :, H:2 * H]
    W_hh = params["W_hh"]
    from_future = np.zeros((B, H), dtype=dtype)       # W_hh^T delta_{t+1}, as rows
    dc_next = np.zeros((B, H), dtype=dtype)           # f_{t+1} cbar_{t+1}
    dc = np.empty((B, H), dtype=dtype)
    # delta (T, B, 4, H) first holds each step's local slopes (_local_slopes),
    # which the loop turns into delta_t in place. They are computed a few
    # steps at a time, just before the loop reaches them, so that each chunk
    # is still in the cache when the loop reads it.
    delta = np.empty((T, B, 4, H), dtype=dtype)
    K = _chunk_steps(B * 4 * H * delta.itemsize)
    from_c = np.empty((K, B, H), dtype=dtype)         # o (1 - tanh^2 c_t) of the chunk
    for t in range(T, 0, -1):                         # book step t lives at index t-1
        if t % K == 0 or t == T:                      # slopes of steps t - t % K + 1 .. t
            s = t - (t - 1) % K - 1                   # first index of the chunk
            _local_slopes(c[s:t + 1], gates[s:t], delta[s:t], from_c[:t - s])
        d = hbar[t - 1]
        d += from_future                              # the loss at t meets the gradient from t+1
        np.multiply(d, from_c[(t - 1) % K], out=dc)   # cbar_t = dc_next + hbar_t o (1 - tanh^2 c_t)
        dc += dc_next
        dl = delta[t - 1]                             # (B, 4, H): the slopes become delta_t
        dl[:, :3] *= dc[:, None, :]                   # i, f, g read c_t's gradient
        dl[:, 3] *= d                                 # o reads h_t's
        if k is not None and t - 1 > 0 and (t - 1) % k == 0:
            from_future.fill(0.0)                     # h_{t-1}, c_{t-1} detached
            dc_next.fill(0.0)
        else:
            np.matmul(dl.reshape(B, 4 * H), W_hh, out=from_future)
            np.multiply(dc, f[t - 1], out=dc_next)

    # The sums over time of the shared weights: single products over T*B rows.
    delta2 = delta.reshape(T * B, 4 * H)
    grads["W_xh"] = delta2.T @ x.reshape(T * B, D)
    grads["W_hh"] = delta2.T @ h[:-1].reshape(T * B, H)
    grads["b_h"] = delta2.sum(axis=0)
    grads["x"] = (delta2 @ params["W_xh"]).reshape(T, B, D)
    grads["h0"], grads["c0"] = from_future, dc_next
    return {key: grads[key] for key in (*PARAM_KEYS, "x", "h0", "c0")}


def _chunk_steps(step_bytes: int) -> int:
    """How many steps' slopes to compute at once: about 256 kB, a core's L2 cache or less."""
    return max(1, (1 << 18) // step_bytes)


def _local_slopes(c: np.ndarray, gates: np.ndarray, delta: np.ndarray,
                  from_c: np.ndarray) -> None:
    r"""The local factors of a run of steps, written into ``delta`` and ``from_c``.

    For ``K`` consecutive steps, ``c (K+1, B, H)`` their cells with the one
    before, ``gates (K, B, 4H)``. Fills ``delta (K, B, 4, H)`` with, per gate,
    the factor that turns the gradient it reads (:math:`\bar c_t` for i, f, g;
    :math:`\bar h_t` for o) into :math:`\delta_t`: :math:`g\, i(1-i)`,
    :math:`c_{t-1} f(1-f)`, :math:`i (1-g^2)`, :math:`\tanh(c_t)\, o(1-o)`;
    the loop multiplies it in place. And ``from_c (K, B, H)`` with
    :math:`o (1 - \tanh^2 c_t)`, the slope from :math:`h_t` to :math:`c_t`.
    """
    K, B, H = from_c.shape
    G = gates.reshape(K, B, 4, H)
    i, g, o = G[:, :, 0], G[:, :, 2], G[:, :, 3]
    np.subtract(1.0, G, out=delta)                     # sigma' = s (1 - s), all four blocks
    delta *= G                                         # at once (g's is overwritten below)
    delta[:, :, 0] *= g
    delta[:, :, 1] *= c[:-1]
    dg = delta[:, :, 2]
    np.square(g, out=dg)                               # tanh' = 1 - g^2
    np.subtract(1.0, dg, out=dg)
    dg *= i
    np.tanh(c[1:], out=from_c)
    delta[:, :, 3] *= from_c
    np.square(from_c, out=from_c)
    np.subtract(1.0, from_c, out=from_c)
    from_c *= o


#: The LSTM as a :class:`bptt.model.Model`, for :func:`bptt.train.train` and the rest.
LSTM = Model("lstm", PARAM_KEYS, init_lstm, lstm_forward, lstm_backward, check_lstm_params)
