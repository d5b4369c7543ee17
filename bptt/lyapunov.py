r"""Where the hidden state goes in the long run, and how fast nearby states separate.

The state map of the RNN is

.. math::

    h_t = F_t(h_{t-1}) = \tanh(W_{hh} h_{t-1} + W_{xh} x_t + b_h), \qquad
    J_t = \frac{\partial h_t}{\partial h_{t-1}} = \operatorname{diag}(1 - h_t^2)\, W_{hh},

the same step Jacobian as in :mod:`bptt.dynamics`. Two questions about many
steps of it:

* How fast do nearby states separate? The *largest Lyapunov exponent*
  :math:`\lambda` is the long-run average log growth per step of a product of
  step Jacobians. It is the same product that BPTT multiplies the gradient by,
  so :math:`\lambda < 0` means gradients vanish at a rate of about
  :math:`e^{\lambda}` per step in the long run and :math:`\lambda > 0` means
  they explode (the chapter "Vanishing and exploding gradients").
* With no input, where does the state settle? At a fixed point (0 or
  another), on a cycle of some period, or nowhere: a quasi-periodic or slow
  orbit (:math:`\lambda \approx 0`) or chaos (:math:`\lambda > 0`)
  (the chapter "The forward pass").

Functions:

* :func:`tangent_log_growth`: the log stretch of a tangent vector at every step.
* :func:`lyapunov_exponent`: its average after a burn-in, the largest exponent.
* :func:`find_period`: the smallest period with which a run of states repeats.
* :func:`long_run_regime`: the regime of the map with no input, its exponent and mean :math:`|h|`.
* :func:`regimes_by_radius`: the same for ``init_rnn`` networks rescaled to
  several spectral radii, sizes and seeds (the construction of the chapters).

Shapes follow the package: ``x`` is ``(T, B, D)``, ``h`` is ``(T+1, B, H)``
with ``h[0] = h0``. Memory is that of :func:`bptt.rnn.rnn_forward`, ``O(TBH)``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .dynamics import apply_jacobian
from .rnn import check_rnn_params, check_tanh_states, init_rnn, rnn_forward
from .spectral import spectral_radius
from .validate import check_array, check_nonneg_int, check_positive_float, check_positive_int

__all__ = ["REGIMES", "tangent_log_growth", "lyapunov_exponent", "find_period",
           "long_run_regime", "regimes_by_radius"]

#: The labels :func:`long_run_regime` gives, in the order of the decision.
REGIMES = ("zero", "fixed point", "cycle", "chaotic", "aperiodic")


# --------------------------------------------------------------------------
# Checks shared by this module
# --------------------------------------------------------------------------

def _check_burn_in(burn_in, T: int) -> int:
    burn_in = check_nonneg_int("burn_in", burn_in)
    if burn_in >= T:
        raise ValueError(f"burn_in must be smaller than the number of steps T = {T}, "
                         f"got burn_in = {burn_in}")
    return burn_in


def _inputs(params: dict, x, T, B) -> np.ndarray:
    """The inputs ``(T, B, D)``: ``x`` (whose T and B must match those given), or zeros."""
    D, _, _ = check_rnn_params(params)
    T = check_positive_int("T", T, allow_none=True)
    B = check_positive_int("B", B, allow_none=True)
    dtype = params["W_hh"].dtype
    if x is None:
        return np.zeros((1000 if T is None else T, 1 if B is None else B, D), dtype=dtype)
    return check_array("x", x, ("T", "B", "D"), (T, B, D), dtype)


def _batch(B, h0):
    """``B`` as given; else the batch size of ``h0`` when it is an array, else ``None``."""
    if B is None and isinstance(h0, np.ndarray) and h0.ndim:
        return h0.shape[0]
    return B


def _start(params: dict, h0, B: int, rng: np.random.Generator) -> np.ndarray:
    """``h0 (B, H)`` as given, or drawn uniformly on (-1, 1)^H (after the tangent vector)."""
    _, H, _ = check_rnn_params(params)
    dtype = params["W_hh"].dtype
    if h0 is None:
        return rng.uniform(-1.0, 1.0, (B, H)).astype(dtype)
    return check_array("h0", h0, ("B", "H"), (B, H), dtype)


# --------------------------------------------------------------------------
# The largest Lyapunov exponent
# --------------------------------------------------------------------------

def tangent_log_growth(params: dict, h: np.ndarray, v0: np.ndarray) -> np.ndarray:
    r"""The log stretch of a tangent vector carried forward along a trajectory, step by step.

    Parameters
    ----------
    params : dict
        RNN parameters, see :func:`bptt.rnn.init_rnn`; only ``W_hh (H, H)`` is used.
    h : ndarray, shape (T+1, B, H)
        Hidden states from :func:`bptt.rnn.rnn_forward`, ``h[0] = h0``.
    v0 : ndarray, shape (B, H)
        The initial tangent vector of each sequence, nonzero (its length does not matter).

    Returns
    -------
    growth : ndarray of float64, shape (T, B)
        ``growth[t-1, b]`` is :math:`\log \|J_t v_{t-1}\|_2`, where :math:`v_{t-1}`
        is the unit tangent vector after step t-1 (:math:`v_0 = v0/\|v0\|`).
        ``-inf`` if the vector was mapped to 0 (every unit it touches saturated
        to exactly :math:`\pm 1`).

    Notes
    -----
    The vector is renormalised after every step,
    :math:`v_t = J_t v_{t-1} / \|J_t v_{t-1}\|`, so it never over- or underflows,
    and the logs add up to the stretch of the whole product:

    .. math::

        \sum_{s=1}^{t} \texttt{growth}[s-1]
        = \log \frac{\|J_t J_{t-1} \cdots J_1\, v_0\|_2}{\|v_0\|_2}.

    In rows (``(B, H)``), :math:`J_t v` is ``(v @ W_hh.T) * (1 - h[t]**2)``:
    :math:`W_{hh}` first, then the slope of each unit at :math:`h_t`. No
    :math:`H \times H` Jacobian is formed.
    """
    h = check_tanh_states(params, h)
    T, B, H = h.shape[0] - 1, h.shape[1], h.shape[2]
    v0 = check_array("v0", v0, ("B", "H"), (B, H), params["W_hh"].dtype)
    length = np.linalg.norm(v0, axis=1)
    if np.any(length == 0):
        raise ValueError(f"v0 must have no zero row, got zero rows at batch indices "
                         f"{np.flatnonzero(length == 0).tolist()}")
    v = v0 / length[:, None]
    W_hh = params["W_hh"]
    growth = np.empty((T, B))
    with np.errstate(divide="ignore"):
        for t in range(1, T + 1):
            v = apply_jacobian(W_hh, h[t], v)         # J_t v = diag(1 - h_t^2) W_hh v
            g = np.linalg.norm(v, axis=1)
            growth[t - 1] = np.log(g)
            v /= np.where(g > 0, g, 1.0)[:, None]    # renormalise (a zero vector stays 0)
    return growth


def lyapunov_exponent(params: dict, x: np.ndarray | None = None, h0: np.ndarray | None = None,
                      *, T: int | None = None, B: int | None = None, burn_in: int = 100,
                      seed: int = 0) -> np.ndarray:
    r"""The largest Lyapunov exponent of the state map, one estimate per sequence.

    Parameters
    ----------
    params : dict
        RNN parameters, see :func:`bptt.rnn.init_rnn`.
    x : ndarray, shape (T, B, D), optional
        The inputs that drive the map. ``None``: no input (zeros), for
        ``T`` steps (1000 by default) and ``B`` sequences (1 by default).
    h0 : ndarray, shape (B, H), optional
        The initial states. ``None``: drawn from ``seed``, every entry
        uniform on (-1, 1) (not zero: with no input and :math:`b_h = 0`,
        :math:`h = 0` is a fixed point, and a run from it never leaves it).
    T, B : int, optional
        Steps and sequences. With ``x`` given they are read from it, and must
        match it if given too; without, ``B`` is read from ``h0`` if given.
    burn_in : int
        Steps whose log growth is discarded, ``0 <= burn_in < T``: time for
        the state to reach its long-run behaviour and for the tangent vector
        to turn into the most-stretched direction.
    seed : int
        Seed of the ``numpy.random.default_rng`` that draws the initial
        tangent vectors (standard normal, ``(B, H)``) and then ``h0`` if needed.

    Returns
    -------
    exponent : ndarray of float64, shape (B,)
        The mean of :func:`tangent_log_growth` over steps ``burn_in + 1 .. T``,
        in nats per step: :math:`\lambda < 0` nearby states converge,
        :math:`\lambda > 0` they separate exponentially.

    Notes
    -----
    The standard (Benettin) estimate: carry a tangent vector forward with the
    step Jacobians :math:`J_t = \operatorname{diag}(1 - h_t^2) W_{hh}`,
    renormalise every step, average the log growth. For almost every starting
    vector :math:`v` (Oseledets' theorem),

    .. math::

        \lambda = \lim_{k \to \infty} \frac1k
        \log \|J_t J_{t-1} \cdots J_{t-k+1}\, v\|_2 ,

    the average log growth per step of the Jacobian product. BPTT carries a
    gradient back over k steps with the transpose of that product,
    :math:`\partial L/\partial h_{t-k} = (J_t \cdots J_{t-k+1})^\top \partial L/\partial h_t`,
    which has the same singular values, so :math:`\lambda` is exactly the
    long-run rate at which gradients vanish (:math:`\lambda < 0`) or explode
    (:math:`\lambda > 0`): about :math:`e^{\lambda k}` over k steps, up to
    slower factors. :math:`\lambda \le \log \sigma_{\max}(W_{hh})`, the
    bound of :func:`bptt.dynamics.jacobian_bound`. Special cases: at a fixed
    point :math:`h^*` it is :math:`\log \rho(\operatorname{diag}(1 - h^{*2}) W_{hh})`,
    so at :math:`h = 0` (no input, :math:`b_h = 0`) it is :math:`\log \rho(W_{hh})`;
    on a cycle of period p it is :math:`\frac1p \log \rho(J_p \cdots J_1)`.
    With random inputs the map changes every step, and :math:`\lambda` is a
    property of the network *and* the input distribution. A finite run gives
    an estimate: its error shrinks as the number of averaged steps grows.
    """
    x = _inputs(params, x, T, _batch(B, h0) if x is None else B)
    T, B = x.shape[0], x.shape[1]
    burn_in = _check_burn_in(burn_in, T)
    rng = np.random.default_rng(seed)
    v0 = rng.standard_normal((B, params["W_hh"].shape[0])).astype(params["W_hh"].dtype)
    h0 = _start(params, h0, B, rng)
    _, h = rnn_forward(params, x, h0)
    return tangent_log_growth(params, h, v0)[burn_in:].mean(axis=0)


# --------------------------------------------------------------------------
# The long-run regime of the map with no input
# --------------------------------------------------------------------------

def find_period(h: np.ndarray, *, max_period: int | None = None,
                tol: float = 1e-9) -> np.ndarray:
    r"""The smallest period with which each sequence's states repeat, 0 if none.

    Parameters
    ----------
    h : ndarray, shape (n, B, H)
        A run of ``n`` consecutive states, e.g. ``h[burn_in:]`` of
        :func:`bptt.rnn.rnn_forward`.
    max_period : int, optional
        The longest period looked for, ``1 <= max_period <= n // 2`` (every
        period checked then repeats at least once over the run); ``n // 2``
        by default.
    tol : float
        Two states match when no entry differs by more than ``tol``. The
        default suits float64; for float32 states use about ``1e-5``.

    Returns
    -------
    period : ndarray of int, shape (B,)
        The smallest ``p <= max_period`` with :math:`|h_{t,i} - h_{t-p,i}| \le`
        ``tol`` for every step t of the run (from its ``p``-th on) and every
        unit i: 1 for a fixed point, p for a cycle of period p, 0 when no
        period up to ``max_period`` fits (quasi-periodic or chaotic orbits,
        longer cycles, and transients that have not settled to within ``tol``
        by the start of the run).

    Notes
    -----
    Only the lags at which both the first state of the run comes back and
    the last state was already seen are candidates (on a settled cycle of
    period P these are the multiples of P); each is checked over the whole
    run, smallest first. So long periods cost no more than short ones, and a
    run whose start has not settled is rejected at once.
    """
    h = check_array("h", h, ("n", "B", "H"))
    n = h.shape[0]
    max_period = n // 2 if max_period is None else check_positive_int("max_period", max_period)
    tol = check_positive_float("tol", tol)
    if n < 2 * max_period or max_period < 1:
        raise ValueError(f"h must hold at least 2 * max_period = {2 * max(max_period, 1)} "
                         f"states, shape (n, B, H), got {h.shape}")
    lags = np.arange(1, max_period + 1)
    # (max_period, B): does h[0] come back after p steps, was h[n-1] there p steps before?
    first = np.abs(h[lags] - h[0]).max(axis=2) <= tol
    last = np.abs(h[n - 1 - lags] - h[n - 1]).max(axis=2) <= tol
    period = np.zeros(h.shape[1], dtype=int)
    for b in range(h.shape[1]):
        for p in lags[first[:, b] & last[:, b]]:
            if np.abs(h[p:, b] - h[:-p, b]).max() <= tol:     # the whole run repeats
                period[b] = p
                break
    return period


def long_run_regime(params: dict, h0: np.ndarray | None = None, *, T: int = 4000,
                    B: int | None = None, burn_in: int = 2000, max_period: int | None = None,
                    tol: float = 1e-9, lyap_tol: float = 0.005, seed: int = 0) -> dict:
    r"""Where the state of the map with no input goes, and how fast nearby states separate.

    Runs :math:`h_t = \tanh(W_{hh} h_{t-1} + b_h)` (every :math:`x_t = 0`) for
    ``T`` steps and judges the states after ``burn_in``.

    Parameters
    ----------
    params : dict
        RNN parameters, see :func:`bptt.rnn.init_rnn`.
    h0 : ndarray, shape (B, H), optional
        Initial states; ``None``: drawn from ``seed``, uniform on (-1, 1)
        (see :func:`lyapunov_exponent`).
    T : int
        Steps, > ``burn_in``.
    B : int, optional
        Number of starts (1 by default); read from ``h0`` if given.
    burn_in : int
        Steps left out of every statistic, ``0 <= burn_in < T``.
    max_period : int, optional
        The longest cycle looked for, see :func:`find_period`: at most
        ``(T - burn_in + 1) // 2`` (the default), so that it repeats at least
        once in the states judged.
    tol : float
        Largest entry-wise difference between states that counts as a repeat
        (:func:`find_period`), and largest :math:`|h|` that counts as 0.
    lyap_tol : float
        An exponent above ``lyap_tol`` counts as positive. On a quasi-periodic
        orbit the exponent is exactly 0 and a run of the default length
        estimates it to within about :math:`10^{-3}`; weakly chaotic
        networks with exponents below ``lyap_tol`` exist (0.008 was seen at
        :math:`\rho = 1.2`, H = 256) and are then called ``"aperiodic"``:
        lower ``lyap_tol`` and lengthen the run to tell them apart.
    seed : int
        Seed of the tangent vectors and of ``h0`` when it is drawn.

    Returns
    -------
    dict
        ``regime`` (ndarray of str, shape (B,)), one of :data:`REGIMES`,
        decided in this order:

        - ``"zero"``: the states repeat with period 1 and :math:`|h| \le` ``tol``;
        - ``"fixed point"``: period 1 anywhere else;
        - ``"cycle"``: a period from 2 to ``max_period`` (see ``period``);
        - ``"chaotic"``: no period, and ``exponent > lyap_tol``;
        - ``"aperiodic"``: no period, ``exponent <= lyap_tol``: a quasi-periodic
          orbit (exponent 0), a cycle longer than ``max_period``, or a
          transient slower than the run (at :math:`\rho(W_{hh}) = 1` with
          :math:`b_h = 0` the state decays to 0 only like :math:`t^{-1/2}`).

        ``period`` (ndarray of int, (B,)): from :func:`find_period`, 0 if none;
        ``exponent`` (ndarray of float64, (B,)): :func:`lyapunov_exponent`
        over steps ``burn_in + 1 .. T``; ``mean_abs_h`` (ndarray of float64,
        (B,)): the mean of :math:`|h_{t,i}|` over those steps and every unit;
        ``h_last`` (ndarray, (B, H)): the state at step T.

    Notes
    -----
    A start exactly on an unstable fixed point or cycle stays on it (e.g.
    :math:`h_0 = 0` with :math:`b_h = 0`): the regime is then that orbit's,
    and a positive ``exponent`` says that it is unstable.
    """
    D, H, _ = check_rnn_params(params)
    T = check_positive_int("T", T)
    burn_in = _check_burn_in(burn_in, T)
    n = T - burn_in + 1                                # the states judged
    max_period = n // 2 if max_period is None else check_positive_int("max_period", max_period)
    tol = check_positive_float("tol", tol)
    lyap_tol = check_positive_float("lyap_tol", lyap_tol)
    if n < 2 * max_period or max_period < 1:
        raise ValueError(f"T - burn_in + 1 (the states judged) must be >= 2 * max_period = "
                         f"{2 * max(max_period, 1)} to see every period repeat, got T = {T}, "
                         f"burn_in = {burn_in}")
    x = _inputs(params, None, T, _batch(B, h0))
    rng = np.random.default_rng(seed)
    v0 = rng.standard_normal((x.shape[1], H)).astype(params["W_hh"].dtype)
    h0 = _start(params, h0, x.shape[1], rng)
    _, h = rnn_forward(params, x, h0)
    exponent = tangent_log_growth(params, h, v0)[burn_in:].mean(axis=0)
    tail = h[burn_in:]                                 # (n, B, H)
    period = find_period(tail, max_period=max_period, tol=tol)
    regime = np.where(exponent > lyap_tol, "chaotic", "aperiodic").astype(object)
    regime[period >= 2] = "cycle"
    regime[period == 1] = "fixed point"
    regime[(period == 1) & (np.abs(tail).max(axis=(0, 2)) <= tol)] = "zero"
    return {"regime": regime.astype(str), "period": period, "exponent": exponent,
            "mean_abs_h": np.abs(tail[1:]).mean(axis=(0, 2)), "h_last": h[-1].copy()}


def regimes_by_radius(sizes: Sequence[int], radii: Sequence[float], seeds: Sequence[int], *,
                      n_starts: int = 1, **kwargs) -> dict:
    r"""The long-run regime of ``init_rnn`` networks rescaled to several spectral radii.

    For every hidden size H, radius :math:`\rho` and seed s, the network is
    ``with_spectral_radius(init_rnn(1, H, 1, seed=s), rho)`` (the chapters'
    construction, ``D = O = 1`` as in the chapter "The forward pass"), and
    :func:`long_run_regime` runs it with no input from ``n_starts`` random
    states drawn from seed s.

    Parameters
    ----------
    sizes : sequence of int
        Hidden sizes H, each >= 1.
    radii : sequence of float
        Spectral radii of ``W_hh``, each > 0.
    seeds : sequence of int
        Seeds of :func:`bptt.rnn.init_rnn` (and of the starts).
    n_starts : int
        Initial states per network.
    **kwargs
        Passed to :func:`long_run_regime` (``T``, ``burn_in``, ``max_period``,
        ``tol``, ``lyap_tol``).

    Returns
    -------
    dict
        ``sizes``, ``radii``, ``seeds`` (ndarrays of what was asked), and, with
        shape ``(len(sizes), len(radii), len(seeds), n_starts)``: ``regime``
        (str), ``period`` (int), ``exponent`` and ``mean_abs_h`` (float64), as
        returned by :func:`long_run_regime`.
    """
    sizes = [check_positive_int(f"sizes[{i}]", H) for i, H in enumerate(sizes)]
    radii = [check_positive_float(f"radii[{i}]", r) for i, r in enumerate(radii)]
    seeds = [check_nonneg_int(f"seeds[{i}]", s) for i, s in enumerate(seeds)]
    n_starts = check_positive_int("n_starts", n_starts)
    if not (sizes and radii and seeds):
        raise ValueError(f"sizes, radii and seeds must each hold at least one value, got "
                         f"{len(sizes)}, {len(radii)} and {len(seeds)}")
    shape = (len(sizes), len(radii), len(seeds), n_starts)
    out = {"regime": np.empty(shape, dtype=object), "period": np.empty(shape, dtype=int),
           "exponent": np.empty(shape), "mean_abs_h": np.empty(shape)}
    for i, H in enumerate(sizes):
        for k, s in enumerate(seeds):
            base = init_rnn(1, H, 1, seed=s)
            # The eigenvalues are the slow part at H = 256: find rho(W_hh) once
            # per network. W_hh * (rho / current) is, bit for bit, what
            # with_spectral_radius(base, rho) returns (it also checks the result).
            current = spectral_radius(base["W_hh"])
            for j, rho in enumerate(radii):
                params = dict(base, W_hh=base["W_hh"] * (rho / current))
                res = long_run_regime(params, B=n_starts, seed=s, **kwargs)
                for key in out:
                    out[key][i, j, k] = res[key]
    out["regime"] = out["regime"].astype(str)
    return {"sizes": np.array(sizes), "radii": np.array(radii), "seeds": np.array(seeds), **out}
