r"""Truncated BPTT, measured: which steps the loss at each step sends gradient to.

``rnn_backward(..., truncate=k)`` detaches the state every ``k`` steps, the
scheme BPTT(k; k) of Williams and Peng (1990): the loss at step t then reaches
back only to the first step of its chunk. The chapter "Checking BPTT" derives
the depth :math:`((t-1) \bmod k) + 1`; :func:`truncation_reach` measures it
with the model's own backward pass, for any :class:`~bptt.model.Model`.
"""
from __future__ import annotations

import numpy as np

from .model import Model
from .rnn import RNN
from .validate import check_positive_int

__all__ = ["truncation_reach"]


def truncation_reach(T: int, k: int | None, *, model: Model = RNN, seed: int = 0) -> np.ndarray:
    r"""Which steps the loss of each step sends gradient to, measured with the backward pass.

    A small random model (``D = 2``, ``H = 3``, ``O = 2``, one sequence) is run
    for ``T`` steps. For each step t, a loss at step t alone (``dy`` nonzero at
    index ``t-1`` only) is carried back by ``model.backward(..., truncate=k)``,
    and the steps s whose input gets a nonzero gradient
    :math:`\partial L_t / \partial x_s` are recorded: they are the steps whose
    copy :math:`\theta^{(s)}` of the parameters the loss at step t reaches. A
    detached state passes exactly zero back, so the answer is exact, not a
    threshold.

    Parameters
    ----------
    T : int
        Number of steps.
    k : int or None
        ``truncate`` of the backward pass; ``None`` is full BPTT.
    model : Model
        The model whose backward pass is measured; the vanilla RNN by default.
    seed : int
        Seed of the weights, inputs and output gradients.

    Returns
    -------
    ndarray of bool, shape (T, T)
        ``reach[t-1, s-1]`` is true when the loss at step t sends gradient to
        step s. Full BPTT gives the lower triangle :math:`s \le t`; with
        ``truncate=k``, BPTT(k; k), the loss at step t reaches back to the
        first step of its chunk only, :math:`((t-1) \bmod k) + 1` steps.
    """
    T = check_positive_int("T", T)
    k = check_positive_int("k", k, allow_none=True)
    rng = np.random.default_rng(seed)
    params = model.init(2, 3, 2, seed=seed)
    x = rng.standard_normal((T, 1, 2))
    _, cache = model.forward(params, x)
    reach = np.zeros((T, T), dtype=bool)
    for t in range(1, T + 1):
        dy = np.zeros((T, 1, 2))
        dy[t - 1] = rng.standard_normal((1, 2))      # a loss at step t only
        dx = model.backward(params, x, cache, dy, truncate=k)["x"]   # (T, 1, D)
        reach[t - 1] = np.any(dx[:, 0] != 0, axis=-1)
    return reach
