r"""Truncated BPTT on streams: which paths each scheme keeps, and how far its gradient is off.

The chapter "Truncated BPTT on streams" compares three ways of computing a
gradient on a long sequence (Williams and Peng 1990; Sutskever 2013):

* **full BPTT**: the loss at step t reaches every step s <= t;
* **BPTT(k; k)** (``rnn_backward(..., truncate=k)``): non-overlapping chunks of
  k steps; the loss at step t reaches back to the first step of its chunk;
* **BPTT(k2; k1)** (:func:`bptt.tbptt_gradients`): every k1 steps, at
  :math:`t_j = k_1, 2k_1, \dots` (and T), the losses of the steps since the last
  update are carried back k2 steps from :math:`t_j`, to :math:`h_{t_j-k_2}`.

:func:`scheme_reach` says, exactly, which steps each loss reaches under each
scheme; :func:`gradient_agreement` and :func:`truncation_bias` measure how far
a truncated gradient is from the full one; :func:`delayed_echo` is the task on
which truncation changes where training goes.
"""
from __future__ import annotations

import numpy as np

from .losses import softmax_cross_entropy
from .model import Model
from .tbptt import check_k1_k2, update_windows
from .validate import check_positive_int

__all__ = ["scheme_reach", "depth_range", "gradient_agreement",
           "bias_problem", "truncation_bias", "delayed_echo"]


def _check_k(T, k1, k2) -> tuple[int, int | None, int | None]:
    T = check_positive_int("T", T)
    if (k1 is None) != (k2 is None):
        raise ValueError(f"give both k1 and k2 (a truncated scheme) or neither (full BPTT), "
                         f"got k1={k1}, k2={k2}")
    if k1 is not None:
        k1, k2 = check_k1_k2(k1, k2)
    return T, k1, k2


def scheme_reach(T: int, k1: int | None = None, k2: int | None = None) -> np.ndarray:
    r"""Which steps the loss of each step reaches under full BPTT or BPTT(k2; k1).

    Parameters
    ----------
    T : int
        Number of steps.
    k1, k2 : int or None
        The update interval and the depth of BPTT(k2; k1), ``1 <= k1 <= k2``;
        both ``None`` for full BPTT.

    Returns
    -------
    ndarray of bool, shape (T, T)
        ``reach[t-1, s-1]``: the loss at step t sends gradient to step s (its
        copy of the parameters), in the layout of
        :func:`bptt.truncation.truncation_reach`.

    Notes
    -----
    The loss at step t is carried back at the first update
    :math:`t_j \ge t`, from :math:`t_j` down to :math:`h_{t_j - k_2}`, which
    is held constant; it reaches steps :math:`\max(1, t_j - k_2 + 1) \le s \le t`,
    :math:`k_2 - (t_j - t)` of them when :math:`t_j > k_2`. With
    :math:`k_1 = k_2 = k` and k dividing T this is ``truncate=k``.
    """
    T, k1, k2 = _check_k(T, k1, k2)
    t = np.arange(1, T + 1)
    s = np.arange(1, T + 1)
    reach = s[None, :] <= t[:, None]
    if k1 is None:
        return reach
    times = np.array([end for _, _, end in update_windows(T, k1, k2)])
    t_j = times[np.searchsorted(times, t)]        # the update that carries loss t back
    return reach & (s[None, :] > (t_j - k2)[:, None])


def depth_range(k1: int, k2: int) -> tuple[int, int]:
    r"""The fewest and most steps a loss reaches under BPTT(k2; k1), far from the start.

    A loss just after an update waits :math:`k_1 - 1` steps for the next one,
    and is then carried back :math:`k_2` steps from there: it reaches
    :math:`k_2 - k_1 + 1` steps; a loss at an update reaches :math:`k_2`.
    """
    k1, k2 = check_k1_k2(k1, k2)
    return k2 - k1 + 1, k2


def _flat(grads: dict, keys) -> np.ndarray:
    return np.concatenate([np.ravel(grads[key]) for key in keys])


def gradient_agreement(grads: dict, full: dict, keys=None) -> tuple[float, float]:
    r"""Cosine similarity and relative error of a gradient against the full one.

    Parameters
    ----------
    grads, full : dict of str to ndarray
        The truncated and the full gradients, with the same keys and shapes.
    keys : sequence of str, optional
        The parameters compared, flattened and concatenated into one vector;
        by default every key of ``full``.

    Returns
    -------
    cosine : float
        :math:`\cos(g, g^\star) = g^\top g^\star / (\|g\| \|g^\star\|)`, 1 when
        the truncated gradient points the same way.
    rel_error : float
        :math:`\|g - g^\star\| / \|g^\star\|`, 0 when they are equal. Unlike
        :func:`bptt.gradcheck.rel_error` it is measured against the full
        gradient only: the full gradient is the truth here.
    """
    keys = list(full) if keys is None else list(keys)
    g, g_star = _flat(grads, keys), _flat(full, keys)
    norm_star = np.linalg.norm(g_star)
    if norm_star == 0:
        raise ValueError("the full gradient is zero: nothing to compare against")
    norm = np.linalg.norm(g)
    cosine = float(g @ g_star / (norm * norm_star)) if norm > 0 else 0.0
    return cosine, float(np.linalg.norm(g - g_star) / norm_star)


