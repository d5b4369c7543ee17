r"""The vanilla (Elman) RNN: initialisation, forward pass and backpropagation through time.

The book writes the model for column vectors,

.. math::

    a_t = W_{hh} h_{t-1} + W_{xh} x_t + b_h, \qquad
    h_t = \tanh(a_t), \qquad
    y_t = W_{hy} h_t + b_y,

and the code computes the same thing for a batch of row vectors,
``h[t] = tanh(h[t-1] @ W_hh.T + x[t-1] @ W_xh.T + b_h)``. Arrays are time-major:
``x`` is ``(T, B, D)``, ``h`` is ``(T+1, B, H)`` with ``h[0] = h0`` (so ``h[t]`` is
the book's :math:`h_t`) and ``y`` is ``(T, B, O)``. The chapter "Deriving BPTT"
derives every line of :func:`rnn_backward`.

The module follows the rhythm of every model of the package: the parameter
keys and their check, :func:`init_rnn`, :func:`rnn_step_forward`,
:func:`rnn_step_backward`, :func:`rnn_forward`, :func:`rnn_backward` (the
reversed loop over the step), then :func:`step_gradients` (each step's share
of the gradient) and :data:`RNN`, the :class:`bptt.model.Model` that hands
these functions to the training loop.

Speed: only the recurrence :math:`h_{t-1} \to h_t` is sequential. The input
projection of every step, the output layer and each weight-gradient sum over
time do not depend on the loop, so each is a single matrix product over all
``T*B`` rows, computed outside it.
"""
from __future__ import annotations

import numpy as np

from .model import Model
from .validate import (check_array, check_flag, check_float_dtype, check_keys,
                       check_positive_int)

__all__ = ["PARAM_KEYS", "check_rnn_params", "check_tanh_states", "init_rnn",
           "rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
           "step_gradients", "RNN"]

#: The parameter names of the vanilla RNN, in the order the book lists them.
PARAM_KEYS = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")


def check_rnn_params(params, name: str = "params") -> tuple[int, int, int]:
    """Check an RNN parameter dict and return its sizes ``(D, H, O)``.

    The dict must hold exactly the keys ``W_xh (H, D)``, ``W_hh (H, H)``,
    ``b_h (H,)``, ``W_hy (O, H)`` and ``b_y (O,)``, all finite and of one
    floating-point dtype (that of ``W_xh``). ``name`` is the argument's name
    in the messages, e.g. ``grads['W_hh'] must have shape (H, H) = (5, 5)``.
    """
    check_keys(name, params, PARAM_KEYS)
    W_xh = check_array(f"{name}['W_xh']", params["W_xh"], ("H", "D"))
    H, D = W_xh.shape
    dtype = W_xh.dtype
    check_array(f"{name}['W_hh']", params["W_hh"], ("H", "H"), (H, H), dtype)
    check_array(f"{name}['b_h']", params["b_h"], ("H",), (H,), dtype)
    W_hy = check_array(f"{name}['W_hy']", params["W_hy"], ("O", "H"), (None, H), dtype)
    O = W_hy.shape[0]
    check_array(f"{name}['b_y']", params["b_y"], ("O",), (O,), dtype)
    return D, H, O


def _check_tanh_range(name: str, h_out: np.ndarray, which: str) -> None:
    """Refuse states outside [-1, 1]: tanh'(a) = 1 - h^2 holds for tanh outputs only.

    A state of exactly +-1 is a tanh output (``np.tanh`` returns 1.0 for
    inputs above about 19) and is accepted. ``which`` says which entries were
    checked, for the message.
    """
    if h_out.max() > 1 or h_out.min() < -1:
        raise ValueError(f"{name} must hold the tanh hidden states returned by rnn_forward "
                         f"({which}); got values outside [-1, 1]")


def check_tanh_states(params, h) -> np.ndarray:
    """Check ``params`` and the tanh hidden states ``h (T+1, B, H)``, T >= 1; return ``h``.

    Whatever uses the Jacobian ``diag(1 - h_t**2) W_hh`` needs states that
    :func:`rnn_forward` returned. ``h[0]`` (the caller's ``h0``) may be anything finite.
    """
    _, H, _ = check_rnn_params(params)
    h = check_array("h", h, ("T+1", "B", "H"), (None, None, H), params["W_hh"].dtype)
    if h.shape[0] < 2:
        raise ValueError(f"h must hold h_0 and at least one step, shape (T+1, B, H) with "
                         f"T >= 1, got {h.shape}")
    _check_tanh_range("h", h[1:], "|h[t]| <= 1 for t >= 1")
    return h


