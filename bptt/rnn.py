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

Speed: only the recurrence :math:`h_{t-1} \to h_t` is sequential. The input
projection of every step, the output layer and each weight-gradient sum over
time do not depend on the loop, so each is a single matrix product over all
``T*B`` rows, computed outside it.
"""
from __future__ import annotations

import numpy as np

from .validate import PARAM_KEYS, check_array, check_flag, check_params, check_positive_int

__all__ = ["init_rnn", "rnn_step_forward", "rnn_forward", "rnn_backward"]


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
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise TypeError(f"dtype must be a floating-point dtype, got {dtype}")
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
    D, H, _ = check_params(params)
    dtype = params["W_hh"].dtype
    x_t = check_array("x_t", x_t, ("B", "D"), (None, D), dtype)
    B = x_t.shape[0]
    h_prev = check_array("h_prev", h_prev, ("B", "H"), (B, H), dtype)
    return np.tanh(h_prev @ params["W_hh"].T + x_t @ params["W_xh"].T + params["b_h"])


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
    D, H, O = check_params(params)
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
    :math:`W_{hh}^\top`, not after.
    """
    D, H, O = check_params(params)
    dtype = params["W_hh"].dtype
    x = check_array("x", x, ("T", "B", "D"), (None, None, D), dtype)
    T, B, _ = x.shape
    h = check_array("h", h, ("T+1", "B", "H"), (T + 1, B, H), dtype)
    dy = check_array("dy", dy, ("T", "B", "O"), (T, B, O), dtype)
    k = check_positive_int("truncate", truncate, allow_none=True)
    return_dh = check_flag("return_dh", return_dh)
    if h[1:].max() > 1 or h[1:].min() < -1:
        raise ValueError("h must hold the tanh hidden states returned by rnn_forward "
                         "(|h[t]| <= 1 for t >= 1); got values outside [-1, 1]")

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