def bias_problem(model: Model, *, T: int = 64, B: int = 16, D: int = 4, H: int = 32,
                 O: int = 4, seed: int = 0, prepare=None):
    r"""A seeded problem on which to compare truncated and full gradients.

    Parameters
    ----------
    model : Model
        E.g. :data:`bptt.rnn.RNN` or :data:`bptt.lstm.LSTM`.
    T, B, D, H, O : int
        Sizes; the inputs are standard Gaussian, ``x (T, B, D)``.
    seed : int
        Seed of the weights (``model.init``), the inputs and the targets.
    prepare : callable, optional
        ``prepare(params) -> params``, applied to the initial weights, e.g.
        ``lambda p: with_spectral_radius(p, rho)``.

    Returns
    -------
    params : dict
    x : ndarray, shape (T, B, D)
    cache
        What ``model.forward`` returned besides ``y`` (the RNN's ``h``).
    dy : ndarray, shape (T, B, O)
        The gradient of a softmax cross-entropy at every step, against
        uniformly drawn classes: a loss at every step, as on a stream.
    """
    rng = np.random.default_rng(seed)
    params = model.init(D, H, O, seed=seed)
    if prepare is not None:
        params = prepare(params)
    x = rng.standard_normal((T, B, D))
    targets = rng.integers(0, O, (T, B))
    y, cache = model.forward(params, x)
    _, dy = softmax_cross_entropy(y, targets)
    return params, x, cache, dy


def truncation_bias(model: Model, params: dict, x: np.ndarray, cache, dy: np.ndarray, ks,
                    keys=None) -> dict:
    r"""Cosine and relative error of BPTT(k; k) against full BPTT, for each k.

    Parameters
    ----------
    model : Model
        Whose ``backward(params, x, cache, dy, truncate=k)`` to use.
    params, x, cache, dy
        A problem, e.g. from :func:`bias_problem`.
    ks : sequence of int
        Truncation lengths.
    keys : sequence of str, optional
        The parameters compared (:func:`gradient_agreement`); by default all of
        ``model.keys``.

    Returns
    -------
    dict
        ``k (n,)``, ``cosine (n,)``, ``rel_error (n,)`` (float arrays but ``k``).
    """
    ks = np.array([check_positive_int("k", k) for k in ks])
    keys = list(model.keys) if keys is None else list(keys)
    full = model.backward(params, x, cache, dy)
    cos, err = [], []
    for k in ks:
        c, e = gradient_agreement(model.backward(params, x, cache, dy, truncate=int(k)),
                                  full, keys)
        cos.append(c)
        err.append(e)
    return {"k": ks, "cosine": np.array(cos), "rel_error": np.array(err)}


def delayed_echo(T: int, B: int, delay: int, *, seed: int = 0):
    r"""A stream task whose every loss needs an input ``delay`` steps back: :math:`y^\star_t = x_{t-d}`.

    Parameters
    ----------
    T, B : int
        Steps and sequences.
    delay : int
        The lag d >= 1.
    seed : int or numpy Generator
        Where the inputs come from.

    Returns
    -------
    x : ndarray, shape (T, B, 1)
        Standard Gaussian inputs.
    target : ndarray, shape (T, B, 1)
        ``x`` shifted by ``delay`` steps, zeros for the first ``delay`` steps.
    mask : ndarray, shape (T, B)
        1 from step ``delay + 1`` on, 0 before (nothing to echo yet), for
        :func:`bptt.losses.mse_loss`.

    Notes
    -----
    Predicting 0 has mean squared error 1 (the variance of the inputs). A loss
    at step t that is carried back fewer than :math:`d + 1` steps cannot see
    :math:`x_{t-d}`: under BPTT(k; k) with :math:`k \le d` no loss is, and the
    gradient holds no information about the task.
    """
    T = check_positive_int("T", T)
    B = check_positive_int("B", B)
    delay = check_positive_int("delay", delay)
    if delay >= T:
        raise ValueError(f"delay must be < T = {T}, got {delay}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    x = rng.standard_normal((T, B, 1))
    target = np.zeros_like(x)
    target[delay:] = x[:-delay]
    mask = np.zeros((T, B))
    mask[delay:] = 1.0
    return x, target, mask