def init_rnn(input_size: int, hidden_size: int, output_size: int, *,
             seed: int = 0, dtype=np.float64) -> dict:
    r"""Initialise the parameters of an RNN with ``D`` inputs, ``H`` hidden units, ``O`` outputs.

    Parameters
    ----------
    input_size, hidden_size, output_size : int
        ``D``, ``H`` and ``O``.
    seed : int
        Seed of the ``numpy.random.default_rng`` that draws the weights.
    dtype : numpy float dtype
        dtype of every parameter (default float64).

    Returns
    -------
    dict
        ``W_xh (H, D)``, ``W_hh (H, H)``, ``b_h (H,)``, ``W_hy (O, H)``, ``b_y (O,)``:
        the layout of ``torch.nn.RNN`` (``weight_ih_l0``, ``weight_hh_l0``) and
        ``torch.nn.Linear``.

    Notes
    -----
    Each weight matrix is drawn from :math:`\mathcal N(0, 1/n_\text{in})`, where
    :math:`n_\text{in}` is the number of inputs of the layer it feeds (LeCun
    initialisation), and the biases are zero. The variance :math:`1/n_\text{in}`
    keeps the pre-activations of order one whatever the layer width: with
    inputs :math:`x_t \sim \mathcal N(0, I_D)`, :math:`W_{xh} x_t` has unit
    variance per unit. ``W_hh`` is drawn after ``W_xh``, so it depends on ``D``
    as well as on ``seed``.

    What this gives ``W_hh`` (measured over 20 seeds per size):

    - a spectral radius near 1 for large H, since by the circular law the
      eigenvalues of an :math:`H \times H` matrix with i.i.d. entries of
      variance :math:`1/H` fill the unit disc: :math:`\rho = 1.07 \pm 0.07`
      for H = 64 and :math:`1.03 \pm 0.02` for H = 256, but widely spread for
      small H (0.80 to 1.41 for H = 8, 0.69 to 1.86 for H = 4). Use
      :func:`bptt.spectral.with_spectral_radius` to set it exactly;
    - a largest singular value near 2, not 1 (it tends to 2 as H grows):
      :math:`\sigma_{\max} = 1.94 \pm 0.04` for H = 64, :math:`1.98 \pm 0.02`
      for H = 256, :math:`1.68 \pm 0.14` for H = 8, so
      :math:`\sigma_{\max}/\rho \approx 1.8` to 1.9 for H >= 64. The matrix
      is far from orthogonal: one step can stretch a vector by about 2, and
      the bound :math:`\sigma_{\max}^\tau` of
      :func:`bptt.dynamics.jacobian_bound` does not rule out explosion.

    What it does not do: keep the gradient from dying. A radius near 1 sets
    the long-run rate of the Jacobian products only while the tanh works
    near its linear regime. With inputs of the size this initialisation
    expects (:math:`x_t \sim \mathcal N(0, I_D)`) the mean slope
    :math:`1 - h_t^2` is about 0.56, and with ``W_hh`` rescaled to
    :math:`\rho = 1` exactly, the gradient that a loss at step T sends to
    :math:`h_{T-25}` is :math:`3 \times 10^{-6}` of the one it sends to
    :math:`h_T` (median over 10 seeds, :math:`7 \times 10^{-7}` to
    :math:`1.2 \times 10^{-5}`; H = 64, D = 8, geometric mean over 32 sequences) and about
    :math:`10^{-22}` at lag 100. With inputs ten times smaller (slope 0.95) it
    keeps 0.09 (0.06 to 0.13) at lag 25. The chapter "Vanishing and exploding
    gradients" measures this and discusses what does help (orthogonal
    initialisation, gated units, clipping).
    """
    D = check_positive_int("input_size", input_size)
    H = check_positive_int("hidden_size", hidden_size)
    O = check_positive_int("output_size", output_size)
    dtype = check_float_dtype("dtype", dtype)
    rng = np.random.default_rng(seed)
    return {
        "W_xh": (rng.standard_normal((H, D)) / np.sqrt(D)).astype(dtype),
        "W_hh": (rng.standard_normal((H, H)) / np.sqrt(H)).astype(dtype),
        "b_h": np.zeros(H, dtype=dtype),
        "W_hy": (rng.standard_normal((O, H)) / np.sqrt(H)).astype(dtype),
        "b_y": np.zeros(O, dtype=dtype),
    }


def rnn_step_forward(params: dict, x_t: np.ndarray, h_prev: np.ndarray) -> np.ndarray:
    r"""One step of the recurrence, :math:`h_t = \tanh(W_{hh} h_{t-1} + W_{xh} x_t + b_h)`.

    Parameters
    ----------
    params : dict
        RNN parameters, see :func:`init_rnn`.
    x_t : ndarray, shape (B, D)
        The inputs at step t, one row per sequence in the batch.
    h_prev : ndarray, shape (B, H)
        The hidden state :math:`h_{t-1}`.

    Returns
    -------
    h_t : ndarray, shape (B, H)
    """
    D, H, _ = check_rnn_params(params)
    dtype = params["W_hh"].dtype
    x_t = check_array("x_t", x_t, ("B", "D"), (None, D), dtype)
    B = x_t.shape[0]
    h_prev = check_array("h_prev", h_prev, ("B", "H"), (B, H), dtype)
    return np.tanh(h_prev @ params["W_hh"].T + x_t @ params["W_xh"].T + params["b_h"])


def rnn_step_backward(params: dict, x_t: np.ndarray, h_prev: np.ndarray, h_t: np.ndarray,
                      dh_t: np.ndarray) -> dict:
    r"""The local gradients of one step :math:`h_t = \tanh(W_{hh} h_{t-1} + W_{xh} x_t + b_h)`.

    Parameters
    ----------
    params : dict
        RNN parameters, see :func:`init_rnn`.
    x_t : ndarray, shape (B, D)
        The step's inputs.
    h_prev : ndarray, shape (B, H)
        The state it started from, :math:`h_{t-1}`.
    h_t : ndarray, shape (B, H)
        The state it returned (:func:`rnn_step_forward`), every entry in [-1, 1].
    dh_t : ndarray, shape (B, H)
        :math:`\bar h_t = \partial L/\partial h_t`, the *total* derivative of the
        loss with respect to the step's output: the loss at step t and
        everything that flows back from step t+1.

    Returns
    -------
    dict
        ``W_xh (H, D)``, ``W_hh (H, H)``, ``b_h (H,)``: this step's contribution
        to the parameter gradients (summed over the batch); ``x_t (B, D)``:
        :math:`\partial L/\partial x_t`; ``h_prev (B, H)``:
        :math:`\partial L/\partial h_{t-1}` through this step, what flows on to step t-1.

    Notes
    -----
    Forward and local derivative side by side (rows, one per sequence):

    .. math::

        a_t = h_{t-1} W_{hh}^\top + x_t W_{xh}^\top + b_h,\quad h_t = \tanh(a_t)
        \qquad\Longrightarrow\qquad
        \delta_t = \frac{\partial L}{\partial a_t} = (1 - h_t^2) \odot \bar h_t,

    and then, since :math:`a_t` is linear in everything it reads,
    :math:`\partial L/\partial W_{hh} = \delta_t^\top h_{t-1}`,
    :math:`\partial L/\partial W_{xh} = \delta_t^\top x_t`,
    :math:`\partial L/\partial b_h = \sum_b \delta_t`,
    :math:`\partial L/\partial x_t = \delta_t W_{xh}`,
    :math:`\partial L/\partial h_{t-1} = \delta_t W_{hh}`. No cache: the step
    needs exactly the arrays its forward read and returned.
    :func:`rnn_backward` is the reversed loop over this function.
    """
    D, H, _ = check_rnn_params(params)
    dtype = params["W_hh"].dtype
    x_t = check_array("x_t", x_t, ("B", "D"), (None, D), dtype)
    B = x_t.shape[0]
    h_prev = check_array("h_prev", h_prev, ("B", "H"), (B, H), dtype)
    h_t = check_array("h_t", h_t, ("B", "H"), (B, H), dtype)
    _check_tanh_range("h_t", h_t, "|h_t| <= 1")
    dh_t = check_array("dh_t", dh_t, ("B", "H"), (B, H), dtype)
    delta = (1.0 - h_t ** 2) * dh_t          # through tanh: tanh'(a_t) = 1 - h_t^2
    return {"W_xh": delta.T @ x_t, "W_hh": delta.T @ h_prev, "b_h": delta.sum(axis=0),
            "x_t": delta @ params["W_xh"], "h_prev": delta @ params["W_hh"]}


def rnn_forward(params: dict, x: np.ndarray, h0: np.ndarray | None = None):
    r"""Run the RNN over a whole batch of sequences.

    Parameters
    ----------
    params : dict
        RNN parameters, see :func:`init_rnn`.
    x : ndarray, shape (T, B, D)
        Inputs, time first: ``x[t-1]`` is the book's :math:`x_t`.
    h0 : ndarray, shape (B, H), optional
        Initial hidden state; ``None`` means zeros.

    Returns
    -------
    y : ndarray, shape (T, B, O)
        Outputs; ``y[t-1]`` is :math:`y_t = W_{hy} h_t + b_y`.
    h : ndarray, shape (T+1, B, H)
        Hidden states with ``h[0] = h0``, so ``h[t]`` is :math:`h_t`. The
        backward pass needs all of them: this is the :math:`O(TBH)` memory of BPTT.
    """
    D, H, O = check_rnn_params(params)
    dtype = params["W_hh"].dtype
    x = check_array("x", x, ("T", "B", "D"), (None, None, D), dtype)
    T, B, _ = x.shape
    if h0 is None:
        h0 = np.zeros((B, H), dtype=dtype)
    h0 = check_array("h0", h0, ("B", "H"), (B, H), dtype)
    # A contiguous copy of W_hh^T: OpenBLAS multiplies by it faster than by
    # the transposed view, and the loop does so T times.
    W_hh_T = np.ascontiguousarray(params["W_hh"].T)

    h = np.empty((T + 1, B, H), dtype=dtype)
    h[0] = h0
    # Hoisted out of the loop: W_xh x_t + b_h for every step in one matrix
    # product over T*B rows, written straight into h[1:] (no temporaries).
    np.matmul(x.reshape(T * B, D), params["W_xh"].T, out=h[1:].reshape(T * B, H))
    h[1:] += params["b_h"]
    buf = np.empty((B, H), dtype=dtype)
    for t in range(1, T + 1):
        np.matmul(h[t - 1], W_hh_T, out=buf)
        h[t] += buf
        np.tanh(h[t], out=h[t])
    # The output layer does not feed back, so it too is one product over T*B rows.
    y = (h[1:].reshape(T * B, H) @ params["W_hy"].T).reshape(T, B, O)
    y += params["b_y"]
    return y, h


def rnn_backward(params: dict, x: np.ndarray, h: np.ndarray, dy: np.ndarray,
                 truncate: int | None = None, *, return_dh: bool = False) -> dict:
    r"""Backpropagation through time: the gradient of a loss L given dL/dy.

    It is the reversed loop over :func:`rnn_step_backward`, with the output
    layer's gradients beside it (``W_hy``, ``b_y`` read ``h[t]`` directly)::

        dh_next = zeros((B, H))                  # nothing flows back from step T+1
        for t in range(T, 0, -1):                # book step t lives at index t-1
            hbar_t = dy[t-1] @ W_hy + dh_next    # the loss at t meets the gradient from t+1
            g = rnn_step_backward(params, x[t-1], h[t-1], h[t], hbar_t)
            grads[k] += g[k] for k in ("W_xh", "W_hh", "b_h");  grads["x"][t-1] = g["x_t"]
            dh_next = g["h_prev"]                # zeros instead at a truncation point
        grads["h0"] = dh_next
        grads["W_hy"] = sum_t dy[t-1].T @ h[t];  grads["b_y"] = sum_t dy[t-1].sum(0)

    The code computes exactly this, faster: only ``dh_next`` needs the loop.
    The gradient each output sends to its state (``dy @ W_hy``), the tanh
    slopes and the sums over time of the weight gradients are single
    products over all ``T*B`` rows, outside it.

    Parameters
    ----------
    params : dict
        RNN parameters, see :func:`init_rnn`.
    x : ndarray, shape (T, B, D)
        The inputs given to :func:`rnn_forward`.
    h : ndarray, shape (T+1, B, H)
        The hidden states it returned (``h[0] = h0``).
    dy : ndarray, shape (T, B, O)
        :math:`\partial L / \partial y_t` for every step: the output of a loss
        function such as :func:`bptt.losses.softmax_cross_entropy`. Steps that
        carry no loss have zeros.
    truncate : int, optional
        Truncated BPTT. With ``truncate=k`` the gradient is exactly what
        automatic differentiation gives when the hidden state is detached from
        the graph at :math:`h_k, h_{2k}, \dots` (chunks of k steps from the
        start): the gradient flowing back from step :math:`jk+1` into
        :math:`h_{jk}` is dropped. ``None``, or ``k >= T``, is full BPTT.
    return_dh : bool, keyword-only
        Also return ``"h"``, the total derivatives :math:`\bar h_t = \partial L/\partial h_t`
        for t = 0..T, shape ``(T+1, B, H)`` (``[0]`` equals ``"h0"``). For
        plotting how the gradient changes going back in time; off by default
        because it stores one more ``(T, B, H)`` array.

    Returns
    -------
    dict
        ``W_xh (H, D)``, ``W_hh (H, H)``, ``b_h (H,)``, ``W_hy (O, H)``,
        ``b_y (O,)``: dL/d(parameter); ``x (T, B, D)``: dL/dx; ``h0 (B, H)``: dL/dh_0;
        and ``h (T+1, B, H)`` when ``return_dh`` is true.

    Notes
    -----
    With :math:`\delta_t = \partial L/\partial a_t` (a row vector per sequence,
    shape ``(B, H)``) and :math:`\bar h_t = \partial L / \partial h_t` the *total*
    derivative of L with respect to :math:`h_t`,

    .. math::

        \bar h_t = W_{hy}^\top \frac{\partial L}{\partial y_t}
                   + W_{hh}^\top \delta_{t+1}, \qquad
        \delta_t = (1 - h_t^2) \odot \bar h_t, \qquad \delta_{T+1} = 0,

    and the shared weights sum over time:
    :math:`\partial L/\partial W_{hh} = \sum_t \delta_t h_{t-1}^\top`,
    :math:`\partial L/\partial W_{xh} = \sum_t \delta_t x_t^\top`,
    :math:`\partial L/\partial b_h = \sum_t \delta_t`,
    :math:`\partial L/\partial W_{hy} = \sum_t (\partial L/\partial y_t) h_t^\top`.
    Note the tanh derivative is taken at :math:`h_t`, the output of the step
    whose pre-activation is being differentiated, and it multiplies before
    :math:`W_{hh}^\top`, not after. The terms of these sums, one per step,
    are :func:`step_gradients`.
    """
    D, H, O = check_rnn_params(params)
    dtype = params["W_hh"].dtype
    x = check_array("x", x, ("T", "B", "D"), (None, None, D), dtype)
    T, B, _ = x.shape
    h = check_array("h", h, ("T+1", "B", "H"), (T + 1, B, H), dtype)
    dy = check_array("dy", dy, ("T", "B", "O"), (T, B, O), dtype)
    k = check_positive_int("truncate", truncate, allow_none=True)
    return_dh = check_flag("return_dh", return_dh)
    _check_tanh_range("h", h[1:], "|h[t]| <= 1 for t >= 1")

    W_hh, W_hy = params["W_hh"], params["W_hy"]
    dy2 = dy.reshape(T * B, O)
    h_out = h[1:].reshape(T * B, H)
    grads = {"W_hy": dy2.T @ h_out, "b_y": dy2.sum(axis=0)}

    # delta starts as the gradient reaching h_t from its own output y_t (all
    # steps in one product); the loop then adds what flows back from step t+1
    # and multiplies by tanh'(a_t) = 1 - h_t^2, in place.
    delta = (dy2 @ W_hy).reshape(T, B, H)
    dtanh = np.square(h[1:])          # (T, B, H), hoisted out of the loop,
    np.subtract(1.0, dtanh, out=dtanh)  # in one buffer
    from_future = np.zeros((B, H), dtype=dtype)   # W_hh^T delta_{t+1}, as rows
    dh = np.empty((T + 1, B, H), dtype=dtype) if return_dh else None
    for t in range(T, 0, -1):          # book step t lives at index t-1
        d = delta[t - 1]
        d += from_future               # the loss at t meets the gradient from t+1
        if dh is not None:
            dh[t] = d                  # hbar_t, the total derivative dL/dh_t
        d *= dtanh[t - 1]              # through tanh: delta_t = (1 - h_t^2) * hbar_t
        if k is not None and t - 1 > 0 and (t - 1) % k == 0:
            from_future.fill(0.0)      # h_{t-1} was detached: nothing flows into it
        else:
            np.matmul(d, W_hh, out=from_future)   # dL/dh_{t-1} through a_t

    # The sums over time of the shared weights: single products over T*B rows.
    delta2 = delta.reshape(T * B, H)
    grads["W_xh"] = delta2.T @ x.reshape(T * B, D)
    grads["W_hh"] = delta2.T @ h[:-1].reshape(T * B, H)
    grads["b_h"] = delta2.sum(axis=0)
    grads["x"] = (delta2 @ params["W_xh"]).reshape(T, B, D)
    grads["h0"] = from_future
    out = {key: grads[key] for key in (*PARAM_KEYS, "x", "h0")}
    if dh is not None:
        dh[0] = from_future
        out["h"] = dh
    return out


def step_gradients(params: dict, x: np.ndarray, h: np.ndarray, dy: np.ndarray) -> dict:
    r"""The contribution of each step's copy of the parameters to the gradient.

    Parameters
    ----------
    params : dict
        RNN parameters, see :func:`init_rnn`.
    x : ndarray, shape (T, B, D)
        The inputs given to :func:`rnn_forward`.
    h : ndarray, shape (T+1, B, H)
        The hidden states it returned (``h[0] = h0``).
    dy : ndarray, shape (T, B, O)
        :math:`\partial L / \partial y_t` for every step (zeros where a step
        carries no loss).

    Returns
    -------
    dict
        ``W_xh (T, H, D)``, ``W_hh (T, H, H)``, ``b_h (T, H)``,
        ``W_hy (T, O, H)``, ``b_y (T, O)``: entry ``[t-1]`` is
        :math:`\partial \tilde L / \partial \theta^{(t)}`, the gradient of the
        untied loss with respect to step t's own copy of each parameter
        (summed over the batch). Summed over the first axis they are the
        gradients :func:`rnn_backward` returns. :func:`bptt.clip.clip_step_values`
        clamps them step by step.

    Notes
    -----
    The terms of the sums over time in :func:`rnn_backward`, with
    :math:`\delta_t = (1 - h_t^2) \odot \bar h_t` and
    :math:`g_t = \partial L / \partial y_t`:

    .. math::

        \frac{\partial \tilde L}{\partial W_{hh}^{(t)}} = \delta_t h_{t-1}^\top, \quad
        \frac{\partial \tilde L}{\partial W_{xh}^{(t)}} = \delta_t x_t^\top, \quad
        \frac{\partial \tilde L}{\partial b_h^{(t)}} = \delta_t, \quad
        \frac{\partial \tilde L}{\partial W_{hy}^{(t)}} = g_t h_t^\top, \quad
        \frac{\partial \tilde L}{\partial b_y^{(t)}} = g_t.

    With a loss on the last step only, the contribution of step t is exactly
    what Pascanu, Mikolov and Bengio (2013, eq. 4) call a *temporal component*,
    :math:`\frac{\partial L_T}{\partial h_T}\frac{\partial h_T}{\partial h_t}
    \frac{\partial^+ h_t}{\partial \theta}`; with losses at several steps it is
    the sum of the temporal components of every loss at step t or later.
    Memory: ``O(T (HD + H^2 + OH))``, one copy of the parameters per step.
    """
    grads = rnn_backward(params, x, h, dy, return_dh=True)
    hbar = grads["h"]                                  # (T+1, B, H): hbar_t
    delta = (1.0 - h[1:] ** 2) * hbar[1:]              # (T, B, H): delta_t at [t-1]
    return {
        "W_xh": np.einsum("tbi,tbj->tij", delta, x),
        "W_hh": np.einsum("tbi,tbj->tij", delta, h[:-1]),
        "b_h": delta.sum(axis=1),
        "W_hy": np.einsum("tbo,tbj->toj", dy, h[1:]),
        "b_y": dy.sum(axis=1),
    }


#: The vanilla RNN as a :class:`bptt.model.Model`: what :func:`bptt.train.train`
#: (its default model) and the rest of the machinery need to know about it.
RNN = Model("rnn", PARAM_KEYS, init_rnn, rnn_forward, rnn_backward, check_rnn_params)
